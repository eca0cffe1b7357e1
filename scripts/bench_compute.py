"""Benchmark: validate + compute (and diff) at 1k, 10k and 100k rows; xlsx I/O at 10k.

Prints figures; asserts nothing. Target on a 2-core machine: 100k rows validated and
computed in under 3 s and under 500 MB.

    python scripts/bench_compute.py            # 1k, 10k, 100k and the xlsx round trip
    python scripts/bench_compute.py --rows 50000 --no-xlsx
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import synthetic  # noqa: E402

from okrsync.backends.base import SheetTable  # noqa: E402
from okrsync.backends.xlsx import XlsxBackend  # noqa: E402
from okrsync.compute import compute  # noqa: E402
from okrsync.config import parse_config  # noqa: E402
from okrsync.diff import plan_changes  # noqa: E402
from okrsync.pipeline import sync  # noqa: E402
from okrsync.read import read_table  # noqa: E402
from okrsync.validate import validate  # noqa: E402


def config_for(folder: Path) -> object:
    return parse_config(
        {
            "sheet": {"backend": "xlsx", "path": "bench.xlsx"},
            "cycle": {"start": synthetic.CYCLE_START, "end": synthetic.CYCLE_END},
            "history": {"worksheet": ""},
            # The sheet path alone: reminders to thousands of synthetic owners are not it.
            "email": {"enabled": False},
            "state": {"dir": "state"},
        },
        base=folder,
    )


def bench_compute(n: int, repeat: int) -> None:
    rows = synthetic.make_rows(n, seed=1)
    table = SheetTable("Check-ins", [str(h) for h in rows[0]], rows[1:])
    config = config_for(Path(tempfile.gettempdir()))
    best: dict[str, float] = {}
    for _ in range(repeat):
        t0 = time.perf_counter()
        frame = read_table(table, config)
        t1 = time.perf_counter()
        checked = validate(frame, config, synthetic.TODAY)
        computed = compute(checked, config, synthetic.TODAY)
        t2 = time.perf_counter()
        changes = plan_changes(frame, computed, checked.id_fills)
        t3 = time.perf_counter()
        for key, value in (("frame", t1 - t0), ("validate+compute", t2 - t1), ("diff", t3 - t2)):
            best[key] = min(best.get(key, value), value)
    # Peak memory in a separate pass: tracemalloc slows everything down.
    tracemalloc.start()
    frame = read_table(table, config)
    checked = validate(frame, config, synthetic.TODAY)
    compute(checked, config, synthetic.TODAY)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    vc = best["validate+compute"]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(
        f"{n:>7,} rows  frame {best['frame']:6.2f}s  validate+compute {vc:6.2f}s "
        f"({n / vc:>9,.0f} rows/s)  diff {best['diff']:6.2f}s ({len(changes):,} cells)  "
        f"peak {peak / 2**20:6.1f} MiB (process {rss:,.0f} MiB)  problems {len(checked.issues):,}"
    )


def bench_xlsx(n: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="okrsync-bench-"))
    try:
        path = synthetic.write_workbook(folder / "bench.xlsx", n, seed=2)
        config = config_for(folder)
        backend = XlsxBackend(config.sheet)
        t0 = time.perf_counter()
        backend.read()
        t1 = time.perf_counter()
        first = sync(config, today=synthetic.TODAY)
        t2 = time.perf_counter()
        second = sync(config, today=synthetic.TODAY)
        t3 = time.perf_counter()
        print(
            f"xlsx {n:,} rows: read {t1 - t0:.2f}s; first sync (read, compute, write "
            f"{len(first.changes):,} cells) {t2 - t1:.2f}s; second sync (no changes, "
            f"{len(second.changes)} cells, file not rewritten) {t3 - t2:.2f}s; "
            f"file {path.stat().st_size / 2**20:.1f} MiB"
        )
    finally:
        shutil.rmtree(folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="*", default=[1_000, 10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs")
    parser.add_argument("--xlsx-rows", type=int, default=10_000)
    parser.add_argument("--no-xlsx", action="store_true")
    args = parser.parse_args()
    for n in args.rows:
        bench_compute(n, args.repeat)
    if not args.no_xlsx:
        bench_xlsx(args.xlsx_rows)


if __name__ == "__main__":
    main()
