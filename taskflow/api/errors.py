"""Domain errors -> HTTP statuses, in one place."""

from fastapi import FastAPI, Request, status
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DBAPIError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Route

from taskflow.errors import (
    ConflictError,
    DomainError,
    InvalidCursorError,
    InvalidValueError,
    MissingReferenceError,
    NotFoundError,
    PermissionDeniedError,
    translate_integrity_error,
)

__all__ = ["STATUS_BY_ERROR", "install_error_handlers"]

STATUS_BY_ERROR: dict[type[DomainError], int] = {
    NotFoundError: status.HTTP_404_NOT_FOUND,
    PermissionDeniedError: status.HTTP_403_FORBIDDEN,
    ConflictError: status.HTTP_409_CONFLICT,
    MissingReferenceError: status.HTTP_422_UNPROCESSABLE_CONTENT,
    InvalidValueError: status.HTTP_422_UNPROCESSABLE_CONTENT,
    InvalidCursorError: status.HTTP_422_UNPROCESSABLE_CONTENT,
}


def status_for(error: DomainError) -> int:
    """The HTTP status of a domain error (its most specific mapped class)."""
    for error_type, code in STATUS_BY_ERROR.items():
        if isinstance(error, error_type):
            return code
    return status.HTTP_400_BAD_REQUEST


async def _domain_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, DomainError)
    return JSONResponse({"detail": error.message}, status_code=status_for(error))


async def _integrity_error(request: Request, error: Exception) -> JSONResponse:
    # Safety net: services translate their own flushes; a commit can still hit a constraint.
    assert isinstance(error, IntegrityError)
    return await _domain_error(request, translate_integrity_error(error))


async def _database_unavailable(_request: Request, error: Exception) -> JSONResponse:
    # Lost or refused connections, or a busy SQLite file: the client may retry; nothing
    # about its input was wrong. Any other database error is a bug and stays a 500.
    lost = isinstance(error, OSError) or getattr(error, "connection_invalidated", False)
    if not (lost or "database is locked" in str(error)):
        raise error
    return JSONResponse(
        {"detail": "the database is unavailable; try again shortly"},
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": "5"},
    )


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    if error.status_code == status.HTTP_405_METHOD_NOT_ALLOWED:
        # Starlette answers from the first route matching the path, so its Allow header
        # names that route's methods only; list every method the path supports.
        allowed: set[str] = set()
        for route in request.app.router.routes:
            if isinstance(route, Route) and route.matches(request.scope)[0] != Match.NONE:
                allowed |= route.methods or set()
        return JSONResponse(
            {"detail": error.detail},
            status_code=error.status_code,
            headers={"Allow": ", ".join(sorted(allowed))},
        )
    return await http_exception_handler(request, error)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
    for unavailable in (DBAPIError, OSError):
        app.add_exception_handler(unavailable, _database_unavailable)
