"""Projects: a team's container for tasks, members and tags."""

from typing import TYPE_CHECKING

from sqlmodel import Field, Index, Relationship, SQLModel

from taskflow.models.base import (
    IN_TRASH,
    IdMixin,
    InputModel,
    Name,
    RowRead,
    Text,
    TimestampsMixin,
    TrashMixin,
)

if TYPE_CHECKING:
    from taskflow.models.member import ProjectMember
    from taskflow.models.tag import Tag
    from taskflow.models.task import Task
    from taskflow.models.user import User

__all__ = ["Project", "ProjectBase", "ProjectCreate", "ProjectRead", "ProjectUpdate"]


class ProjectBase(SQLModel):
    name: Name = Field(max_length=200)
    description: Text | None = Field(default=None, max_length=1000)


class Project(TrashMixin, TimestampsMixin, ProjectBase, IdMixin, table=True):
    __tablename__ = "projects"
    __table_args__ = (Index(None, "deleted_at", postgresql_where=IN_TRASH, sqlite_where=IN_TRASH),)

    # RESTRICT: deleting a user who still owns projects must be an explicit decision.
    owner_id: int = Field(foreign_key="users.id", ondelete="RESTRICT", index=True)

    owner: "User" = Relationship(
        back_populates="owned_projects", sa_relationship_kwargs={"lazy": "raise"}
    )
    members: list["ProjectMember"] = Relationship(
        back_populates="project", passive_deletes=True, sa_relationship_kwargs={"lazy": "raise"}
    )
    tasks: list["Task"] = Relationship(
        back_populates="project", passive_deletes=True, sa_relationship_kwargs={"lazy": "raise"}
    )
    tags: list["Tag"] = Relationship(
        back_populates="project", passive_deletes=True, sa_relationship_kwargs={"lazy": "raise"}
    )


class ProjectCreate(ProjectBase, InputModel):
    pass


class ProjectUpdate(InputModel):
    name: Name = Field(default=None, max_length=200)
    description: Text | None = Field(default=None, max_length=1000)


class ProjectRead(ProjectBase, RowRead):
    owner_id: int
