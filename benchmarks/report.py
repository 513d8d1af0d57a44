"""Write the newest `make bench` results into README.md, between its two bench markers.

The README's figures are copied from a run this way, never typed by hand.
"""

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def render(report: dict[str, Any]) -> str:
    """The results as Markdown: per size, a table in process and one over HTTP, then the
    plans; last the flat cost."""
    lines = [f"Measured {report['date']} on {report['machine']}, PostgreSQL on loopback.", ""]
    for size, data in report["sizes"].items():
        lines += [
            f"**{int(size):,} tasks**",
            "",
            "| operation | data layer | raw asyncpg | ratio | p50 ms layer / raw"
            " | statements | round trips |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        http = []
        for name, row in data["results"].items():
            if row["kind"] == "http":
                http.append(_http_row(name, row))
            elif row["kind"] == "bulk":
                lines.append(
                    f"| bulk load, rows/s | {row['layer_rows_per_s']:,.0f} | "
                    f"{row['raw_rows_per_s']:,.0f} | {row['ratio']:.2f} | | | |"
                )
            else:
                lines.append(
                    f"| {name} | {row['layer']['ops_per_s']:,.0f}/s"
                    f" | {row['raw']['ops_per_s']:,.0f}/s | {row['ratio']:.2f}"
                    f" | {row['layer']['p50_ms']:.2f} / {row['raw']['p50_ms']:.2f}"
                    f" | {_pair(row, 'statements')} | {_pair(row, 'round_trips')} |"
                )
        if http:
            lines += [
                "",
                "| over HTTP | app | raw endpoint | ratio | p50 ms app / raw"
                " | CPU ms a request, app / raw | CPU ratio |",
                "|---|---:|---:|---:|---:|---:|---:|",
                *http,
            ]
        plans = ", ".join(f"{shape}: {path}" for shape, path in data["plans"].items())
        lines += ["", f"Access path on `tasks` — {plans}."]
        if tag := data.get("tag"):  # older results lack it
            lines.append(
                f"The tag filter asks for {tag['name']!r}, on {tag['tasks']:,} tasks of the"
                " user's projects before the run."
            )
        lines.append("")
    lines += flat_cost(report)
    return "\n".join(lines).rstrip() + "\n"


def _http_row(name: str, row: dict[str, Any]) -> str:
    mine, theirs = row["layer"], row["raw"]
    return (
        f"| {name.removeprefix('HTTP ')} | {mine['req_per_s']:,.0f} req/s"
        f" | {theirs['req_per_s']:,.0f} req/s | {row['ratio']:.2f}"
        f" | {mine['p50_ms']:.2f} / {theirs['p50_ms']:.2f}"
        f" | {mine['cpu_ms_per_req']:.2f} / {theirs['cpu_ms_per_req']:.2f}"
        f" | {row['cpu_ratio']:.2f}x |"
    )


def _pair(row: dict[str, Any], counted: str) -> str:
    """`layer / raw` per operation, blank for results from before it was counted."""
    if f"layer_{counted}" not in row:
        return ""
    return f"{row[f'layer_{counted}']:.2g} / {row[f'raw_{counted}']:.2g}"


def flat_cost(report: dict[str, Any]) -> list[str]:
    """Each page's data-layer p50 at the largest size over the same at the smallest.

    From the side-by-side measurement (`bench.measure_flat`) when the run has one; older
    results only have each size's own table, timed minutes apart.
    """
    sizes = sorted(report["sizes"], key=int)
    if len(sizes) < 2:
        return []
    if flat := report.get("flat"):
        growth = {name: (ratio["layer"], ratio["raw"]) for name, ratio in flat.items()}
        how = "timed side by side in alternating rounds"
    else:
        small, large = (report["sizes"][size]["results"] for size in (sizes[0], sizes[-1]))
        growth = {
            name: tuple(large[name][side]["p50_ms"] / small[name][side]["p50_ms"] for side in SIDES)
            for name in large
            if name.startswith("page") and name in small
        }
        how = "from each size's own table"
    # The raw baseline's own growth, beside: what the data's and the machine's changes do
    # to a hand-written query.
    ratios = ", ".join(
        f"{name.removeprefix('page of 50 with tags, ')} {mine:.2f} (raw {theirs:.2f})"
        for name, (mine, theirs) in growth.items()
    )
    title = f"**Flat cost**: data-layer p50 at {int(sizes[-1]):,} ÷ at {int(sizes[0]):,} tasks"
    return [f"{title}, {how}, and raw asyncpg's in brackets — {ratios}.", ""]


SIDES = ("layer", "raw")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.report", description=__doc__)
    parser.add_argument(
        "results", nargs="?", type=Path, help="a bench-*.json file (default: the newest)"
    )
    args = parser.parse_args(argv)
    found = sorted((ROOT / "benchmarks" / "results").glob("bench-*.json"))
    source: Path | None = args.results or (found[-1] if found else None)
    if source is None:
        print("report: no results yet; run `make bench` first", file=sys.stderr)
        return 1
    readme = ROOT / "README.md"
    text = readme.read_text()
    if START not in text or END not in text:
        print(f"report: README.md lacks the {START} / {END} markers", file=sys.stderr)
        return 1
    try:
        body = render(json.loads(source.read_text()))
    except (OSError, ValueError, KeyError, TypeError) as error:
        print(f"report: cannot read results from {source}: {error}", file=sys.stderr)
        return 1
    head, rest = text.split(START, 1)
    _old, tail = rest.split(END, 1)
    readme.write_text(f"{head}{START}\n{body}{END}{tail}")
    print(f"report: README.md updated from {source.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
