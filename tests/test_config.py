"""Database URLs as hosts hand them out, and the engine options the settings choose."""

import pytest
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from taskflow.config import DEFAULT_DATABASE_URL, Settings, normalize_database_url
from taskflow.database import create_engine


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db.example.com/app", "postgresql+asyncpg://u:p@db.example.com/app"),
        (
            "postgresql://u:p@db.example.com:6543/app",
            "postgresql+asyncpg://u:p@db.example.com:6543/app",
        ),
        ("postgresql+asyncpg://u@h/app", "postgresql+asyncpg://u@h/app"),
        ("sqlite:///./x.db", "sqlite+aiosqlite:///./x.db"),
    ],
)
def test_host_urls_become_async_driver_urls(given: str, expected: str) -> None:
    assert normalize_database_url(given) == expected


def test_neon_sslmode_is_translated_for_asyncpg() -> None:
    url = make_url(
        normalize_database_url(
            "postgresql://u:p@ep-x.aws.neon.tech/db?sslmode=require&channel_binding=require"
        )
    )
    assert url.drivername == "postgresql+asyncpg"
    assert dict(url.query) == {"ssl": "require"}


def test_unknown_sslmode_is_refused() -> None:
    with pytest.raises(ValidationError, match="sslmode"):
        Settings(database_url="postgresql://u@h/db?sslmode=sometimes")


def test_default_is_the_embedded_sqlite_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings = Settings(_env_file=None)
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert (settings.pool_size, settings.max_overflow, settings.pool_pre_ping) == (20, 0, True)


async def test_postgresql_engine_uses_the_configured_pool() -> None:
    engine = create_engine(
        Settings(database_url="postgresql://u@127.0.0.1/db", pool_size=7, max_overflow=3)
    )
    assert engine.pool.size() == 7  # type: ignore[attr-defined]
    assert engine.pool._max_overflow == 3  # type: ignore[attr-defined]
    await engine.dispose()


async def test_transaction_pooler_mode_prepares_no_cached_statements(
    backend: str, database_url: str
) -> None:
    if backend != "postgresql":
        pytest.skip("asyncpg only")
    settings = Settings(
        database_url=database_url, database_transaction_pooler=True, database_null_pool=True
    )
    engine = create_engine(settings)
    assert isinstance(engine.pool, NullPool)
    async with engine.connect() as connection:
        for _ in range(3):
            assert (await connection.execute(text("SELECT count(*) FROM users"))).scalar() == 0
        raw = (await connection.get_raw_connection()).driver_connection
        assert raw is not None
        # asyncpg's own cache is off, so no named statement outlives its transaction.
        assert raw._stmt_cache.get_max_size() == 0
        assert len(raw._stmt_cache) == 0
    await engine.dispose()
