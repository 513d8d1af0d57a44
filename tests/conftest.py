"""Fixtures giving every database test both an SQLite and a PostgreSQL variant.

Each backend gets its own database, built once per run with `alembic upgrade head`; each
test runs inside a transaction that is rolled back, so tests never see each other's rows.
PostgreSQL comes from TEST_DATABASE_URL (a server whose database we may create others
from); when it does not answer the variant skips, unless TASKFLOW_REQUIRE_POSTGRES=1.
"""

import os
import uuid

# Cheap password hashing for the suite; must be set before taskflow reads its settings.
os.environ.setdefault("PASSWORD_HASH_TIME_COST", "1")
os.environ.setdefault("PASSWORD_HASH_MEMORY_KIB", "1024")

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from taskflow.config import Settings, normalize_database_url
from taskflow.database import create_engine

ROOT = Path(__file__).resolve().parent.parent
BACKENDS = ["sqlite", "postgresql"]
PG_SERVER_URL = normalize_database_url(
    os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
)
REQUIRE_POSTGRES = os.environ.get("TASKFLOW_REQUIRE_POSTGRES") == "1"


def alembic_config(connection: Connection | None = None) -> Config:
    """The project's Alembic configuration, optionally bound to a connection."""
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["configure_logger"] = False
    if connection is not None:
        config.attributes["connection"] = connection
    return config


async def _admin_engine() -> AsyncEngine:
    engine = create_async_engine(PG_SERVER_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as error:
        await engine.dispose()
        reason = f"PostgreSQL at {make_url(PG_SERVER_URL).host} is not reachable: {error}"
        if REQUIRE_POSTGRES:
            pytest.fail(reason)
        pytest.skip(reason)
    return engine


async def create_empty_database(backend: str, tmp_dir: Path) -> tuple[str, Any]:
    """A new, empty database for `backend`: its URL and an async function that drops it."""
    if backend == "sqlite":
        path = tmp_dir / f"taskflow-{uuid.uuid4().hex}.db"

        async def drop_sqlite() -> None:
            path.unlink(missing_ok=True)

        return f"sqlite+aiosqlite:///{path}", drop_sqlite
    admin = await _admin_engine()
    name = f"taskflow_test_{uuid.uuid4().hex[:12]}"
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_SERVER_URL).set(database=name).render_as_string(hide_password=False)

    async def drop_postgresql() -> None:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()

    return url, drop_postgresql


async def migrate(url: str, revision: str = "head") -> None:
    """Run `alembic upgrade` on the database at `url`, through the app's own engine."""
    engine = create_engine(Settings(database_url=url, database_null_pool=True))
    try:
        async with engine.connect() as connection:
            await connection.run_sync(lambda sync: command.upgrade(alembic_config(sync), revision))
            await connection.commit()
    finally:
        await engine.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
async def database_url(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """A migrated database for this backend, shared by the run (tests roll back)."""
    url, drop = await create_empty_database(backend, tmp_path_factory.mktemp(backend))
    try:
        await migrate(url)
        yield url
    finally:
        await drop()


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(Settings(database_url=database_url))
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[Any]:
    """A connection inside a transaction that is rolled back after the test."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        try:
            yield connection
        finally:
            await transaction.rollback()


@pytest.fixture
async def session(connection: Any) -> AsyncIterator[AsyncSession]:
    """A session whose commits become savepoints of the test's outer transaction."""
    async with AsyncSession(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    ) as session:
        yield session


class StatementCounter:
    """Counts the SQL statements a block sends (transaction control excluded)."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    TRANSACTION_CONTROL = ("SAVEPOINT", "RELEASE", "BEGIN", "ROLLBACK", "COMMIT")

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(self.TRANSACTION_CONTROL):
            self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_statements(engine: AsyncEngine) -> Iterator[StatementCounter]:
    counter = StatementCounter()
    event.listen(engine.sync_engine, "before_cursor_execute", counter)
    yield counter
    event.remove(engine.sync_engine, "before_cursor_execute", counter)
