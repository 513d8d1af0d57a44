"""The data layer's models: one SQLModel table plus its Create/Update/Read classes per entity.

Importing this package registers every table on `SQLModel.metadata` and opens no connection.
"""

from taskflow.models.base import utc_now
from taskflow.models.enums import MemberRole, TaskPriority, TaskStatus
from taskflow.models.member import (
    ProjectMember,
    ProjectMemberBase,
    ProjectMemberCreate,
    ProjectMemberRead,
    ProjectMemberUpdate,
)
from taskflow.models.project import Project, ProjectBase, ProjectCreate, ProjectRead, ProjectUpdate
from taskflow.models.tag import Tag, TagBase, TagCreate, TagRead, TagUpdate
from taskflow.models.task import Task, TaskBase, TaskCreate, TaskRead, TaskUpdate
from taskflow.models.task_tag import TaskTag
from taskflow.models.trash import TrashItemRead, TrashKind
from taskflow.models.user import User, UserBase, UserCreate, UserRead, UserSummary, UserUpdate

__all__ = [
    "MemberRole",
    "Project",
    "ProjectBase",
    "ProjectCreate",
    "ProjectMember",
    "ProjectMemberBase",
    "ProjectMemberCreate",
    "ProjectMemberRead",
    "ProjectMemberUpdate",
    "ProjectRead",
    "ProjectUpdate",
    "Tag",
    "TagBase",
    "TagCreate",
    "TagRead",
    "TagUpdate",
    "Task",
    "TaskBase",
    "TaskCreate",
    "TaskPriority",
    "TaskRead",
    "TaskStatus",
    "TaskTag",
    "TaskUpdate",
    "TrashItemRead",
    "TrashKind",
    "User",
    "UserBase",
    "UserCreate",
    "UserRead",
    "UserSummary",
    "UserUpdate",
    "utc_now",
]
