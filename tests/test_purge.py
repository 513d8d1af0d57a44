"""`python -m taskflow.purge`: deletes for good what has been in the trash too long."""

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlmodel import col

from taskflow.config import Settings
from taskflow.database import create_engine, create_session_factory
from taskflow.models import Project, Task, utc_now
from taskflow.purge import parse_age
from taskflow.services import trash
from taskflow.services.visibility import include_trashed
from tests.conftest import create_empty_database, migrate
from tests.factories import make_project, make_task, make_user
from tests.test_seed import _count


@pytest.fixture
async def database(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    url, drop = await create_empty_database(backend, tmp_path)
    await migrate(url)
    yield url
    await drop()


def _purge(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "taskflow.purge", *args],
        capture_output=True,
        text=True,
        env=os.environ | {"DATABASE_URL": url},
        check=False,
    )


async def _trashed_world(url: str) -> dict[str, int]:
    """Old and recent trash: an old task, a recent task, an old project with a live task."""
    engine = create_engine(Settings(database_url=url, database_null_pool=True))
    async with create_session_factory(engine)() as session:
        owner = await make_user(session)
        project, old_project = (
            await make_project(session, owner),
            await make_project(session, owner),
        )
        old_task, recent_task, kept_task = [await make_task(session, project) for _ in range(3)]
        in_old_project = await make_task(session, old_project)
        rows: dict[str, Task | Project] = {
            "old": old_task, "recent": recent_task, "kept": kept_task,
            "in_old_project": in_old_project, "old_project": old_project,
        }  # fmt: skip
        ids = {name: int(row.id or 0) for name, row in rows.items()}
        await trash.trash_task(session, ids["old"])
        await trash.trash_task(session, ids["recent"])
        await trash.trash_project(session, ids["old_project"])
        long_ago = utc_now() - timedelta(days=40)
        for model, row_id in ((Task, ids["old"]), (Project, ids["old_project"])):
            statement = update(model).where(col(model.id) == row_id).values(deleted_at=long_ago)
            await session.exec(include_trashed(statement))
        await session.commit()
    await engine.dispose()
    return ids


async def test_purge_deletes_only_old_trash_and_is_idempotent(database: str) -> None:
    ids = await _trashed_world(database)
    first = _purge(database, "--older-than", "30d", "--batch-size", "1")
    assert first.returncode == 0, first.stderr
    assert "deleted 1 tasks and 1 projects" in first.stdout
    left = await _count(database, "SELECT count(*) FROM tasks")
    assert left == 2  # the recent trash and the live task
    for name in ("old", "in_old_project"):
        assert await _count(database, f"SELECT count(*) FROM tasks WHERE id = {ids[name]}") == 0
    assert await _count(database, f"SELECT count(*) FROM tasks WHERE id = {ids['recent']}") == 1
    second = _purge(database, "--older-than", "30d")
    assert second.returncode == 0
    assert "deleted 0 tasks and 0 projects" in second.stdout


@pytest.mark.parametrize(
    "args",
    [[], ["--older-than", "30"], ["--older-than", "-3d"], ["--older-than", "1w"],
     ["--older-than", "30d", "--batch-size", "0"], ["--older-than", "30d", "--batch-size", "x"]],
)  # fmt: skip
def test_bad_arguments_get_one_line_and_exit_2(args: list[str]) -> None:
    result = _purge("sqlite+aiosqlite:///unused.db", *args)
    assert result.returncode == 2
    assert result.stderr.startswith("purge: ")
    assert result.stderr.count("\n") == 1


def test_an_unmigrated_database_gets_one_line(tmp_path: Path) -> None:
    result = _purge(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}", "--older-than", "30d")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1


def test_ages() -> None:
    assert parse_age("30d") == timedelta(days=30)
    assert parse_age("12h") == timedelta(hours=12)
    with pytest.raises(ValueError, match="not an age"):
        parse_age("0.5d")
