"""Commit before the response, 503 (never 500) without a database, and recovery after it."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from taskflow.api import create_app
from taskflow.api.deps import CallerId, SessionDep, app_settings
from taskflow.config import Settings
from taskflow.database import create_engine
from taskflow.models import Project
from tests.api.conftest import TEST_SETTINGS, login, serve_sessions_from, sign_up
from tests.conftest import PG_SERVER_URL, create_empty_database, migrate


def _app_for(engine: AsyncEngine) -> FastAPI:
    app = create_app()
    serve_sessions_from(app, engine)  # the app's own per-request session code
    app.dependency_overrides[app_settings] = lambda: TEST_SETTINGS
    return app


def _client_for(engine: AsyncEngine) -> AsyncClient:
    return AsyncClient(transport=ASGITransport(app=_app_for(engine)), base_url="http://test")


async def _projects_kept(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(text("SELECT count(*) FROM projects")) or 0)


@pytest.fixture
async def own_database(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """A migrated database that requests really commit to."""
    url, drop = await create_empty_database(backend, tmp_path)
    await migrate(url)
    yield url
    await drop()


async def test_a_commit_that_fails_is_an_error_response_and_nothing_is_kept(
    backend: str, own_database: str
) -> None:
    if backend != "postgresql":
        pytest.skip("needs a constraint checked only at COMMIT (a deferred PostgreSQL trigger)")
    engine = create_engine(Settings(database_url=own_database))
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "CREATE FUNCTION refuse_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$ "
                "BEGIN IF NEW.name = 'fail at commit' THEN RAISE EXCEPTION 'refused' "
                "USING ERRCODE = 'check_violation', CONSTRAINT = 'ck_projects_at_commit'; "
                "END IF; RETURN NEW; END $$"
            )
        )
        await connection.execute(
            text(
                "CREATE CONSTRAINT TRIGGER refuse_at_commit AFTER INSERT ON projects "
                "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_at_commit()"
            )
        )
    async with _client_for(engine) as client:
        await sign_up(client, "committer@example.com")
        headers = await login(client, "committer@example.com")
        response = await client.post(
            "/api/v1/projects", json={"name": "fail at commit"}, headers=headers
        )
        assert response.status_code == 422, response.text
        listed = await client.get("/api/v1/projects", headers=headers)
        assert listed.json()["items"] == []
        fine = await client.post("/api/v1/projects", json={"name": "fine"}, headers=headers)
        assert fine.status_code == 201
    await engine.dispose()


async def test_no_database_means_503_not_500() -> None:
    engine = create_engine(
        Settings(database_url="postgresql://nobody@127.0.0.1:9/none", database_null_pool=True)
    )
    async with _client_for(engine) as client:
        sign_up_response = await client.post(
            "/api/v1/users",
            json={"email": "x@example.com", "full_name": "X", "password": "password123"},
        )
        health = await client.get("/health")
    assert sign_up_response.status_code == 503
    assert sign_up_response.json()["detail"].startswith("the database is unavailable")
    assert health.status_code == 503
    await engine.dispose()


async def test_the_app_recovers_when_its_connections_are_killed(
    backend: str, own_database: str
) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite has no server connections to lose")
    engine = create_engine(Settings(database_url=own_database, pool_size=2))
    database = own_database.rsplit("/", 1)[-1]
    async with _client_for(engine) as client:
        await sign_up(client, "survivor@example.com")
        assert (await client.get("/health")).status_code == 200
        assert await _kill_connections(database) >= 1
        assert (await client.get("/health")).status_code == 200
        headers = await login(client, "survivor@example.com")
        assert (await client.get("/api/v1/users/me", headers=headers)).status_code == 200
    await engine.dispose()


async def _kill_connections(database: str) -> int:
    admin = create_engine(Settings(database_url=PG_SERVER_URL, database_null_pool=True))
    async with admin.connect() as connection:
        killed = await connection.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": database},
        )
    await admin.dispose()
    return int(killed or 0)


@pytest.mark.parametrize("idle_seconds", [0.0, 3600.0])
async def test_dead_pooled_connections_are_replaced(
    backend: str, own_database: str, idle_seconds: float
) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite has no server connections to lose")
    engine = create_engine(
        Settings(database_url=own_database, pool_size=1, pool_ping_idle_seconds=idle_seconds)
    )
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
    assert await _kill_connections(own_database.rsplit("/", 1)[-1]) == 1
    if idle_seconds == 0:
        # Pinged on checkout: the dead connection is replaced before anyone sees it.
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT 1"))).scalar() == 1
    else:
        # Not pinged while busy: one failure, after which the pool is replaced.
        with pytest.raises(DBAPIError) as failed:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        assert failed.value.connection_invalidated
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT 1"))).scalar() == 1
    await engine.dispose()


async def test_every_request_returns_its_connection_and_keeps_nothing_uncommitted(
    own_database: str,
) -> None:
    engine = create_engine(Settings(database_url=own_database, pool_size=2))
    pool = engine.sync_engine.pool
    app = _app_for(engine)

    @app.post("/test/write-then-fail")
    async def write_then_fail(session: SessionDep, caller: CallerId) -> None:
        session.add(Project(name="never kept", owner_id=caller))
        await session.flush()
        raise RuntimeError("after a write, before the commit")

    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://test") as client:
        await sign_up(client, "pooled@example.com")
        headers = await login(client, "pooled@example.com")
        statuses = [
            (await client.get("/api/v1/tasks", headers=headers)).status_code,
            (await client.get("/api/v1/tasks/424242", headers=headers)).status_code,
            (await client.post("/api/v1/tasks", json={}, headers=headers)).status_code,
            (await client.post("/test/write-then-fail", headers=headers)).status_code,
        ]
        assert statuses == [200, 404, 422, 500]
        assert pool.checkedout() == 0  # type: ignore[attr-defined]
        listed = await client.get("/api/v1/projects", headers=headers)
    assert listed.json()["items"] == []
    assert await _projects_kept(engine) == 0
    await engine.dispose()


async def test_a_cancelled_request_returns_its_connection_and_keeps_nothing(
    own_database: str,
) -> None:
    engine = create_engine(Settings(database_url=own_database, pool_size=2))
    app = _app_for(engine)
    flushed = asyncio.Event()

    @app.post("/test/write-then-wait")
    async def write_then_wait(session: SessionDep, caller: CallerId) -> None:
        session.add(Project(name="never kept", owner_id=caller))
        await session.flush()
        flushed.set()
        await asyncio.sleep(60)  # the client gives up long before

    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
        await sign_up(client, "impatient@example.com")
        headers = await login(client, "impatient@example.com")
        with anyio.move_on_after(10) as scope:
            request = asyncio.ensure_future(client.post("/test/write-then-wait", headers=headers))
            await flushed.wait()
            request.cancel()
            with pytest.raises(asyncio.CancelledError):
                await request
        assert not scope.cancelled_caught
    assert engine.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    assert await _projects_kept(engine) == 0
    await engine.dispose()
