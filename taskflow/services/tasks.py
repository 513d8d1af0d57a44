"""Tasks: create, read with tags, filtered keyset lists, update, delete."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any, TypeVar

from pydantic import TypeAdapter
from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    and_,
    bindparam,
    case,
    cast,
    delete,
    func,
    inspect,
    literal_column,
    or_,
    true,
    tuple_,
    update,
)
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import aliased, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.util import ClauseAdapter
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from taskflow.errors import InvalidCursorError, InvalidValueError, NotFoundError
from taskflow.models import (
    ProjectMember,
    Tag,
    TagRead,
    Task,
    TaskCreate,
    TaskPriority,
    TaskRead,
    TaskStatus,
    TaskTag,
    TaskUpdate,
    User,
)
from taskflow.models.base import MAX_ID, as_utc, utc_now
from taskflow.services.access import ROLE_PERMISSIONS, Permission, require_role, require_task_role
from taskflow.services.common import (
    dialect_name,
    escape_like,
    execute_write,
    fetch_all,
    flush,
    insert_ignoring_conflicts,
    literal_limit,
    prepared,
)
from taskflow.services.members import get_membership
from taskflow.services.pagination import Page, decode_cursor, encode_cursor
from taskflow.services.tags import FOREIGN_TAGS, get_project_tags, named_in_project
from taskflow.services.visibility import hide_trashed

__all__ = [
    "TaskFilter",
    "TaskSort",
    "create_task",
    "create_task_read",
    "get_task",
    "list_query",
    "list_tasks",
    "read_query",
    "read_task",
    "read_tasks",
    "update_task",
    "update_task_by_id",
]


class TaskSort(StrEnum):
    CREATED_AT = "created_at"
    CREATED_AT_DESC = "-created_at"
    DUE_DATE = "due_date"
    DUE_DATE_DESC = "-due_date"
    PRIORITY = "priority"
    PRIORITY_DESC = "-priority"

    @property
    def descending(self) -> bool:
        return self.value.startswith("-")

    @property
    def field(self) -> str:
        return self.value.lstrip("-")


@dataclass(frozen=True)
class TaskFilter:
    """What a task list may be narrowed by; None means "any"."""

    project_id: int | None = None
    status: TaskStatus | None = None
    priority: TaskPriority | None = None
    assignee_id: int | None = None
    tag: str | None = None
    q: str | None = None
    due_before: datetime | None = None
    due_after: datetime | None = None
    # Only tasks of projects this user is a member of, while its account is active.
    member_id: int | None = None


_PRIORITY_RANK = case(
    {priority.value: priority.rank for priority in TaskPriority}, value=col(Task.priority)
)


def _loads(*, with_assignee: bool) -> list[Any]:
    # Tags: one extra SELECT, whatever the number of tasks (no N+1). The assignee, one
    # row per task at most, comes in the same SELECT through a LEFT JOIN.
    options = [selectinload(Task.tags)]  # type: ignore[arg-type]
    if with_assignee:
        options.append(joinedload(Task.assignee))  # type: ignore[arg-type]
    return options


@lru_cache
def _get_statement(*, with_assignee: bool) -> SelectOfScalar[Task]:
    # Built once; populate_existing: a task already in the session is read again, so a
    # trashed one stays hidden as from any query.
    # One task: its tags come in the same SELECT (a join), not in a second one.
    query = select(Task).where(col(Task.id) == bindparam("task_id"))
    query = query.options(joinedload(Task.tags))  # type: ignore[arg-type]
    if with_assignee:
        query = query.options(joinedload(Task.assignee))  # type: ignore[arg-type]
    return hide_trashed(query.execution_options(populate_existing=True))


async def get_task(session: AsyncSession, task_id: int, *, with_assignee: bool = False) -> Task:
    """The task with its tags (and, if asked, its assignee) loaded, or NotFoundError."""
    statement = _get_statement(with_assignee=with_assignee)
    task = (await session.exec(statement, params={"task_id": task_id})).unique().first()
    if task is None:
        raise NotFoundError("task not found")
    return task


# The read path: one statement per read, rows validated once into TaskRead, no ORM objects.
_TASKS = SQLModel.metadata.tables["tasks"]
# The model's attributes, not the table's columns: taskflow.services.visibility's rules
# apply to statements that name the entity.
_READ_FIELDS = tuple(name for name in TaskRead.model_fields if name not in ("tags", "assignee"))
_TASK_COLUMNS = {name: col(getattr(Task, name)) for name in _READ_FIELDS}
TaskT = TypeVar("TaskT", Task, TaskRead)
# Parses and validates a page of JSON straight into TaskRead, in one pass.
_TASK_READS = TypeAdapter(list[TaskRead])


def _key(name: str) -> ColumnElement[str]:
    """A JSON key written into the SQL: as bound values, the keys of a page's objects were
    20 parameters for the driver to encode and the server to bind on every execution."""
    if not name.isidentifier():  # field names only: nothing to quote
        raise ValueError(f"not a field name: {name!r}")
    return literal_column(f"'{name}'", String)


_TAG_FIELDS = ("id", "project_id", "name", "created_at")  # TagRead's


def _tags_array(rows: Any) -> Any:
    """The tags `rows` selects (`_TAG_FIELDS`) as a JSON array, unordered (PostgreSQL).

    Sorted by name in `_validated`, as on SQLite: an ORDER BY in the aggregate sorted each
    task's few tags on its own, which cost a page of 50 about 100 us more (round trip and
    validation, in a loop) than sorting them in Python.
    """
    # Whole rows aggregated, their column names as keys: a page's 50 subqueries took
    # PostgreSQL about 90 us less than with a json_build_object call per tag.
    # `tag_row` and `task_row` stand for whole rows; no column may be named so, since
    # PostgreSQL reads a bare name as a column first, an outer query's included.
    tag = rows.subquery("tag_row")
    aggregate = func.coalesce(func.json_agg(tag.table_valued()), literal_column("'[]'::json"))
    return select(aggregate).select_from(tag).scalar_subquery()


@lru_cache
def _tags_json(dialect: str) -> Any:
    """A task's tags as a JSON array of TagRead-shaped objects (correlated)."""
    tags, links = SQLModel.metadata.tables["tags"], SQLModel.metadata.tables["task_tags"]
    joined = links.join(tags, tags.c.id == links.c.tag_id)
    owned = links.c.task_id == _TASKS.c.id
    if dialect == "postgresql":
        rows = select(*(tags.c[name] for name in _TAG_FIELDS)).select_from(joined).where(owned)
        return _tags_array(rows.correlate(_TASKS))
    pairs = [part for name in _TAG_FIELDS for part in (_key(name), tags.c[name])]
    objects = func.json_group_array(func.json_object(*pairs))  # sorted in `_validated`
    return select(objects).select_from(joined).where(owned).scalar_subquery()


