"""Tasks: the unit of work, with status, priority, assignee, due date and tags."""

from typing import TYPE_CHECKING, Optional

from sqlmodel import Field, Index, Relationship, SQLModel

from taskflow.models.base import (
    IN_TRASH,
    Id,
    IdMixin,
    InputModel,
    Name,
    RowRead,
    StoredUTCDatetime,
    Text,
    TimestampsMixin,
    TrashMixin,
    UTCDatetime,
    enum_column,
)
from taskflow.models.enums import TaskPriority, TaskStatus
from taskflow.models.tag import TagRead
from taskflow.models.task_tag import TaskTag
from taskflow.models.user import UserSummary

if TYPE_CHECKING:
    from taskflow.models.project import Project
    from taskflow.models.tag import Tag
    from taskflow.models.user import User

__all__ = ["Task", "TaskBase", "TaskCreate", "TaskRead", "TaskUpdate"]


class TaskBase(SQLModel):
    title: Name = Field(max_length=300)
    description: Text | None = Field(default=None, max_length=2000)
    status: TaskStatus = Field(
        default=TaskStatus.TODO, sa_type=enum_column(TaskStatus, "task_status")
    )
    priority: TaskPriority = Field(
        default=TaskPriority.MEDIUM, sa_type=enum_column(TaskPriority, "task_priority")
    )
    due_date: UTCDatetime | None = None
    # Both foreign keys are indexed through the composite indexes that lead with them.
    project_id: Id = Field(foreign_key="projects.id", ondelete="CASCADE")
    assignee_id: Id | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")


class Task(TrashMixin, TimestampsMixin, TaskBase, IdMixin, table=True):
    __tablename__ = "tasks"
    __table_args__ = (
        Index(None, "project_id", "status"),
        Index(None, "project_id", "priority"),
        Index(None, "project_id", "created_at", "id"),  # keyset pages within a project
        Index(None, "assignee_id", "status"),
        # Only the few trashed rows: the trash list and the purge, at no cost to live rows.
        Index(None, "deleted_at", postgresql_where=IN_TRASH, sqlite_where=IN_TRASH),
    )

    project: "Project" = Relationship(
        back_populates="tasks", sa_relationship_kwargs={"lazy": "raise"}
    )
    assignee: Optional["User"] = Relationship(
        back_populates="assigned_tasks", sa_relationship_kwargs={"lazy": "raise"}
    )
    tags: list["Tag"] = Relationship(
        back_populates="tasks",
        link_model=TaskTag,
        passive_deletes=True,
        sa_relationship_kwargs={"lazy": "raise", "order_by": "Tag.name"},
    )


class TaskCreate(TaskBase, InputModel):
    tag_ids: list[Id] = Field(default_factory=list, max_length=50)


class TaskUpdate(InputModel):
    # Omitted means "keep"; explicit null is refused except where the column is nullable.
    title: Name = Field(default=None, max_length=300)
    description: Text | None = Field(default=None, max_length=2000)
    status: TaskStatus = Field(default=None)
    priority: TaskPriority = Field(default=None)
    due_date: UTCDatetime | None = None
    project_id: Id = Field(default=None)
    assignee_id: Id | None = None
    tag_ids: list[Id] = Field(default=None, max_length=50)


class TaskRead(TaskBase, RowRead):
    # As stored: TaskBase's type calls `as_utc` (Python) for every due date read, a
    # page's largest Python cost inside its validation (see `StoredUTCDatetime`).
    due_date: StoredUTCDatetime | None = None
    tags: list[TagRead] = []
    assignee: UserSummary | None = None
