"""Who may do what in a project: one role -> permission table and one loader that checks it."""

from enum import StrEnum

from sqlalchemy import String, and_, bindparam, type_coerce
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from taskflow.errors import NotFoundError, PermissionDeniedError
from taskflow.models import MemberRole, Project, ProjectMember
from taskflow.services.common import fetch_scalar, prepared
from taskflow.services.visibility import include_trashed

__all__ = [
    "ROLE_PERMISSIONS",
    "Permission",
    "require_project",
    "require_role",
    "require_task_role",
]


class Permission(StrEnum):
    READ = "read"
    WRITE_TASKS = "write tasks"
    UPDATE_PROJECT = "update the project"
    MANAGE_MEMBERS = "manage members"
    MANAGE_TAGS = "manage tags"
    DELETE_PROJECT = "delete the project"


ROLE_PERMISSIONS: dict[MemberRole, frozenset[Permission]] = {
    MemberRole.OWNER: frozenset(Permission),
    MemberRole.ADMIN: frozenset(Permission) - {Permission.DELETE_PROJECT},
    MemberRole.MEMBER: frozenset({Permission.READ, Permission.WRITE_TASKS}),
}


async def require_project(
    session: AsyncSession, *, project_id: int, user_id: int, permission: Permission
) -> tuple[Project, MemberRole]:
    """The project and the caller's role, loaded in one query through the membership.

    NotFoundError for non-members, so a project's existence does not leak;
    PermissionDeniedError for members whose role lacks the permission.
    """
    row = (
        await session.exec(
            select(Project, ProjectMember.role)
            .join(
                ProjectMember,
                and_(
                    col(ProjectMember.project_id) == col(Project.id),
                    col(ProjectMember.user_id) == user_id,
                ),
            )
            .where(col(Project.id) == project_id)
        )
    ).first()
    if row is None:
        raise NotFoundError("project not found")
    project, role = row
    return project, _allowed(MemberRole(role), permission)


# Built once: every request that touches a project runs it. The role as the text it is
# stored as (`_allowed` takes that), so no conversion keeps it from the driver path.
_ROLE_OF_MEMBER = sa_select(type_coerce(col(ProjectMember.role), String)).where(
    col(ProjectMember.project_id) == bindparam("project_id"),
    col(ProjectMember.user_id) == bindparam("user_id"),
)
_ROLE = prepared(_ROLE_OF_MEMBER)


_ROLE_IN_TRASHED_PROJECT = include_trashed(_ROLE_OF_MEMBER)


async def require_role(
    session: AsyncSession,
    *,
    project_id: int,
    user_id: int,
    permission: Permission,
    in_trash: bool = False,
) -> MemberRole:
    """`require_project` for callers that need only the answer: one scalar, no ORM object.

    A trashed project has no members, except with `in_trash` (to restore or purge it).
    """
    params = {"project_id": project_id, "user_id": user_id}
    statement = _ROLE_IN_TRASHED_PROJECT if in_trash else _ROLE
    role = await fetch_scalar(session, statement, params)
    if role is None:
        raise NotFoundError("project not found")
    return _allowed(MemberRole(role), permission)


async def require_task_role(
    session: AsyncSession,
    *,
    project_id: int,
    user_id: int,
    permission: Permission,
    in_trash: bool = False,
) -> MemberRole:
    """`require_role` on a task's project, for routes about the task: a non-member is told
    the task does not exist (nothing about its project)."""
    try:
        return await require_role(
            session,
            project_id=project_id,
            user_id=user_id,
            permission=permission,
            in_trash=in_trash,
        )
    except NotFoundError as error:
        raise NotFoundError("task not found") from error


def _allowed(role: MemberRole, permission: Permission) -> MemberRole:
    if permission not in ROLE_PERMISSIONS[role]:
        raise PermissionDeniedError(f"your role ({role.value}) may not {permission.value}")
    return role
