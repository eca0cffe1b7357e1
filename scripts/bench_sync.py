"""Benchmark: what a Google Sheets sync costs, against the local Sheets API emulator.

For 1k and 10k synthetic KR rows (``synthetic.make_rows``) it runs okrsync's real sync
(``okrsync.pipeline.sync`` with ``backend = "gsheets"``) twice, a first sync that writes
every computed cell and a second with nothing to write, and counts for each the API
requests, the bytes sent and received (request and response bodies, as the emulator logs
them; HTTP headers left out) and the wall time. Beside it, the naive way: one gspread
``worksheet.update_cell`` per changed cell, timed over the first ``--naive-cells`` cells
the real sync wrote and extrapolated to all of them. The headline is the ratio of
requests; Google allows 60 write requests per minute per user, so the naive way's time
at that quota is shown too.

Everything runs in-process on 127.0.0.1; nothing goes to Google. Prints figures and
asserts nothing::

    python scripts/bench_sync.py                 # 1k and 10k rows
    python scripts/bench_sync.py --rows 500 --naive-cells 100 --markdown
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import synthetic  # noqa: E402
from sheets_emulator import Emulator  # noqa: E402

from okrsync.backends.gsheets import GSheetsBackend  # noqa: E402
from okrsync.config import Config, parse_config  # noqa: E402
from okrsync.pipeline import sync  # noqa: E402

WORKSHEET = "Check-ins"
#: Google's default write quota: requests per minute per user per project.
WRITES_PER_MINUTE = 60


@dataclass
class Cost:
    """What one run cost, as the emulator saw it."""

    requests: int
    sent: int
    received: int
    seconds: float
    cells: int = 0
    estimated: bool = False


def measure(emu: Emulator, run: Any) -> tuple[Cost, Any]:
    """Run ``run()`` and return what its requests cost, with its result."""
    emu.clear_log()
    t0 = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - t0
    calls = emu.api_calls()
    cost = Cost(
        requests=len(calls),
        sent=sum(c.bytes_in for c in calls),
        received=sum(c.bytes_out for c in calls),
        seconds=seconds,
    )
    return cost, result


def config_for(emu: Emulator, key: str, folder: Path) -> Config:
    return parse_config(
        {
            "sheet": {"backend": "gsheets", "spreadsheet": key, "api_endpoint": emu.url},
            "cycle": {"start": synthetic.CYCLE_START, "end": synthetic.CYCLE_END},
            "history": {"worksheet": ""},
            "state": {"dir": "state"},
        },
        base=folder,
    )


def load(emu: Emulator, rows: list[list[Any]]) -> str:
    # RAW: text cells stay text ("75%" typed as text), as synthetic.make_rows means them.
    return emu.add_spreadsheet("bench", {WORKSHEET: rows}, rows=len(rows) + 10, input_option="RAW")


def _as_typed(value: Any) -> Any:
    """A change's value as a naive script would send it to update_cell."""
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def naive(emu: Emulator, config: Config, changes: list[Any], cap: int) -> Cost:
    """One update_cell per changed cell, on a fresh copy; measured over ``cap`` cells and
    scaled to all of ``changes`` (opening the sheet counted once, not scaled)."""
    backend = GSheetsBackend(config.sheet)
    try:
        opened, ws = measure(
            emu, lambda: backend.client.open_by_key(backend.key).worksheet(WORKSHEET)
        )
        sample = changes[:cap]

        def write_each() -> None:
            for c in sample:
                ws.update_cell(c.row, c.col, _as_typed(c.value))

        cost, _ = measure(emu, write_each)
    finally:
        backend.close()
    scale = len(changes) / max(1, len(sample))
    return Cost(
        requests=opened.requests + round(cost.requests * scale),
        sent=opened.sent + round(cost.sent * scale),
        received=opened.received + round(cost.received * scale),
        seconds=opened.seconds + cost.seconds * scale,
        cells=len(changes),
        estimated=len(sample) < len(changes),
    )


