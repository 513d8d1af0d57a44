"""`python -m taskflow.seed`: realistic, idempotent, safe to run twice at once."""

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from taskflow.config import Settings, normalize_database_url
from taskflow.database import DatabaseNotReadyError, create_engine, create_session_factory
from taskflow.models import UserCreate
from taskflow.seed import run
from taskflow.services.users import create_user
from tests.conftest import create_empty_database, migrate


@pytest.fixture
async def empty_database(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    url, drop = await create_empty_database(backend, tmp_path)
    yield url
    await drop()


async def _count(url: str, sql: str) -> int:
    engine = create_engine(Settings(database_url=url, database_null_pool=True))
    async with engine.connect() as connection:
        value = (await connection.execute(text(sql))).scalar_one()
    await engine.dispose()
    return int(value)


async def test_seed_fills_every_status_priority_and_role_then_changes_nothing(
    empty_database: str,
) -> None:
    await migrate(empty_database)
    settings = Settings(database_url=empty_database)
    first = await run(settings)
    assert first.created
    assert first.users >= 3
    assert first.projects >= 2
    assert first.tasks >= 10
    queries = {
        "SELECT count(DISTINCT status) FROM tasks": 3,
        "SELECT count(DISTINCT priority) FROM tasks": 3,
        "SELECT count(DISTINCT role) FROM project_members": 3,
        "SELECT count(DISTINCT owner_id) FROM projects": 2,
    }
    for sql, expected in queries.items():
        assert await _count(empty_database, sql) == expected, sql
    assert await _count(empty_database, "SELECT count(*) FROM tasks WHERE assignee_id IS NULL") > 0
    assert await _count(empty_database, "SELECT count(*) FROM tasks WHERE due_date IS NOT NULL") > 0
    assert await _count(empty_database, "SELECT count(*) FROM task_tags") > 0
    hashes = await _count(
        empty_database, "SELECT count(*) FROM users WHERE hashed_password LIKE '$argon2%'"
    )
    assert hashes == first.users

    totals = "SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM tasks)"
    before = await _count(empty_database, totals)
    second = await run(settings)
    assert not second.created
    assert await _count(empty_database, totals) == before


async def test_two_seeds_at_once_do_not_duplicate(empty_database: str) -> None:
    await migrate(empty_database)
    settings = Settings(database_url=empty_database)
    results = await asyncio.gather(run(settings), run(settings))
    assert sorted(r.created for r in results) == [False, True]
    assert (
        await _count(empty_database, "SELECT count(*) FROM projects")
        == results[0].projects + results[1].projects
    )


async def test_seed_refuses_an_unmigrated_database(empty_database: str) -> None:
    with pytest.raises(DatabaseNotReadyError, match="make migrate"):
        await run(Settings(database_url=empty_database))


def _seed_cli(database_url: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "taskflow.seed", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        check=False,
    )


def test_cli_reports_one_clear_line_and_fails(tmp_path: Path) -> None:
    result = _seed_cli(f"sqlite:///{tmp_path / 'empty.db'}", tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "seed: the database is not migrated: run `make migrate` first"
    ]


def test_cli_reports_an_unreachable_server(tmp_path: Path) -> None:
    result = _seed_cli("postgresql://nobody@127.0.0.1:9/nothing", tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "cannot reach the database" in lines[0]


async def test_seed_still_runs_when_a_demo_address_signed_up_first(empty_database: str) -> None:
    await migrate(empty_database)
    engine = create_engine(Settings(database_url=empty_database, database_null_pool=True))
    async with create_session_factory(engine)() as session:
        await create_user(
            session, UserCreate(email="alice@example.com", full_name="Real Alice", password="x" * 8)
        )
        await session.commit()
    await engine.dispose()
    result = await run(Settings(database_url=empty_database))
    assert result.created
    assert await _count(empty_database, "SELECT count(*) FROM users") == result.users


def test_cli_refuses_a_second_generated_load_in_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'large.db'}"
    asyncio.run(migrate(normalize_database_url(url)))
    first = _seed_cli(url, tmp_path, "--tasks", "1000")
    assert first.returncode == 0, first.stderr
    assert "loaded 1,000 tasks" in first.stdout
    assert "peak memory" in first.stdout
    second = _seed_cli(url, tmp_path, "--tasks", "1000")
    assert second.returncode == 1
    assert second.stderr.strip().splitlines()[-1] == (
        "seed: the database already holds generated data; pass --force to replace it"
    )
    bad = _seed_cli(url, tmp_path, "--tasks", "0")
    assert bad.returncode == 2
    assert "must be a positive number" in bad.stderr
