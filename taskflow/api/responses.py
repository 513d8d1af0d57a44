"""The error responses routes document in OpenAPI, named once."""

from typing import Any

__all__ = ["APP_WIDE", "AUTH", "CONFLICT", "INVALID", "ROLE", "VISIBLE", "Responses"]

Responses = dict[int | str, dict[str, Any]]

AUTH: Responses = {401: {"description": "Missing, invalid or expired token"}}
VISIBLE: Responses = AUTH | {404: {"description": "Not found, or the caller is not a member"}}
ROLE: Responses = VISIBLE | {403: {"description": "The caller's role does not allow this"}}
CONFLICT: Responses = {409: {"description": "The request conflicts with existing data"}}
INVALID: Responses = {422: {"description": "Invalid input, reference or cursor"}}
# Documented on every route by the app itself.
APP_WIDE: Responses = {
    400: {"description": "The request body could not be parsed"},
    503: {"description": "The database is unavailable; retry later"},
}
