"""The spine's behaviour on both backends: a local workbook and a Google spreadsheet.

Every test here drives the real command line (``okrsync --config ... sync|validate``)
through click's CliRunner. The parametrised ``sheet`` fixture (tests/fixtures_backends.py)
runs each behaviour test once on an .xlsx workbook and once on a spreadsheet served by the
local Sheets API emulator, so the two are shown to behave the same; the tests at the end
are about Google Sheets alone (API cost, owners editing mid-sync, faults, credentials).

The computed values expected below were worked out by hand from the contract, for
today = 2026-11-16 in a cycle 2026-10-01 .. 2026-12-31: Expected is 46 / 91 days =
0.50549 -> 0.5055 for every KR due at the cycle end; the default cadence is weekly.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from okrsync.backends.base import Percent
from okrsync.cli import cli
from okrsync.columns import COMPUTED_COLUMNS
from tests.fixtures_backends import GSheet, SheetUnderTest
from tests.helpers import HEADER, base_row

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))

import synthetic  # noqa: E402

TODAY = "2026-11-16"
D = dt.date
LINK = '=HYPERLINK("http://x","y")'
#: The owner columns with an unknown column ("Notes") among them.
SHEET_HEADER = [*HEADER[:6], "Notes", *HEADER[6:]]
COMPUTED = [c.value for c in COMPUTED_COLUMNS]


def kr(ident: str | None, key_result: str, **cells: Any) -> dict[str, Any]:
    return base_row(ID=ident, Key_Result=key_result, **cells)


ROWS = [
    # on track: 50 / 100 against 0.5055 expected is a gap of 0.0055.
    kr(
        "KR-0001",
        "Reach 100 signups",
        Current=50,
        Check_in_Date=D(2026, 11, 10),
        Comment=LINK,
        Notes="keep me",
    ),
    # at risk: 0.35 is 0.1555 behind.
    kr("KR-0002", "Ship 100 fixes", Current=35, Check_in_Date=D(2026, 11, 12)),
    # off track, a decrease: (90 - 100) / (50 - 100) = 0.2, 0.3055 behind.
    kr(
        "KR-0003",
        "Cut p95 to 50 ms",
        Start=100,
        Target=50,
        Current=90,
        Check_in_Date=D(2026, 11, 13),
    ),
    # done: 120 of 100 is clamped to 1; a done KR is never overdue (Next Check-in 10-27).
    kr("KR-0004", "Sign 100 partners", Current=120, Check_in_Date=D(2026, 10, 20)),
    # overdue: checked in 11-01, biweekly, so due again 11-15, which is past.
    kr(
        "KR-0005",
        "Answer 100 tickets",
        Current=50,
        Check_in_Date=D(2026, 11, 1),
        Cadence="biweekly",
    ),
    # blank ID, filled one above the highest (KR-0012); percent complete typed as "75%".
    kr(
        None,
        "Finish the migration",
        Type="percent",
        Start=None,
        Target=None,
        Current="75%",
        Check_in_Date=D(2026, 11, 9),
    ),
    # an error row: its computed cells stay blank.
    kr("KR-0009", "Hire 100 people", Current="abc"),
    # a warning, no check-in yet (progress at Start), monthly: next was 10-01 + 1 month.
    kr(
        "KR-0006",
        "Grow NPS to 100",
        Owner_Health="purple",
        Current=None,
        Check_in_Date=None,
        Cadence="monthly",
    ),
    # an error: a check-in date after today (a real date cell).
    kr("KR-0008", "Publish 100 posts", Check_in_Date=D(2026, 11, 20)),
    # a warning: a check-in before the cycle start (a real date cell).
    kr("KR-0010", "Run 100 tests", Check_in_Date=D(2026, 9, 28)),
    # at least, as percent cells: 99.5% meets 99%, so progress 1, on track (not yet due).
    kr(
        "KR-0012",
        "Keep uptime at least 99%",
        Type="at least",
        Start=None,
        Target=Percent(0.99),
        Current=Percent(0.995),
    ),
]

E = 0.5055
NONE: dict[str, Any] = dict.fromkeys(COMPUTED)


def computed(
    progress: float,
    health: str,
    overdue: str,
    days: int | None,
    next_checkin: dt.date,
    notes: str | None = None,
) -> dict[str, Any]:
    return {
        "Progress": progress,
        "Expected": E,
        "Health": health,
        "Overdue": overdue,
        "Days Since Check-in": days,
        "Next Check-in": next_checkin,
        "Trend": None,  # history is off
        "Sync Notes": notes,
    }


#: Each KR's computed cells, by ID, as the contract makes them.
EXPECTED: dict[str, dict[str, Any]] = {
    "KR-0001": computed(0.5, "on track", "no", 6, D(2026, 11, 17)),
    "KR-0002": computed(0.35, "at risk", "no", 4, D(2026, 11, 19)),
    "KR-0003": computed(0.2, "off track", "no", 3, D(2026, 11, 20)),
    "KR-0004": computed(1, "done", "no", 27, D(2026, 10, 27)),
    "KR-0005": computed(0.5, "on track", "yes", 15, D(2026, 11, 15)),
    "KR-0013": computed(0.75, "on track", "no", 7, D(2026, 11, 16)),
    "KR-0009": {**NONE, "Sync Notes": 'Current: "abc" is not a number'},
    "KR-0006": computed(
        0,
        "off track",
        "yes",
        None,
        D(2026, 11, 1),
        'Owner Health: "purple" is not on track, at risk or off track',
    ),
    "KR-0008": {
        **NONE,
        "Sync Notes": 'Check-in Date: "2026-11-20" is after today (2026-11-16)',
    },
    "KR-0010": computed(
        0.5,
        "on track",
        "yes",
        49,
        D(2026, 10, 5),
        'Check-in Date: "2026-09-28" is before the cycle start (2026-10-01)',
    ),
    "KR-0012": computed(1, "on track", "no", 6, D(2026, 11, 17)),
}
IDS_AFTER = list(EXPECTED)

PROBLEMS = [
    {
        "row": 8,
        "column": "Current",
        "value": "abc",
        "message": 'Current: "abc" is not a number',
        "severity": "error",
    },
    {
        "row": 9,
        "column": "Owner Health",
        "value": "purple",
        "message": 'Owner Health: "purple" is not on track, at risk or off track',
        "severity": "warning",
    },
    {
        "row": 10,
        "column": "Check-in Date",
        "value": "2026-11-20",
        "message": 'Check-in Date: "2026-11-20" is after today (2026-11-16)',
        "severity": "error",
    },
    {
        "row": 11,
        "column": "Check-in Date",
        "value": "2026-09-28",
        "message": 'Check-in Date: "2026-09-28" is before the cycle start (2026-10-01)',
        "severity": "warning",
    },
]


def invoke(runner: CliRunner, config: Path, *args: str) -> Result:
    return runner.invoke(cli, ["--config", str(config), *args], catch_exceptions=False)


def run_json(runner: CliRunner, config: Path, *args: str) -> dict[str, Any]:
    result = invoke(runner, config, *args, "--today", TODAY, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def computed_by_id(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["ID"]: {c: row.get(c) for c in COMPUTED} for row in rows}


@pytest.fixture
def filled(sheet: SheetUnderTest) -> SheetUnderTest:
    sheet.write_rows(ROWS, SHEET_HEADER)
    return sheet


# --- the spine's behaviour, on both backends --------------------------------------------------


def test_sync_writes_the_contracts_values(filled: SheetUnderTest, runner: CliRunner) -> None:
    """On track, at risk, off track, done, overdue, a warning and errors, by hand."""
    summary = run_json(runner, filled.config_path, "sync")
    rows = filled.read_rows()
    assert list(rows[0])[-len(COMPUTED) :] == COMPUTED  # created at the right, in order
    assert [row["ID"] for row in rows] == IDS_AFTER
    assert computed_by_id(rows) == EXPECTED
    assert summary["columns_added"] == COMPUTED
    assert summary["ids_filled"] == ["KR-0013"]
    assert summary["health"] == {"done": 1, "on track": 5, "at risk": 1, "off track": 2}
    assert summary["overdue"] == 3
    written = sum(v is not None for cells in EXPECTED.values() for v in cells.values())
    assert summary["cells_changed"] == written + 1  # the computed cells and the filled ID


def test_owner_cells_are_untouched(filled: SheetUnderTest, runner: CliRunner) -> None:
    """Every cell outside okrsync's columns is stored exactly as before (value, type,
    format), the unknown column too, apart from the one blank ID filled; and the Comment
    holding =HYPERLINK(...) as text comes back as that text, not as a link's label."""
    before = filled.raw_cells()
    run_json(runner, filled.config_path, "sync")
    after = filled.raw_cells()
    owner = {key: value for key, value in after.items() if key[1] not in COMPUTED}
    filled_id = (7, "ID")
    assert filled_id not in before
    assert owner.pop(filled_id)
    assert owner == before
    rows = filled.read_rows()
    assert rows[0]["Comment"] == LINK
    assert rows[0]["Notes"] == "keep me"


