"""The REST API (FastAPI) on top of the data layer. ASGI app: `taskflow.api:app`."""

from taskflow.api.app import app, create_app

__all__ = ["app", "create_app"]
