"""The generated data set: realistic bands, reproducible, refused twice, never half written."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from taskflow.config import Settings
from taskflow.database import create_engine
from taskflow.datagen import BENCH_EMAIL, BENCH_PROJECTS, COLUMNS, Generator, Plan
from taskflow.large_seed import RefusedError, load
from taskflow.models import utc_now
from taskflow.seed import run as seed
from tests.conftest import create_empty_database, migrate

TASKS = 3_000


@pytest.fixture
async def database(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    url, drop = await create_empty_database(backend, tmp_path)
    await migrate(url)
    await seed(Settings(database_url=url))
    yield url
    await drop()


async def _rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    engine = create_engine(Settings(database_url=url, database_null_pool=True))
    async with engine.connect() as connection:
        rows = [tuple(row) for row in (await connection.execute(text(sql))).all()]
    await engine.dispose()
    return rows


async def _share(url: str, condition: str) -> float:
    [(matching, total)] = await _rows(
        url,
        f"SELECT count(*) FILTER (WHERE {condition}), count(*) FROM tasks "
        "WHERE project_id IN (SELECT p.id FROM projects p JOIN users u ON u.id = p.owner_id "
        "WHERE u.email LIKE '%@load.example.net')",
    )
    return int(matching) / int(total)


async def test_generated_data_has_realistic_shape(database: str) -> None:
    result = await load(Settings(database_url=database), tasks=TASKS, random_seed=7)
    plan = Plan.for_tasks(TASKS)
    assert result.plan == plan
    [(projects, users)] = await _rows(
        database,
        "SELECT (SELECT count(*) FROM projects p JOIN users u ON u.id = p.owner_id "
        "WHERE u.email LIKE '%@load.example.net'), "
        "(SELECT count(*) FROM users WHERE email LIKE '%@load.example.net')",
    )
    assert (projects, users) == (plan.projects, plan.users)
    assert 0.55 <= await _share(database, "status = 'done'") <= 0.65
    assert await _share(database, "priority = 'high'") <= 0.2
    assert 0.65 <= await _share(database, "assignee_id IS NOT NULL") <= 0.75
    assert 0.25 <= await _share(database, "due_date IS NOT NULL") <= 0.35
    members = await _rows(
        database,
        "SELECT count(*), count(DISTINCT role) FROM project_members m JOIN users u "
        "ON u.id = m.user_id WHERE u.email LIKE '%@load.example.net' GROUP BY project_id",
    )
    assert all(5 <= int(count) <= 20 for count, _roles in members)
    tag_counts = await _rows(
        database,
        "SELECT count(*) FROM tags WHERE project_id IN (SELECT project_id FROM project_members "
        f"m JOIN users u ON u.id = m.user_id WHERE u.email = '{BENCH_EMAIL}') GROUP BY project_id",
    )
    assert len(tag_counts) == min(plan.projects, 20)  # the benchmark user's projects
    assert all(10 <= int(count) <= 30 for (count,) in tag_counts)
    per_task = await _rows(
        database, "SELECT max(n) FROM (SELECT count(*) AS n FROM task_tags GROUP BY task_id) t"
    )
    assert per_task == [(3,)]
    [(max_id,)] = await _rows(database, "SELECT max(id) FROM tasks")
    # The id sequence continues after the loaded ids, so the app can insert again.
    if database.startswith("postgresql"):
        [(next_id,)] = await _rows(database, "SELECT nextval('tasks_id_seq')")
        assert next_id == int(max_id) + 1


def generated(rows: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
    """What a seed decides, without ids that shift with what the database held before."""
    return [row[:4] for row in rows]


async def test_same_seed_same_data_and_refused_without_force(database: str) -> None:
    settings = Settings(database_url=database)
    shape = "SELECT title, status, priority, due_date IS NULL, assignee_id FROM tasks ORDER BY id"
    await load(settings, tasks=TASKS, random_seed=3)
    first = await _rows(database, shape)
    with pytest.raises(RefusedError, match="--force"):
        await load(settings, tasks=TASKS, random_seed=3)
    await load(settings, tasks=TASKS, random_seed=3, force=True)
    second = await _rows(database, shape)
    assert generated(second[-TASKS:]) == generated(first[-TASKS:])
    await load(settings, tasks=TASKS, random_seed=4, force=True)
    third = await _rows(database, shape)
    assert generated(third[-TASKS:]) != generated(first[-TASKS:])


async def test_an_interrupted_load_leaves_no_half_written_project(database: str) -> None:
    class Interrupted(Exception):
        pass

    def stop_after_first_batch(table: str, _count: int) -> None:
        if table == "tasks":
            raise Interrupted

    with pytest.raises(Interrupted):
        await load(
            Settings(database_url=database),
            tasks=TASKS,
            random_seed=5,
            progress=stop_after_first_batch,
            tasks_per_batch=500,
        )
    loaded = await _rows(
        database,
        "SELECT p.id, (SELECT count(*) FROM tasks t WHERE t.project_id = p.id), "
        "(SELECT count(*) FROM tags g WHERE g.project_id = p.id) FROM projects p "
        "JOIN users u ON u.id = p.owner_id WHERE u.email LIKE '%@load.example.net' ORDER BY p.id",
    )
    plan = Plan.for_tasks(TASKS)
    assert 0 < len(loaded) < plan.projects
    # Every project that is there is whole: all the tasks the generator planned for it.
    planned = Generator(
        plan, seed=5, first_ids=dict.fromkeys(COLUMNS, 1), password_hash="", now=utc_now()
    ).tasks_per_project
    assert [int(tasks) for _id, tasks, _tags in loaded] == planned[: len(loaded)]
    assert all(int(tags) >= 10 for _id, _tasks, tags in loaded)


def _benchmark_users_projects(tasks: int) -> list[set[str]]:
    """The tag names of each project the benchmark's user is in, in the order made."""
    generator = Generator(
        Plan.for_tasks(tasks),
        seed=11,
        first_ids=dict.fromkeys(COLUMNS, 1),
        password_hash="",
        now=utc_now(),
    )
    bench_user = generator.user_ids[0]
    found = []
    for batch in generator.project_batches():
        mine = {row[1] for row in batch.rows["project_members"] if row[2] == bench_user}
        names: dict[object, set[str]] = {project: set() for project in mine}
        for _id, project_id, name, _created in batch.rows["tags"]:
            if project_id in names:
                names[project_id].add(str(name))
        found += [names[row[0]] for row in batch.rows["projects"] if row[0] in names]
    return found


def test_the_benchmark_users_projects_do_not_depend_on_the_size_of_the_load() -> None:
    # So that a tag-filtered page of the benchmark is the same request at every size.
    small = _benchmark_users_projects(20_000)
    assert len(small) == BENCH_PROJECTS
    assert _benchmark_users_projects(60_000) == small
