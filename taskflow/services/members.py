"""Project memberships: who belongs to a project, with which role, and who may change that."""

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from taskflow.errors import (
    ConflictError,
    MissingReferenceError,
    NotFoundError,
    PermissionDeniedError,
)
from taskflow.models import (
    MemberRole,
    Project,
    ProjectMember,
    ProjectMemberCreate,
    ProjectMemberUpdate,
)
from taskflow.services.access import ROLE_PERMISSIONS, Permission
from taskflow.services.common import flush
from taskflow.services.pagination import Page, page_by_id

__all__ = ["add_member", "get_membership", "list_members", "remove_member", "update_member"]


async def add_member(
    session: AsyncSession,
    *,
    project_id: int,
    data: ProjectMemberCreate,
    actor_role: MemberRole,
) -> ProjectMember:
    """Add a user to a project. Only an owner may make someone an owner."""
    if data.role == MemberRole.OWNER and actor_role != MemberRole.OWNER:
        raise PermissionDeniedError("only an owner may grant the owner role")
    member = ProjectMember.model_validate(data, update={"project_id": project_id})
    session.add(member)
    try:
        await flush(session)
    except MissingReferenceError as error:
        # The project was loaded by the caller, so the user is what is missing.
        raise NotFoundError("user not found") from error
    return member


async def get_membership(
    session: AsyncSession, *, project_id: int, user_id: int
) -> ProjectMember | None:
    """The user's membership in the project, if any."""
    result = await session.exec(
        select(ProjectMember).where(
            col(ProjectMember.project_id) == project_id, col(ProjectMember.user_id) == user_id
        )
    )
    return result.first()


async def _existing(session: AsyncSession, project: Project, user_id: int) -> ProjectMember:
    assert project.id is not None
    member = await get_membership(session, project_id=project.id, user_id=user_id)
    if member is None:
        raise NotFoundError("this user is not a member of the project")
    return member


async def update_member(
    session: AsyncSession,
    *,
    project: Project,
    user_id: int,
    data: ProjectMemberUpdate,
    actor_role: MemberRole,
) -> ProjectMember:
    """Give a member another role; owners are changed, and made, only by owners."""
    member = await _existing(session, project, user_id)
    role = MemberRole(data.model_dump(exclude_unset=True).get("role", member.role))
    if MemberRole.OWNER in (member.role, role) and actor_role != MemberRole.OWNER:
        raise PermissionDeniedError("only an owner may change or grant the owner role")
    if user_id == project.owner_id and role != MemberRole.OWNER:
        raise ConflictError("the project's owner cannot be demoted")
    if role == member.role:
        return member
    member.role = role
    session.add(member)
    await flush(session)
    return member


async def remove_member(
    session: AsyncSession,
    *,
    project: Project,
    user_id: int,
    actor_id: int,
    actor_role: MemberRole,
) -> None:
    """Remove a member, or leave when `user_id` is the actor's own."""
    member = await _existing(session, project, user_id)
    if user_id != actor_id:
        if Permission.MANAGE_MEMBERS not in ROLE_PERMISSIONS[actor_role]:
            raise PermissionDeniedError(f"your role ({actor_role.value}) may not remove members")
        if member.role == MemberRole.OWNER and actor_role != MemberRole.OWNER:
            raise PermissionDeniedError("only an owner may remove an owner")
    if user_id == project.owner_id:
        raise ConflictError("the project's owner cannot be removed")
    await session.delete(member)
    await flush(session)


async def list_members(
    session: AsyncSession, *, project_id: int, limit: int = 50, cursor: str | None = None
) -> Page[ProjectMember]:
    """The project's members in the order they joined, one keyset page."""
    query = select(ProjectMember).where(col(ProjectMember.project_id) == project_id)
    return await page_by_id(session, query, ProjectMember.id, limit=limit, cursor=cursor)
