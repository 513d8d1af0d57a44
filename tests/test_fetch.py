"""`fetch_all` and friends: prepared reads reach asyncpg directly only where that is safe.

On PostgreSQL a prepared statement in a read-only (autocommit) session skips SQLAlchemy's
async adaptation. These tests pin down when it does, that it returns what SQLAlchemy
would, and that failures still come out, and recover, as SQLAlchemy's.
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from sqlalchemy import (
    Float,
    Integer,
    String,
    TypeDecorator,
    bindparam,
    event,
    func,
    literal_column,
    text,
)
from sqlalchemy import select as sa_select
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from taskflow.config import Settings
from taskflow.database import create_engine, create_session_factory
from taskflow.errors import NotFoundError
from taskflow.models import TaskCreate, TaskUpdate
from taskflow.services import tags, tasks, users
from taskflow.services.access import Permission, require_role
from taskflow.services.common import fetch_all, fetch_dicts, fetch_scalar, prepared
from taskflow.services.tasks import TaskFilter, TaskSort
from tests.factories import make_project, make_user

_NOW = prepared(sa_select(func.clock_timestamp().label("now"), func.now().label("began")))
_DIVIDE = prepared(sa_select(literal_column("10") / bindparam("by", type_=Integer)))


class _Shout(TypeDecorator[str]):
    """A type whose results SQLAlchemy converts: the driver alone would not."""

    impl = String
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return None if value is None else str(value).upper()


_SHOUT = prepared(sa_select(bindparam("word", type_=String).cast(_Shout()).label("word")))


@pytest.fixture
async def pg_engine(backend: str, database_url: str) -> AsyncIterator[AsyncEngine]:
    if backend != "postgresql":
        pytest.skip("the driver path is asyncpg's")
    engine = create_engine(Settings(database_url=database_url, pool_size=1))
    yield engine
    await engine.dispose()


class _DriverLog:
    """What asyncpg itself ran on a session's connection (SQLAlchemy's adapter runs its
    statements as prepared statements, which asyncpg's query log does not show)."""

    def __init__(self) -> None:
        self.queries: list[str] = []

    def __call__(self, record: Any) -> None:
        self.queries.append(record.query)

    async def attach(self, session: AsyncSession) -> None:
        connection = await session.connection()
        assert connection.sync_connection is not None
        connection.sync_connection.connection.driver_connection.add_query_logger(self)  # type: ignore[union-attr]


async def test_reads_in_read_only_sessions_go_to_the_driver(pg_engine: AsyncEngine) -> None:
    log = _DriverLog()
    async with create_session_factory(pg_engine, read_only=True)() as session:
        await log.attach(session)
        first = await fetch_dicts(session, _NOW)
        await asyncio.sleep(0.01)
        second = await fetch_dicts(session, _NOW)
    assert len(log.queries) == 2
    assert "clock_timestamp()" in log.queries[0]
    # Autocommit: each read is its own transaction.
    assert second[0]["began"] > first[0]["began"]
    assert isinstance(first[0]["now"], datetime)
    assert first[0]["now"].utcoffset() is not None


async def test_reads_in_transactions_stay_with_sqlalchemy(pg_engine: AsyncEngine) -> None:
    log = _DriverLog()
    async with create_session_factory(pg_engine)() as session:
        await log.attach(session)
        first = await fetch_dicts(session, _NOW)
        await asyncio.sleep(0.01)
        second = await fetch_dicts(session, _NOW)
    # The driver would not know of the transaction SQLAlchemy opened.
    assert not [query for query in log.queries if query.startswith("SELECT")]
    assert second[0]["began"] == first[0]["began"]
    assert second[0]["now"] > first[0]["now"]


async def test_ad_hoc_statements_stay_with_sqlalchemy(pg_engine: AsyncEngine) -> None:
    log = _DriverLog()
    ad_hoc: Any = sa_select(literal_column("1").label("one"))
    async with create_session_factory(pg_engine, read_only=True)() as session:
        await log.attach(session)
        assert await fetch_scalar(session, ad_hoc) == 1
    assert log.queries == []


async def test_values_sqlalchemy_converts_are_converted(pg_engine: AsyncEngine) -> None:
    log = _DriverLog()
    async with create_session_factory(pg_engine, read_only=True)() as session:
        await log.attach(session)
        assert await fetch_scalar(session, _SHOUT, {"word": "quiet"}) == "QUIET"
    assert log.queries == []


async def test_a_failing_read_is_reported_as_sqlalchemy_reports_it(pg_engine: AsyncEngine) -> None:
    async with create_session_factory(pg_engine, read_only=True)() as session:
        assert (await fetch_all(session, _DIVIDE, {"by": 2}))[0][0] == 5
        with pytest.raises(DBAPIError, match="division by zero"):
            await fetch_all(session, _DIVIDE, {"by": 0})
        # The session is still usable: autocommit, nothing left aborted.
        assert (await fetch_all(session, _DIVIDE, {"by": 1}))[0][0] == 10


