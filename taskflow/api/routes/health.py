"""Liveness with a database round trip."""

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse
from sqlalchemy import text

from taskflow.api.deps import SessionDep

router = APIRouter(tags=["health"])


@router.get("/health", responses={503: {"description": "The database does not answer"}})
async def health(session: SessionDep) -> JSONResponse:
    """200 when the database answers, 503 when it does not (the pool reconnects by itself)."""
    try:
        await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
    except Exception:
        return JSONResponse(
            {"status": "unavailable"}, status_code=status.HTTP_503_SERVICE_UNAVAILABLE
        )
    return JSONResponse({"status": "ok"})
