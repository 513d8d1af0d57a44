"""benchmarks.report: the README's table is copied from a run's JSON, never typed by hand."""

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks import report


def _read(layer_p50: float, raw_p50: float) -> dict[str, Any]:
    return {
        "kind": "read",
        "ratio": 0.75,
        "layer": {"ops_per_s": 300.0, "p50_ms": layer_p50, "p99_ms": 9.0},
        "raw": {"ops_per_s": 400.0, "p50_ms": raw_p50, "p99_ms": 9.0},
        "layer_statements": 1.0,
        "raw_statements": 1.0,
        "layer_round_trips": 1.0,
        "raw_round_trips": 2.0,
    }


def _size(page_p50: float, raw_p50: float) -> dict[str, Any]:
    load = {"req_per_s": 500.0, "p50_ms": 3.0, "p99_ms": 9.0, "cpu_ms_per_req": 1.5}
    return {
        "results": {
            "get task with tags": _read(0.5, 0.4),
            "page of 50 with tags, project, first": _read(page_p50, raw_p50),
            "bulk load (10 rows)": {
                "kind": "bulk",
                "rows": 10,
                "layer_rows_per_s": 900.0,
                "raw_rows_per_s": 1000.0,
                "ratio": 0.9,
            },
            "HTTP GET /api/v1/tasks/{id}, 1 worker": {
                "kind": "http",
                "workers": 1,
                "ratio": 0.8,
                "cpu_ratio": 1.43,
                "layer": load,
                "raw": load | {"cpu_ms_per_req": 1.05},
            },
        },
        "plans": {"project": "Index Scan using ix_tasks_project_id_created_at_id"},
        "tag": {"name": "search", "tasks": 1325},
    }


REPORT: dict[str, Any] = {
    "date": "2026-12-04",
    "machine": "x86_64, 2 cores",
    "sizes": {"100000": _size(2.0, 1.0), "1000000": _size(2.4, 1.5)},
}


def test_every_row_and_the_flat_cost_come_from_the_results() -> None:
    text = report.render(REPORT)
    assert text.startswith("Measured 2026-12-04 on x86_64, 2 cores")
    assert "**100,000 tasks**" in text
    assert "**1,000,000 tasks**" in text
    assert "| get task with tags | 300/s | 400/s | 0.75 | 0.50 / 0.40 | 1 / 1 | 1 / 2 |" in text
    assert "| bulk load, rows/s | 900 | 1,000 | 0.90 | | | |" in text
    assert "| GET /api/v1/tasks/{id}, 1 worker | 500 req/s | 500 req/s | 0.80 | 3.00 / 3.00" in text
    assert "| 1.50 / 1.05 | 1.43x |" in text
    # Every row of every table has as many cells as its header.
    for table in text.split("\n\n"):
        rows = [line for line in table.splitlines() if line.startswith("|")]
        assert {row.count("|") for row in rows} <= {rows[0].count("|") if rows else 0}
    assert "on 1,325 tasks" in text
    # 2.4 / 2.0 for the data layer, 1.5 / 1.0 for raw asyncpg.
    assert "project, first 1.20 (raw 1.50)" in text
    assert "get task with tags 1." not in text.split("**Flat cost**")[1]  # pages only


def test_results_from_before_statements_were_counted_leave_that_cell_blank() -> None:
    older = json.loads(json.dumps(REPORT))
    for size in older["sizes"].values():
        for row in size["results"].values():
            row.pop("layer_statements", None)
            row.pop("raw_statements", None)
    text = report.render(older)
    assert "| get task with tags | 300/s | 400/s | 0.75 | 0.50 / 0.40 |  | 1 / 2 |" in text
    # A fractional count keeps its decimal.
    row = _read(1.0, 1.0) | {"layer_round_trips": 1.2}
    assert report._pair(row, "round_trips") == "1.2 / 2"


def test_the_flat_cost_comes_from_the_side_by_side_timing_when_the_run_has_it() -> None:
    flat = {"page of 50 with tags, project, first": {"layer": 1.03, "raw": 0.97}}
    text = report.render(REPORT | {"flat": flat})
    assert "timed side by side in alternating rounds" in text
    assert "project, first 1.03 (raw 0.97)" in text
    assert "1.20" not in text.split("**Flat cost**")[1]  # not the per-size tables' 2.4 / 2.0
    assert "from each size's own table" in report.render(REPORT)


def test_one_size_has_no_flat_cost_line() -> None:
    single = REPORT | {"sizes": {"100000": REPORT["sizes"]["100000"]}}
    assert report.flat_cost(single) == []
    assert "Flat cost" not in report.render(single)


def test_main_replaces_only_what_lies_between_the_markers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = tmp_path / "benchmarks" / "results"
    results.mkdir(parents=True)
    (results / "bench-20261204-000000.json").write_text(json.dumps(REPORT))
    readme = tmp_path / "README.md"
    readme.write_text(f"before\n{report.START}\nold table\n{report.END}\nafter\n")
    monkeypatch.setattr(report, "ROOT", tmp_path)
    assert report.main([]) == 0
    text = readme.read_text()
    assert text.startswith(f"before\n{report.START}\nMeasured 2026-12-04")
    assert text.endswith(f"{report.END}\nafter\n")
    assert "old table" not in text
    readme.write_text("no markers\n")
    assert report.main([]) == 1
    assert readme.read_text() == "no markers\n"


def test_a_missing_or_broken_results_file_is_one_line_and_leaves_the_readme(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = tmp_path / "README.md"
    original = f"before\n{report.START}\nold table\n{report.END}\nafter\n"
    readme.write_text(original)
    monkeypatch.setattr(report, "ROOT", tmp_path)
    broken = tmp_path / "broken.json"
    broken.write_text('{"sizes": ')
    for path in (tmp_path / "missing.json", broken):
        assert report.main([str(path)]) == 1
        error = capsys.readouterr().err
        assert error.startswith(f"report: cannot read results from {path}")
        assert error.count("\n") == 1
        assert readme.read_text() == original
