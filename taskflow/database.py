"""Engine, session factory and the session dependency."""

import time
from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, DisconnectionError
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
        }
    if not settings.is_sqlite:
        # The read and write paths have PostgreSQL write timestamps into JSON, in the
        # session's time zone: in UTC they read back as stored. In another zone an old
        # date's offset has seconds, or a late one's year passes 9999, and no ISO reader
        # takes either. TimeZone is one of the startup parameters PgBouncer passes on.
        server_settings = {"TimeZone": "UTC"}
        if settings.database_transaction_pooler:
            # A transaction pooler hands each transaction to any server connection, where
            # a statement prepared on another one does not exist: no caches, unique names.
            connect_args |= {
                "statement_cache_size": 0,
                "prepared_statement_cache_size": 0,
                "prepared_statement_name_func": lambda: f"__asyncpg_{uuid4()}__",
            }
        elif not settings.database_jit:
            # Not behind a pooler: they refuse startup parameters they do not know.
            server_settings["jit"] = "off"
        connect_args["server_settings"] = server_settings
    engine = create_async_engine(settings.database_url, connect_args=connect_args, **kwargs)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    elif settings.pool_pre_ping and not settings.database_null_pool:
        _ping_idle_connections(engine, settings.pool_ping_idle_seconds)
    return engine


def _ping_idle_connections(engine: AsyncEngine, idle_seconds: float) -> None:
    """Pre-ping only connections that sat idle in the pool, not one per checkout.

    A ping is a round trip; paying it on every request costs busy services about a fifth
    of a point read. Connections idle for a while are the ones a restart or a firewall
    may have cut, so those are checked and silently replaced. A connection lost while in
    use is still caught: SQLAlchemy invalidates the whole pool on the first disconnect
    error, so the requests after it get fresh connections.
    """
    pool = engine.sync_engine.pool

    @event.listens_for(pool, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(pool, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        checked_in_at = record.info.get("checked_in_at")
        if checked_in_at is None or time.monotonic() - checked_in_at < idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            # The pool discards this connection and checks out another.
            raise DisconnectionError from error


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


def create_session_factory(
    engine: AsyncEngine, *, read_only: bool = False
) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded values after commit, so no attribute access does hidden IO.

    `read_only` sessions on PostgreSQL run in autocommit mode: each SELECT stands alone,
    which spares the BEGIN and ROLLBACK round trips a transaction costs every read. They
    must not write. (SQLite keeps its transactions: there they cost no round trip.)
    """
    bind = engine
    if read_only and engine.dialect.name == "postgresql":
        bind = engine.execution_options(isolation_level="AUTOCOMMIT")
    return async_sessionmaker(bind, class_=AsyncSession, expire_on_commit=False)


_engine: AsyncEngine | None = None
_factories: dict[bool, async_sessionmaker[AsyncSession]] = {}


def get_engine() -> AsyncEngine:
    """The process-wide engine, created on first use (importing opens no connection)."""
    global _engine
    if _engine is None:
        _engine = create_engine(get_settings())
    return _engine


def get_session_factory(*, read_only: bool = False) -> async_sessionmaker[AsyncSession]:
    """The process-wide session factory (see `create_session_factory` for `read_only`)."""
    if read_only not in _factories:
        _factories[read_only] = create_session_factory(get_engine(), read_only=read_only)
    return _factories[read_only]


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
    """Whether the database answers a trivial query.

    A connection found dead is retried once on a fresh one: after a restart the first
    use of a pooled connection fails, and the pool replaces the rest by itself.
    """
    for attempt in (1, 2):
        try:
            await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
        except DBAPIError as error:
            await session.rollback()
            if attempt == 2 or not error.connection_invalidated:
                return False
        except Exception:
            return False
        else:
            return True
    return False


async def dispose_engine() -> None:
    """Close the process-wide pool (at shutdown); the next use creates a new engine."""
    global _engine
    if _engine is not None:
        await _engine.dispose()
    _engine = None
    _factories.clear()


async def get_session() -> AsyncIterator[AsyncSession]:
    """Yield a session; roll back on error and always close. The caller commits."""
    async with get_session_factory()() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
