"""One comparable shape for a task, whichever side produced it."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

TaskShape = tuple[Any, ...]


def task_shape(
    row: Any,
    *,
    tags: Sequence[tuple[int, str, datetime]],
    assignee_name: str | None = None,
) -> TaskShape:
    """(id, title, status, priority, project, assignee, due, tags, assignee's name)."""

    def get(key: str) -> Any:
        return row[key] if hasattr(row, "keys") else getattr(row, key)

    due = get("due_date")
    return (
        get("id"),
        get("title"),
        str(get("status")),
        str(get("priority")),
        get("project_id"),
        get("assignee_id"),
        None if due is None else due.timestamp(),
        tuple((int(tag_id), str(name), created.timestamp()) for tag_id, name, created in tags),
        assignee_name,
    )
