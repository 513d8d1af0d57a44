"""What the app's start-up does to the process it runs in."""

import json
import os
import subprocess
import sys
from pathlib import Path


def test_start_up_freezes_what_it_built_and_collects_less_often(tmp_path: Path) -> None:
    # In a process of its own: the garbage collector's settings are process-wide.
    script = (
        "import asyncio, gc, json\n"
        "from taskflow.api import app\n"
        "async def start():\n"
        "    before = gc.get_threshold()\n"
        "    async with app.router.lifespan_context(app):\n"
        "        print(json.dumps([before, gc.get_threshold(), gc.get_freeze_count()]))\n"
        "asyncio.run(start())\n"
    )
    env = os.environ | {"ENVIRONMENT": "development"}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=tmp_path,
        check=True,
    )  # fmt: skip
    before, after, frozen = json.loads(result.stdout)
    assert after == [10_000, *before[1:]]
    assert frozen > 10_000  # modules, metadata and schemas built at start-up
