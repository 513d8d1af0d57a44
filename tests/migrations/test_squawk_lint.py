"""The squawk lint of `make lint` (migrations/lint_sql.py), run on a copy of the migrations with
a revision planted on top of head. Offline rendering only: no database."""

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

from tests.conftest import ROOT

LINT = ROOT / "migrations" / "lint_sql.py"

PLANTED_REVISION = '''"""planted by tests/migrations/test_squawk_lint.py"""

import sqlalchemy as sa
from alembic import op

revision = "9a1a7ed00000"
down_revision = {down_revision!r}
branch_labels = None
depends_on = None


def upgrade() -> None:
{upgrade}


def downgrade() -> None:
    pass
'''
PLANTED_FILE = "29991231_9a1a7ed00000_planted.py"

# How a revision that changes a busy table passes: timeouts first, the index built concurrently
# outside the transaction, and each statement safe to rerun, since such a revision can stop
# half-applied.
CAREFUL_UPGRADE = """
op.execute("SET lock_timeout = '2s'")
op.execute("SET statement_timeout = '60s'")
op.add_column(
    "tasks", sa.Column("estimate_minutes", sa.Integer(), nullable=True), if_not_exists=True
)
with op.get_context().autocommit_block():
    op.create_index(
        "ix_tasks_estimate_minutes",
        "tasks",
        ["estimate_minutes"],
        postgresql_concurrently=True,
        if_not_exists=True,
    )
"""


def copy_migrations(tmp_path: Path) -> Path:
    """migrations/, alembic.ini and .squawk.toml copied under `tmp_path`; the copy's alembic.ini."""
    shutil.copytree(
        ROOT / "migrations", tmp_path / "migrations", ignore=shutil.ignore_patterns("__pycache__")
    )
    for name in ("alembic.ini", ".squawk.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path / "alembic.ini"


def plant_revision(alembic_ini: Path, upgrade: str) -> None:
    head = ScriptDirectory.from_config(Config(str(alembic_ini))).get_current_head()
    source = PLANTED_REVISION.format(
        down_revision=head, upgrade=textwrap.indent(upgrade.strip(), "    ")
    )
    (alembic_ini.parent / "migrations" / "versions" / PLANTED_FILE).write_text(source)


def run_lint(alembic_ini: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(LINT), "--config", str(alembic_ini)],
        cwd=alembic_ini.parent,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_migrations_as_they_are_pass(tmp_path: Path) -> None:
    result = run_lint(copy_migrations(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_careful_revision_on_a_busy_table_passes(tmp_path: Path) -> None:
    alembic_ini = copy_migrations(tmp_path)
    plant_revision(alembic_ini, CAREFUL_UPGRADE)
    result = run_lint(alembic_ini)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("upgrade", "rule"),
    [
        (
            'op.add_column("tasks", sa.Column("estimate_minutes", sa.Integer(), nullable=False))',
            "adding-required-field",
        ),
        (
            'op.create_index("ix_tasks_due_date", "tasks", ["due_date"])',
            "require-concurrent-index-creation",
        ),
        # Turned off for the root revision only, not for the ones after it.
        (
            'op.add_column("tasks", sa.Column("estimate_minutes", sa.Integer()))',
            "require-lock-timeout",
        ),
    ],
    ids=["not-null-column-without-default", "index-without-concurrently", "no-lock-timeout"],
)
def test_an_unsafe_revision_fails_naming_the_rule(tmp_path: Path, upgrade: str, rule: str) -> None:
    alembic_ini = copy_migrations(tmp_path)
    plant_revision(alembic_ini, upgrade)
    result = run_lint(alembic_ini)
    assert result.returncode != 0
    flagged = [line for line in result.stdout.splitlines() if f"warning: {rule} " in line]
    assert flagged, result.stdout + result.stderr
    assert all(Path(PLANTED_FILE).stem in line for line in flagged), flagged
