"""The link between tasks and tags."""

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

__all__ = ["TaskTag"]


class TaskTag(SQLModel, table=True):
    __tablename__ = "task_tags"
    # The primary key (task_id, tag_id) serves lookups by task. By tag, links come in the
    # order their tasks were created: a tag-filtered page, newest or oldest first, reads a
    # page's worth of links per tag instead of every task that carries it.
    __table_args__ = (Index(None, "tag_id", "task_created_at", "task_id"),)

    task_id: int = Field(foreign_key="tasks.id", ondelete="CASCADE", primary_key=True)
    tag_id: int = Field(foreign_key="tags.id", ondelete="CASCADE", primary_key=True)
    # The task's created_at, which never changes once the task exists.
    task_created_at: datetime = Field(nullable=False)
