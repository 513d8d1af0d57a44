"""Projects: create, list the caller's, read, update, delete (by membership role)."""

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from taskflow.api.deps import CallerId, IdPath, SessionDep
from taskflow.api.pages import PageOut
from taskflow.api.responses import AUTH, CONFLICT, INVALID, ROLE, VISIBLE
from taskflow.models import ProjectCreate, ProjectRead, ProjectUpdate
from taskflow.services import projects, trash
from taskflow.services.access import Permission, require_project, require_role

router = APIRouter(prefix="/api/v1/projects", tags=["projects"])


@router.post("", status_code=status.HTTP_201_CREATED, responses=AUTH)
async def create_project(data: ProjectCreate, caller: CallerId, session: SessionDep) -> ProjectRead:
    """Create a project; the caller becomes its owner."""
    project = await projects.create_project(session, owner_id=caller, data=data)
    await session.commit()
    return ProjectRead.model_validate(project)


@router.get("", responses=AUTH | INVALID)
async def list_projects(
    caller: CallerId,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> PageOut[ProjectRead]:
    """The projects the caller is a member of, newest first."""
    page = await projects.list_projects(session, member_id=caller, limit=limit, cursor=cursor)
    items = [ProjectRead.model_validate(p) for p in page.items]
    return PageOut(items=items, next_cursor=page.next_cursor)


@router.get("/{project_id}", responses=VISIBLE)
async def read_project(project_id: IdPath, caller: CallerId, session: SessionDep) -> ProjectRead:
    """A project the caller is a member of."""
    project, _role = await require_project(
        session, project_id=project_id, user_id=caller, permission=Permission.READ
    )
    return ProjectRead.model_validate(project)


@router.patch("/{project_id}", responses=ROLE)
async def update_project(
    project_id: IdPath, data: ProjectUpdate, caller: CallerId, session: SessionDep
) -> ProjectRead:
    """Rename or describe a project (owner or admin)."""
    project, _role = await require_project(
        session,
        project_id=project_id,
        user_id=caller,
        permission=Permission.UPDATE_PROJECT,
    )
    project = await projects.update_project(session, project, data)
    await session.commit()
    return ProjectRead.model_validate(project)


@router.delete("/{project_id}", status_code=status.HTTP_204_NO_CONTENT, responses=ROLE)
async def delete_project(project_id: IdPath, caller: CallerId, session: SessionDep) -> Response:
    """Move a project to the trash (owner only); its tasks, members and tags go out of sight."""
    await require_role(
        session, project_id=project_id, user_id=caller, permission=Permission.DELETE_PROJECT
    )
    await trash.trash_project(session, project_id)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{project_id}/restore", responses=ROLE | CONFLICT)
async def restore_project(project_id: IdPath, caller: CallerId, session: SessionDep) -> ProjectRead:
    """Bring a project back from the trash (owner only), with the tasks it had."""
    await require_role(
        session,
        project_id=project_id,
        user_id=caller,
        permission=Permission.DELETE_PROJECT,
        in_trash=True,
    )
    await trash.restore_project(session, project_id)
    await session.commit()
    return ProjectRead.model_validate(await projects.get_project(session, project_id))
