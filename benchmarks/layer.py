"""The same operations through TaskFlow's data layer, as an endpoint would call them."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from benchmarks.shapes import TaskShape, task_shape
from taskflow.models import TagRead, TaskCreate, TaskRead, TaskStatus, TaskUpdate
from taskflow.services import tags, tasks
from taskflow.services.access import Permission, require_role
from taskflow.services.tasks import TaskFilter

Sessions = async_sessionmaker[AsyncSession]


@asynccontextmanager
async def _session(sessions: Sessions) -> AsyncIterator[AsyncSession]:
    """A session opened and closed as the API's request dependency does it
    (`taskflow.api.deps.sessions_per_request`): closed in a `finally`, not by the
    session's own `async with`, which runs the close in a task of its own."""
    session = sessions()
    try:
        yield session
    finally:
        await session.close()


def shape(read: TaskRead) -> TaskShape:
    """For the equality check only: timed calls return what an endpoint would serialise."""
    name = None if read.assignee is None else read.assignee.full_name
    tags = [(tag.id, tag.name, tag.created_at) for tag in read.tags]
    return task_shape(read, tags=tags, assignee_name=name)


def shape_page(page: tuple[list[TaskRead], str | None]) -> list[TaskShape]:
    return [shape(read) for read in page[0]]


def page_filter(user_id: int, shape: str, value: Any) -> TaskFilter:
    fields: dict[str, Any] = {
        "all projects": {},
        "project": {"project_id": value},
        "status": {"status": value},
        "tag": {"tag": value},
        "search": {"q": value},
    }[shape]
    return TaskFilter(member_id=user_id, **fields)


async def get_task(sessions: Sessions, task_id: int) -> TaskRead:
    async with _session(sessions) as session:
        return await tasks.read_task(session, task_id)


async def page(
    sessions: Sessions, *, user_id: int, shape: str, value: Any, cursor: str | None
) -> tuple[list[TaskRead], str | None]:
    async with _session(sessions) as session:
        result = await tasks.read_tasks(session, page_filter(user_id, shape, value), cursor=cursor)
        return result.items, result.next_cursor


async def membership(sessions: Sessions, *, project_id: int, user_id: int) -> tuple[int, str]:
    async with _session(sessions) as session:
        role = await require_role(
            session, project_id=project_id, user_id=user_id, permission=Permission.READ
        )
        return project_id, role.value


async def autocomplete(sessions: Sessions, *, project_id: int, prefix: str) -> list[TagRead]:
    async with _session(sessions) as session:
        result = await tags.autocomplete_tags(session, project_id=project_id, prefix=prefix)
        return result.items


def shape_tags(reads: list[TagRead]) -> list[tuple[Any, ...]]:
    """For the equality check only."""
    return [(tag.id, tag.project_id, tag.name, tag.created_at) for tag in reads]


async def create_task(
    sessions: Sessions, *, project_id: int, title: str, tag_ids: list[int]
) -> TaskRead:
    async with _session(sessions) as session:
        data = TaskCreate(title=title, project_id=project_id, tag_ids=tag_ids)
        created = await tasks.create_task_read(session, data)
        await session.commit()
        return created


async def update_status(sessions: Sessions, *, task_id: int, status: str) -> TaskRead:
    async with _session(sessions) as session:
        update = TaskUpdate(status=TaskStatus(status))
        updated = await tasks.update_task_by_id(session, task_id, update)
        await session.commit()
        return updated
