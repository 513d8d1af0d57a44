"""Helpers every service uses: Core reads, flushing with error translation, portable upserts,
LIKE escaping."""

import weakref
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ClauseElement,
    ColumnElement,
    Dialect,
    Executable,
    Integer,
    Select,
    Table,
    bindparam,
    insert,
    literal_column,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import Insert
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from taskflow.errors import translate_integrity_error
from taskflow.services.visibility import StatementT, hide_trashed

__all__ = [
    "dialect_name",
    "escape_like",
    "execute_many",
    "fetch_all",
    "fetch_dicts",
    "fetch_scalar",
    "flush",
    "insert_ignoring_conflicts",
    "insert_row",
    "literal_limit",
    "prepared",
    "prepared_write",
]

_PREPARED = "taskflow_prepared"


def prepared(statement: StatementT) -> StatementT:
    """A read built once, at import or by a cached builder, with bind parameters for its
    values: the visibility rules go in now, and `fetch_*` may send it straight to asyncpg.
    """
    return hide_trashed(statement).execution_options(**{_PREPARED: True})


def prepared_write(statement: Insert) -> Insert:
    """A write built once, with bound values: `execute_many` may send it to asyncpg."""
    return statement.execution_options(**{_PREPARED: True})


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
    SQLAlchemy's statement events or echoes SQL (tracing, statement counters, logging).
    If the driver fails, the statement runs again through SQLAlchemy, so errors and lost
    connections are reported and recovered from (pool invalidation) as for every other
    statement; except a timeout or a lack of resources, which a second run would only
    repeat at the same cost: those are raised as SQLAlchemy's OperationalError at once.
    """
    connection = await _connection(session)
    statement = hide_trashed(statement)
    found = _reads_on_driver(connection, statement)
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


async def insert_row(session: AsyncSession, row: SQLModel) -> None:
    """INSERT a new row of a table model and make it persistent in the session, as a flush
    would; a violated constraint becomes a domain error.

    For the hot writes (a new task): the unit of work costs more CPU than the INSERT it
    sends. This is one prepared `INSERT ... RETURNING` of the row's column values, which
    `execute_many`'s path may send straight to asyncpg; the row then joins the session as
    if loaded (`make_transient_to_detached`), its relationships unloaded. So the row must
    have no related objects set (they would not be inserted), and its primary key is one
    generated column. Mapper events do not fire for it (TaskFlow has none). After a
    rollback the row stays in the session, expired, where a flushed one would be expunged:
    callers discard the session's objects after a failed transaction anyway.
    """
    table: Table = row.__table__  # type: ignore[attr-defined]
    statement, keys, key_column = _insert_returning_key(table)
    values = {key: getattr(row, key) for key in keys}
    try:
        rows = await _write(session, statement, [values], returning=True)
    except IntegrityError as error:
        raise translate_integrity_error(error) from error
    setattr(row, key_column, rows[0][0])
    make_transient_to_detached(row)
    session.add(row)


@lru_cache(maxsize=64)
def _insert_returning_key(table: Table) -> tuple[Insert, tuple[str, ...], str]:
    (key,) = table.primary_key.columns
    columns = [column for column in table.columns if column is not key]
    values = {column: bindparam(column.key, type_=column.type) for column in columns}
    statement = prepared_write(insert(table).values(values).returning(key))
    return statement, tuple(column.key for column in columns), key.key


async def execute_many(
    session: AsyncSession, statement: Insert, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Run a write once per row (executemany) in the session's transaction.

    A `prepared_write` statement goes straight to asyncpg once SQLAlchemy has begun the
    transaction (see `_writes_on_driver`), with SQLAlchemy's value conversions applied,
    while nothing listens to its statement events. A failure there is raised as
    SQLAlchemy would raise it, and is not run again: the transaction is aborted, and the
    caller rolls it back as after any failed write.
    """
    await _write(session, statement, rows, returning=False)


async def _write(
    session: AsyncSession,
    statement: Insert,
    rows: Sequence[Mapping[str, Any]],
    *,
    returning: bool,
) -> Sequence[Sequence[Any]]:
    connection = await _connection(session)
    found = _writes_on_driver(connection, statement)
    if found is None:
        result = await connection.execute(statement, list(rows))
        return result.all() if returning else ()
    driver, form = found
    arguments = [form.arguments(row) for row in rows]
    try:
        if returning:
            (one,) = arguments
            return await driver.fetch(form.sql, *one)  # type: ignore[no-any-return]
        await driver.executemany(form.sql, arguments)
        return ()
    except Exception as error:
        raise await _as_sqlalchemy_error(connection, driver, form.sql, rows, error) from error


