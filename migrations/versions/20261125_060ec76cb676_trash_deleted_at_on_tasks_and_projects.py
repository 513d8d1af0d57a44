"""trash: deleted_at on tasks and projects

Revision ID: 060ec76cb676
Revises: ff47453adee6
Create Date: 2026-11-25 16:17:11.113037

Written for a live database. On PostgreSQL:
- the columns are nullable with no default, so adding them only changes the catalog (no
  table rewrite), under a short lock_timeout: behind a long transaction it fails fast
  instead of queueing every query on the table behind its lock;
- the partial indexes (only trashed rows: the trash list, the purge) are built
  CONCURRENTLY, which cannot run inside a transaction, hence Alembic's autocommit block;
  running the upgrade again after a failed build replaces the INVALID index it left.
On SQLite the same changes go through batch mode (ADD COLUMN and CREATE INDEX need no copy).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "060ec76cb676"
down_revision: str | Sequence[str] | None = "ff47453adee6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("projects", "tasks")
IN_TRASH = sa.text("deleted_at IS NOT NULL")


def _on_postgresql() -> bool:
    return op.get_context().dialect.name == "postgresql"


def _deleted_at() -> sa.Column[object]:
    return sa.Column("deleted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)


def _set_timeouts() -> None:
    # Session settings, so they also hold in the autocommit block below.
    op.execute("SET lock_timeout = '5s'")
    op.execute("SET statement_timeout = '15min'")  # the index builds read the whole table


def upgrade() -> None:
    if not _on_postgresql():
        for table in TABLES:
            with op.batch_alter_table(table) as batch_op:
                batch_op.add_column(_deleted_at())
                batch_op.create_index(
                    f"ix_{table}_deleted_at", ["deleted_at"], sqlite_where=IN_TRASH
                )
        return
    _set_timeouts()
    for table in TABLES:
        op.add_column(table, _deleted_at(), if_not_exists=True)
    with op.get_context().autocommit_block():
        # A concurrent build waits for every older transaction, blocking nobody meanwhile,
        # so it gets no lock_timeout. A failed build leaves an INVALID index that
        # IF NOT EXISTS would keep: a second run drops it and builds it again.
        op.execute("SET lock_timeout = 0")
        for table in TABLES:
            op.drop_index(
                f"ix_{table}_deleted_at",
                table_name=table,
                postgresql_concurrently=True,
                if_exists=True,
            )
            op.create_index(
                f"ix_{table}_deleted_at",
                table,
                ["deleted_at"],
                postgresql_where=IN_TRASH,
                postgresql_concurrently=True,
                if_not_exists=True,
            )


def downgrade() -> None:
    if not _on_postgresql():
        for table in TABLES:
            with op.batch_alter_table(table) as batch_op:
                batch_op.drop_index(f"ix_{table}_deleted_at")
                batch_op.drop_column("deleted_at")
        return
    _set_timeouts()
    with op.get_context().autocommit_block():
        for table in TABLES:
            op.drop_index(
                f"ix_{table}_deleted_at",
                table_name=table,
                postgresql_concurrently=True,
                if_exists=True,
            )
    for table in TABLES:
        op.drop_column(
            table, "deleted_at", if_exists=True
        )  # catalog only; the space is reclaimed by VACUUM
