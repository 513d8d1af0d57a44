"""Engine, session factory and the session dependency."""

from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool
from sqlmodel.ext.asyncio.session import AsyncSession

from taskflow.config import Settings, get_settings

__all__ = [
    "DatabaseNotReadyError",
    "check_migrated",
    "create_engine",
    "create_session_factory",
    "dispose_engine",
    "get_engine",
    "get_session",
    "get_session_factory",
    "ping",
]


def create_engine(settings: Settings) -> AsyncEngine:
    """Build an async engine configured for the settings' database."""
    kwargs: dict[str, Any] = {"echo": settings.database_echo}
    connect_args: dict[str, Any] = {}
    if settings.database_null_pool:
        kwargs["poolclass"] = NullPool
    elif not settings.is_sqlite:
        kwargs |= {
            "pool_size": settings.pool_size,
            "max_overflow": settings.max_overflow,
            "pool_recycle": settings.pool_recycle_seconds,
            "pool_pre_ping": settings.pool_pre_ping,
        }
    if settings.database_transaction_pooler and not settings.is_sqlite:
        # A transaction pooler hands each transaction to any server connection, where a
        # statement prepared on another one does not exist: no caches, unique names.
        connect_args |= {
            "statement_cache_size": 0,
            "prepared_statement_cache_size": 0,
            "prepared_statement_name_func": lambda: f"__asyncpg_{uuid4()}__",
        }
    engine = create_async_engine(settings.database_url, connect_args=connect_args, **kwargs)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: AsyncEngine) -> None:
    """Enforce foreign keys and give SQLite real transactions (SAVEPOINT included)."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The sqlite3 module's own transaction handling defers BEGIN and breaks
        # SAVEPOINT; take it over and emit BEGIN ourselves below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # Without this SQLite ignores every FOREIGN KEY clause, cascades included.
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()
        # SQLite's own lower() knows ASCII only; case-insensitive search, autocomplete and
        # the email check must treat "É" like PostgreSQL does.
        dbapi_connection.create_function("lower", 1, _lower, deterministic=True)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN")


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded values after commit, so no attribute access does hidden IO."""
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


_engine: AsyncEngine | None = None
_session_factory: async_sessionmaker[AsyncSession] | None = None


def get_engine() -> AsyncEngine:
    """The process-wide engine, created on first use (importing opens no connection)."""
    global _engine, _session_factory
    if _engine is None:
        _engine = create_engine(get_settings())
        _session_factory = create_session_factory(_engine)
    return _engine


def get_session_factory() -> async_sessionmaker[AsyncSession]:
    """The process-wide session factory."""
    get_engine()
    assert _session_factory is not None
    return _session_factory


class DatabaseNotReadyError(Exception):
    """The database cannot be used yet; the message says what to do, for a command line."""


async def check_migrated(engine: AsyncEngine) -> None:
    """DatabaseNotReadyError unless the database answers and holds the schema."""
    try:
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
    except (OSError, DBAPIError) as error:
        reason = str(getattr(error, "orig", error)).splitlines()[0]
        message = f"cannot reach the database ({reason}); is it running?"
        raise DatabaseNotReadyError(message) from error
    if not {"alembic_version", "users", "tasks"} <= tables:
        raise DatabaseNotReadyError("the database is not migrated: run `make migrate` first")


async def ping(session: AsyncSession) -> bool:
    """Whether the database answers a trivial query."""
    try:
        await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
    except Exception:
        return False
    return True


async def dispose_engine() -> None:
    """Close the process-wide pool (at shutdown); the next use creates a new engine."""
    global _engine, _session_factory
    if _engine is not None:
        await _engine.dispose()
    _engine = _session_factory = None


async def get_session() -> AsyncIterator[AsyncSession]:
    """Yield a session; roll back on error and always close. The caller commits."""
    async with get_session_factory()() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
