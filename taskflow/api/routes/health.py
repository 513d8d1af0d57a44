"""Liveness with a database round trip."""

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse

from taskflow.api.deps import SessionDep
from taskflow.database import ping

router = APIRouter(tags=["health"])


@router.get("/health", responses={503: {"description": "The database does not answer"}})
async def health(session: SessionDep) -> JSONResponse:
    """200 when the database answers, 503 when it does not (the pool reconnects by itself)."""
    if await ping(session):
        return JSONResponse({"status": "ok"})
    return JSONResponse({"status": "unavailable"}, status_code=status.HTTP_503_SERVICE_UNAVAILABLE)
