"""Other services import the data layer: it must stay free of web and driver imports."""

import subprocess
import sys
import textwrap


def test_importing_models_loads_no_web_framework_or_driver_and_opens_no_connection() -> None:
    script = textwrap.dedent(
        """
        import socket, sys
        def refuse(*args, **kwargs):
            raise AssertionError("a connection was opened on import")
        socket.socket.connect = refuse
        socket.create_connection = refuse
        import taskflow.models
        import taskflow.services.tasks
        loaded = [m for m in ("fastapi", "starlette", "asyncpg", "aiosqlite", "sqlite3")
                  if m in sys.modules]
        print(",".join(loaded))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
