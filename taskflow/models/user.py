"""Users: people who sign in, own projects and are assigned tasks."""

from typing import TYPE_CHECKING

import sqlalchemy as sa
from pydantic import StrictBool
from sqlmodel import Field, Relationship, SQLModel

from taskflow.models.base import (
    Email,
    IdMixin,
    InputModel,
    Name,
    Password,
    ReadModel,
    RowRead,
    TimestampsMixin,
)

if TYPE_CHECKING:
    from taskflow.models.member import ProjectMember
    from taskflow.models.project import Project
    from taskflow.models.task import Task

__all__ = ["User", "UserBase", "UserCreate", "UserRead", "UserSummary", "UserUpdate"]


class UserBase(SQLModel):
    email: Email = Field(max_length=255, unique=True, index=True)
    full_name: Name = Field(max_length=100)
    is_active: StrictBool = True


class User(TimestampsMixin, UserBase, IdMixin, table=True):
    __tablename__ = "users"
    # Validation lower-cases emails; the database keeps other writers to the same rule.
    __table_args__ = (sa.CheckConstraint("email = lower(email)", name="email_lowercase"),)

    hashed_password: str = Field(max_length=255)

    owned_projects: list["Project"] = Relationship(
        back_populates="owner", passive_deletes="all", sa_relationship_kwargs={"lazy": "raise"}
    )
    assigned_tasks: list["Task"] = Relationship(
        back_populates="assignee", passive_deletes=True, sa_relationship_kwargs={"lazy": "raise"}
    )
    memberships: list["ProjectMember"] = Relationship(
        back_populates="user", passive_deletes=True, sa_relationship_kwargs={"lazy": "raise"}
    )


class UserCreate(UserBase, InputModel):
    password: Password


class UserUpdate(InputModel):
    # Non-optional types with a None default: omitted means "keep", explicit null is refused.
    full_name: Name = Field(default=None, max_length=100)
    password: Password = Field(default=None)
    is_active: StrictBool = Field(default=None)


class UserRead(UserBase, RowRead):
    pass


class UserSummary(ReadModel):
    """A user as other records show them (a task's assignee): no email, nothing private.

    Output only, read from stored rows, so the name needs none of UserBase's input rules.
    """

    id: int
    full_name: str
