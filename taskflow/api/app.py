"""The FastAPI application."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from taskflow.api.errors import install_error_handlers
from taskflow.api.responses import APP_WIDE
from taskflow.api.routes import auth, health, members, projects, tags, tasks, trash, users
from taskflow.config import get_settings
from taskflow.database import dispose_engine
from taskflow.security import warm_up

__all__ = ["app", "create_app"]


@asynccontextmanager
async def _lifespan(_app: FastAPI) -> AsyncIterator[None]:
    get_settings()  # fail at start-up, not on the first request, on a bad configuration
    await asyncio.to_thread(warm_up)
    yield
    await dispose_engine()


def create_app() -> FastAPI:
    """A new application with every route and error handler."""
    app = FastAPI(title="TaskFlow", version="0.1.0", lifespan=_lifespan, responses=APP_WIDE)
    install_error_handlers(app)
    for module in (tasks, projects, members, tags, trash, users, auth, health):
        app.include_router(module.router)
    return app


app = create_app()
