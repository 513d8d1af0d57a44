"""Helpers every service uses: flushing with error translation, portable upserts, LIKE escaping."""

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.dml import Insert
from sqlmodel.ext.asyncio.session import AsyncSession

from taskflow.errors import translate_integrity_error

__all__ = ["escape_like", "flush", "insert_ignoring_conflicts"]


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