@lru_cache
def _assignee_json(dialect: str) -> Any:
    """A task's assignee as a UserSummary-shaped JSON object, or NULL (correlated)."""
    users = SQLModel.metadata.tables["users"]
    pairs = (_key("id"), users.c.id, _key("full_name"), users.c.full_name)
    built = func.json_build_object(*pairs) if dialect == "postgresql" else func.json_object(*pairs)
    # Correlated explicitly: in `_task_json`'s row on PostgreSQL it sits a level below
    # the task rows, where SQLAlchemy would otherwise add them to its own FROM. Everything
    # but `users`, not `tasks` by name: adapted to a new task's CTE (`_inserting_task`),
    # a correlation by name still named `tasks`.
    query = sa_select(built).where(users.c.id == _TASKS.c.assignee_id).correlate_except(users)
    return query.scalar_subquery()


def _task_json(
    dialect: str, columns: Mapping[str, Any], adapt: Any = None, tags: Any = None
) -> ColumnElement[str]:
    """A task as one JSON object of TaskRead's fields, tags and assignee included, built by
    the database. `adapt` re-targets the correlated subqueries at other task rows; `tags`,
    if given, is the tags' JSON array instead of the task's links (PostgreSQL).

    The rows then reach pydantic as one JSON document, which it parses and validates in
    one pass: no per-column conversions by the driver and SQLAlchemy, no dicts in between.
    """
    linked, assignee = _tags_json(dialect), _assignee_json(dialect)
    if adapt is not None:
        linked, assignee = adapt.traverse(linked), adapt.traverse(assignee)
    tags = linked if tags is None else tags
    if dialect == "postgresql":
        # The row as one object, its column names as keys: PostgreSQL built a page about
        # 35 us faster than through json_build_object's key and value per field. The
        # table's columns, not the model's: the visibility rules already apply outside.
        source = _TASKS.c if adapt is None else columns
        fields = [source[name].label(name) for name in _READ_FIELDS]
        row = sa_select(*fields, tags.label("tags"), assignee.label("assignee"))
        task = row.correlate_except(None).subquery("task_row")
        built: Any = sa_select(func.row_to_json(task.table_valued())).scalar_subquery()
    else:  # json(): the subqueries' text goes in as JSON, not a string
        pairs = [part for name in _READ_FIELDS for part in (_key(name), columns[name])]
        nested = (_key("tags"), func.json(tags), _key("assignee"), func.json(assignee))
        built = func.json_object(*pairs, *nested)
    # As text: the driver would otherwise decode PostgreSQL's json into dicts.
    return cast(built, String).label("task")


@lru_cache
def _read_by_id(dialect: str, *, visible: bool) -> Any:
    # Built once: constructing SQL expressions costs more than running this one.
    query = sa_select(_task_json(dialect, _TASK_COLUMNS)).where(
        col(Task.id) == bindparam("task_id")
    )
    if visible:  # only to a member of the task's project (any role may read)
        membership = _member_projects().where(col(ProjectMember.project_id) == col(Task.project_id))
        query = query.where(membership.exists())
    return prepared(_joined(query, dialect))


def _joined(query: Any, dialect: str) -> Any:
    """On PostgreSQL, the query's JSON objects joined by commas into one text, in its order.

    One value to receive instead of a row per task: a page of 50 cost the client 116 us
    less CPU, validation included (566 against 450, asyncpg in a loop). The order is the
    query's own: an ARRAY(subquery) holds the rows in the order the subquery returns them.
    SQLite keeps a row per task.
    """
    if dialect != "postgresql":
        return query
    comma = literal_column("','", String)
    return sa_select(func.array_to_string(func.array(query.scalar_subquery()), comma))


