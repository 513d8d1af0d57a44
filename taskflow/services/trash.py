"""The trash: move tasks and projects into it, list it, restore from it, delete for good.

Everything else never sees trashed rows (taskflow.services.visibility); the statements here
opt out of that rule with `include_trashed` and state their own conditions.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import delete, literal, tuple_, union_all, update
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from taskflow.errors import ConflictError, InvalidCursorError, NotFoundError
from taskflow.models import Project, ProjectMember, Task, TrashItemRead, TrashKind, utc_now
from taskflow.models.base import as_utc
from taskflow.services.access import Permission, require_task_role
from taskflow.services.common import fetch_dicts
from taskflow.services.pagination import Page, decode_cursor, encode_cursor
from taskflow.services.visibility import include_trashed

__all__ = [
    "TrashedTask",
    "delete_project_for_good",
    "delete_task_for_good",
    "find_trashed_task",
    "list_trash",
    "purge_older_than",
    "restore_project",
    "restore_task",
    "trash_project",
    "trash_task",
]

_ITEMS = TypeAdapter(list[TrashItemRead])


async def trash_task(session: AsyncSession, task_id: int) -> None:
    """Move a visible task to the trash; NotFoundError if there is none."""
    moved = await session.exec(
        update(Task).where(col(Task.id) == task_id).values(deleted_at=utc_now())
    )
    if moved.rowcount == 0:
        raise NotFoundError("task not found")


async def trash_project(session: AsyncSession, project_id: int) -> None:
    """Move a project to the trash; its tasks disappear with it, untouched."""
    moved = await session.exec(
        update(Project).where(col(Project.id) == project_id).values(deleted_at=utc_now())
    )
    if moved.rowcount == 0:
        raise NotFoundError("project not found")


@dataclass(frozen=True)
class TrashedTask:
    """What restoring or deleting a task needs to know before the caller's role is checked."""

    project_id: int
    in_trash: bool
    project_in_trash: bool


async def find_trashed_task(
    session: AsyncSession, task_id: int, *, user_id: int | None = None
) -> TrashedTask:
    """The task's project and where both are, trash included; NotFoundError if no such task.

    With `user_id`, only if that user may delete the task, and so restore or purge it:
    NotFoundError for a non-member, PermissionDeniedError for a role that may not.
    """
    query = (
        select(Task.project_id, Task.deleted_at, Project.deleted_at)
        .join(Project, col(Project.id) == col(Task.project_id))
        .where(col(Task.id) == task_id)
    )
    row = (await session.exec(include_trashed(query))).first()
    if row is None:
        raise NotFoundError("task not found")
    project_id, task_deleted_at, project_deleted_at = row
    if user_id is not None:
        await require_task_role(
            session,
            project_id=project_id,
            user_id=user_id,
            permission=Permission.WRITE_TASKS,
            in_trash=True,
        )
    return TrashedTask(project_id, task_deleted_at is not None, project_deleted_at is not None)


async def restore_task(
    session: AsyncSession, task_id: int, found: TrashedTask | None = None
) -> None:
    """Bring a trashed task back; ConflictError if it is not in the trash or its project is.

    `found`: what `find_trashed_task` returned, if the caller looked already.
    """
    found = found or await find_trashed_task(session, task_id)
    if not found.in_trash:
        raise ConflictError("the task is not in the trash")
    if found.project_in_trash:
        raise ConflictError("the task's project is in the trash: restore the project first")
    await session.exec(
        include_trashed(update(Task).where(col(Task.id) == task_id).values(deleted_at=None))
    )


async def _project_deleted_at(session: AsyncSession, project_id: int) -> datetime | None:
    query = select(Project.id, Project.deleted_at).where(col(Project.id) == project_id)
    row = (await session.exec(include_trashed(query))).first()
    if row is None:
        raise NotFoundError("project not found")
    return row[1]


async def restore_project(session: AsyncSession, project_id: int) -> None:
    """Bring a trashed project back, with exactly the tasks that were not trashed on their own."""
    if await _project_deleted_at(session, project_id) is None:
        raise ConflictError("the project is not in the trash")
    statement = update(Project).where(col(Project.id) == project_id).values(deleted_at=None)
    await session.exec(include_trashed(statement))


