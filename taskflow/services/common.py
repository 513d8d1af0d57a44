"""Helpers every service uses: Core reads, flushing with error translation, portable upserts,
LIKE escaping."""

import logging
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    ClauseElement,
    ColumnElement,
    Dialect,
    Executable,
    Integer,
    Select,
    Table,
    event,
    literal_column,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, PendingRollbackError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import Insert
from sqlmodel.ext.asyncio.session import AsyncSession

from taskflow.errors import translate_integrity_error
from taskflow.services.visibility import StatementT, hide_trashed

__all__ = [
    "dialect_name",
    "escape_like",
    "execute_write",
    "fetch_all",
    "fetch_dicts",
    "fetch_scalar",
    "flush",
    "insert_ignoring_conflicts",
    "literal_limit",
    "prepared",
]

_PREPARED = "taskflow_prepared"


def prepared(statement: StatementT) -> StatementT:
    """A read built once, at import or by a cached builder, with bind parameters for its
    values: the visibility rules go in now, and `fetch_*` may send it straight to asyncpg.
    """
    return hide_trashed(statement).execution_options(**{_PREPARED: True})


def literal_limit(rows: int) -> ColumnElement[int]:
    """A LIMIT written into a prepared statement's SQL instead of bound.

    PostgreSQL re-plans a prepared statement on every execution when its generic plan
    looks dearer than the custom ones, and it costs a bound LIMIT as a tenth of the rows:
    pages of 50 from a project of 1,000 tasks were planned again each time (a third of a
    millisecond of server CPU). A literal costs one statement per page size in the caches.
    """
    return literal_column(str(int(rows)), Integer)


async def fetch_all(
    session: AsyncSession, statement: Executable, params: Mapping[str, Any] | None = None
) -> Sequence[Sequence[Any]]:
    """The rows of a Core read on the session's connection (and transaction, if any).

    For reads that need no ORM objects: it skips the ORM's per-statement work (entity
    resolution, autoflush, identity map), which costs more than the statement itself on
    the hot paths; pending ORM changes are therefore not flushed first. Trashed rows stay
    hidden (taskflow.services.visibility) as they are from ORM statements.

    A `prepared` statement in a read-only session on PostgreSQL goes to asyncpg directly,
    as SQL compiled once: SQLAlchemy's async adaptation (a greenlet per call, its cursor
    and result objects) costs more CPU than asyncpg's whole execution of such a read. Only
    statements whose values need no conversion by SQLAlchemy qualify, only outside a
    transaction, which the driver would not know of, and only while nothing listens to
    SQLAlchemy's statement events or logs SQL (tracing, statement counters, `echo` or the
    `sqlalchemy.engine` logger at INFO).
    If the driver fails, the statement runs again through SQLAlchemy, so errors and lost
    connections are reported and recovered from (pool invalidation) as for every other
    statement; except a timeout or a lack of resources, which a second run would only
    repeat at the same cost: those are raised as SQLAlchemy's OperationalError at once.
    """
    connection = await _connection(session)
    statement = hide_trashed(statement)
    found = _driver_form(connection, statement)
    if found is not None:
        driver, form = found
        try:
            return await driver.fetch(form.sql, *form.arguments(params))  # type: ignore[no-any-return]
        except Exception as error:
            if _repeats_at_same_cost(error):
                raise OperationalError(form.sql, params, error) from error
            # Otherwise SQLAlchemy's path below reports it (and recovers from it).
    return (await connection.execute(statement, params)).all()


async def fetch_scalar(
    session: AsyncSession, statement: Executable, params: Mapping[str, Any] | None = None
) -> Any:
    """The first column of the first row, or None without rows (see `fetch_all`)."""
    rows = await fetch_all(session, statement, params)
    return rows[0][0] if rows else None