def bench(emu: Emulator, n: int, cap: int, folder: Path) -> list[tuple[str, Cost]]:
    rows = synthetic.make_rows(n, seed=1)
    key = load(emu, rows)
    config = config_for(emu, key, folder)
    first, result = measure(emu, lambda: sync(config, today=synthetic.TODAY))
    first.cells = len(result.changes)
    second, again = measure(emu, lambda: sync(config, today=synthetic.TODAY))
    second.cells = len(again.changes)
    fresh = config_for(emu, load(emu, rows), folder)
    per_cell = naive(emu, fresh, list(result.changes), cap)
    return [
        ("okrsync, first sync", first),
        ("okrsync, second sync", second),
        ("naive update_cell, first sync", per_cell),
    ]


def _bytes(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f} MB"
    if n >= 1_000:
        return f"{n / 1_000:.0f} kB"
    return f"{n} B"


def _seconds(s: float) -> str:
    return f"{s:.2f} s" if s < 60 else f"{s / 60:.1f} min"


def _at_quota(cost: Cost) -> str:
    minutes = cost.requests / WRITES_PER_MINUTE
    if minutes < 1:
        return "< 1 min"
    return f"{minutes:.0f} min" if minutes < 120 else f"{minutes / 60:.1f} h"


def table(results: dict[int, list[tuple[str, Cost]]], markdown: bool) -> str:
    head = [
        "rows",
        "run",
        "cells written",
        "requests",
        "sent",
        "received",
        "time (emulator)",
        "at 60 req/min",
    ]
    lines: list[list[str]] = []
    for n, runs in results.items():
        for name, cost in runs:
            est = " (est.)" if cost.estimated else ""
            lines.append(
                [
                    f"{n:,}",
                    name,
                    f"{cost.cells:,}",
                    f"{cost.requests:,}{est}",
                    _bytes(cost.sent) + est,
                    _bytes(cost.received) + est,
                    _seconds(cost.seconds) + est,
                    _at_quota(cost),
                ]
            )
    if markdown:
        out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        out += ["| " + " | ".join(line) + " |" for line in lines]
        return "\n".join(out)
    widths = [max(len(x) for x in col) for col in zip(head, *lines, strict=True)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [fmt.format(*head), fmt.format(*("-" * w for w in widths))]
    out += [fmt.format(*line) for line in lines]
    return "\n".join(out)


NOTES = """
cells written: the computed cells and filled IDs of a first sync, and the 8 new headers.
sent / received: request and response bodies; HTTP headers are not counted.
time (emulator): wall time in this process, emulator included. The emulator copies the
  spreadsheet on every write so that a batch applies all or nothing, so on a big sheet a
  one-cell write costs it more than the round trip would; (est.) is extrapolated.
at 60 req/min: Google's default quota is 60 write (and 60 read) requests per minute per
  user, so this is the least time those requests take against the real API.
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1000, 10_000])
    parser.add_argument(
        "--naive-cells",
        type=int,
        default=300,
        help="cells the naive loop really writes before extrapolating (default 300)",
    )
    parser.add_argument("--markdown", action="store_true", help="print a markdown table")
    args = parser.parse_args(argv)
    results: dict[int, list[tuple[str, Cost]]] = {}
    with Emulator() as emu, tempfile.TemporaryDirectory() as tmp:
        for n in args.rows:
            emu.reset()
            results[n] = bench(emu, n, args.naive_cells, Path(tmp))
    print(table(results, args.markdown))
    print(NOTES)
    for n, runs in results.items():
        first, naive_cost = runs[0][1], runs[2][1]
        print(
            f"{n:,} rows: the naive loop makes {naive_cost.requests / first.requests:,.0f}x the "
            f"requests of okrsync's first sync ({naive_cost.requests:,} against {first.requests})."
        )


if __name__ == "__main__":
    main()
