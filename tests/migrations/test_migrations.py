"""The migrations, on SQLite and on PostgreSQL: pytest-alembic's checks, `alembic check` at
head, a downgrade that leaves nothing behind, and drift in enum values caught as such.

pytest-alembic hands `alembic_engine` to env.py as the connection to migrate. Our drivers
are async, so that is the sync side of an async connection, and the built-in tests (sync
functions) run inside `run_sync`, where it can do IO: the same path `alembic upgrade` takes.
"""

import asyncio
import os
import shutil
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TypeVar

import alembic.config
import pytest
from alembic import command
from pytest_alembic import tests as builtin
from pytest_alembic.runner import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from taskflow.config import Settings
from taskflow.database import create_engine
from tests.conftest import ROOT, create_empty_database, migrate
from tests.conftest import alembic_config as project_alembic_config

T = TypeVar("T")

# What a downgrade to base must not leave behind, beyond the (empty) alembic_version table.
LEFTOVER_QUERIES = {
    "sqlite": {
        "schema objects": "SELECT type || ' ' || name FROM sqlite_master "
        "WHERE name NOT LIKE 'sqlite_%' AND name <> 'alembic_version'",
    },
    "postgresql": {
        "relations": "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace "
        "AND relname NOT IN ('alembic_version', 'alembic_version_pkc')",
        "functions": "SELECT proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace",
        "triggers": "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal",
        "enum types": "SELECT typname FROM pg_type WHERE typtype = 'e'",
        "extensions": "SELECT extname FROM pg_extension WHERE extname = 'pg_trgm'",
    },
}


async def run_sync(url: str, fn: Callable[[Connection], T]) -> T:
    """Call `fn` with a sync connection to `url` (as env.py gets one), then commit."""
    engine = create_engine(Settings(database_url=url, database_null_pool=True))
    try:
        async with engine.connect() as connection:
            result = await connection.run_sync(fn)
            await connection.commit()
            return result
    finally:
        await engine.dispose()


def alembic_check(connection: Connection) -> None:
    command.check(project_alembic_config(connection))


def downgrade_to_base(connection: Connection) -> None:
    command.downgrade(project_alembic_config(connection), "base")


def leftovers(connection: Connection) -> dict[str, list[str]]:
    """Schema objects the migrations made that are still there, by kind; empty when none."""
    found = {
        "tables": sorted(set(inspect(connection).get_table_names()) - {"alembic_version"}),
        "alembic_version rows": list(connection.scalars(text("SELECT * FROM alembic_version"))),
    }
    for kind, sql in LEFTOVER_QUERIES[connection.dialect.name].items():
        found[kind] = sorted(connection.scalars(text(sql)))
    return {kind: names for kind, names in found.items() if names}


@pytest.fixture
async def empty_database(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """A new, empty database of the current backend, dropped after the test."""
    url, drop = await create_empty_database(backend, tmp_path)
    try:
        yield url
    finally:
        await drop()


@pytest.fixture
async def alembic_connection(empty_database: str) -> AsyncIterator[AsyncConnection]:
    engine = create_engine(Settings(database_url=empty_database, database_null_pool=True))
    try:
        async with engine.connect() as connection:
            yield connection
    finally:
        await engine.dispose()


@pytest.fixture
def alembic_engine(alembic_connection: AsyncConnection) -> Connection:
    """Read by pytest-alembic's `alembic_runner`; usable only inside `run_sync`."""
    assert alembic_connection.sync_connection is not None
    return alembic_connection.sync_connection


@pytest.fixture
def alembic_config() -> alembic.config.Config:
    """Read by pytest-alembic's `alembic_runner`: alembic.ini, logging left alone."""
    return project_alembic_config()


@pytest.mark.parametrize(
    "builtin_test",
    [
        builtin.test_single_head_revision,
        builtin.test_upgrade,
        builtin.test_model_definitions_match_ddl,
        builtin.test_up_down_consistency,
    ],
    ids=lambda test: str(test.__name__),
)
async def test_pytest_alembic(
    builtin_test: Callable[[MigrationContext], None],
    alembic_runner: MigrationContext,
    alembic_connection: AsyncConnection,
) -> None:
    await alembic_connection.run_sync(lambda _: builtin_test(alembic_runner))


async def test_alembic_check_passes_at_head(database_url: str) -> None:
    await run_sync(database_url, alembic_check)


async def test_downgrade_to_base_leaves_nothing_behind_and_upgrades_again(
    backend: str, empty_database: str
) -> None:
    await migrate(empty_database)
    # The queries do find what the migrations create (so an empty result below means something).
    expected = {"tables", "alembic_version rows", *LEFTOVER_QUERIES[backend]} - {"enum types"}
    assert (await run_sync(empty_database, leftovers)).keys() == expected

    await run_sync(empty_database, downgrade_to_base)
    assert await run_sync(empty_database, leftovers) == {}

    await migrate(empty_database)
    await run_sync(empty_database, alembic_check)


@pytest.fixture
def project_copies(tmp_path: Path) -> tuple[Path, Path]:
    """Two copies of the code alembic runs: as it is, and with a TaskStatus value added."""
    copies = tmp_path / "clean", tmp_path / "drifted"
    for copy in copies:
        for package in ("taskflow", "migrations"):
            ignore = shutil.ignore_patterns("__pycache__")
            shutil.copytree(ROOT / package, copy / package, ignore=ignore)
        shutil.copy(ROOT / "alembic.ini", copy)
    enums = copies[1] / "taskflow" / "models" / "enums.py"
    source = enums.read_text()
    declaration = "class TaskStatus(StrEnum):\n"
    assert declaration in source
    enums.write_text(source.replace(declaration, f'{declaration}    BLOCKED = "blocked"\n'))
    return copies


async def run_python(project: Path, database_url: str, *args: str) -> tuple[int, str]:
    """Run the interpreter in `project`, importing `taskflow` from there, not the install."""
    pythonpath = os.pathsep.join(filter(None, [str(project), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": pythonpath, "DATABASE_URL": database_url}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *args,
        cwd=project,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode()


async def test_alembic_check_catches_a_new_enum_value(
    database_url: str, project_copies: tuple[Path, Path]
) -> None:
    clean, drifted = project_copies
    for copy in project_copies:
        code, imported = await run_python(
            copy, database_url, "-c", "import taskflow.models.enums as m; print(m.__file__)"
        )
        assert code == 0, imported
        assert Path(imported.strip()).is_relative_to(copy)

    code, output = await run_python(clean, database_url, "-m", "alembic", "check")
    assert code == 0, output

    code, output = await run_python(drifted, database_url, "-m", "alembic", "check")
    assert code != 0, output
    assert "ck_tasks_task_status" in output, output