def test_second_sync_writes_nothing(filled: SheetUnderTest, runner: CliRunner) -> None:
    run_json(runner, filled.config_path, "sync")
    filled.begin_watch()
    summary = run_json(runner, filled.config_path, "sync")
    assert summary["cells_changed"] == 0
    assert summary["columns_added"] == []
    assert filled.writes() == []


def test_dry_run_changes_nothing(filled: SheetUnderTest, runner: CliRunner) -> None:
    before = filled.read_rows()
    filled.begin_watch()
    summary = run_json(runner, filled.config_path, "sync", "--dry-run")
    assert filled.writes() == []
    assert filled.read_rows() == before
    assert summary["dry_run"] is True
    assert len(summary["would_write"]) == summary["cells_changed"] + len(COMPUTED)
    assert {"row": 2, "column": "Progress", "old": None, "new": 0.5} in summary["would_write"]


def test_validate_writes_nothing_and_reports_the_problems(
    filled: SheetUnderTest, runner: CliRunner
) -> None:
    filled.begin_watch()
    summary = run_json(runner, filled.config_path, "validate")
    assert filled.writes() == []
    assert summary["problems"] == PROBLEMS
    text = invoke(runner, filled.config_path, "validate", "--today", TODAY)
    assert text.exit_code == 0
    assert 'row 10, Check-in Date: "2026-11-20" is after today (2026-11-16)' in text.stdout


