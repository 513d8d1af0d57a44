"""Keyset pages: opaque cursors that carry the last row's sort key and id."""

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from taskflow.config import get_settings
from taskflow.errors import InvalidCursorError

__all__ = ["Page", "decode_cursor", "encode_cursor", "page_by_id"]

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of rows and the cursor of the next page (None on the last one)."""

    items: list[T]
    next_cursor: str | None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(payload: str) -> str:
    # Signed so that a cursor edited by hand is refused rather than silently obeyed.
    key = get_settings().secret_key.encode()
    return _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest()[:12])


def encode_cursor(sort: str, key: Any, row_id: int) -> str:
    """An opaque, signed cursor positioned after the row (`key`, `row_id`) in `sort` order."""
    payload = _b64(json.dumps([sort, key, row_id], separators=(",", ":")).encode())
    return f"{payload}.{_signature(payload)}"


def decode_cursor(cursor: str, sort: str) -> tuple[Any, int]:
    """The (key, id) a cursor carries; InvalidCursorError if it is not one of ours for `sort`."""
    payload, _, signature = cursor.partition(".")
    if not hmac.compare_digest(signature.encode(), _signature(payload).encode()):
        raise InvalidCursorError("the cursor is malformed or was altered")
    try:
        cursor_sort, key, row_id = json.loads(_unb64(payload))
    except (binascii.Error, ValueError, TypeError) as error:
        raise InvalidCursorError("the cursor is malformed") from error
    if cursor_sort != sort:
        raise InvalidCursorError("the cursor belongs to another sort order")
    if not isinstance(row_id, int) or isinstance(row_id, bool):
        raise InvalidCursorError("the cursor is malformed")
    return key, row_id


async def page_by_id(
    session: AsyncSession,
    query: SelectOfScalar[T],
    id_column: Any,
    *,
    limit: int,
    cursor: str | None,
    descending: bool = False,
) -> Page[T]:
    """One keyset page of `query` ordered by its integer id column."""
    sort = "-id" if descending else "id"
    column = col(id_column)
    if cursor is not None:
        _key, last_id = decode_cursor(cursor, sort)
        query = query.where(column < last_id if descending else column > last_id)
    ordered = query.order_by(column.desc() if descending else column.asc()).limit(limit + 1)
    rows = list((await session.exec(ordered)).all())
    items = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        next_cursor = encode_cursor(sort, None, getattr(items[-1], id_column.key))
    return Page(items=items, next_cursor=next_cursor)
