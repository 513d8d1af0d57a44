"""The benchmark at a tiny size, so it cannot rot: every variant runs and matches its twin."""

import asyncio
import uuid

import pytest
from sqlalchemy.engine import make_url

from benchmarks import bench
from benchmarks.http import summarize
from tests.conftest import PG_SERVER_URL, _admin_engine


def test_every_variant_runs_and_returns_the_same_data_as_raw_asyncpg(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("the benchmark compares against asyncpg, on PostgreSQL")
    asyncio.run(_reachable())
    name = f"taskflow_bench_{uuid.uuid4().hex[:8]}"
    try:
        # measure() exits with a message when any variant differs from its baseline.
        report = bench.measure(PG_SERVER_URL, name, 3_000, 0.001, 1, fresh=True)
    finally:
        asyncio.run(_drop(name))
    results = report["results"]
    expected = {"get task with tags", "membership check", "tag autocomplete", "update task status"}
    assert expected <= set(results)
    assert "page of 50 with tags, all projects, first" in results
    assert "page of 50 with tags, tag, first" in results
    for name, row in results.items():
        ratio = row["ratio"]
        assert ratio > 0, name
        if row["kind"] == "read" or row["kind"] == "write":
            assert 1 <= row["layer_statements"] <= row["layer_round_trips"], name
            assert 1 <= row["raw_statements"] <= row["raw_round_trips"], name
        if row["kind"] == "read":
            # One statement each way; raw asyncpg's pool also resets the connection.
            assert row["layer_statements"] == row["layer_round_trips"] == 1, name
            assert row["raw_statements"] == 1, name
            assert row["raw_round_trips"] == 2, name
    # BEGIN, UPDATE ... RETURNING, COMMIT: every call changes the status, so every one
    # writes in one statement (an unchanged value writes nothing and reads the task, 4).
    assert results["update task status"]["layer_round_trips"] == 3
    assert results["update task status"]["layer_statements"] == 1
    # BEGIN, the INSERT that checks and links the tags, COMMIT.
    assert results["create task with 3 tags"]["layer_round_trips"] == 3
    assert results["create task with 3 tags"]["layer_statements"] == 1
    # Raw asyncpg: BEGIN, its statements, COMMIT, and the pool's reset.
    assert results["update task status"]["raw_statements"] == 2  # the check, the UPDATE
    assert results["update task status"]["raw_round_trips"] == 5
    assert results["create task with 3 tags"]["raw_statements"] == 3  # tags, task, links
    assert results["create task with 3 tags"]["raw_round_trips"] == 6
    assert set(report["plans"]) == {"all projects", "project", "status", "tag", "search"}
    assert report["tag"]["tasks"] > 0
    http = [row for row in results.values() if row["kind"] == "http"]
    assert len(http) == 4  # two endpoints, one and two workers
    assert all(row["layer"]["req_per_s"] > 0 and row["raw"]["req_per_s"] > 0 for row in http)


def test_the_flat_cost_times_every_page_at_both_sizes_side_by_side(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("the benchmark compares against asyncpg, on PostgreSQL")
    asyncio.run(_reachable())
    prefix = f"taskflow_flat_{uuid.uuid4().hex[:8]}"
    names = {size: f"{prefix}_{size}" for size in (2_000, 4_000)}
    try:
        urls = {
            size: bench.prepare(PG_SERVER_URL, name, size, fresh=True)
            for size, name in names.items()
        }
        flat = asyncio.run(bench.measure_flat(urls, 0.001, 2))
    finally:
        for name in names.values():
            asyncio.run(_drop(name))
    assert "page of 50 with tags, project, first" in flat
    assert "page of 50 with tags, search, first" in flat
    assert all(name.startswith("page") for name in flat)
    for name, ratio in flat.items():
        assert set(ratio) == {"layer", "raw", "p50_ms"}, name
        assert ratio["layer"] > 0, name
        assert ratio["raw"] > 0, name


def test_the_flat_cost_is_the_large_sizes_p50_over_the_small_ones_round_by_round() -> None:
    order: list[str] = []

    def call(label: str, seconds: float) -> bench.Call:
        async def timed() -> None:
            order.append(label)
            await asyncio.sleep(seconds)

        return timed

    page = "page of 50 with tags, project, first"
    small = {(page, "layer"): call("small", 0.002), (page, "raw"): call("small", 0.002)}
    large = {(page, "layer"): call("large", 0.006), (page, "raw"): call("large", 0.002)}
    small[("page of 50 with tags, tag, 20th", "layer")] = call("small", 0.0)  # no twin
    flat = asyncio.run(bench.time_flat(small, large, 0.0, 2))
    assert set(flat) == {page}  # a page found at one size only is left out
    assert flat[page]["layer"] > 2  # three times as slow at the larger size
    assert 0.5 < flat[page]["raw"] < 2
    small_ms, large_ms = flat[page]["p50_ms"]["layer"]
    assert small_ms < large_ms
    # Each round, the sizes take turns to go first (three calls per timed stretch).
    assert order[:3] == ["small"] * 3
    assert order[12:15] == ["large"] * 3


def test_a_sequential_scan_at_a_large_size_is_reported() -> None:
    scan, index = "Seq Scan", "Index Scan using pk_tasks"
    report = {
        "sizes": {
            "3000": {"plans": {"tag": scan, "project": index}},
            str(bench.LARGE): {"plans": {"tag": f"{index}; {scan}", "project": index}},
        }
    }
    assert bench.sequential_scans(report) == [f"{bench.LARGE}: tag"]
    report["sizes"][str(bench.LARGE)]["plans"]["tag"] = index
    assert bench.sequential_scans(report) == []


def test_http_ratios_are_the_median_of_each_rounds_own_ratio() -> None:
    def load(req_per_s: float, cpu: float) -> dict[str, float]:
        return {"req_per_s": req_per_s, "p50_ms": 1.0, "p99_ms": 2.0, "cpu_ms_per_req": cpu}

    # The machine slows down from one round to the next; each round's pair is fair.
    runs = [
        {"layer": load(400, 2.0), "raw": load(500, 1.0)},
        {"layer": load(200, 4.0), "raw": load(400, 2.5)},
        {"layer": load(100, 8.0), "raw": load(125, 6.0)},
    ]
    row = summarize(runs, workers=1)
    assert row["rounds"] == 3
    assert row["layer"]["req_per_s"] == 200
    assert row["raw"]["cpu_ms_per_req"] == 2.5
    assert row["ratio"] == pytest.approx(0.8)  # 0.8, 0.5, 0.8; the medians' ratio is 0.5
    assert row["cpu_ratio"] == pytest.approx(1.6)  # 2.0, 1.6, 1.33; the medians' is 1.6 too


def test_in_process_ratios_are_the_median_of_each_rounds_own_ratio() -> None:
    # Round by round the machine slows down; each round's two sides ran back to back.
    mine = bench.Timing(ops=[400.0, 200.0, 100.0])
    theirs = bench.Timing(ops=[500.0, 400.0, 125.0])
    assert bench.paired_ratio(mine, theirs) == pytest.approx(0.8)  # medians' ratio: 0.5
    with pytest.raises(ValueError, match="shorter"):  # rounds are pairs, never left over
        bench.paired_ratio(mine, bench.Timing(ops=[1.0]))


async def _reachable() -> None:
    engine = await _admin_engine()
    await engine.dispose()


async def _drop(name: str) -> None:
    import asyncpg

    dsn = make_url(PG_SERVER_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
