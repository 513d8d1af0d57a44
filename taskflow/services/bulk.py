"""Bulk loading: COPY on PostgreSQL (on the session's connection), executemany on SQLite.

Runs inside the caller's transaction like every other write here; the caller commits.
"""

from collections.abc import Sequence

from sqlalchemy import delete, func, insert, select, text
from sqlmodel import SQLModel, col
from sqlmodel.ext.asyncio.session import AsyncSession

from taskflow.models import Project, User
from taskflow.services.common import dialect_name
from taskflow.services.visibility import include_trashed

__all__ = ["copy_rows", "delete_users_by_domain", "next_ids", "reset_sequences", "users_in_domain"]


def _is_postgresql(session: AsyncSession) -> bool:
    return dialect_name(session) == "postgresql"


async def copy_rows(
    session: AsyncSession, table: str, columns: Sequence[str], rows: Sequence[tuple[object, ...]]
) -> None:
    """Insert many rows fast, in the session's transaction."""
    if not rows:
        return
    if _is_postgresql(session):
        connection = await session.connection()
        # The first statement makes SQLAlchemy open its transaction on the connection,
        # so that COPY below belongs to it and commits or rolls back with the session.
        await connection.exec_driver_sql("SELECT 1")
        raw = (await connection.get_raw_connection()).driver_connection
        assert raw is not None
        await raw.copy_records_to_table(table, records=rows, columns=list(columns))
        return
    target = SQLModel.metadata.tables[table]
    await session.exec(
        insert(target), params=[dict(zip(columns, row, strict=True)) for row in rows]
    )


async def next_ids(session: AsyncSession, tables: Sequence[str]) -> dict[str, int]:
    """The first free id of each table, for rows whose ids are assigned before loading."""
    ids = {}
    for table in tables:
        column = SQLModel.metadata.tables[table].c.id
        ids[table] = int(await session.scalar(select(func.coalesce(func.max(column), 0))) or 0) + 1
    return ids


async def reset_sequences(session: AsyncSession, tables: Sequence[str]) -> None:
    """After loading explicit ids, move PostgreSQL's id sequences past them."""
    if not _is_postgresql(session):
        return  # SQLite takes max(rowid) + 1 by itself
    for table in tables:
        await session.exec(  # type: ignore[call-overload]
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608  (own table names)
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            )
        )


async def users_in_domain(session: AsyncSession, domain: str) -> int:
    """How many users have an address at `domain`."""
    count = await session.scalar(
        select(func.count()).select_from(User).where(col(User.email).endswith(f"@{domain}"))
    )
    return int(count or 0)


async def delete_users_by_domain(session: AsyncSession, domain: str) -> None:
    """Delete the users at `domain` and the projects they own (cascading to their rows)."""
    users = select(col(User.id)).where(col(User.email).endswith(f"@{domain}"))
    # Trashed projects too: the trash still holds them (and RESTRICT still guards them).
    await session.exec(include_trashed(delete(Project).where(col(Project.owner_id).in_(users))))
    await session.exec(delete(User).where(col(User.id).in_(users)))
