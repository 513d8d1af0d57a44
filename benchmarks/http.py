"""The HTTP part of `make bench`: the real app under uvicorn against `benchmarks.raw_app`.

Both serve the same data from the benchmark's database; a separate process loads each on
loopback for a bounded time. CPU per request sums user and system time of the server's
processes (master and workers) from /proc.
"""

import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from taskflow.security import create_access_token

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret-" + "s" * 40
APPS = {"layer": "taskflow.api:app", "raw": "benchmarks.raw_app:app"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children (uvicorn's workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total, pids = 0.0, [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(child) for child in children.read_text().split()]
    for each in pids:
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


class Server:
    """A uvicorn process serving one of the apps, ready when constructed."""

    def __init__(self, app: str, *, url: str, workers: int) -> None:
        self.port = _free_port()
        env = os.environ | {
            "DATABASE_URL": url,
            "BENCH_DSN": url.replace("postgresql+asyncpg://", "postgresql://"),
            "SECRET_KEY": SECRET,
            "ENVIRONMENT": "development",
        }
        # Not `uvicorn --workers`: see benchmarks.serve for the 40 ms it would add.
        command = [sys.executable, "-m", "benchmarks.serve", app, str(self.port), str(workers)]
        self.process = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.base}/openapi.json", timeout=1)
                time.sleep(0.5 * workers)  # let every worker finish starting
                return
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"bench: {app} did not start")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _httpx_load(url: str, token: str, duration: float) -> dict[str, Any]:
    output = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "benchmarks.load", url, "--token", token,
         "--duration", str(duration)],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return dict(json.loads(output))


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _wrk(url: str, token: str, duration: float) -> dict[str, Any]:
    """wrk (Debian's package) when installed: a load generator that costs little CPU."""
    output = subprocess.run(  # noqa: S603
        ["wrk", "-t1", "-c16", f"-d{max(1, round(duration))}s", "--latency",  # noqa: S607
         "-H", f"Authorization: Bearer {token}", url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip

    def latency(percent: str) -> float:
        match = re.search(rf"^\s*{percent}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        return float(match.group(1)) * _UNITS[match.group(2)] if match else 0.0

    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    seconds = float(re.search(r"requests in ([\d.]+)s", output).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "requests": requests,
        "seconds": seconds,
        "errors": int(errors.group(1)) if errors else 0,
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
    }


def _projection(body: Any) -> Any:
    """What both servers must agree on: every field of every task, timestamps compared as
    instants (the app writes UTC as `Z`, orjson as `+00:00`)."""
    tasks = body["items"] if isinstance(body, dict) and "items" in body else [body]
    return _instants(tasks)


def _instants(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _instants(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_instants(item) for item in value]
    if isinstance(value, str):
        try:  # the same text on both sides reads the same, a title like a date included
            return datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


def measure_http(
    url: str, *, user_id: int, project_id: int, task_id: int, duration: float, rounds: int = 1
) -> dict[str, Any]:
    """req/s, latencies and CPU per request of both apps, for both endpoints, 1 and 2 workers.

    Each comparison runs `rounds` times, the two apps taking turns to go first; the
    figures are medians, and the ratios the medians of each round's own ratio: on a
    machine whose speed drifts, two loads a few seconds apart are the fairest pair.
    """
    token = create_access_token(user_id, secret=SECRET, minutes=60)
    paths = {
        "HTTP GET /api/v1/tasks?project_id": f"/api/v1/tasks?project_id={project_id}",
        "HTTP GET /api/v1/tasks/{id}": f"/api/v1/tasks/{task_id}",
    }
    results: dict[str, Any] = {}
    for workers in (1, 2):
        servers = {side: Server(app, url=url, workers=workers) for side, app in APPS.items()}
        try:
            headers = {"Authorization": f"Bearer {token}"}
            for name, path in paths.items():
                bodies = {
                    side: httpx.get(server.base + path, headers=headers, timeout=10).json()
                    for side, server in servers.items()
                }
                if _projection(bodies["layer"]) != _projection(bodies["raw"]):
                    raise SystemExit(f"bench: {name}: the app and the raw endpoint differ")
                runs: list[dict[str, dict[str, float]]] = []
                for turn in range(max(rounds, 1)):
                    order = list(servers) if turn % 2 == 0 else list(reversed(servers))
                    loads = {side: _load(servers[side], path, token, duration) for side in order}
                    runs.append(loads)
                results[f"{name}, {workers} worker{'s' if workers > 1 else ''}"] = summarize(
                    runs, workers
                )
        finally:
            for server in servers.values():
                server.stop()
    return results


def summarize(runs: list[dict[str, dict[str, float]]], workers: int) -> dict[str, Any]:
    """One report row from the rounds' loads of both apps (see `measure_http`)."""
    row: dict[str, Any] = {"kind": "http", "workers": workers, "rounds": len(runs)}
    for side in ("layer", "raw"):
        row[side] = {
            key: statistics.median(run[side][key] for run in runs) for key in runs[0][side]
        }
    row["ratio"] = statistics.median(
        run["layer"]["req_per_s"] / run["raw"]["req_per_s"] for run in runs
    )
    row["cpu_ratio"] = statistics.median(
        run["layer"]["cpu_ms_per_req"] / run["raw"]["cpu_ms_per_req"] for run in runs
    )
    return row


def _load(server: Server, path: str, token: str, duration: float) -> dict[str, float]:
    before = _cpu_seconds(server.process.pid)
    stats = (
        _wrk(server.base + path, token, duration)
        if shutil.which("wrk")
        else _httpx_load(server.base + path, token, duration)
    )
    cpu = _cpu_seconds(server.process.pid) - before
    if stats["errors"]:
        raise SystemExit(f"bench: {stats['errors']} failed requests to {path}")
    requests = max(stats["requests"], 1)
    return {
        "req_per_s": stats["requests"] / stats["seconds"],
        "p50_ms": stats["p50_ms"],
        "p99_ms": stats["p99_ms"],
        "cpu_ms_per_req": 1000 * cpu / requests,
    }