async def _read(session: AsyncSession, statement: Any, **params: Any) -> list[TaskRead]:
    # Core rows on the session's connection: nothing for the ORM to track.
    rows = await fetch_all(session, statement, params)
    postgresql = dialect_name(session) == "postgresql"
    joined = rows[0][0] if postgresql else ",".join(row[0] for row in rows)
    return _validated(joined)


def _validated(joined: str) -> list[TaskRead]:
    """TaskRead objects from tasks as JSON objects joined by commas (see `_task_json`),
    their tags in name order (the databases aggregate them unordered)."""
    reads = _TASK_READS.validate_json(f"[{joined}]")
    for read in reads:
        read.tags.sort(key=_by_name)
    return reads


def _by_name(tag: Tag | TagRead) -> str:
    # The order of Task.tags; names are unique within the one project a task's tags share.
    return tag.name


async def read_task(
    session: AsyncSession, task_id: int, *, member_id: int | None = None
) -> TaskRead:
    """The task as it leaves the service, with its tags, in one statement; or NotFoundError.

    With `member_id`, only if that user is a member of the task's project and its account
    is active (in the same statement): to anyone else the task does not exist.
    """
    visible = member_id is not None
    params = {"task_id": task_id} | ({"member_id": member_id} if visible else {})
    found = await _read(session, _read_by_id(dialect_name(session), visible=visible), **params)
    if not found:
        raise NotFoundError("task not found")
    return found[0]


