"""A project's members: list, add, change role, remove (or leave)."""

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from taskflow.api.deps import CallerId, IdPath, SessionDep
from taskflow.api.pages import PageOut
from taskflow.api.responses import CONFLICT, INVALID, ROLE, VISIBLE
from taskflow.models import ProjectMemberCreate, ProjectMemberRead, ProjectMemberUpdate
from taskflow.services import members
from taskflow.services.access import Permission, require_project, require_role

router = APIRouter(prefix="/api/v1/projects/{project_id}/members", tags=["members"])


@router.get("", responses=VISIBLE | INVALID)
async def list_members(
    project_id: IdPath,
    caller: CallerId,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> PageOut[ProjectMemberRead]:
    """The project's members, in the order they joined."""
    await require_role(session, project_id=project_id, user_id=caller, permission=Permission.READ)
    page = await members.list_members(session, project_id=project_id, limit=limit, cursor=cursor)
    items = [ProjectMemberRead.model_validate(m) for m in page.items]
    return PageOut(items=items, next_cursor=page.next_cursor)


@router.post("", status_code=status.HTTP_201_CREATED, responses=ROLE | CONFLICT)
async def add_member(
    project_id: IdPath, data: ProjectMemberCreate, caller: CallerId, session: SessionDep
) -> ProjectMemberRead:
    """Add a user (owner or admin; only an owner grants `owner`)."""
    role = await require_role(
        session,
        project_id=project_id,
        user_id=caller,
        permission=Permission.MANAGE_MEMBERS,
    )
    member = await members.add_member(session, project_id=project_id, data=data, actor_role=role)
    await session.commit()
    return ProjectMemberRead.model_validate(member)


@router.patch("/{user_id}", responses=ROLE | CONFLICT)
async def update_member(
    project_id: IdPath,
    user_id: IdPath,
    data: ProjectMemberUpdate,
    caller: CallerId,
    session: SessionDep,
) -> ProjectMemberRead:
    """Change a member's role (owner or admin; owners are changed only by owners)."""
    project, role = await require_project(
        session,
        project_id=project_id,
        user_id=caller,
        permission=Permission.MANAGE_MEMBERS,
    )
    member = await members.update_member(
        session, project=project, user_id=user_id, data=data, actor_role=role
    )
    await session.commit()
    return ProjectMemberRead.model_validate(member)


@router.delete("/{user_id}", status_code=status.HTTP_204_NO_CONTENT, responses=ROLE | CONFLICT)
async def remove_member(
    project_id: IdPath, user_id: IdPath, caller: CallerId, session: SessionDep
) -> Response:
    """Remove a member (owner or admin), or leave the project (any member, for themself)."""
    project, role = await require_project(
        session, project_id=project_id, user_id=caller, permission=Permission.READ
    )
    await members.remove_member(
        session, project=project, user_id=user_id, actor_id=caller, actor_role=role
    )
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
