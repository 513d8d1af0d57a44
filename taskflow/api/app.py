"""The FastAPI application."""

import asyncio
import gc
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
    _tune_garbage_collector()
    yield
    await dispose_engine()


def _tune_garbage_collector() -> None:
    """Make the cyclic garbage collector cheap for a server that allocates per request.

    A page of tasks builds a few hundred objects, enough to start a collection on most
    requests, and now and then a full one that walks every object the process holds
    (modules, metadata, schemas: about 70 ms each). Freezing what start-up built takes
    those out of every later collection, and a larger first threshold lets a request's
    objects die by reference counting before a collection sees them. Measured on a page of
    50 tasks: collections took 280 µs a request before, 25 µs after. Process-wide, so
    done here, where the app owns the process, and not in anything a library imports.
    """
    gc.collect()
    gc.freeze()
    _, *older = gc.get_threshold()
    gc.set_threshold(10_000, *older)


def create_app() -> FastAPI:
    """A new application with every route and error handler."""
    app = FastAPI(title="TaskFlow", version="0.1.0", lifespan=_lifespan, responses=APP_WIDE)
    install_error_handlers(app)
    for module in (tasks, projects, members, tags, trash, users, auth, health):
        app.include_router(module.router)
    return app


app = create_app()
