"""Enumerations stored as their lower-case values."""

from enum import StrEnum

__all__ = ["MemberRole", "TaskPriority", "TaskStatus"]


class TaskStatus(StrEnum):
    TODO = "todo"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class TaskPriority(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        """Position by meaning (low < medium < high), for sorting."""
        return list(TaskPriority).index(self)


class MemberRole(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"
