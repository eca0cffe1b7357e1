"""``okrsync init``: a working set-up for a new team, and never an overwritten file."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tomllib
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from okrsync.cli import cli
from okrsync.columns import COMPUTED_COLUMNS, OWNER_COLUMNS
from okrsync.config import BackendKind, Config, load_config, parse_config
from okrsync.init import quarter_of, render_config

TODAY = "2026-11-16"
REPO_CONFIG = Path(__file__).resolve().parent.parent / "config" / "okrsync.toml"


def invoke(runner: CliRunner, *args: str) -> dict:
    result = runner.invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_init_makes_a_config_and_a_set_up_workbook_that_validate_clean(
    runner: CliRunner, tmp_path: Path
) -> None:
    team = tmp_path / "team"
    summary = invoke(runner, "init", str(team), "--today", TODAY)
    assert [(Path(f["path"]).name, f["status"]) for f in summary["files"]] == [
        ("okrsync.toml", "created"),
        ("okrs.xlsx", "created"),
    ]
    config = load_config(team / "okrsync.toml")
    assert (config.cycle.start, config.cycle.end) == (dt.date(2026, 10, 1), dt.date(2026, 12, 31))
    assert (config.health.at_risk_gap, config.health.off_track_gap) == (0.10, 0.25)
    assert config.cycle.default_cadence == "weekly"
    assert config.sheet.path == team / "okrs.xlsx"
    ws = openpyxl.load_workbook(team / "okrs.xlsx")["Check-ins"]
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == [c.value for c in (*OWNER_COLUMNS, *COMPUTED_COLUMNS)]
    assert len(rows) == 3
    assert ws.freeze_panes == "A2"
    assert ws.protection.sheet
    checked = invoke(runner, "--config", str(team / "okrsync.toml"), "validate", "--today", TODAY)
    assert (checked["rows"], checked["errors"], checked["warnings"]) == (2, 0, 0)
    assert checked["health"]["on track"] == 1
    # "already prepared as setup would": setup finds nothing to do.
    again = invoke(runner, "--config", str(team / "okrsync.toml"), "setup")
    assert again["changes"] == []


def test_init_never_overwrites(runner: CliRunner, tmp_path: Path) -> None:
    team = tmp_path / "team"
    invoke(runner, "init", str(team), "--today", TODAY)
    (team / "okrsync.toml").write_text("# mine\n" + (team / "okrsync.toml").read_text("utf-8"))
    before = {p.name: p.read_bytes() for p in team.iterdir()}
    result = runner.invoke(cli, ["init", str(team), "--today", "2027-02-01"])
    assert result.exit_code == 0, result.output
    assert "kept     " in result.stdout
    assert result.stdout.count("(already there; init never overwrites)") == 2
    assert {p.name: p.read_bytes() for p in team.iterdir()} == before


def test_init_config_beside_an_existing_config_only_adds_the_workbook(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What config/okrsync.toml's comment promises: `okrsync init config` in a checkout."""
    (tmp_path / "config").mkdir()
    shutil.copyfile(REPO_CONFIG, tmp_path / "config" / "okrsync.toml")
    before = (tmp_path / "config" / "okrsync.toml").read_bytes()
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(cli, ["init", "config", "--today", TODAY])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1:3] == [
        "  kept     config/okrsync.toml  (already there; init never overwrites)",
        "  created  config/okrs.xlsx",
    ]
    assert "Run `okrsync validate`" in result.stdout  # the default config: no --config
    assert (tmp_path / "config" / "okrsync.toml").read_bytes() == before
    checked = invoke(runner, "validate", "--today", TODAY)
    assert (checked["errors"], checked["warnings"]) == (0, 0)


def test_without_a_directory_init_writes_where_the_config_is_looked_for(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    invoke(runner, "init", "--today", TODAY)
    assert sorted(p.name for p in (tmp_path / "config").iterdir()) == ["okrs.xlsx", "okrsync.toml"]
    other = tmp_path / "teams" / "growth.toml"
    summary = invoke(runner, "--config", str(other), "init", "--today", TODAY)
    assert summary["config"] == str(other)
    assert load_config(other).sheet.path == other.parent / "okrs.xlsx"
    steps = runner.invoke(cli, ["--config", str(other), "init", "--today", TODAY]).stdout
    assert f"okrsync --config {Path('teams', 'growth.toml')} validate" in steps


def test_gsheets_stub(runner: CliRunner, tmp_path: Path) -> None:
    """A config with placeholders for the sheet and the key; no workbook."""
    summary = invoke(runner, "init", str(tmp_path / "g"), "--backend", "gsheets", "--today", TODAY)
    assert [f["status"] for f in summary["files"]] == ["created"]
    assert summary["workbook"] is None
    config = load_config(tmp_path / "g" / "okrsync.toml")
    assert config.sheet.backend == BackendKind.GSHEETS
    assert config.sheet.credentials == tmp_path / "g" / "service-account.json"
    assert config.sheet.spreadsheet == "PASTE-THE-SHEET-URL-OR-KEY-HERE"
    text = (tmp_path / "g" / "okrsync.toml").read_text("utf-8")
    assert 'the README\'s "Using Google Sheets" section' in text
    assert any("setup" in step for step in summary["next_steps"])
    assert any("share the google sheet" in step.casefold() for step in summary["next_steps"])


def test_a_kept_config_with_problems_is_reported_not_touched(
    runner: CliRunner, tmp_path: Path
) -> None:
    (tmp_path / "okrsync.toml").write_text("[sheet]\nbakend = 1\n", encoding="utf-8")
    result = runner.invoke(cli, ["init", str(tmp_path), "--today", TODAY])
    assert result.exit_code == 0, result.output
    assert "was kept as it is, but has problems" in result.stderr
    assert not (tmp_path / "okrs.xlsx").exists()


def test_a_directory_that_cannot_be_made_is_a_config_error(
    runner: CliRunner, tmp_path: Path
) -> None:
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    result = runner.invoke(cli, ["init", str(tmp_path / "afile" / "team")])
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: Folder ")


@pytest.mark.parametrize(
    ("day", "quarter"),
    [
        ("2026-01-01", ("2026-01-01", "2026-03-31")),
        ("2026-05-31", ("2026-04-01", "2026-06-30")),
        ("2026-09-30", ("2026-07-01", "2026-09-30")),
        ("2026-12-31", ("2026-10-01", "2026-12-31")),
    ],
)
def test_the_cycle_is_the_quarter_of_today(day: str, quarter: tuple[str, str]) -> None:
    start, end = quarter_of(dt.date.fromisoformat(day))
    assert (start.isoformat(), end.isoformat()) == quarter


def test_the_template_keeps_the_repository_configs_settings() -> None:
    """The shipped template is the text of config/okrsync.toml: the same keys and values,
    apart from the cycle (today's quarter) and the example team digest (commented out)."""
    rendered = render_config(BackendKind.XLSX, dt.date(2026, 11, 16))
    made = load_config_text(rendered, REPO_CONFIG.parent)
    repo = load_config(REPO_CONFIG)
    assert made.cycle == repo.cycle
    assert made.health == repo.health
    assert made.history == repo.history
    assert made.schedule == repo.schedule
    assert made.state == repo.state
    assert made.sheet == repo.sheet
    assert made.email.team_managers == {}
    assert made.email.managers == repo.email.managers


def load_config_text(text: str, base: Path) -> Config:
    return parse_config(tomllib.loads(text), base=base)


def test_init_is_in_the_help(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["init", "--help"])
    assert result.exit_code == 0
    assert "Never overwrites" in " ".join(result.stdout.split())
