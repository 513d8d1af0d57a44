"""Domain errors, and the one place that turns database constraint violations into them."""

import re

from sqlalchemy import Table, UniqueConstraint
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel

__all__ = [
    "ConflictError",
    "DomainError",
    "DuplicateError",
    "InvalidCursorError",
    "InvalidValueError",
    "MissingReferenceError",
    "NotFoundError",
    "PermissionDeniedError",
    "ReferencedError",
    "translate_integrity_error",
]


class DomainError(Exception):
    """A request the data layer refuses; `message` is written for a person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFoundError(DomainError):
    """The row asked for does not exist (or is not visible to the caller)."""


class PermissionDeniedError(DomainError):
    """The caller may see the resource but their role does not allow the action."""


class ConflictError(DomainError):
    """The request contradicts the current state (e.g. removing a project's owner)."""


class DuplicateError(ConflictError):
    """A unique constraint would be violated."""


class MissingReferenceError(DomainError):
    """A foreign key points at a row that does not exist."""


class ReferencedError(ConflictError):
    """A row cannot be deleted while other rows still point at it (ON DELETE RESTRICT)."""


class InvalidValueError(DomainError):
    """A value the database's CHECK or NOT NULL constraints refuse."""


class InvalidCursorError(DomainError):
    """A pagination cursor that was not issued by us, or not for this query."""


# By constraint name, as fixed by the naming convention in taskflow.models.base.
_MESSAGES: dict[str, tuple[type[DomainError], str]] = {
    "ix_users_email": (DuplicateError, "a user with this email already exists"),
    "uq_project_members_project_id_user_id": (
        DuplicateError,
        "this user is already a member of the project",
    ),
    "uq_tags_project_id_name": (DuplicateError, "this project already has a tag with that name"),
    "fk_projects_owner_id_users": (MissingReferenceError, "the owner does not exist"),
    "fk_project_members_user_id_users": (MissingReferenceError, "the user does not exist"),
    "fk_project_members_project_id_projects": (MissingReferenceError, "the project does not exist"),
    "fk_tags_project_id_projects": (MissingReferenceError, "the project does not exist"),
    "fk_tasks_project_id_projects": (MissingReferenceError, "the project does not exist"),
    "fk_tasks_assignee_id_users": (MissingReferenceError, "the assignee does not exist"),
    "fk_task_tags_task_id_tasks": (MissingReferenceError, "the task does not exist"),
    "fk_task_tags_tag_id_tags": (MissingReferenceError, "the tag does not exist"),
}

_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (.+)")
_SQLITE_CHECK = re.compile(r"CHECK constraint failed: (\w+)")


def translate_integrity_error(error: IntegrityError) -> DomainError:
    """The domain error for a violated constraint, found by the constraint's name."""
    name = _constraint_name(error)
    if name is not None:
        if name in _MESSAGES:
            error_type, message = _MESSAGES[name]
            return error_type(message)
        if name.startswith("uq_") or name.startswith("ix_"):
            return DuplicateError("a row with these values already exists")
        if name.startswith("fk_"):
            return MissingReferenceError("a referenced row does not exist")
        if name.startswith("ck_"):
            return InvalidValueError(f"a value is not allowed ({name})")
    text = str(error.orig)
    if "FOREIGN KEY" in text or "foreign key" in text:
        # SQLite does not say which foreign key failed.
        return MissingReferenceError("a referenced row does not exist")
    if "NOT NULL" in text or "not-null" in text:
        return InvalidValueError("a required value is missing")
    return DuplicateError("the change conflicts with existing data")


def _constraint_name(error: IntegrityError) -> str | None:
    driver_error = getattr(error, "driver_exception", None) or error.orig
    name = getattr(driver_error, "constraint_name", None)  # asyncpg
    if isinstance(name, str):
        return name
    text = str(driver_error)
    if match := _SQLITE_CHECK.search(text):
        return match.group(1)
    if match := _SQLITE_UNIQUE.search(text):
        return _unique_name_for_columns(match.group(1))
    return None


def _unique_name_for_columns(columns_text: str) -> str | None:
    """SQLite names the columns ("tags.project_id, tags.name"); find the constraint's name."""
    qualified = [part.strip().split(".", 1) for part in columns_text.split(",")]
    table: Table | None = SQLModel.metadata.tables.get(qualified[0][0])
    if table is None:
        return None
    columns = [column for _table, column in qualified]
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint) and constraint.columns.keys() == columns:
            return str(constraint.name)
    for index in table.indexes:
        if index.unique and [c.name for c in index.columns] == columns:
            return str(index.name)
    return None
