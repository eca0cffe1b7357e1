"""``okrsync setup`` on the command line: what it prints, --dry-run, --json, exit codes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from sheets_emulator import Emulator

from okrsync.cli import cli
from okrsync.lock import RunLock
from tests.helpers import base_row, write_workbook

TODAY = "2026-11-16"


@pytest.fixture
def config(tmp_path: Path, make_config: Callable[..., Path]) -> Path:
    """A workbook with the owner columns and one KR, and its config."""
    write_workbook(tmp_path / "okrs.xlsx", [base_row(ID="KR-0001")])
    return make_config()


def test_setup_prints_each_change_then_nothing_the_second_time(
    runner: CliRunner, config: Path
) -> None:
    first = runner.invoke(cli, ["--config", str(config), "setup"])
    assert first.exit_code == 0, first.output
    lines = first.stdout.splitlines()
    assert lines[0].startswith('okrsync setup — worksheet "Check-ins" — ')
    assert '  add header "Progress" in column R' in lines
    assert "  freeze the header row" in lines
    assert lines[-1].startswith("Set up: ")
    second = runner.invoke(cli, ["--config", str(config), "setup"])
    assert second.exit_code == 0
    assert second.stdout.splitlines()[1:] == ["Already set up: nothing to change."]


def test_dry_run_lists_the_changes_and_leaves_the_workbook_alone(
    runner: CliRunner, config: Path, tmp_path: Path
) -> None:
    workbook = tmp_path / "okrs.xlsx"
    before = workbook.read_bytes()
    result = runner.invoke(cli, ["--config", str(config), "setup", "--dry-run"])
    assert result.exit_code == 0, result.output
    count = len([line for line in result.stdout.splitlines() if line.startswith("  ")])
    assert result.stdout.splitlines()[-1] == (
        f"Dry run: would make {count} change(s); nothing was changed."
    )
    assert workbook.read_bytes() == before


@pytest.mark.parametrize("dry_run", [False, True], ids=["apply", "dry-run"])
def test_json_prints_the_list_of_changes(runner: CliRunner, config: Path, dry_run: bool) -> None:
    args = ["--config", str(config), "setup", "--json", *(["--dry-run"] if dry_run else [])]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["dry_run"] is dry_run
    assert summary["worksheet"] == "Check-ins"
    assert summary["location"].endswith("okrs.xlsx")
    assert 'add header "Sync Notes" in column Y' in summary["changes"]


def test_sync_after_setup_via_the_command_line_is_idempotent(
    runner: CliRunner, config: Path
) -> None:
    assert runner.invoke(cli, ["--config", str(config), "setup"]).exit_code == 0
    first = runner.invoke(cli, ["--config", str(config), "sync", "--today", TODAY, "--json"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["cells_changed"] > 0
    again = runner.invoke(cli, ["--config", str(config), "sync", "--today", TODAY, "--json"])
    assert json.loads(again.stdout)["cells_changed"] == 0
    setup_again = runner.invoke(cli, ["--config", str(config), "setup", "--json"])
    assert json.loads(setup_again.stdout)["changes"] == []


def test_setup_on_google_sheets(
    runner: CliRunner,
    sheets_emulator: Emulator,
    make_config: Callable[..., Path],
    fast_sheets_retries: None,
) -> None:
    """Against the emulator, with the config a team would write (an api_endpoint)."""
    key = sheets_emulator.add_spreadsheet("OKRs", {"Check-ins": [["Objective", "Key Result"]]})
    config = make_config(
        sheet={"backend": "gsheets", "spreadsheet": key, "api_endpoint": sheets_emulator.url}
    )
    result = runner.invoke(cli, ["--config", str(config), "setup", "--json"])
    assert result.exit_code == 0, result.output
    changes = json.loads(result.stdout)["changes"]
    assert changes[0] == 'add header "ID" in column C'
    assert sheets_emulator.values(key, "Check-ins")[0][-1] == "Sync Notes"
    assert [c.api for c in sheets_emulator.api_calls()].count("spreadsheets.batchUpdate") == 1


def test_a_missing_workbook_says_how_to_make_one(
    runner: CliRunner, make_config: Callable[..., Path]
) -> None:
    result = runner.invoke(cli, ["--config", str(make_config()), "setup"])
    assert result.exit_code == 2
    assert "okrsync init" in result.stderr


def test_setup_does_not_write_while_a_sync_holds_the_lock(
    runner: CliRunner, config: Path, tmp_path: Path
) -> None:
    """A setup that would write refuses while a sync runs (exit 75); a dry run does not."""
    with RunLock(tmp_path / ".okrsync"):
        held = runner.invoke(cli, ["--config", str(config), "setup"])
        dry = runner.invoke(cli, ["--config", str(config), "setup", "--dry-run"])
    assert held.exit_code == 75, held.output
    assert dry.exit_code == 0, dry.output


def test_setup_is_in_the_help(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["setup", "--help"])
    assert result.exit_code == 0
    assert "--dry-run" in result.stdout
    assert "Safe to run again" in " ".join(result.stdout.split())
