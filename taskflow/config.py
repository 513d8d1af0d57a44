"""Settings, read from the environment and `.env`; the only module that reads either."""

from functools import lru_cache
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL, make_url

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./taskflow.db"
EXAMPLE_SECRET_KEY = "change-me-this-example-secret-is-public"  # noqa: S105

# libpq's sslmode values -> what asyncpg's `ssl` argument accepts.
_SSLMODES = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}


def normalize_database_url(raw: str) -> str:
    """Turn the URLs hosting providers hand out into ones SQLAlchemy's async drivers accept."""
    url = make_url(raw.strip())
    driver = url.drivername
    if driver in {"postgres", "postgresql", "postgresql+psycopg2", "postgresql+psycopg"}:
        url = url.set(drivername="postgresql+asyncpg")
    elif driver == "sqlite":
        url = url.set(drivername="sqlite+aiosqlite")
    if url.drivername == "postgresql+asyncpg":
        url = _libpq_query_to_asyncpg(url)
    return url.render_as_string(hide_password=False)


def _libpq_query_to_asyncpg(url: URL) -> URL:
    """asyncpg rejects libpq-only options such as `sslmode`; translate or drop them."""
    query = dict(url.query)
    sslmode = query.pop("sslmode", None)
    if sslmode is not None:
        if sslmode not in _SSLMODES:
            raise ValueError(f"unknown sslmode {sslmode!r}")
        query.setdefault("ssl", sslmode)
    # Neon adds these; asyncpg has no equivalent and fails on unknown keywords.
    for libpq_only in ("channel_binding", "options", "connect_timeout", "target_session_attrs"):
        query.pop(libpq_only, None)
    return url.set(query=query)


class Settings(BaseSettings):
    """Runtime configuration; every field can be set as an upper-case environment variable."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    database_echo: bool = False
    # A fixed pool by default: SQLAlchemy closes an overflow connection as soon as it is
    # returned, so sustained concurrency above pool_size opened and closed a connection
    # per request (a sixth more CPU per request at 16 concurrent requests, measured).
    # Size it so that workers x pool_size stays within the server's max_connections.
    pool_size: int = 20
    max_overflow: int = 0
    pool_recycle_seconds: int = 1800
    pool_pre_ping: bool = True
    # ...for connections idle at least this long (0: every checkout, like SQLAlchemy's).
    pool_ping_idle_seconds: float = Field(default=10.0, ge=0)
    # Transaction poolers (PgBouncer, Neon's pooled endpoint) cannot keep prepared statements.
    database_transaction_pooler: bool = False
    # Serverless: open a connection per session instead of keeping a pool.
    database_null_pool: bool = False
    # PostgreSQL's JIT compiles a query whose estimated cost is high, which takes longer
    # than the short queries of an API ever run (a search page: 18 ms, with JIT 250 ms).
    # Off per connection unless set; behind a transaction pooler set it on the server.
    database_jit: bool = False

    # Argon2id cost. Raising either upgrades stored hashes on each user's next login.
    password_hash_time_cost: int = Field(default=3, ge=1)
    password_hash_memory_kib: int = Field(default=65536, ge=1024)

    # Tokens (JWT, HS256). The example secret is refused in production.
    secret_key: str = EXAMPLE_SECRET_KEY
    access_token_minutes: int = Field(default=30, ge=1)
    environment: Literal["development", "production"] = "development"

    @field_validator("database_url")
    @classmethod
    def _normalize(cls, value: str) -> str:
        return normalize_database_url(value)

    @model_validator(mode="after")
    def _no_example_secret_in_production(self) -> "Settings":
        if self.environment == "production" and self.secret_key == EXAMPLE_SECRET_KEY:
            raise ValueError("SECRET_KEY must be set to a private value in production")
        if self.environment == "production" and len(self.secret_key) < 32:
            raise ValueError("SECRET_KEY must be at least 32 characters in production")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