def test_problems_are_reported_by_row_and_cell(filled: SheetUnderTest, runner: CliRunner) -> None:
    """The same problems, quoting each cell as the owner sees it (dates as dates, not as
    the serial numbers Google hands over)."""
    summary = run_json(runner, filled.config_path, "sync")
    assert summary["problems"] == PROBLEMS
    assert (summary["errors"], summary["warnings"], summary["rows_with_errors"]) == (2, 2, 2)


def test_a_missing_worksheet_is_exit_2_listing_the_ones_there(
    filled: SheetUnderTest, runner: CliRunner
) -> None:
    config = filled.write_config("other.toml", sheet={"worksheet": "Checkins"})
    result = invoke(runner, config, "sync", "--today", TODAY)
    assert result.exit_code == 2
    assert 'no worksheet "Checkins" (it has "Check-ins")' in result.stderr
    assert "Traceback" not in result.output


def test_both_backends_give_the_same_summaries(
    make_sheet: Callable[[str], SheetUnderTest], runner: CliRunner
) -> None:
    """validate, a dry run, a sync and a second sync print the same --json on both
    backends (but for where the sheet is), and leave the same values in the sheet."""
    summaries: dict[str, list[dict[str, Any]]] = {}
    values: dict[str, list[dict[str, Any]]] = {}
    for kind in ("xlsx", "gsheets"):
        sheet = make_sheet(kind)
        sheet.write_rows(ROWS, SHEET_HEADER)
        runs = [["validate"], ["sync", "--dry-run"], ["sync"], ["sync"]]
        summaries[kind] = [run_json(runner, sheet.config_path, *args) for args in runs]
        for summary in summaries[kind]:
            assert summary.pop("location")
            # Messages name their own outbox file; what was sent, to whom, must agree.
            emails = summary.pop("emails", {"messages": []})
            summary["emails"] = sorted(
                (m["kind"], tuple(m["recipients"]), m["subject"], m["status"])
                for m in emails["messages"]
            )
        values[kind] = sheet.read_rows()
    assert summaries["gsheets"] == summaries["xlsx"]
    assert values["gsheets"] == values["xlsx"]


# --- Google Sheets only -------------------------------------------------------------------------


@pytest.fixture
def gsheet(make_sheet: Callable[[str], SheetUnderTest]) -> GSheet:
    sheet = make_sheet("gsheets")
    assert isinstance(sheet, GSheet)
    return sheet


def synthetic_rows(n: int) -> list[dict[str, Any]]:
    header, *rows = synthetic.make_rows(n, seed=3)
    return [dict(zip(header, row, strict=True)) for row in rows]


#: A sync that writes: metadata, the batched read, the ID re-read, the batched write.
FIRST_SYNC = [
    "spreadsheets.get",
    "spreadsheets.values.batchGet",
    "spreadsheets.values.batchGet",
    "spreadsheets.batchUpdate",
]
#: A sync with nothing to write.
READ_ONLY = FIRST_SYNC[:2]


