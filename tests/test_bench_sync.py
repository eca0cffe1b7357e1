"""scripts/bench_sync.py measures what it says: a small run against the test emulator."""

from __future__ import annotations

from pathlib import Path

import bench_sync
import pytest
from sheets_emulator import Emulator


def test_bench_counts_requests_bytes_and_cells(sheets_emulator: Emulator, tmp_path: Path) -> None:
    """A first sync is 4 requests, a second 2 with nothing sent; the naive loop writes a
    sample of the same cells one request each and scales up to all of them."""
    runs = dict(bench_sync.bench(sheets_emulator, 30, 5, tmp_path))
    first = runs["okrsync, first sync"]
    second = runs["okrsync, second sync"]
    naive = runs["naive update_cell, first sync"]
    assert (first.requests, second.requests) == (4, 2)
    assert first.cells > 30
    assert (second.cells, second.sent) == (0, 0)
    assert first.sent > 0
    assert second.received > 0
    assert naive.cells == first.cells
    assert naive.estimated
    assert naive.requests == first.cells + 2  # one per cell, plus opening the worksheet


def test_bench_prints_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    bench_sync.main(["--rows", "20", "--naive-cells", "3", "--markdown"])
    out = capsys.readouterr().out
    assert out.startswith("| rows | run |")
    assert "| 20 | okrsync, first sync |" in out
    assert "the naive loop makes" in out