async def _as_sqlalchemy_error(
    connection: AsyncConnection,
    driver: Any,
    sql: str,
    rows: Sequence[Mapping[str, Any]],
    error: Exception,
) -> DBAPIError:
    """The error SQLAlchemy's path would raise for a failed driver write."""
    import asyncpg

    params = list(rows)
    if driver.is_closed() or not isinstance(error, asyncpg.PostgresError):
        # The connection itself failed: the pool must not hand it out again.
        await connection.invalidate()
        return DBAPIError(sql, params, error, connection_invalidated=True)
    if isinstance(error, asyncpg.IntegrityConstraintViolationError):
        return IntegrityError(sql, params, error)
    if isinstance(error, asyncpg.DataError):
        return DataError(sql, params, error)
    if _repeats_at_same_cost(error):
        return OperationalError(sql, params, error)
    return DBAPIError(sql, params, error)


_CONNECTION = "taskflow_connection"


async def _connection(session: AsyncSession) -> AsyncConnection:
    """The session's connection, remembered while its innermost transaction is active.

    Asking the session again costs a greenlet switch, which also makes the statement
    after it slower: together about a third of a point read on the driver path. A new
    transaction or savepoint, or one that failed, goes through `session.connection()`,
    which begins it or reports it.
    """
    sync = session.sync_session
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

    def __init__(self, compiled: SQLCompiler, dialect: Dialect) -> None:
        self.sql = compiled.string
        self.order = tuple(compiled.positiontup or ())
        binds = [compiled.binds[name] for name in self.order]
        # Values fixed when the statement was built; the others come with each call.
        self.fixed = {b.key: b.value for b in binds if b.value is not None or not b.required}
        self.names = [b.key for b in binds]
        if any(b.callable is not None for b in binds):
            raise _NotForDriver
        # SQLAlchemy's own conversion of a value for the driver (an enum to its value, for
        # one), by position; writes apply them, reads with any leave the driver path.
        processors = [b.type.dialect_impl(dialect).bind_processor(dialect) for b in binds]
        self.converters = [(i, p) for i, p in enumerate(processors) if p is not None]

    def arguments(self, params: Mapping[str, Any] | None) -> list[Any]:
        given = params or {}
        fixed = self.fixed
        values = [given[name] if name in given else fixed[name] for name in self.names]
        for position, convert in self.converters:
            values[position] = convert(values[position])
        return values


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
        or sync.invalidated
        or sync.engine.echo
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


def _reads_on_driver(
    connection: AsyncConnection, statement: Executable
) -> tuple[Any, _DriverForm] | None:
    """Outside a transaction only (see `fetch_all`), and only values the driver takes as
    they are: a read that fails there runs again through SQLAlchemy."""
    sync = connection.sync_connection
    if sync is None or sync.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
        return None
    found = _driver_form(connection, statement)
    return None if found is None or found[1].converters else found


def _writes_on_driver(
    connection: AsyncConnection, statement: Executable
) -> tuple[Any, _DriverForm] | None:
    """Only inside a transaction SQLAlchemy has begun on the connection.

    SQLAlchemy's asyncpg adapter sends BEGIN with the first statement, so before that a
    write sent to the driver would commit by itself; asyncpg's `is_in_transaction()` is
    the server's own answer. The session still owns the transaction: COMMIT and ROLLBACK
    go through it.
    """
    found = _driver_form(connection, statement)
    return found if found is not None and found[0].is_in_transaction() else None


def _compile_for_driver(statement: Executable, dialect: Dialect) -> _DriverForm | None:
    """The driver form, or None when a result needs SQLAlchemy's conversions, or a value
    needs expansion or computing per call; anything unexpected also leaves it to
    SQLAlchemy."""
    if not isinstance(statement, ClauseElement):
        return None
    try:
        compiled = statement.compile(dialect=dialect)
        if not isinstance(compiled, SQLCompiler) or "POSTCOMPILE" in compiled.string:
            return None
        # A SELECT's columns, or an INSERT's RETURNING
        columns: Any = getattr(statement, "selected_columns", None)
        if columns is None:
            columns = getattr(statement, "exported_columns", ())
        if any(c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns):
            return None
        return _DriverForm(compiled, dialect)
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