def api_names(sheet: GSheet) -> list[str]:
    return [c.api or "" for c in sheet.emulator.api_calls()]


def test_requests_per_sync_do_not_grow_with_the_rows(gsheet: GSheet, runner: CliRunner) -> None:
    """A first sync costs the same four requests for 10 rows as for 500 (metadata, one
    batched read, the ID re-read, one batched write); a second sync costs the two reads."""
    first: dict[int, list[str]] = {}
    second: dict[int, list[str]] = {}
    for n in (10, 500):
        gsheet.write_rows(synthetic_rows(n))
        gsheet.begin_watch()
        assert run_json(runner, gsheet.config_path, "sync")["rows"] == n
        first[n] = api_names(gsheet)
        gsheet.begin_watch()
        assert run_json(runner, gsheet.config_path, "sync")["cells_changed"] == 0
        second[n] = api_names(gsheet)
        assert gsheet.writes() == []
    assert first[10] == first[500] == FIRST_SYNC
    assert second[10] == second[500] == READ_ONLY


def test_computed_cells_are_shown_as_percentages_dates_and_numbers(
    gsheet: GSheet, runner: CliRunner
) -> None:
    gsheet.write_rows(ROWS, SHEET_HEADER)
    run_json(runner, gsheet.config_path, "sync")
    shown = gsheet.emulator.values(gsheet.key, "Check-ins", "FORMATTED_VALUE")
    header = shown[0]
    row = dict(zip(header, shown[1], strict=False))
    assert [row[c] for c in COMPUTED[:-2]] == ["50%", "51%", "on track", "no", "6", "2026-11-17"]


def after_requests(sheet: GSheet, count: int, hook: Callable[[Any], None]) -> None:
    """Run ``hook(emulator)`` once ``count`` API requests have been served."""
    if count == 0:
        sheet.emulator.before_next_request(hook)
        return
    sheet.emulator.before_next_request(lambda emu: after_requests(sheet, count - 1, hook))


def test_a_row_inserted_mid_sync_leaves_every_value_on_its_own_row(
    gsheet: GSheet, runner: CliRunner
) -> None:
    """Another user inserts a KR at row 3 after okrsync has read the sheet: every computed
    value (and the filled ID) still lands on its own KR's row; the new row is left alone
    until the next sync reads it."""
    gsheet.write_rows(ROWS, SHEET_HEADER)
    new = kr("KR-0050", "Open 3 offices", Current=1, Target=3)
    values = [[new.get(h) for h in SHEET_HEADER]]
    after_requests(
        gsheet,
        2,
        lambda emu: emu.insert_rows(gsheet.key, "Check-ins", 3, values=values),
    )
    gsheet.begin_watch()
    run_json(runner, gsheet.config_path, "sync")
    assert api_names(gsheet) == FIRST_SYNC
    rows = gsheet.read_rows()
    assert [r["ID"] for r in rows] == ["KR-0001", "KR-0050", *IDS_AFTER[1:]]
    assert computed_by_id(rows) == {**EXPECTED, "KR-0050": NONE}
    assert next(r for r in rows if r["ID"] == "KR-0013")["Key Result"] == "Finish the migration"
    run_json(runner, gsheet.config_path, "sync")
    assert computed_by_id(gsheet.read_rows())["KR-0050"]["Progress"] == 0.3333


def test_429_and_503_are_waited_out(gsheet: GSheet, runner: CliRunner) -> None:
    """A 429 with Retry-After on the first read and a 503 on the write: the sync retries
    both (fast_sheets_retries keeps the waits short) and finishes as if nothing happened."""
    gsheet.write_rows(ROWS, SHEET_HEADER)
    gsheet.emulator.fail_next(429, retry_after=0.01)
    after_requests(gsheet, 4, lambda emu: emu.fail_next(503))
    summary = run_json(runner, gsheet.config_path, "sync")
    statuses = [(c.api, c.status) for c in gsheet.emulator.api_calls()]
    assert statuses == [
        ("spreadsheets.get", 429),
        ("spreadsheets.get", 200),
        ("spreadsheets.values.batchGet", 200),
        ("spreadsheets.values.batchGet", 200),
        ("spreadsheets.batchUpdate", 503),
        ("spreadsheets.batchUpdate", 200),
    ]
    assert summary["ids_filled"] == ["KR-0013"]
    assert computed_by_id(gsheet.read_rows()) == EXPECTED


