"""Tasks: create, filtered keyset lists over the caller's projects, read, update, delete."""

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from taskflow.api.deps import (
    CallerId,
    DateTimeQuery,
    IdPath,
    IdQuery,
    SearchText,
    SessionDep,
    TokenUserId,
    confirm_active,
)
from taskflow.api.pages import PageOut
from taskflow.api.responses import AUTH, CONFLICT, INVALID, ROLE, VISIBLE
from taskflow.errors import InvalidCursorError, NotFoundError
from taskflow.models import Task, TaskCreate, TaskPriority, TaskRead, TaskStatus, TaskUpdate
from taskflow.services import tasks, trash
from taskflow.services.access import Permission, require_role, require_task_role
from taskflow.services.tasks import TaskFilter, TaskSort

router = APIRouter(prefix="/api/v1/tasks", tags=["tasks"])


async def _task_for(
    session: SessionDep, task_id: int, user_id: int, permission: Permission
) -> Task:
    """The task (tags and assignee loaded) if the caller's role in its project allows
    `permission`."""
    task = await tasks.get_task(session, task_id, with_assignee=True)
    await require_task_role(
        session, project_id=task.project_id, user_id=user_id, permission=permission
    )
    return task


@router.post("", status_code=status.HTTP_201_CREATED, responses=ROLE | INVALID)
async def create_task(data: TaskCreate, caller: CallerId, session: SessionDep) -> TaskRead:
    """Create a task in a project the caller belongs to; tags and assignee from that project."""
    await require_role(
        session,
        project_id=data.project_id,
        user_id=caller,
        permission=Permission.WRITE_TASKS,
    )
    created = await tasks.create_task_read(session, data)
    await session.commit()
    return created


@router.get("", responses=AUTH | INVALID)
async def list_tasks(
    caller: TokenUserId,
    session: SessionDep,
    project_id: IdQuery = None,
    status: TaskStatus | None = None,
    priority: TaskPriority | None = None,
    assignee_id: IdQuery = None,
    tag: Annotated[SearchText | None, Query(max_length=50)] = None,
    q: Annotated[SearchText | None, Query(max_length=200)] = None,
    due_before: DateTimeQuery | None = None,
    due_after: DateTimeQuery | None = None,
    sort: TaskSort = TaskSort.CREATED_AT_DESC,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> PageOut[TaskRead]:
    """Tasks of the caller's projects, filtered, sorted, one keyset page at a time."""
    filters = TaskFilter(
        member_id=caller,
        project_id=project_id,
        status=status,
        priority=priority,
        assignee_id=assignee_id,
        tag=tag,
        q=q,
        due_before=due_before,
        due_after=due_after,
    )
    # The page's statement checks the caller's account too (see `confirm_active`).
    try:
        page = await tasks.read_tasks(session, filters, sort=sort, limit=limit, cursor=cursor)
    except InvalidCursorError:
        await confirm_active(session, caller)
        raise
    if not page.items:
        await confirm_active(session, caller)
    return PageOut(items=page.items, next_cursor=page.next_cursor)


@router.get("/{task_id}", responses=VISIBLE)
async def read_task(task_id: IdPath, caller: TokenUserId, session: SessionDep) -> TaskRead:
    """A task of one of the caller's projects, with its tags."""
    # One statement checks the account and the membership and reads the task.
    try:
        return await tasks.read_task(session, task_id, member_id=caller)
    except NotFoundError:
        await confirm_active(session, caller)
        raise


@router.patch("/{task_id}", responses=ROLE | INVALID)
async def update_task(
    task_id: IdPath, data: TaskUpdate, caller: CallerId, session: SessionDep
) -> TaskRead:
    """Change a task; `tag_ids` replaces its tags; moving needs membership in both projects."""
    updated = await tasks.update_task_by_id(session, task_id, data, writer_id=caller)
    await session.commit()
    return updated


@router.delete("/{task_id}", status_code=status.HTTP_204_NO_CONTENT, responses=ROLE)
async def delete_task(task_id: IdPath, caller: CallerId, session: SessionDep) -> Response:
    """Move a task to the trash (restore it with POST .../restore)."""
    await _task_for(session, task_id, caller, Permission.WRITE_TASKS)
    await trash.trash_task(session, task_id)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{task_id}/restore", responses=ROLE | CONFLICT)
async def restore_task(task_id: IdPath, caller: CallerId, session: SessionDep) -> TaskRead:
    """Bring a task back from the trash (whoever may delete it); its project must be live."""
    found = await trash.find_trashed_task(session, task_id, user_id=caller)
    await trash.restore_task(session, task_id, found)
    await session.commit()
    return await tasks.read_task(session, task_id)
