"""The link between tasks and tags."""

from sqlmodel import Field, SQLModel

__all__ = ["TaskTag"]


class TaskTag(SQLModel, table=True):
    __tablename__ = "task_tags"

    # The primary key (task_id, tag_id) serves lookups by task; tag_id needs its own index.
    task_id: int = Field(foreign_key="tasks.id", ondelete="CASCADE", primary_key=True)
    tag_id: int = Field(foreign_key="tags.id", ondelete="CASCADE", primary_key=True, index=True)