async def fetch_dicts(
    session: AsyncSession,
    statement: Select[Any],
    params: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """The rows as dicts by column name (see `fetch_all`): pydantic validates plain dicts
    natively, row objects only through Python."""
    keys = statement.selected_columns.keys()
    rows = await fetch_all(session, statement, params)
    return [dict(zip(keys, row, strict=True)) for row in rows]


_CONNECTION = "taskflow_connection"


async def _connection(session: AsyncSession) -> AsyncConnection:
    """The session's connection, remembered while its innermost transaction is active.

    Asking the session again costs a greenlet switch, which also makes the statement
    after it slower: together about a third of a point read on the driver path. A new
    transaction or savepoint, or one that failed, goes through `session.connection()`,
    which begins it or reports it.
    """
    sync = session.sync_session
    _refuse_after_failed_write(sync)
    current = sync.get_nested_transaction() or sync.get_transaction()
    remembered = session.info.get(_CONNECTION)
    if current is not None and current.is_active and remembered and remembered[0] is current:
        return remembered[1]  # type: ignore[no-any-return]
    connection = await session.connection()
    session.info[_CONNECTION] = (
        sync.get_nested_transaction() or sync.get_transaction(),
        connection,
    )
    return connection


def _repeats_at_same_cost(error: Exception) -> bool:
    """A statement timeout, or the server out of memory or disk: run again, it would be."""
    # Imported here: the data layer loads no driver until a connection needs one, and only
    # asyncpg's connections come this way.
    import asyncpg

    return isinstance(error, asyncpg.QueryCanceledError | asyncpg.InsufficientResourcesError)


class _DriverForm:
    """A statement as asyncpg runs it: the SQL, and how to order its bound values.

    It keeps no reference to the statement, so that the cache below can drop it.
    """

    def __init__(self, compiled: SQLCompiler) -> None:
        self.sql = compiled.string
        self.order = tuple(compiled.positiontup or ())
        binds = [compiled.binds[name] for name in self.order]
        # Values fixed when the statement was built; the others come with each call.
        self.fixed = {b.key: b.value for b in binds if b.value is not None or not b.required}
        self.names = [b.key for b in binds]
        if any(b.callable is not None for b in binds):
            raise _NotForDriver

    def arguments(self, params: Mapping[str, Any] | None) -> list[Any]:
        given = params or {}
        fixed = self.fixed
        return [given[name] if name in given else fixed[name] for name in self.names]


class _NotForDriver(Exception):
    pass


# Per prepared statement and dialect; a statement dropped by its lru_cached builder
# drops its entry.
_driver_forms: "weakref.WeakKeyDictionary[Executable, dict[Any, _DriverForm | None]]" = (
    weakref.WeakKeyDictionary()
)


def _driver_form(
    connection: AsyncConnection, statement: Executable
) -> tuple[Any, _DriverForm] | None:
    """The asyncpg connection and the statement's form for it, if it may go there."""
    sync = connection.sync_connection
    if (
        sync is None
        or sync.dialect.driver != "asyncpg"
        or not statement.get_execution_options().get(_PREPARED)
        or sync.get_execution_options().get("isolation_level") != "AUTOCOMMIT"
        or sync.invalidated
        or sync.engine.logger.isEnabledFor(logging.INFO)  # echo, or the logging module's
        or sync.dispatch.before_cursor_execute
        or sync.dispatch.after_cursor_execute
    ):
        return None
    dialect = sync.dialect
    forms = _driver_forms.setdefault(statement, {})
    key = (dialect.paramstyle, dialect.server_version_info)
    if key not in forms:
        forms[key] = _compile_for_driver(statement, dialect)
    form = forms[key]
    return None if form is None else (sync.connection.driver_connection, form)


def _compile_for_driver(statement: Executable, dialect: Dialect) -> _DriverForm | None:
    """The driver form, or None when a value needs SQLAlchemy's conversions (or expansion,
    or values computed per call); anything unexpected also leaves it to SQLAlchemy."""
    if not isinstance(statement, ClauseElement):
        return None
    try:
        compiled = statement.compile(dialect=dialect)
        if not isinstance(compiled, SQLCompiler) or "POSTCOMPILE" in compiled.string:
            return None
        bound = (bind.type for bind in compiled.binds.values())
        if any(kind.dialect_impl(dialect).bind_processor(dialect) for kind in bound):
            return None
        columns = getattr(statement, "selected_columns", ())
        if any(c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns):
            return None
        return _DriverForm(compiled)
    except Exception:  # e.g. result_processor(dialect, None) of Numeric wants a column type
        return None


async def flush(session: AsyncSession) -> None:
    """Flush pending writes; a violated constraint becomes a domain error.

    The session's transaction is unusable afterwards, and the caller rolls it back.
    """
    try:
        await session.flush()
    except IntegrityError as error:
        raise translate_integrity_error(error) from error


async def execute_write(
    session: AsyncSession, statement: Executable, params: Mapping[str, Any]
) -> CursorResult[Any]:
    """A Core write on the session's connection, in its transaction, for a change the
    ORM's flush would make at a greater cost; a violated constraint becomes a domain error.

    A failed statement fails as a flush does. It rolls back the session's innermost
    transaction: only its savepoint, if any; otherwise the whole transaction, after which
    the session refuses work until the caller rolls back (PendingRollbackError). Without
    this the session would not know of the failure: PostgreSQL would roll back at the next
    COMMIT without an error, and SQLite commit what came before. And a caller going on
    after the error must not commit later work as if the earlier work stood.
    """
    connection = await _connection(session)
    try:
        return await connection.execute(statement, params)
    except DBAPIError as error:
        nested = session.get_nested_transaction()
        if nested is not None:
            await nested.rollback()
        else:
            transaction = session.get_transaction()
            if transaction is not None:
                await transaction.rollback()
            # A transaction without a connection yet, for the caller's rollback to end.
            session.sync_session.begin()
            session.info[_FAILED_WRITE] = error
        if isinstance(error, IntegrityError):
            raise translate_integrity_error(error) from error
        raise


_FAILED_WRITE = "taskflow_failed_write"


def _refuse_after_failed_write(session: Session) -> None:
    error = session.info.get(_FAILED_WRITE)
    if error is not None:
        raise PendingRollbackError(
            "This Session's transaction has been rolled back due to a previous exception "
            "during a write. To begin a new transaction with this Session, first issue "
            f"Session.rollback(). Original exception was: {error}"
        )


# The session's own operations check too, as after a failed flush. Session events are
# public; the state a failed flush leaves is not.
@event.listens_for(Session, "do_orm_execute")
def _before_orm_execute(state: ORMExecuteState) -> None:
    _refuse_after_failed_write(state.session)


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    _refuse_after_failed_write(session)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    _refuse_after_failed_write(session)


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # rolled back (or closed) by the caller
        session.info.pop(_FAILED_WRITE, None)


def dialect_name(session: AsyncSession) -> str:
    """ "postgresql" or "sqlite": the statements that differ are built per dialect."""
    return session.get_bind().dialect.name


def insert_ignoring_conflicts(dialect: str, table: Table) -> Insert:
    """`INSERT ... ON CONFLICT DO NOTHING` for the database (both support it)."""
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


def escape_like(text: str) -> str:
    """Make `%`, `_` and the escape character match themselves in LIKE (escape='\\')."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
