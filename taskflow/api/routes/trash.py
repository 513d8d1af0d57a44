"""The caller's trash: list it, and delete from it for good."""

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from taskflow.api.deps import CallerId, IdPath, SessionDep
from taskflow.api.pages import PageOut
from taskflow.api.responses import AUTH, INVALID, ROLE
from taskflow.models import TrashItemRead
from taskflow.services import trash
from taskflow.services.access import Permission, require_role

router = APIRouter(prefix="/api/v1/trash", tags=["trash"])


@router.get("", responses=AUTH | INVALID)
async def list_trash(
    caller: CallerId,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> PageOut[TrashItemRead]:
    """Trashed tasks and projects of the caller's projects, most recently trashed first."""
    page = await trash.list_trash(session, member_id=caller, limit=limit, cursor=cursor)
    return PageOut(items=page.items, next_cursor=page.next_cursor)


@router.delete("/tasks/{task_id}", status_code=status.HTTP_204_NO_CONTENT, responses=ROLE)
async def delete_task_for_good(task_id: IdPath, caller: CallerId, session: SessionDep) -> Response:
    """Delete a trashed task permanently (whoever may delete it)."""
    await trash.find_trashed_task(session, task_id, user_id=caller)  # 404 / 403
    await trash.delete_task_for_good(session, task_id)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/projects/{project_id}", status_code=status.HTTP_204_NO_CONTENT, responses=ROLE)
async def delete_project_for_good(
    project_id: IdPath, caller: CallerId, session: SessionDep
) -> Response:
    """Delete a trashed project permanently, with its tasks, members and tags (owner only)."""
    await require_role(
        session,
        project_id=project_id,
        user_id=caller,
        permission=Permission.DELETE_PROJECT,
        in_trash=True,
    )
    await trash.delete_project_for_good(session, project_id)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
