"""The trash: tasks and projects deleted by a user, kept until restored or purged."""

from enum import StrEnum

from taskflow.models.base import ReadModel, StoredUTCDatetime

__all__ = ["TrashItemRead", "TrashKind"]


class TrashKind(StrEnum):
    TASK = "task"
    PROJECT = "project"


class TrashItemRead(ReadModel):
    """One trashed task or project, as the trash lists it."""

    kind: TrashKind
    id: int
    # The task's title or the project's name.
    name: str
    # The task's project, or the project itself.
    project_id: int
    deleted_at: StoredUTCDatetime
