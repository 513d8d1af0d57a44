"""The migration that copies each task's created_at onto its tag links, on a database that
already holds rows, on SQLite and on PostgreSQL."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from tests.conftest import alembic_config, migrate
from tests.migrations.test_migrations import run_sync
from tests.migrations.test_migrations_on_data import SEED, TRASH, seeded_at, snapshot

NEW_INDEX = "ix_task_tags_tag_id_task_created_at_task_id"


def links(connection: Connection) -> list[tuple[Any, ...]]:
    """Each link with its copy of the task's creation time, and the task's own."""
    return sorted(
        tuple(row)
        for row in connection.execute(
            text(
                "SELECT tt.task_id, tt.tag_id, tt.task_created_at, t.created_at "
                "FROM task_tags tt JOIN tasks t ON t.id = tt.task_id"
            )
        )
    )


def shape(connection: Connection) -> tuple[set[str], set[str], bool]:
    """task_tags' columns, its index names, and whether task_created_at may be NULL."""
    inspector = inspect(connection)
    columns = {column["name"]: column for column in inspector.get_columns("task_tags")}
    nullable = (
        bool(columns["task_created_at"]["nullable"]) if "task_created_at" in columns else True
    )
    names = {str(index["name"]) for index in inspector.get_indexes("task_tags")}
    return set(columns), names, nullable


def downgrade(connection: Connection) -> None:
    command.downgrade(alembic_config(connection), TRASH)


@pytest.fixture
async def database(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """A new database at the trash revision holding the shared seed rows."""
    async with seeded_at(TRASH, backend, tmp_path) as url:
        yield url


async def test_links_get_their_tasks_creation_time_and_lose_it_on_downgrade(
    database: str, backend: str
) -> None:
    before = await run_sync(database, snapshot)
    await migrate(database)
    found = await run_sync(database, links)
    assert len(found) == len(SEED["task_tags"])
    assert all(copied == created and copied is not None for *_ids, copied, created in found)
    columns, indexes, nullable = await run_sync(database, shape)
    assert "task_created_at" in columns
    assert NEW_INDEX in indexes
    assert "ix_task_tags_tag_id" not in indexes
    assert not nullable

    def link_without_time(connection: Connection) -> None:
        connection.execute(text("INSERT INTO task_tags (task_id, tag_id) VALUES (2, 1)"))

    if backend == "postgresql":  # a trigger fills it in, for writers that leave it out
        await run_sync(database, link_without_time)
        added = [link for link in await run_sync(database, links) if link[:2] == (2, 1)]
        assert len(added) == 1
        assert added[0][2] == added[0][3]
        await run_sync(
            database, lambda c: c.execute(text("DELETE FROM task_tags WHERE task_id = 2"))
        )
    else:  # the app is SQLite's only writer, and sets it
        with pytest.raises(IntegrityError):
            await run_sync(database, link_without_time)

    await run_sync(database, downgrade)
    assert await run_sync(database, snapshot) == before
    columns, indexes, _ = await run_sync(database, shape)
    assert "task_created_at" not in columns
    assert "ix_task_tags_tag_id" in indexes
    assert NEW_INDEX not in indexes

    await migrate(database)  # and up again
    assert await run_sync(database, links) == found
