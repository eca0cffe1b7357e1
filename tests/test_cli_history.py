"""`okrsync history ID`, and History in `okrsync sync --json`, through click's CliRunner."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from okrsync.cli import cli
from okrsync.history import HISTORY_HEADER
from tests.helpers import HEADER, base_row
from tests.test_history import add_sheet

D = dt.date
HISTORY = [
    list(HISTORY_HEADER),
    ["KR-0001", D(2026, 10, 20), 10, 0.1, 0.2, "on track", "on track", "2026-10-20T09:00:00Z"],
    ["KR-0002", D(2026, 10, 20), 5, 0.05, 0.2, "at risk", None, "2026-10-20T09:00:00Z"],
    ["KR-0001", D(2026, 10, 27), 30, 0.3, 0.4, "at risk", "green", "2026-10-27T09:00:00Z"],
    ["KR-0001", D(2026, 11, 10), 1200.5, 0.6, 0.7, "off track", None, "2026-11-10T09:00:00Z"],
]


@pytest.fixture
def config(make_workbook: Callable[..., Path], make_config: Callable[..., Path]) -> Path:
    """KR-0001 with three check-ins in History, KR-0002 with one, KR-0010 with none."""
    workbook = make_workbook(
        [
            base_row(ID="KR-0001", Key_Result="Ship [bold]v2[/bold]", Owner="Ann"),
            base_row(ID="KR-0002", Owner="Bob"),
            base_row(ID="KR-0010", Owner="Cy"),
        ]
    )
    add_sheet(workbook, "History", HISTORY)
    return make_config(history={"worksheet": "History"})


def invoke(runner: CliRunner, config: Path, *args: str) -> Result:
    return runner.invoke(cli, ["--config", str(config), *args], catch_exceptions=False)


def test_history_prints_the_checkins_and_sparklines(runner: CliRunner, config: Path) -> None:
    """A table row per check-in, oldest first, then progress and expected as sparklines."""
    result = invoke(runner, config, "history", "KR-0001")
    assert result.exit_code == 0, result.output
    lines = [line.strip() for line in result.stdout.splitlines() if line.strip()]
    # Sheet text is printed as entered, never as rich markup.
    assert lines[0] == 'KR-0001 — Ship [bold]v2[/bold] (Ann): 3 check-in(s) in "History"'
    assert lines[1].split() == [
        "Check-in", "Date", "Current", "Progress", "Expected", "Health", "Owner", "Health",
    ]  # fmt: skip
    rows = [line.split() for line in lines[3:6]]
    assert rows == [
        ["2026-10-20", "10", "10%", "20%", "on", "track", "on", "track"],
        ["2026-10-27", "30", "30%", "40%", "at", "risk", "green"],  # as written
        ["2026-11-10", "1,200.5", "60%", "70%", "off", "track"],
    ]
    # 0.1, 0.3, 0.6 * 7 = 0.7, 2.1, 4.2 -> blocks 2, 3, 5; 0.2, 0.4, 0.7 -> 1.4, 2.8, 4.9.
    assert lines[6:] == ["progress  ▂▃▅", "expected  ▂▄▆"]


def test_history_json(runner: CliRunner, config: Path) -> None:
    result = invoke(runner, config, "history", "kr-0002", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "id": "KR-0002",
        "key_result": "Reach 100 signups",
        "owner": "Bob",
        "worksheet": "History",
        "checkins": [
            {
                "date": "2026-10-20",
                "current": 5.0,
                "progress": 0.05,
                "expected": 0.2,
                "health": "at risk",
                "owner_health": None,
                "synced_at": "2026-10-20T09:00:00Z",
            }
        ],
        "sparkline": {"progress": "▁", "expected": "▂"},
    }


@pytest.mark.parametrize("given", ["KR-0001", "kr-0001", " KR-0001 ", "1", "kr-1", "KR-001"])
def test_history_id_forms(runner: CliRunner, config: Path, given: str) -> None:
    """Case and padding do not matter; a bare number finds KR-nnnn."""
    result = invoke(runner, config, "history", given, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["id"] == "KR-0001"


def test_kr_without_checkins_yet(runner: CliRunner, config: Path) -> None:
    """A KR in the sheet but not yet in History: one sentence, and success."""
    result = invoke(runner, config, "history", "KR-0010")
    assert result.exit_code == 0
    assert result.stdout == (
        'KR-0010 — Reach 100 signups (Cy) has no check-ins in "History" yet; each '
        "`okrsync sync` records one when its Check-in Date or Current changes.\n"
    )
    as_json = json.loads(invoke(runner, config, "history", "KR-0010", "--json").stdout)
    assert as_json["checkins"] == []
    assert as_json["sparkline"] == {"progress": "", "expected": ""}


@pytest.mark.parametrize(
    ("given", "hint"),
    [
        # difflib ratios: KR-0010 and KR-0001 share 6 of 7 characters (0.857), KR-0002 5 (0.714).
        ("KR-0011", "did you mean KR-0010, KR-0001 or KR-0002?"),
        ("budget", 'the IDs are in the ID column of "Check-ins".'),
    ],
)
def test_unknown_id_is_a_usage_error(
    runner: CliRunner, config: Path, given: str, hint: str
) -> None:
    """An ID no row has exits 2 with one sentence naming close matches."""
    result = invoke(runner, config, "history", given)
    assert result.exit_code == 2
    assert result.stdout == ""
    message = f'No KR has ID "{given}" in the sheet or in History; {hint}'
    assert result.stderr == f"Error: {message}\n"


def test_history_off(
    runner: CliRunner, make_workbook: Callable[..., Path], make_config: Callable[..., Path]
) -> None:
    make_workbook([base_row(ID="KR-0001")])
    config = make_config(history={"worksheet": ""})
    result = invoke(runner, config, "history", "KR-0001")
    assert result.exit_code == 2
    assert result.stderr == (
        'Error: History is off ([history] worksheet = ""); set [history] worksheet = '
        f'"History" in {config} and each `okrsync sync` will record check-ins there.\n'
    )


def test_no_history_worksheet_yet(
    runner: CliRunner, make_workbook: Callable[..., Path], make_config: Callable[..., Path]
) -> None:
    """History on but never synced: the KR simply has no check-ins yet."""
    make_workbook([base_row(ID="KR-0001")])
    config = make_config(history={"worksheet": "History"})
    result = invoke(runner, config, "history", "KR-0001")
    assert result.exit_code == 0
    assert "has no check-ins" in result.stdout


def test_sync_json_and_text_report_history(runner: CliRunner, config: Path) -> None:
    """`sync --json` carries the History counts; the text summary says them in a line."""
    dry = invoke(runner, config, "sync", "--today", "2026-11-16", "--dry-run", "--json")
    # KR-0001's check-in (2026-11-10, 50) differs from its last row (1200.5): new; so are
    # KR-0002's and KR-0010's.
    assert json.loads(dry.stdout)["history"] == {
        "worksheet": "History",
        "appended": 0,
        "would_append": 3,
        "to_revisit": [],
    }
    done = invoke(runner, config, "sync", "--today", "2026-11-16")
    assert done.exit_code == 0
    assert 'History: appended 3 check-in(s) to "History".' in done.stdout
    again: dict[str, Any] = json.loads(
        invoke(runner, config, "sync", "--today", "2026-11-16", "--json").stdout
    )
    assert again["history"]["appended"] == 0
    assert again["cells_changed"] == 0
    shown = json.loads(invoke(runner, config, "history", "KR-0001", "--json").stdout)
    assert [c["current"] for c in shown["checkins"]] == [10.0, 30.0, 1200.5, 50.0]


def test_history_on_google_sheets(
    runner: CliRunner,
    sheets_emulator: Any,
    fast_sheets_retries: None,
    make_config: Callable[..., Path],
) -> None:
    """The command reads History through the Google Sheets backend just the same."""
    rows = [HEADER, [base_row(ID="KR-0002").get(h) for h in HEADER]]
    key = sheets_emulator.add_spreadsheet("Team OKRs", {"Check-ins": rows, "History": HISTORY})
    sheet = {"backend": "gsheets", "spreadsheet": key, "api_endpoint": sheets_emulator.url}
    config = make_config(sheet=sheet, history={"worksheet": "History"})
    shown = json.loads(invoke(runner, config, "history", "KR-0001", "--json").stdout)
    assert [c["current"] for c in shown["checkins"]] == [10, 30, 1200.5]
    assert shown["key_result"] == ""  # KR-0001 is only in History
    assert shown["sparkline"] == {"progress": "▂▃▅", "expected": "▂▄▆"}
