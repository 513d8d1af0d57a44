"""The trash migration on a database that already holds rows, on SQLite and on PostgreSQL:
rows written at the previous revision survive the upgrade, the downgrade and the upgrade
again, unchanged but for the new column; so do rows that were in the trash at head.

Rows are written with SQLAlchemy Core against the tables reflected from the database, as
the schema stands at that revision: the ORM models already describe the next one.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import MetaData, inspect, text
from sqlalchemy.engine import Connection

from tests.conftest import alembic_config, create_empty_database, migrate
from tests.migrations.test_migrations import run_sync

PREVIOUS = "ff47453adee6"
TRASH = "060ec76cb676"  # the revision under test here; later ones have tests of their own
TABLES = ("users", "projects", "project_members", "tags", "tasks", "task_tags")
# What the trash migration adds, and its downgrade removes.
TRASH_OBJECTS = {
    "projects.deleted_at",
    "tasks.deleted_at",
    "index ix_projects_deleted_at WHERE deleted_at IS NOT NULL",
    "index ix_tasks_deleted_at WHERE deleted_at IS NOT NULL",
}
HASH = "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"


def at(day: int, hour: int = 9) -> datetime:
    return datetime(2026, 11, day, hour, 30, tzinfo=UTC)


def user(id_: int, name: str, **columns: Any) -> dict[str, Any]:
    email = f"{name.lower()}@example.com"
    row = {"id": id_, "email": email, "full_name": name, "is_active": True}
    return row | {"hashed_password": HASH} | columns


# Rows as the previous revision takes them; timestamps left out fall to the server default.
SEED: dict[str, list[dict[str, Any]]] = {
    "users": [
        user(1, "Ada"),
        user(2, "Grace"),
        user(3, "Linus"),
        user(4, "Ken", is_active=False, created_at=at(1), updated_at=at(2)),
    ],
    "projects": [
        {"id": 1, "name": "Engine", "description": "The analytical one", "owner_id": 1},
        {
            "id": 2,
            "name": "Compiler",
            "description": None,
            "owner_id": 2,
            "created_at": at(3),
            "updated_at": at(4),
        },
    ],
    "project_members": [
        {"id": 1, "project_id": 1, "user_id": 1, "role": "owner"},
        {"id": 2, "project_id": 1, "user_id": 2, "role": "admin"},
        {"id": 3, "project_id": 1, "user_id": 3, "role": "member"},
        {"id": 4, "project_id": 2, "user_id": 2, "role": "owner", "joined_at": at(3)},
        {"id": 5, "project_id": 2, "user_id": 4, "role": "member"},
    ],
    "tags": [
        {"id": 1, "project_id": 1, "name": "bug"},
        {"id": 2, "project_id": 1, "name": "ui"},
        {"id": 3, "project_id": 2, "name": "bug", "created_at": at(5)},
    ],
    "tasks": [
        {
            "id": 1,
            "project_id": 1,
            "title": "Punch cards",
            "description": "Feed them in order",
            "status": "todo",
            "priority": "high",
            "assignee_id": 3,
            "due_date": at(30, 17),
        },
        {
            "id": 2,
            "project_id": 1,
            "title": "Mill",
            "description": None,
            "status": "in_progress",
            "priority": "medium",
            "assignee_id": 2,
            "due_date": None,
        },
        {
            "id": 3,
            "project_id": 1,
            "title": "Store",
            "description": "",
            "status": "done",
            "priority": "low",
            "assignee_id": None,
            "due_date": at(10),
            "created_at": at(6),
            "updated_at": at(7, 18),
        },
        {
            "id": 4,
            "project_id": 2,
            "title": "Parser",
            "description": "Grammar first",
            "status": "todo",
            "priority": "medium",
            "assignee_id": 4,
            "due_date": at(28),
        },
    ],
    "task_tags": [
        {"task_id": 1, "tag_id": 1},
        {"task_id": 1, "tag_id": 2},
        {"task_id": 3, "tag_id": 2},
        {"task_id": 4, "tag_id": 3},
    ],
}

Snapshot = dict[str, list[tuple[Any, ...]]]


def insert(connection: Connection, rows: dict[str, list[dict[str, Any]]]) -> None:
    """Insert `rows` into the tables as they stand in the database now."""
    metadata = MetaData()
    metadata.reflect(connection, only=list(rows))
    for table, table_rows in rows.items():
        for row in table_rows:
            connection.execute(metadata.tables[table].insert().values(row))


def seed(connection: Connection) -> None:
    insert(connection, SEED)


def snapshot(connection: Connection) -> Snapshot:
    """Every row of every table as stored (no type conversion), sorted, without deleted_at."""
    inspector = inspect(connection)
    rows: Snapshot = {}
    for table in TABLES:
        columns = [c["name"] for c in inspector.get_columns(table) if c["name"] != "deleted_at"]
        result = connection.execute(text(f"SELECT {', '.join(columns)} FROM {table}"))
        rows[table] = sorted(tuple(row) for row in result)
    return rows


def trash_objects(connection: Connection) -> set[str]:
    """The trash columns and partial indexes present on projects and tasks."""
    inspector = inspect(connection)
    found: set[str] = set()
    for table in ("projects", "tasks"):
        columns = {column["name"] for column in inspector.get_columns(table)}
        if "deleted_at" in columns:
            found.add(f"{table}.deleted_at")
        for index in inspector.get_indexes(table):
            if index["name"] == f"ix_{table}_deleted_at":
                options = index.get("dialect_options", {})
                where = options.get("postgresql_where") or options.get("sqlite_where")
                found.add(f"index {index['name']} WHERE {str(where).strip('()')}")
    return found


def deleted_at(connection: Connection) -> dict[str, list[tuple[Any, ...]]]:
    """(id, deleted_at) of every project and task, sorted."""
    return {
        table: sorted(
            tuple(row) for row in connection.execute(text(f"SELECT id, deleted_at FROM {table}"))
        )
        for table in ("projects", "tasks")
    }


def downgrade(connection: Connection) -> None:
    command.downgrade(alembic_config(connection), PREVIOUS)


@asynccontextmanager
async def seeded_at(revision: str, backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """A new database at `revision` holding SEED, dropped afterwards."""
    url, drop = await create_empty_database(backend, tmp_path)
    try:
        await migrate(url, revision)
        await run_sync(url, seed)
        yield url
    finally:
        await drop()


@pytest.fixture
async def seeded_database(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """A new database at the previous revision holding SEED, dropped after the test."""
    async with seeded_at(PREVIOUS, backend, tmp_path) as url:
        yield url


async def test_upgrade_and_downgrade_keep_every_row(seeded_database: str) -> None:
    before = await run_sync(seeded_database, snapshot)
    assert {table: len(rows) for table, rows in before.items()} == {
        table: len(rows) for table, rows in SEED.items()
    }
    assert await run_sync(seeded_database, trash_objects) == set()

    await migrate(seeded_database, TRASH)
    assert await run_sync(seeded_database, snapshot) == before
    assert await run_sync(seeded_database, trash_objects) == TRASH_OBJECTS
    assert await run_sync(seeded_database, deleted_at) == {
        "projects": [(1, None), (2, None)],
        "tasks": [(1, None), (2, None), (3, None), (4, None)],
    }

    await run_sync(seeded_database, downgrade)
    assert await run_sync(seeded_database, snapshot) == before
    assert await run_sync(seeded_database, trash_objects) == set()

    await migrate(seeded_database, TRASH)
    assert await run_sync(seeded_database, snapshot) == before
    assert await run_sync(seeded_database, trash_objects) == TRASH_OBJECTS


async def test_downgrade_keeps_rows_that_were_in_the_trash(seeded_database: str) -> None:
    await migrate(seeded_database, TRASH)
    trashed = {
        "projects": [{"id": 3, "name": "Old", "owner_id": 1, "deleted_at": at(20)}],
        "tasks": [
            {
                "id": 5,
                "project_id": 1,
                "title": "Dropped",
                "status": "todo",
                "priority": "low",
                "deleted_at": at(21),
            },
            {
                "id": 6,
                "project_id": 3,
                "title": "In an old project",
                "status": "done",
                "priority": "high",
                "deleted_at": None,
            },
        ],
    }
    await run_sync(seeded_database, lambda connection: insert(connection, trashed))
    at_head = await run_sync(seeded_database, snapshot)
    assert len(at_head["projects"]) == 3
    assert len(at_head["tasks"]) == 6
    in_trash = {
        table: [id_ for id_, when in rows if when is not None]
        for table, rows in (await run_sync(seeded_database, deleted_at)).items()
    }
    assert in_trash == {"projects": [3], "tasks": [5]}

    await run_sync(seeded_database, downgrade)
    assert await run_sync(seeded_database, snapshot) == at_head
    assert await run_sync(seeded_database, trash_objects) == set()
