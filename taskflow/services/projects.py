"""Projects: create, read, update, and the caller's list (deleting is the trash's)."""

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from taskflow.errors import NotFoundError
from taskflow.models import (
    MemberRole,
    Project,
    ProjectCreate,
    ProjectMember,
    ProjectUpdate,
)
from taskflow.services.common import flush
from taskflow.services.pagination import Page, page_by_id

__all__ = ["create_project", "get_project", "list_projects", "update_project"]


async def create_project(session: AsyncSession, *, owner_id: int, data: ProjectCreate) -> Project:
    """A new project owned by `owner_id`, who also becomes its `owner` member."""
    project = Project.model_validate(data, update={"owner_id": owner_id})
    session.add(project)
    await flush(session)
    assert project.id is not None
    session.add(ProjectMember(project_id=project.id, user_id=owner_id, role=MemberRole.OWNER))
    await flush(session)
    return project


async def get_project(session: AsyncSession, project_id: int) -> Project:
    """The project with this id, or NotFoundError."""
    # populate_existing: a row already in the session is re-read, so that it is hidden
    # once trashed, as a query would hide it.
    project = await session.get(Project, project_id, populate_existing=True)
    if project is None:
        raise NotFoundError("project not found")
    return project


async def update_project(session: AsyncSession, project: Project, data: ProjectUpdate) -> Project:
    """Apply the fields that were sent."""
    project.sqlmodel_update(data.model_dump(exclude_unset=True))
    session.add(project)
    await flush(session)
    return project


async def list_projects(
    session: AsyncSession, *, member_id: int, limit: int = 50, cursor: str | None = None
) -> Page[Project]:
    """The projects the user is a member of, newest first, one keyset page."""
    query = select(Project).where(
        col(Project.id).in_(
            select(ProjectMember.project_id).where(col(ProjectMember.user_id) == member_id)
        )
    )
    return await page_by_id(session, query, Project.id, limit=limit, cursor=cursor, descending=True)