async def delete_task_for_good(session: AsyncSession, task_id: int) -> None:
    """Delete a trashed task permanently (its tag links go with it); NotFoundError otherwise."""
    statement = delete(Task).where(col(Task.id) == task_id, col(Task.deleted_at).is_not(None))
    if (await session.exec(include_trashed(statement))).rowcount == 0:
        raise NotFoundError("task not in the trash")


async def delete_project_for_good(session: AsyncSession, project_id: int) -> None:
    """Delete a trashed project permanently; the database cascades to its tasks, members, tags."""
    statement = delete(Project).where(
        col(Project.id) == project_id, col(Project.deleted_at).is_not(None)
    )
    if (await session.exec(include_trashed(statement))).rowcount == 0:
        raise NotFoundError("project not in the trash")


def _trash_of(member_id: int) -> Any:
    """Trashed tasks and projects of the projects `member_id` belongs to, as one selectable."""
    mine = select(ProjectMember.project_id).where(col(ProjectMember.user_id) == member_id)
    tasks: Any = sa_select(
        literal(TrashKind.TASK.value).label("kind"),
        col(Task.id).label("id"),
        col(Task.title).label("name"),
        col(Task.project_id).label("project_id"),
        col(Task.deleted_at).label("deleted_at"),
    ).where(col(Task.deleted_at).is_not(None), col(Task.project_id).in_(mine))
    projects: Any = sa_select(
        literal(TrashKind.PROJECT.value).label("kind"),
        col(Project.id).label("id"),
        col(Project.name).label("name"),
        col(Project.id).label("project_id"),
        col(Project.deleted_at).label("deleted_at"),
    ).where(col(Project.deleted_at).is_not(None), col(Project.id).in_(mine))
    return union_all(tasks, projects).subquery("trash")


async def list_trash(
    session: AsyncSession, *, member_id: int, limit: int = 50, cursor: str | None = None
) -> Page[TrashItemRead]:
    """What the user's projects hold in the trash, most recently trashed first."""
    trash = _trash_of(member_id)
    key = (trash.c.deleted_at, trash.c.kind, trash.c.id)
    query = sa_select(trash)
    if cursor is not None:
        (deleted_at, kind), last_id = _parse_key(decode_cursor(cursor, "-deleted_at"))
        query = query.where(tuple_(*key) < tuple_(deleted_at, kind, last_id))
    query = query.order_by(*(column.desc() for column in key)).limit(limit + 1)
    rows = await fetch_dicts(session, include_trashed(query))
    items = _ITEMS.validate_python(rows[:limit])
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        sort_key = [last.deleted_at.isoformat(), last.kind.value]
        next_cursor = encode_cursor("-deleted_at", sort_key, last.id)
    return Page(items=items, next_cursor=next_cursor)


def _parse_key(decoded: tuple[Any, int]) -> tuple[tuple[datetime, str], int]:
    key, last_id = decoded
    if isinstance(key, list) and len(key) == 2 and key[1] in set(TrashKind):
        try:
            return (as_utc(datetime.fromisoformat(key[0])), key[1]), last_id
        except (TypeError, ValueError):
            pass
    raise InvalidCursorError("the cursor is malformed")


async def purge_older_than(
    session: AsyncSession, cutoff: datetime, *, batch_size: int = 1000
) -> tuple[int, int]:
    """Delete for good, one batch per transaction, what went to the trash before `cutoff`.

    Returns (tasks, projects) deleted; a project takes its tasks with it (counted once, as
    the project). Commits after each batch, so it holds no lock for long and a run that
    stops half way keeps what it did; running it again finishes the job.
    """
    counts = []
    for model in (Task, Project):
        total = 0
        while True:
            batch = (
                select(model.id)
                .where(col(model.deleted_at) < cutoff)
                .order_by(col(model.deleted_at))
                .limit(batch_size)
            )
            # The cut-off again: a row restored since the batch was chosen must stay.
            statement = delete(model).where(
                col(model.id).in_(batch.scalar_subquery()), col(model.deleted_at) < cutoff
            )
            deleted = (await session.exec(include_trashed(statement))).rowcount
            await session.commit()
            total += deleted
            if deleted < batch_size:
                break
        counts.append(total)
    return counts[0], counts[1]
