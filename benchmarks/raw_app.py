"""The HTTP baseline: a minimal FastAPI app on asyncpg and orjson doing the same work as
TaskFlow's endpoints (verify the token, check membership, fetch, serialise), nothing more.

Run by `benchmarks.http` under uvicorn; configured through BENCH_DSN and SECRET_KEY.
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import jwt
import orjson
from fastapi import FastAPI, Header, HTTPException, Request, Response

from benchmarks.raw import _PAGE, GET_TASK, MEMBERSHIP, PAGE_FILTERS
from taskflow.config import Settings

SECRET = os.environ.get("SECRET_KEY", "")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # As many connections as the app's pool holds.
    size = Settings().pool_size
    app.state.pool = await asyncpg.create_pool(os.environ["BENCH_DSN"], min_size=2, max_size=size)
    yield
    await app.state.pool.close()


app = FastAPI(lifespan=lifespan)


def _user(authorization: str | None) -> int:
    try:
        token = (authorization or "").removeprefix("Bearer ")
        return int(jwt.decode(token, SECRET, algorithms=["HS256"])["sub"])
    except Exception as error:
        raise HTTPException(401) from error


def _task(row: asyncpg.Record) -> dict[str, Any]:
    task = dict(row)
    name = task.pop("assignee_name")
    task["assignee"] = None if name is None else {"id": task["assignee_id"], "full_name": name}
    task["tags"] = [
        {"id": tag_id, "name": name, "project_id": task["project_id"], "created_at": at}
        for tag_id, name, at in task["tags"]
    ]
    return task


@app.get("/api/v1/tasks/{task_id}")
async def get_task(
    request: Request, task_id: int, authorization: str | None = Header(None)
) -> Response:
    user = _user(authorization)
    async with request.app.state.pool.acquire() as conn:
        row = await conn.fetchrow(GET_TASK, task_id)
        if row is None or not await conn.fetchrow(MEMBERSHIP, row["project_id"], user):
            raise HTTPException(404)
    return Response(orjson.dumps(_task(row)), media_type="application/json")


@app.get("/api/v1/tasks")
async def list_tasks(
    request: Request, project_id: int, authorization: str | None = Header(None)
) -> Response:
    user = _user(authorization)
    sql = _PAGE.replace("{filters}", PAGE_FILTERS["project"])
    async with request.app.state.pool.acquire() as conn:
        rows = await conn.fetch(sql, user, None, 0, 51, project_id)
    items = [_task(row) for row in rows[:50]]
    return Response(
        orjson.dumps({"items": items, "next_cursor": "more" if len(rows) > 50 else None}),
        media_type="application/json",
    )
