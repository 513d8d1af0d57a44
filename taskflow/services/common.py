"""Helpers every service uses: Core reads, flushing with error translation, portable upserts,
LIKE escaping."""

from collections.abc import Mapping
from typing import Any

from sqlalchemy import CursorResult, Executable, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.dml import Insert
from sqlmodel.ext.asyncio.session import AsyncSession

from taskflow.errors import translate_integrity_error
from taskflow.services.visibility import hide_trashed

__all__ = [
    "escape_like",
    "execute_core",
    "flush",
    "insert_ignoring_conflicts",
    "row_dicts",
]


async def execute_core(
    session: AsyncSession, statement: Executable, params: Mapping[str, Any] | None = None
) -> CursorResult[Any]:
    """Run a Core statement on the session's connection (and transaction, if any).

    For reads that need no ORM objects: it skips the ORM's per-statement work (entity
    resolution, autoflush, identity map), which costs more than the statement itself on
    the hot paths; pending ORM changes are therefore not flushed first. Statements built
    once, with bind parameters, also skip SQL construction. Trashed rows stay hidden
    (taskflow.services.visibility) as they are from ORM statements.
    """
    connection = await session.connection()
    return await connection.execute(hide_trashed(statement), params)


def row_dicts(result: CursorResult[Any]) -> list[dict[str, Any]]:
    """The rows as plain dicts: pydantic validates those natively, RowMapping through Python."""
    keys = list(result.keys())
    return [dict(zip(keys, row, strict=True)) for row in result]


async def flush(session: AsyncSession) -> None:
    """Flush pending writes; a violated constraint becomes a domain error.

    The session's transaction is unusable afterwards, and the caller rolls it back.
    """
    try:
        await session.flush()
    except IntegrityError as error:
        raise translate_integrity_error(error) from error


def insert_ignoring_conflicts(session: AsyncSession, table: Table) -> Insert:
    """`INSERT ... ON CONFLICT DO NOTHING` for the session's database (both support it)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


def escape_like(text: str) -> str:
    """Make `%`, `_` and the escape character match themselves in LIKE (escape='\\')."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