def one_sentence_error(result: Result) -> str:
    """The one ``Error: ...`` line of a failed run, checked to be one sentence."""
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.stderr
    message = errors[0].removeprefix("Error: ")
    assert message.endswith(".")
    assert ". " not in message
    return message


ACCOUNT = "okrsync@test-project.iam.gserviceaccount.com"


def test_403_says_to_share_the_sheet_with_the_service_account(
    gsheet: GSheet, runner: CliRunner, make_service_account: Callable[..., Path]
) -> None:
    gsheet.write_rows(ROWS, SHEET_HEADER)
    gsheet.share_only_with("someone-else@example.com")
    config = gsheet.write_config(sheet={"credentials": str(make_service_account(ACCOUNT))})
    result = invoke(runner, config, "sync", "--today", TODAY)
    assert result.exit_code == 1
    message = one_sentence_error(result)
    assert f"share the sheet with {ACCOUNT} as an editor" in message


def test_404_says_the_spreadsheet_was_not_found(gsheet: GSheet, runner: CliRunner) -> None:
    config = gsheet.write_config(sheet={"spreadsheet": "noSuchSheet"})
    result = invoke(runner, config, "sync", "--today", TODAY)
    assert result.exit_code == 1
    message = one_sentence_error(result)
    assert message.startswith("Spreadsheet noSuchSheet not found")


SECRET = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC-not-a-real-key-SECRET"


@pytest.mark.parametrize("where", ["config", "environment"])
@pytest.mark.parametrize("verbosity", [[], ["-vv"]], ids=["default", "verbose"])
def test_an_invalid_credentials_file_is_exit_2_and_shows_no_key(
    gsheet: GSheet,
    runner: CliRunner,
    monkeypatch: pytest.MonkeyPatch,
    where: str,
    verbosity: list[str],
) -> None:
    gsheet.write_rows(ROWS, SHEET_HEADER)
    key = gsheet.folder / "key.json"
    pem = f"-----BEGIN PRIVATE KEY-----\n{SECRET}\n-----END PRIVATE KEY-----\n"
    info = {
        "type": "service_account",
        "client_email": ACCOUNT,
        "private_key": pem,  # not a key: the parser fails on it, and its error may quote it
        "token_uri": "http://127.0.0.1:9/token",
    }
    key.write_text(json.dumps(info), encoding="utf-8")
    if where == "config":
        config = gsheet.write_config(sheet={"credentials": str(key)})
    else:
        monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key))
        config = gsheet.config_path
    gsheet.begin_watch()
    result = runner.invoke(cli, ["--config", str(config), *verbosity, "sync", "--today", TODAY])
    assert result.exit_code == 2
    message = one_sentence_error(result)
    assert str(key) in message
    assert SECRET not in result.output
    assert "PRIVATE KEY" not in result.output
    assert gsheet.emulator.requests == []


def test_request_budget_with_history_on(gsheet: GSheet, runner: CliRunner) -> None:
    """DOCUMENTS THE BUDGET WITH HISTORY ON ([history] worksheet = "History").

    The History worksheet is read in the same batched read as the check-in sheet, and a
    sync's History rows go out in one append batch, so a first sync (new check-ins) costs
    at most 4 + 1 = 5 requests, and a second sync with no new check-in and nothing to
    write costs the 2 reads only. This holds before History appends exist (4 and 2) and
    must keep holding once they do.
    """
    gsheet.write_rows(ROWS, SHEET_HEADER)
    config = gsheet.write_config(history={"worksheet": "History"})
    gsheet.begin_watch()
    run_json(runner, config, "sync")
    assert len(gsheet.emulator.api_calls()) <= 5
    gsheet.begin_watch()
    assert run_json(runner, config, "sync")["cells_changed"] == 0
    assert api_names(gsheet) == READ_ONLY
    assert gsheet.writes() == []


def test_new_columns_go_right_of_an_owners_unheaded_column(
    sheet: SheetUnderTest, runner: CliRunner
) -> None:
    """An owner's notes in a column with no header are not written over: okrsync's new
    columns start to the right of the last column holding anything."""
    header = [*HEADER, ""]
    sheet.write_rows([base_row(Current=50) | {"": "my private note"}], header)
    result = runner.invoke(
        cli, ["--config", str(sheet.config_path), "sync", "--today", "2026-11-16"]
    )
    assert result.exit_code == 0, result.output
    (row,) = sheet.read_rows()
    assert row[""] == "my private note"
    assert row["Progress"] == 0.5
