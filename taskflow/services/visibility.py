"""What a query may see: the one place that hides trashed rows.

A task is visible while neither it nor its project is in the trash; a project while it is
not; a membership or a tag while its project is not (so everything in a trashed project
disappears with it, and membership checks fail there). The rules are SQLAlchemy
loader criteria: added to every ORM statement a Session runs (the `do_orm_execute` hook
below) and to every Core read `common.fetch_all` runs, they reach each occurrence of
the entity, subqueries included. Queries written with the models' attributes are covered
without a condition of their own; the trash itself opts out with `INCLUDE_TRASHED`.
"""

from typing import Any, TypeVar

from sqlalchemy import Executable, event, exists
from sqlalchemy.orm import ORMExecuteState, Session, aliased, with_loader_criteria
from sqlmodel import col

from taskflow.models import Project, ProjectMember, Tag, Task

__all__ = ["INCLUDE_TRASHED", "hide_trashed", "include_trashed"]

StatementT = TypeVar("StatementT", bound=Executable)

INCLUDE_TRASHED = "include_trashed"
"""Execution option: this statement sees the trash (listing, restoring, purging it)."""


# Its own alias: a statement that already selects from projects must not swallow the
# subquery's FROM through auto-correlation.
_LIVE_PROJECT = aliased(Project, name="live_project")


def _project_is_live(project_id: Any) -> Any:
    return exists().where(
        col(_LIVE_PROJECT.id) == project_id, col(_LIVE_PROJECT.deleted_at).is_(None)
    )


_CRITERIA = (
    with_loader_criteria(Project, lambda cls: cls.deleted_at.is_(None), include_aliases=True),
    with_loader_criteria(
        Task,
        lambda cls: cls.deleted_at.is_(None) & _project_is_live(cls.project_id),
        include_aliases=True,
    ),
    with_loader_criteria(
        ProjectMember, lambda cls: _project_is_live(cls.project_id), include_aliases=True
    ),
    with_loader_criteria(Tag, lambda cls: _project_is_live(cls.project_id), include_aliases=True),
)


def include_trashed(statement: StatementT) -> StatementT:
    """The statement, marked to see trashed rows too."""
    return statement.execution_options(**{INCLUDE_TRASHED: True})


_APPLIED = "taskflow_visibility_applied"


def hide_trashed(statement: StatementT) -> StatementT:
    """The statement with the visibility rules, unless it was marked `include_trashed`.

    Statements built once should be built through this: adding the rules to a statement
    costs more than running a simple one, and a statement that has them is left as it is.
    """
    if _settled(statement):
        return statement
    return statement.options(*_CRITERIA).execution_options(**{_APPLIED: True})


def _settled(statement: Executable) -> bool:
    """Whether the statement has the rules already, or sees the trash on purpose."""
    options = statement.get_execution_options()
    return bool(options.get(INCLUDE_TRASHED) or options.get(_APPLIED))


@event.listens_for(Session, "do_orm_execute")
def _hide_trashed_from_orm(state: ORMExecuteState) -> None:
    # Checked first: a statement built once through `hide_trashed` needs nothing, and the
    # questions below cost more (some 25 µs per statement).
    if _settled(state.statement):
        return
    # Loads of attributes and relationships of rows already loaded inherit the rules from
    # the statement that loaded them (with_loader_criteria propagates to loaders).
    if state.is_insert or state.is_column_load or state.is_relationship_load:
        return
    state.statement = hide_trashed(state.statement)