async def read_tasks(
    session: AsyncSession,
    filters: TaskFilter,
    *,
    sort: TaskSort = TaskSort.CREATED_AT_DESC,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[TaskRead]:
    """The same page as `list_tasks`, as TaskRead rows, in one statement."""
    page = _Page.of(filters, sort=sort, limit=limit + 1, cursor=cursor)
    rows = await _read(session, _read_statement(page.shape, dialect_name(session)), **page.params)
    return _page(rows, limit, sort)


async def create_task(session: AsyncSession, data: TaskCreate) -> Task:
    """A new task; its tags must belong to its project and its assignee must be a member."""
    await _check_assignee(session, project_id=data.project_id, assignee_id=data.assignee_id)
    if data.tag_ids and dialect_name(session) == "postgresql":
        task = await _insert(session, data)
        await _link_new_tags(session, task, data.tag_ids)
    else:
        tags = await get_project_tags(session, project_id=data.project_id, tag_ids=data.tag_ids)
        task = await _insert(session, data)
        await _set_tags(session, task, tags, replace=False)
    await _set_assignee(session, task)
    return task


async def create_task_read(session: AsyncSession, data: TaskCreate) -> TaskRead:
    """`create_task` for a caller that needs the new task only as TaskRead (the API).

    On PostgreSQL one INSERT ... RETURNING the task as TaskRead, which checks the tags and
    the assignee and links the tags in the same statement: no ORM object to build, flush
    and validate again, one round trip fewer. When it writes nothing (a tag or the
    assignee does not qualify), and on SQLite, `create_task` does it, and says why.
    """
    if dialect_name(session) == "postgresql" and not _pending(session):
        task = Task.model_validate(dict(data))  # the defaults a flush would write
        params = {name: getattr(task, name) for name in _INSERTED}
        params["tag_ids"] = sorted(set(data.tag_ids))
        rows = (await execute_write(session, _inserting_task(), params)).all()
        if rows:
            return _validated(rows[0][0])[0]
    return TaskRead.model_validate(await create_task(session, data))


def _bound(names: Sequence[str]) -> dict[str, Any]:
    """A bound parameter per task column named, of the column's type, by name."""
    return {name: bindparam(name, type_=_TASKS.c[name].type) for name in names}


# Every column a new task sets; its id comes from the database.
_INSERTED = tuple(column.name for column in _TASKS.c if column.name != "id")


@lru_cache
def _inserting_task() -> Any:
    """Insert a task, if each of the tags named (`tag_ids`) is its project's and its
    assignee, if any, a member there, and link the tags; the task as JSON (PostgreSQL).

    Data-modifying CTEs: the task's INSERT ... SELECT counts the tags found against those
    named; the links' INSERT takes the task's id from its RETURNING. The links are not yet
    visible to the statement itself, so the tags in the JSON are those found.
    """
    named = select(Tag).where(named_in_project("postgresql")).cte("named")
    values = _bound(_INSERTED)
    found = sa_select(func.count()).select_from(named).scalar_subquery()
    complete = found == func.cardinality(bindparam("tag_ids", type_=ARRAY(Integer)))
    member = select(col(ProjectMember.user_id)).where(
        col(ProjectMember.project_id) == values["project_id"],
        col(ProjectMember.user_id) == values["assignee_id"],
    )
    assignable = or_(values["assignee_id"].is_(None), member.exists())
    row = sa_select(*values.values()).where(complete, assignable)
    inserted = _TASKS.insert().from_select(list(values), row).returning(*_TASKS.c).cte("new_task")
    links = SQLModel.metadata.tables[TaskTag.__tablename__]
    pairs = sa_select(inserted.c.id, named.c.id, inserted.c.created_at)
    pairs = pairs.select_from(inserted.join(named, true()))
    linked = _insert_links("postgresql").from_select(list(links.c.keys()), pairs)
    tags = _tags_array(sa_select(*(named.c[name] for name in _TAG_FIELDS)))
    adapt = ClauseAdapter(inserted, adapt_from_selectables={_TASKS})
    task = _task_json("postgresql", dict(inserted.c.items()), adapt, tags=tags)
    query = sa_select(task).select_from(inserted).add_cte(linked.cte("linked"))
    return hide_trashed(query)


async def _insert(session: AsyncSession, data: TaskCreate) -> Task:
    # From its fields, not the object: read as attributes, the four Task fields a
    # TaskCreate lacks went through pydantic's __getattr__ and failed (12 us of 37).
    task = Task.model_validate(dict(data))
    session.add(task)
    await flush(session)
    return task


async def _link_new_tags(session: AsyncSession, task: Task, tag_ids: Sequence[int]) -> None:
    """Check and link a new task's tags in one statement, after its INSERT (PostgreSQL).

    One round trip and one statement through SQLAlchemy fewer than selecting the tags
    first and inserting the links after (about a sixth of a create's time). The links go
    in only if every tag qualifies; otherwise the task is deleted again before the error,
    so that a refused create leaves nothing behind even for a caller that commits.
    """
    wanted = sorted(set(tag_ids))
    params = {
        "tag_ids": wanted,
        "project_id": task.project_id,
        "task_id": task.id,
        "task_created_at": task.created_at,
    }
    tags = list((await session.exec(_linking_tags(), params=params)).all())
    if len(tags) != len(wanted):
        await session.delete(task)
        await flush(session)
        raise InvalidValueError(FOREIGN_TAGS)
    set_committed_value(task, "tags", sorted(tags, key=_by_name))


@lru_cache
def _linking_tags() -> SelectOfScalar[Tag]:
    """The tags named (`tag_ids`, `project_id`), linked to the task `task_id` by a
    data-modifying CTE only if all of them are the project's (PostgreSQL)."""
    named = select(Tag).where(named_in_project("postgresql")).cte("named")
    complete = sa_select(func.count()).select_from(named).scalar_subquery() == func.cardinality(
        bindparam("tag_ids", type_=ARRAY(Integer))
    )
    links = SQLModel.metadata.tables[TaskTag.__tablename__]
    rows = sa_select(
        bindparam("task_id", type_=Integer),
        named.c.id,
        bindparam("task_created_at", type_=links.c.task_created_at.type),
    ).where(complete)
    linked = _insert_links("postgresql").from_select(list(links.c.keys()), rows)
    return hide_trashed(select(aliased(Tag, named)).add_cte(linked.cte("linked")))


async def _set_assignee(session: AsyncSession, task: Task) -> None:
    """Load the task's assignee, so that TaskRead.model_validate(task) finds it (lazy="raise")."""
    user = None if task.assignee_id is None else await session.get(User, task.assignee_id)
    set_committed_value(task, "assignee", user)


async def _set_tags(session: AsyncSession, task: Task, tags: list[Tag], *, replace: bool) -> None:
    """Make `tags` the task's tag set, idempotently (INSERT ... ON CONFLICT DO NOTHING)."""
    wanted = [tag.id for tag in tags]
    if replace:
        await session.exec(
            delete(TaskTag).where(
                col(TaskTag.task_id) == task.id, col(TaskTag.tag_id).not_in(wanted)
            )
        )
    if wanted:
        links = [
            {"task_id": task.id, "tag_id": tag_id, "task_created_at": task.created_at}
            for tag_id in wanted
        ]
        # The rows as parameters (executemany), not in the statement: a statement with
        # its VALUES inline is compiled again for every call.
        connection = await session.connection()
        await connection.execute(_insert_links(connection.dialect.name), links)
    # What the database now holds; no reload, and lazy="raise" stays untouched.
    set_committed_value(task, "tags", sorted(tags, key=_by_name))


@lru_cache
def _insert_links(dialect: str) -> Any:
    return insert_ignoring_conflicts(dialect, SQLModel.metadata.tables[TaskTag.__tablename__])


async def update_task(session: AsyncSession, task: Task, data: TaskUpdate) -> Task:
    """Apply the fields that were sent; `tag_ids` replaces the set. `task` needs its tags loaded.

    The task comes back with its assignee loaded too, ready for TaskRead.
    """
    changes = data.model_dump(exclude_unset=True)
    tag_ids = changes.pop("tag_ids", None)
    project_id = changes.get("project_id", task.project_id)
    assignee_id = changes.get("assignee_id", task.assignee_id)
    if "project_id" in changes or "assignee_id" in changes:
        await _check_assignee(session, project_id=project_id, assignee_id=assignee_id)
    tags = None
    if tag_ids is not None:
        tags = await get_project_tags(session, project_id=project_id, tag_ids=tag_ids)
    elif project_id != task.project_id and task.tags:
        # Tags are a project's vocabulary: they cannot follow a task into another project.
        raise InvalidValueError("a task moving to another project must get that project's tags")
    await _write_fields(session, task, changes)
    if tags is not None:
        await _set_tags(session, task, tags, replace=True)
    if "assignee_id" in changes or "assignee" in inspect(task).unloaded:
        await _set_assignee(session, task)
    return task


async def _write_fields(session: AsyncSession, task: Task, changes: dict[str, Any]) -> None:
    """Write the fields whose values change with one UPDATE, and record them on the task as
    the database now holds them: a value set again unchanged writes nothing, as with the ORM.

    A Core UPDATE by id, not the ORM's flush of the changed object: in a loop of reads
    and updates of one task on PostgreSQL, the flush took 709 us of CPU and this 273, and
    a whole update 1,785 against 1,225. What the ORM's flush would also have done is done
    here: changes made to the task by hand are flushed first, a task deleted since it was
    read is not found, and a failed write rolls the transaction back (`execute_write`).
    """
    if task not in session:  # a task from another session joins this one, as with add()
        session.add(task)
    if _pending(session):
        await flush(session)
    # Compared with what is loaded only: reading an expired field would query the database.
    loaded = inspect(task).dict
    changed = {
        name: value
        for name, value in changes.items()
        if name not in loaded or loaded[name] != value
    }
    if not changed:
        return
    changed["updated_at"] = utc_now()
    statement = _update_statement(frozenset(changed))
    result = await execute_write(session, statement, changed | {"task_id": task.id})
    if result.rowcount != 1:
        raise NotFoundError("task not found")
    for name, value in changed.items():
        set_committed_value(task, name, value)


@lru_cache(maxsize=512)  # one statement per set of fields changed (nine can change)
def _update_statement(fields: frozenset[str]) -> Any:
    values = _bound(sorted(fields))
    return _TASKS.update().where(_TASKS.c.id == bindparam("task_id")).values(values)


# The fields an update can write in place: no other row to check, nothing else to load.
_OWN_FIELDS = frozenset({"title", "description", "status", "priority", "due_date"})


async def update_task_by_id(
    session: AsyncSession, task_id: int, data: TaskUpdate, *, writer_id: int | None = None
) -> TaskRead:
    """`update_task` for a task known by its id, returned as TaskRead; or NotFoundError.

    With `writer_id`, only if that user's role allows writing tasks in the task's project
    (and in the project it moves to): NotFoundError for a non-member, as if the task did
    not exist, PermissionDeniedError for a role without the right.

    A change of the task's own fields only is one `UPDATE ... RETURNING` the task as
    TaskRead, its role check and visibility rules in the statement: three round trips
    with BEGIN and COMMIT where reading the task into the session first took four, and
    none of the ORM's per-object work. Everything else, and any case where that statement
    writes nothing (no such task, no right, no value changed), takes the general way,
    which says why.
    """
    if not 1 <= task_id <= MAX_ID:  # no such row; as a value, PostgreSQL's error
        raise NotFoundError("task not found")
    changes = data.model_dump(exclude_unset=True)
    if changes and changes.keys() <= _OWN_FIELDS and not _in_session(session, task_id):
        written = await _write_returning(session, task_id, changes, writer_id)
        if written is not None:
            return written
    task = await get_task(session, task_id, with_assignee=True)
    if writer_id is not None:
        await require_task_role(
            session, project_id=task.project_id, user_id=writer_id, permission=_WRITE
        )
        target = changes.get("project_id", task.project_id)
        if target != task.project_id:
            await require_role(session, project_id=target, user_id=writer_id, permission=_WRITE)
    return TaskRead.model_validate(await update_task(session, task, data))


_WRITE = Permission.WRITE_TASKS


def _in_session(session: AsyncSession, task_id: int) -> bool:
    """Whether the session holds changes to flush, or the task itself: then the general
    way updates that object (and flushes first), so that the session stays true."""
    key = session.sync_session.identity_key(Task, task_id)
    return _pending(session) or key in session.sync_session.identity_map


def _pending(session: AsyncSession) -> bool:
    """Whether the session holds changes not yet flushed, which a Core statement would
    not see."""
    return bool(session.new or session.dirty or session.deleted)


async def _write_returning(
    session: AsyncSession, task_id: int, changes: dict[str, Any], writer_id: int | None
) -> TaskRead | None:
    """The task after an UPDATE of `changes`, or None if the statement wrote nothing."""
    dialect = dialect_name(session)
    statement = _update_returning(frozenset(changes), dialect, checked=writer_id is not None)
    params = changes | {"task_id": task_id, "updated_at": utc_now()}
    if writer_id is not None:
        params["writer_id"] = writer_id
    rows = (await execute_write(session, statement, params)).all()
    if not rows:
        return None
    if dialect == "postgresql":
        return _validated(rows[0][0])[0]
    return (await _read(session, _read_by_id(dialect, visible=False), task_id=task_id))[0]


@lru_cache(maxsize=512)  # per set of fields (five can change), dialect and check
def _update_returning(fields: frozenset[str], dialect: str, *, checked: bool) -> Any:
    """UPDATE the task `task_id`'s `fields` and `updated_at` if it is visible (and, if
    `checked`, writable by `writer_id`) and a value changes; RETURNING it as JSON.

    On SQLite RETURNING only its id: SQLite names RETURNING's columns without their
    table, which would turn the JSON's subqueries on their own rows (a tag's id read as
    the task's).
    """
    values = _bound(sorted(fields))
    # Unchanged values write nothing, as with the ORM: `updated_at` keeps its time.
    changed = or_(*(_TASKS.c[name].is_distinct_from(values[name]) for name in sorted(fields)))
    # Through the entity, not the table: the visibility rules apply to it.
    statement = update(Task).where(col(Task.id) == bindparam("task_id"), changed)
    if checked:
        statement = statement.where(col(Task.project_id).in_(_writer_projects()))
    updated_at = bindparam("updated_at", type_=_TASKS.c.updated_at.type)
    returned = _task_json(dialect, _TASK_COLUMNS) if dialect == "postgresql" else col(Task.id)
    return hide_trashed(statement.values(values | {"updated_at": updated_at}).returning(returned))


def _writer_projects() -> SelectOfScalar[int]:
    """The projects in which the user `writer_id` has a role that may write tasks."""
    roles = [role for role, allowed in ROLE_PERMISSIONS.items() if _WRITE in allowed]
    return select(col(ProjectMember.project_id)).where(
        col(ProjectMember.user_id) == bindparam("writer_id"),
        col(ProjectMember.role).in_(sorted(roles)),
    )


async def _check_assignee(
    session: AsyncSession, *, project_id: int, assignee_id: int | None
) -> None:
    if assignee_id is None:
        return
    if await get_membership(session, project_id=project_id, user_id=assignee_id) is None:
        raise InvalidValueError("the assignee must be a member of the task's project")


async def list_tasks(
    session: AsyncSession,
    filters: TaskFilter,
    *,
    sort: TaskSort = TaskSort.CREATED_AT_DESC,
    limit: int = 50,
    cursor: str | None = None,
    with_assignee: bool = False,
) -> Page[Task]:
    """One keyset page of tasks (tags, and if asked assignees, loaded): constant queries."""
    page = _Page.of(filters, sort=sort, limit=limit + 1, cursor=cursor)
    query = _list_statement(page.shape).options(*_loads(with_assignee=with_assignee))
    return _page(list((await session.exec(query, params=page.params)).all()), limit, sort)


def _page(rows: list[TaskT], limit: int, sort: TaskSort) -> Page[TaskT]:
    """The first `limit` of `limit + 1` rows, and a cursor when the extra one exists."""
    items = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        last_id = items[-1].id
        assert last_id is not None
        next_cursor = encode_cursor(sort.value, _key_of(sort, items[-1]), last_id)
    return Page(items=items, next_cursor=next_cursor)


_BOUND_FILTERS = (
    "member_id", "project_id", "status", "priority", "assignee_id", "due_before", "due_after"
)  # fmt: skip


@dataclass(frozen=True)
class _Shape:
    """What the SQL of a page depends on; the values go in as bound parameters."""

    filters: frozenset[str]  # the names of the filters that are set
    sort: TaskSort
    after: str  # "" (first page), "key", or "null" (past the tasks without a due date)
    limit: int | None  # in the SQL (see `common.literal_limit`), or None: bound (`_limit`)


@dataclass(frozen=True)
class _Page:
    shape: _Shape
    params: dict[str, Any]

    @classmethod
    def of(cls, filters: TaskFilter, *, sort: TaskSort, limit: int, cursor: str | None) -> "_Page":
        params: dict[str, Any] = {
            name: value for name in _BOUND_FILTERS if (value := getattr(filters, name)) is not None
        }
        if filters.tag is not None:
            params["tag"] = filters.tag.strip()
        if filters.q:
            params["q"] = f"%{escape_like(filters.q.strip())}%"
        present = frozenset(params)
        after = ""
        if cursor is not None:
            key, last_id = decode_cursor(cursor, sort.value)
            key = _parse_key(sort, key)
            after = "null" if key is None else "key"
            params |= {"after_id": last_id} | ({} if key is None else {"after_key": key})
        if "q" in present:
            return cls(_Shape(present, sort, after, None), params | {"limit": limit})
        return cls(_Shape(present, sort, after, limit), params)


def list_query(
    filters: TaskFilter, *, sort: TaskSort, limit: int, cursor: str | None = None
) -> SelectOfScalar[Task]:
    """The SELECT behind `list_tasks` (without its eager loads), its values bound."""
    page = _Page.of(filters, sort=sort, limit=limit, cursor=cursor)
    return _list_statement(page.shape).params(page.params)


def read_query(
    filters: TaskFilter, *, sort: TaskSort, limit: int, dialect: str, cursor: str | None = None
) -> Any:
    """The one statement behind `read_tasks`, its values bound (e.g. to EXPLAIN it)."""
    page = _Page.of(filters, sort=sort, limit=limit, cursor=cursor)
    return _read_statement(page.shape, dialect).params(page.params)


# Built once per shape, like every statement of the read path: building a statement, and
# then deriving its cache key, cost more than PostgreSQL takes to run it.
@lru_cache(maxsize=512)
def _list_statement(shape: _Shape) -> SelectOfScalar[Task]:
    query = _filtered(select(Task), shape.filters)
    if shape.after:
        query = query.where(_after(shape.sort, null_key=shape.after == "null"))
    return hide_trashed(query.order_by(*_order(shape.sort)).limit(_limit(shape)))


@lru_cache(maxsize=512)
def _read_statement(shape: _Shape, dialect: str) -> Any:
    per_project = "member_id" in shape.filters and not shape.filters & {"project_id", "q"}
    tagged = "tag" in shape.filters
    # Pages in date order merge short runs read in order through LATERAL joins: per tag
    # for a tag filter, else per project across the caller's projects. LATERAL is
    # PostgreSQL's; SQLite, the embedded default, holds little enough to sort.
    # Not a search: merged per project, its prepared statement's generic plan (taken after
    # five runs) read each project's tasks in date order for the pattern, 36-50 ms a page
    # at 100,000 tasks in `make bench` against 21 planned for the pattern. As one statement
    # over the caller's projects it took 19-20 ms at 100,000 and 1,000,000 tasks alike.
    if shape.sort.field == "created_at" and dialect == "postgresql" and (tagged or per_project):
        query, rows = (_per_tag_query if tagged else _per_project_query)(shape)
        # The tags' and assignee's subqueries must follow the task rows they describe
        # (only their references to tasks: the rows are read through task_tags too).
        task = _task_json(dialect, rows.c, ClauseAdapter(rows, adapt_from_selectables={_TASKS}))
        # The FROM stays that of the task columns replaced (the JSON names them only within).
        query = query.with_only_columns(task, maintain_column_froms=True)
        return prepared(_joined(query, dialect))
    task = _task_json(dialect, _TASK_COLUMNS)
    query = _list_statement(shape).with_only_columns(task, maintain_column_froms=True)
    return prepared(_joined(query, dialect))


def _limit(shape: _Shape) -> ColumnElement[int]:
    """The page size in the SQL, except for a search, where it stays bound.

    With the size in the SQL PostgreSQL prefers a generic plan for the prepared statement.
    For a search that plan cannot know how rare the pattern is, and at 1,000,000 tasks it
    sometimes read the tasks in date order until enough matched (200-300 ms instead of
    18). A bound LIMIT is costed as a tenth of the rows: the generic plan looks dearer,
    and each search is planned for its own pattern, which costs little next to running it.
    """
    if shape.limit is None:
        return bindparam("limit", type_=Integer)
    return literal_limit(shape.limit)


def _per_project_query(shape: _Shape) -> tuple[Any, Any]:
    """Newest (or oldest) tasks across the caller's projects at a cost that stays flat.

    `project_id IN (...) ORDER BY created_at LIMIT n` makes PostgreSQL read every task of
    those projects, or the whole table, and sort them: its cost grows with the data. Here
    each project contributes at most `limit` rows, read in order from the index
    (project_id, created_at, id) through a LATERAL join, and only those are merged.
    """
    mine = _member_projects().subquery("mine")
    per_project = shape.filters - {"member_id"}
    inner = _filtered(select(Task), per_project).where(col(Task.project_id) == mine.c.project_id)
    if shape.after:
        inner = inner.where(_after(shape.sort, null_key=shape.after == "null"))
    rows = inner.order_by(*_order(shape.sort)).limit(_limit(shape)).subquery().lateral("t")
    query = (
        sa_select(*rows.c)
        .select_from(mine)
        .join(rows, true())
        .order_by(*_directed(shape.sort, rows.c.created_at, rows.c.id))
        .limit(_limit(shape))
    )
    return query, rows


def _member_projects() -> SelectOfScalar[int]:
    """The projects whose tasks the user `member_id` may see: its own, while its account
    is active.

    A deactivated account sees no task. Checked in the statement that reads the tasks, so
    that the API can leave out a separate account check on its busiest reads (one round
    trip less each; see `taskflow.api.deps.confirm_active`).
    """
    # The account as a condition of its own, not a join: uncorrelated, PostgreSQL checks
    # it once (an InitPlan). Joined, it changed the estimates enough that a tag-filtered
    # page read every task (a sequential scan, 150 ms at 1M tasks instead of 7).
    active = select(User.id).where(col(User.id) == bindparam("member_id"), col(User.is_active))
    return select(col(ProjectMember.project_id).label("project_id")).where(
        col(ProjectMember.user_id) == bindparam("member_id"), active.exists()
    )


def _filtered(query: SelectOfScalar[Task], present: frozenset[str]) -> SelectOfScalar[Task]:
    """`query` narrowed by the filters named in `present`, each a bound parameter of its name."""
    if "member_id" in present:
        query = query.where(col(Task.project_id).in_(_member_projects()))
    for name in ("project_id", "status", "priority", "assignee_id"):
        if name in present:
            query = query.where(col(getattr(Task, name)) == bindparam(name))
    if "tag" in present:
        named = _named_tags(present).with_only_columns(col(Tag.id))
        tagged = select(col(TaskTag.task_id)).where(col(TaskTag.tag_id).in_(named))
        query = query.where(col(Task.id).in_(tagged))
    if "q" in present:
        pattern = bindparam("q", type_=String)
        query = query.where(
            or_(
                col(Task.title).ilike(pattern, escape="\\"),
                col(Task.description).ilike(pattern, escape="\\"),
            )
        )
    if "due_before" in present:
        query = query.where(col(Task.due_date) < bindparam("due_before"))
    if "due_after" in present:
        query = query.where(col(Task.due_date) > bindparam("due_after"))
    return query


def _named_tags(present: frozenset[str]) -> Any:
    """The tags named `tag` within the projects in scope (`project_id`, `member_id`).

    Every project has its own tag of a common name, so without the scope a tag filter
    reads the links of all of them, a cost that grows with the number of projects.
    """
    wanted = func.lower(bindparam("tag", type_=String))
    tags = select(Tag.id, Tag.project_id).where(func.lower(Tag.name) == wanted)
    if "project_id" in present:
        tags = tags.where(col(Tag.project_id) == bindparam("project_id"))
    if "member_id" in present:
        tags = tags.where(col(Tag.project_id).in_(_member_projects()))
    return tags


def _per_tag_query(shape: _Shape) -> tuple[Any, Any]:
    """A tag-filtered page, newest or oldest first, at a cost that stays flat.

    Reading every task that carries the tag and sorting them costs what the tag's
    popularity costs. Here the links of each tag of that name come in their tasks'
    creation order from the index (tag_id, task_created_at, task_id), through a LATERAL
    join, each contributing at most `limit` visible tasks that pass the other filters;
    only those are merged.
    """
    tags = _named_tags(shape.filters).subquery("named")
    link = SQLModel.metadata.tables[TaskTag.__tablename__].alias("link")
    link_time, link_task = link.c.task_created_at, link.c.task_id
    inner = _filtered(select(Task), shape.filters - {"tag", "member_id"})
    inner = inner.join(link, link_task == col(Task.id)).where(link.c.tag_id == tags.c.id)
    inner = inner.correlate(tags)  # the tag of the outer row, for each
    if shape.after:  # created_at has no NULLs: always a key
        inner = inner.where(_after(shape.sort, null_key=False, on=(link_time, link_task)))
    inner = inner.order_by(*_directed(shape.sort, link_time, link_task))
    per_tag = inner.limit(_limit(shape)).subquery().lateral("t")
    # The scope: the tags are those of the caller's projects, and a task's tags are its
    # own project's (the services see to it; a link that broke it would hide its task).
    # Checked on the merged rows, not inside the LATERAL, where it let PostgreSQL read a
    # filtered project's tasks instead of the tag's links in order (95 ms instead of 3
    # for a tag and a status at 1M tasks). DISTINCT: a task may carry two tags whose
    # names differ only in case, both matched.
    rows = (
        sa_select(*per_tag.c)
        .select_from(tags)
        .join(per_tag, per_tag.c.project_id == tags.c.project_id)
        .distinct()
        .subquery("merged")
    )
    query = sa_select(*rows.c).order_by(*_directed(shape.sort, rows.c.created_at, rows.c.id))
    return query.limit(_limit(shape)), rows


def _sort_column(sort: TaskSort) -> Any:
    if sort.field == "priority":
        return _PRIORITY_RANK
    if sort.field == "created_at":
        return col(Task.created_at)
    return col(Task.due_date)


def _directed(sort: TaskSort, *columns: Any) -> list[Any]:
    """The columns, each in the sort's direction."""
    return [c.desc() if sort.descending else c.asc() for c in columns]


def _order(sort: TaskSort) -> list[Any]:
    keys = _directed(sort, _sort_column(sort), col(Task.id))
    if sort.field == "due_date":
        # Tasks without a due date come last in both directions.
        return [col(Task.due_date).is_(None).asc(), *keys]
    return keys


def _after(
    sort: TaskSort, *, null_key: bool, on: tuple[Any, Any] | None = None
) -> ColumnElement[bool]:
    """Past the cursor's row (`after_key`, `after_id`); `null_key`: past one without a key.

    `on`: the (key, id) columns to compare, if not the task's own (a tag link's copies).
    """
    column, task_id = on or (_sort_column(sort), col(Task.id))
    last_id = bindparam("after_id", type_=Integer)
    if null_key:
        beyond_id = task_id < last_id if sort.descending else task_id > last_id
        return and_(column.is_(None), beyond_id)
    bound = tuple_(bindparam("after_key", type_=column.type), last_id)
    after = tuple_(column, task_id) < bound if sort.descending else tuple_(column, task_id) > bound
    if sort.field == "due_date":
        return or_(after, column.is_(None))
    return after


def _key_of(sort: TaskSort, task: Task | TaskRead) -> Any:
    if sort.field == "priority":
        return TaskPriority(task.priority).rank
    value = task.created_at if sort.field == "created_at" else task.due_date
    return None if value is None else value.isoformat()


def _parse_key(sort: TaskSort, key: Any) -> Any:
    """Check the cursor's key has the type its sort needs, and convert it for binding."""
    if sort.field == "priority":
        if isinstance(key, int) and not isinstance(key, bool) and 0 <= key < len(TaskPriority):
            return key
    elif key is None and sort.field == "due_date":
        return None
    elif isinstance(key, str):
        try:
            return as_utc(datetime.fromisoformat(key))
        except ValueError:
            pass
    raise InvalidCursorError("the cursor is malformed")
