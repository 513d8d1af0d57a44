"""task_created_at on task_tags: tag-filtered pages in date order

Revision ID: 4f837380def0
Revises: 060ec76cb676
Create Date: 2026-12-04 15:21:58.882956

Each link carries its task's created_at (which never changes), and the index on tag_id
becomes (tag_id, task_created_at, task_id): a tag-filtered page reads a page's worth of
links per tag, in order, instead of every task that carries the tag.

Written for a live database. On PostgreSQL:
- the column is added nullable (a catalog change), filled from tasks for 10,000 task
  ids at a time, each batch its own transaction, so no lock is held for long;
- NOT NULL then goes on through a CHECK constraint added NOT VALID and validated
  (which blocks no reads or writes), so that SET NOT NULL needs no scan under its lock;
  the constraint is dropped after;
- the new index is built CONCURRENTLY before the old one is dropped the same way.
A trigger fills the column for links written without it, so an older version of the
app may keep running during the upgrade; it stays, for any writer that leaves it out.
Every step can run again after a failure. On SQLite the table is copied in batch mode
(the app is its only writer there, and sets the column).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "4f837380def0"
down_revision: str | Sequence[str] | None = "060ec76cb676"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_INDEX = "ix_task_tags_tag_id"
NEW_INDEX = "ix_task_tags_tag_id_task_created_at_task_id"
CHECK = "ck_task_tags_task_created_at_not_null"
TRIGGER = "trg_task_tags_task_created_at"
BATCH = 10_000


def _on_postgresql() -> bool:
    return op.get_context().dialect.name == "postgresql"


def _column() -> sa.Column[object]:
    # Nullable until filled; NOT NULL comes after.
    return sa.Column("task_created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)


def _set_timeouts() -> None:
    # Session settings, so they also hold in the autocommit blocks below.
    op.execute("SET lock_timeout = '5s'")
    op.execute("SET statement_timeout = '15min'")  # the validation and index builds


_FILL = sa.text(
    "UPDATE task_tags SET task_created_at = tasks.created_at FROM tasks "
    "WHERE tasks.id = task_tags.task_id AND task_tags.task_created_at IS NULL"
)


def upgrade() -> None:
    if not _on_postgresql():
        with op.batch_alter_table("task_tags") as batch_op:
            batch_op.add_column(_column())
        op.execute(_FILL)
        with op.batch_alter_table("task_tags") as batch_op:
            batch_op.alter_column("task_created_at", nullable=False)
            batch_op.drop_index(OLD_INDEX)
            batch_op.create_index(NEW_INDEX, ["tag_id", "task_created_at", "task_id"])
        return
    _set_timeouts()
    op.add_column("task_tags", _column(), if_not_exists=True)
    # For writers that do not set it: an older version of the app, still running while
    # this upgrade runs, whose links would otherwise fail the constraint below.
    op.execute(
        """
        CREATE OR REPLACE FUNCTION taskflow_link_task_created_at() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.task_created_at IS NULL THEN
                SELECT created_at INTO NEW.task_created_at FROM tasks WHERE id = NEW.task_id;
            END IF;
            RETURN NEW;
        END;
        $$
        """
    )
    op.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON task_tags")
    op.execute(
        f"CREATE TRIGGER {TRIGGER} BEFORE INSERT ON task_tags "
        "FOR EACH ROW EXECUTE FUNCTION taskflow_link_task_created_at()"
    )
    context = op.get_context()
    with context.autocommit_block():
        _fill_in_batches()
    if context.as_sql or not _has_check():
        _in_own_transaction(
            f"ALTER TABLE task_tags ADD CONSTRAINT {CHECK} "
            "CHECK (task_created_at IS NOT NULL) NOT VALID"
        )
    # Each in a transaction of its own (ending one with an empty autocommit block):
    # validating reads the table but blocks no reads or writes, and with the constraint
    # valid PostgreSQL sets NOT NULL without reading it.
    with context.autocommit_block():
        pass
    _in_own_transaction(f"ALTER TABLE task_tags VALIDATE CONSTRAINT {CHECK}")
    with context.autocommit_block():
        pass
    _in_own_transaction("ALTER TABLE task_tags ALTER COLUMN task_created_at SET NOT NULL")
    # NOT NULL now says what the constraint said; the models know only NOT NULL.
    op.execute(
        "-- squawk-ignore ban-drop-constraint\n"
        f"ALTER TABLE task_tags DROP CONSTRAINT IF EXISTS {CHECK}"
    )
    with context.autocommit_block():
        # A concurrent build waits for older transactions, blocking nobody meanwhile;
        # one that failed leaves an INVALID index, which a second run rebuilds.
        op.execute("SET lock_timeout = 0")
        op.drop_index(
            NEW_INDEX, table_name="task_tags", postgresql_concurrently=True, if_exists=True
        )
        op.create_index(
            NEW_INDEX,
            "task_tags",
            ["tag_id", "task_created_at", "task_id"],
            postgresql_concurrently=True,
            if_not_exists=True,
        )
        op.drop_index(
            OLD_INDEX, table_name="task_tags", postgresql_concurrently=True, if_exists=True
        )


def _in_own_transaction(sql: str) -> None:
    # squawk takes a revision with CONCURRENTLY steps as running outside any transaction.
    # These statements run each in a transaction of their own, and a second run repeats
    # them harmlessly (the constraint is added only where it is missing).
    op.execute(f"-- squawk-ignore prefer-robust-stmts\n{sql}")


def _has_check() -> bool:
    checks = sa.inspect(op.get_bind()).get_check_constraints("task_tags")
    return any(check["name"] == CHECK for check in checks)


def _fill_in_batches() -> None:
    if op.get_context().as_sql:  # offline (squawk's view): the statement, once
        op.execute(_FILL)
        return
    # By ranges of task ids, which the primary key (task_id, tag_id) finds directly.
    batch = sa.text(f"{_FILL.text} AND task_tags.task_id >= :start AND task_tags.task_id < :end")
    connection = op.get_bind()
    low, high = connection.execute(
        sa.text("SELECT min(task_id), max(task_id) FROM task_tags")
    ).one()
    if low is None:
        return
    for start in range(low, high + 1, BATCH):
        connection.execute(batch, {"start": start, "end": start + BATCH})


def downgrade() -> None:
    if not _on_postgresql():
        with op.batch_alter_table("task_tags") as batch_op:
            batch_op.drop_index(NEW_INDEX)
            batch_op.create_index(OLD_INDEX, ["tag_id"])
            batch_op.drop_column("task_created_at")
        return
    _set_timeouts()
    with op.get_context().autocommit_block():
        op.execute("SET lock_timeout = 0")
        op.drop_index(
            OLD_INDEX, table_name="task_tags", postgresql_concurrently=True, if_exists=True
        )
        op.create_index(OLD_INDEX, "task_tags", ["tag_id"], postgresql_concurrently=True)
        op.drop_index(
            NEW_INDEX, table_name="task_tags", postgresql_concurrently=True, if_exists=True
        )
    op.execute("SET lock_timeout = '5s'")
    op.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON task_tags")
    op.execute("DROP FUNCTION IF EXISTS taskflow_link_task_created_at()")
    op.drop_column("task_tags", "task_created_at", if_exists=True)  # catalog only