async def test_a_lost_connection_is_replaced_as_on_sqlalchemys_path(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has no server connections to lose")
    # No ping on checkout: the dead connection is found by the read itself.
    engine = create_engine(
        Settings(database_url=database_url, pool_size=1, pool_ping_idle_seconds=3600)
    )
    readers = create_session_factory(engine, read_only=True)
    try:
        async with readers() as session:
            await fetch_dicts(session, _NOW)
            pid = await fetch_scalar(session, prepared(sa_select(func.pg_backend_pid())))
        admin = create_engine(Settings(database_url=database_url, database_null_pool=True))
        async with admin.connect() as connection:
            await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        await admin.dispose()
        with pytest.raises(DBAPIError) as failed:
            async with readers() as session:
                await fetch_dicts(session, _NOW)
        assert failed.value.connection_invalidated
        async with readers() as session:
            assert len(await fetch_dicts(session, _NOW)) == 1
    finally:
        await engine.dispose()


async def test_the_hot_reads_take_the_driver_path(pg_engine: AsyncEngine) -> None:
    # What every request runs (authentication, the role check) and the task reads: if a
    # change makes one of them need SQLAlchemy's conversions, it should be on purpose.
    log = _DriverLog()
    async with create_session_factory(pg_engine, read_only=True)() as session:
        await log.attach(session)
        assert not await users.is_active_user(session, 2**31 - 1)
        with pytest.raises(NotFoundError):
            await require_role(session, project_id=1, user_id=1, permission=Permission.READ)
        with pytest.raises(NotFoundError):
            await tasks.read_task(session, 1, member_id=1)
        for sort in TaskSort:
            page = await tasks.read_tasks(session, TaskFilter(member_id=1), sort=sort)
            assert page.items == []
        await tags.autocomplete_tags(session, project_id=1, prefix="a")
    assert len(log.queries) == 3 + len(TaskSort) + 1


async def test_connections_run_without_jit_unless_asked(pg_engine: AsyncEngine) -> None:
    # JIT compiled a search page for 250 ms whose plan runs in 18 ms.
    async with pg_engine.connect() as connection:
        assert await connection.scalar(text("SELECT current_setting('jit')")) == "off"
    url = pg_engine.url.render_as_string(hide_password=False)
    with_jit = create_engine(Settings(database_url=url, database_jit=True, pool_size=1))
    async with with_jit.connect() as connection:
        assert await connection.scalar(text("SELECT current_setting('jit')")) == "on"
    await with_jit.dispose()


async def test_connections_run_in_utc_whatever_the_server_says(pg_engine: AsyncEngine) -> None:
    # PostgreSQL writes the JSON of a task's timestamps in the session's time zone. In New
    # York a date of 1850 has an offset with seconds (-04:56:02), which pydantic refuses.
    url = pg_engine.url.render_as_string(hide_password=False)
    async with pg_engine.connect() as connection:
        database = await connection.scalar(text("SELECT current_database()"))
        await connection.execute(
            text(f"ALTER DATABASE \"{database}\" SET TimeZone = 'America/New_York'")
        )
        await connection.commit()
    engine = create_engine(Settings(database_url=url, pool_size=1))
    try:
        async with engine.connect() as connection:
            assert await connection.scalar(text("SHOW TimeZone")) == "UTC"
        sessions = create_session_factory(engine)
        async with sessions() as session:
            owner = await make_user(session)
            project = await make_project(session, owner)
            old = datetime(1850, 1, 1, tzinfo=UTC)
            data = TaskCreate.model_validate({"title": "old", "project_id": project.id})
            created = await tasks.create_task_read(session, data)
            change = TaskUpdate(due_date=old)
            updated = await tasks.update_task_by_id(session, created.id, change)
            assert updated.due_date == old
            assert (await tasks.read_task(session, created.id)).due_date == old
            await session.rollback()
    finally:
        await engine.dispose()
        async with pg_engine.connect() as connection:
            await connection.execute(text(f'ALTER DATABASE "{database}" RESET TimeZone'))
            await connection.commit()


async def test_statement_listeners_see_every_read(pg_engine: AsyncEngine) -> None:
    # Tracing and statement counters listen to SQLAlchemy's events: reads stay in view.
    seen: list[str] = []

    def listener(*args: Any) -> None:
        seen.append(args[2])

    log = _DriverLog()
    event.listen(pg_engine.sync_engine, "before_cursor_execute", listener)
    try:
        async with create_session_factory(pg_engine, read_only=True)() as session:
            await log.attach(session)
            await fetch_dicts(session, _NOW)
    finally:
        event.remove(pg_engine.sync_engine, "before_cursor_execute", listener)
    assert log.queries == []
    assert any("clock_timestamp" in statement for statement in seen)


async def test_a_timed_out_read_is_not_run_again(pg_engine: AsyncEngine) -> None:
    sleep = prepared(sa_select(func.pg_sleep(bindparam("seconds", type_=Float)).label("slept")))
    async with create_session_factory(pg_engine, read_only=True)() as session:
        connection = await session.connection()
        await connection.exec_driver_sql("SET statement_timeout = '50ms'")
        with pytest.raises(OperationalError) as failed:
            await fetch_all(session, sleep, {"seconds": 5.0})
        # The driver's own error: SQLAlchemy's second run would have wrapped its adapter's.
        assert isinstance(failed.value.orig, asyncpg.QueryCanceledError)
        await connection.exec_driver_sql("RESET statement_timeout")


async def test_a_failed_read_in_a_savepoint_leaves_the_transaction_usable(
    pg_engine: AsyncEngine,
) -> None:
    async with create_session_factory(pg_engine)() as session:
        assert len(await fetch_dicts(session, _NOW)) == 1
        with pytest.raises(DBAPIError, match="division by zero"):
            async with session.begin_nested():
                await fetch_all(session, _DIVIDE, {"by": 0})
        # The savepoint existed before the read: only it was rolled back.
        assert len(await fetch_dicts(session, _NOW)) == 1


async def test_reads_stay_with_sqlalchemy_while_its_engine_logger_logs(
    pg_engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    # Logging switched on through the logging module, not `echo`: every read must be logged.
    log = _DriverLog()
    with caplog.at_level(logging.INFO, logger="sqlalchemy.engine"):
        async with create_session_factory(pg_engine, read_only=True)() as session:
            await log.attach(session)
            await fetch_dicts(session, _NOW)
    assert log.queries == []
    assert any("clock_timestamp()" in record.getMessage() for record in caplog.records)
