"""Tags: a project's shared vocabulary, attached to many tasks."""

from typing import TYPE_CHECKING

from sqlmodel import Field, Relationship, SQLModel, UniqueConstraint

from taskflow.models.base import (
    CreatedAtMixin,
    IdMixin,
    InputModel,
    Name,
    ReadModel,
    StoredUTCDatetime,
)
from taskflow.models.task_tag import TaskTag

if TYPE_CHECKING:
    from taskflow.models.project import Project
    from taskflow.models.task import Task

__all__ = ["Tag", "TagBase", "TagCreate", "TagRead", "TagUpdate"]


class TagBase(SQLModel):
    name: Name = Field(max_length=50)


class Tag(CreatedAtMixin, TagBase, IdMixin, table=True):
    __tablename__ = "tags"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    # Indexed through uq_tags_project_id_name, which leads with it.
    project_id: int = Field(foreign_key="projects.id", ondelete="CASCADE")

    project: "Project" = Relationship(
        back_populates="tags", sa_relationship_kwargs={"lazy": "raise"}
    )
    tasks: list["Task"] = Relationship(
        back_populates="tags",
        link_model=TaskTag,
        passive_deletes=True,
        sa_relationship_kwargs={"lazy": "raise"},
    )


class TagCreate(TagBase, InputModel):
    pass


class TagUpdate(InputModel):
    name: Name = Field(default=None, max_length=50)


class TagRead(TagBase, ReadModel):
    id: int
    project_id: int
    created_at: StoredUTCDatetime
