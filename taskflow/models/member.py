"""Project memberships: who belongs to a project, and with which role."""

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlmodel import Field, Relationship, SQLModel, UniqueConstraint

from taskflow.models.base import Id, IdMixin, InputModel, ReadModel, enum_column, utc_now
from taskflow.models.enums import MemberRole

if TYPE_CHECKING:
    from taskflow.models.project import Project
    from taskflow.models.user import User

__all__ = [
    "ProjectMember",
    "ProjectMemberBase",
    "ProjectMemberCreate",
    "ProjectMemberRead",
    "ProjectMemberUpdate",
]


class ProjectMemberBase(SQLModel):
    user_id: Id = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    role: MemberRole = Field(
        default=MemberRole.MEMBER, sa_type=enum_column(MemberRole, "member_role")
    )


class ProjectMember(ProjectMemberBase, IdMixin, table=True):
    __tablename__ = "project_members"
    __table_args__ = (UniqueConstraint("project_id", "user_id"),)

    # Indexed through uq_project_members_project_id_user_id, which leads with it.
    project_id: int = Field(foreign_key="projects.id", ondelete="CASCADE")
    joined_at: datetime = Field(
        default_factory=utc_now,
        nullable=False,
        sa_column_kwargs={"server_default": sa.func.now()},
    )

    project: "Project" = Relationship(
        back_populates="members", sa_relationship_kwargs={"lazy": "raise"}
    )
    user: "User" = Relationship(
        back_populates="memberships", sa_relationship_kwargs={"lazy": "raise"}
    )


class ProjectMemberCreate(ProjectMemberBase, InputModel):
    pass


class ProjectMemberUpdate(InputModel):
    role: MemberRole = Field(default=None)


class ProjectMemberRead(ProjectMemberBase, ReadModel):
    id: int
    project_id: int
    joined_at: datetime
