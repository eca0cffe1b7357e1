"""`okrsync run` and the run lock, through the CLI on real workbooks."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from okrsync.cli import cli
from okrsync.lock import RunLock
from tests.helpers import base_row, read_workbook

ROOT = Path(__file__).resolve().parent.parent


def test_run_once_syncs_and_exits(
    runner: CliRunner, make_workbook: Callable[..., Path], make_config: Callable[..., Path]
) -> None:
    """`run --once` runs one sync now and exits 0, for cron and timers."""
    workbook = make_workbook([base_row()])
    config = make_config()
    result = runner.invoke(
        cli, ["--config", str(config), "run", "--once"], env={"OKRSYNC_TODAY": ""}
    )
    assert result.exit_code == 0, result.output
    assert read_workbook(workbook)[0]["Progress"] == 0.5


def test_sync_refused_while_another_run_holds_the_lock(
    runner: CliRunner,
    make_workbook: Callable[..., Path],
    make_config: Callable[..., Path],
    tmp_path: Path,
) -> None:
    """A second sync exits 75 with a sentence naming the holder; the workbook is untouched.

    A dry run takes no lock, so it still works while a sync is running.
    """
    workbook = make_workbook([base_row()])
    config = make_config(state={"dir": "state"})
    content = workbook.read_bytes()
    with RunLock(tmp_path / "state"):
        result = runner.invoke(cli, ["--config", str(config), "sync", "--today", "2026-11-16"])
        assert result.exit_code == 75
        assert "another okrsync run" in result.stderr
        assert "holds the lock" in result.stderr
        assert workbook.read_bytes() == content
        dry = runner.invoke(
            cli, ["--config", str(config), "sync", "--today", "2026-11-16", "--dry-run"]
        )
        assert dry.exit_code == 0
    result = runner.invoke(cli, ["--config", str(config), "sync", "--today", "2026-11-16"])
    assert result.exit_code == 0
    assert read_workbook(workbook)[0]["Progress"] == 0.5


def test_run_once_reports_a_held_lock_with_its_exit_code(
    runner: CliRunner,
    make_workbook: Callable[..., Path],
    make_config: Callable[..., Path],
    tmp_path: Path,
) -> None:
    make_workbook([base_row()])
    config = make_config()
    with RunLock(tmp_path / ".okrsync"):
        result = runner.invoke(cli, ["--config", str(config), "run", "--once"])
    assert result.exit_code == 75


def test_two_syncs_started_together_never_lose_a_cell(
    make_workbook: Callable[..., Path], make_config: Callable[..., Path]
) -> None:
    """Two processes sync one workbook at once: each finishes or is refused; nothing is lost."""
    rows = [base_row(Current=i) for i in range(1, 41)]
    workbook = make_workbook(rows)
    config = make_config()
    command = [
        sys.executable,
        "-m",
        "okrsync",
        "--config",
        str(config),
        "sync",
        "--today",
        "2026-11-16",
    ]
    procs = [
        subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=60) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes in ([0, 0], [0, 75]), outputs
    after = read_workbook(workbook)
    assert [r["Current"] for r in after] == list(range(1, 41))
    assert [r["Progress"] for r in after] == [i / 100 for i in range(1, 41)]
    assert [r["ID"] for r in after] == [f"KR-{i:04d}" for i in range(1, 41)]
