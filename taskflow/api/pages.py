"""The envelope every list endpoint returns."""

from typing import Generic, TypeVar

from pydantic import BaseModel

T = TypeVar("T")

__all__ = ["PageOut"]


class PageOut(BaseModel, Generic[T]):
    """One page of items and the opaque cursor of the next (null on the last page)."""

    items: list[T]
    next_cursor: str | None
