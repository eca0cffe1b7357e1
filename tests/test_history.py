"""History: appending check-ins, Trend and the revisit warning, on both backends.

Dates and numbers below are worked out by hand for the test cycle 2026-10-01 .. 2026-12-31
(91 days) and today 2026-11-16 (46 days in): Expected is 46/91 = 0.5055 for every KR, so
Progress 0.5 is on track, 0.3 at risk (gap 0.2055) and 0.2 off track (gap 0.3055).

The sync tests run on a local workbook and on a spreadsheet in the local Sheets API
emulator (real gspread over HTTP on 127.0.0.1), through one small :class:`Place` API.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest

from okrsync.backends.base import Cell, SheetTable
from okrsync.backends.xlsx import XlsxBackend
from okrsync.columns import Col
from okrsync.config import Config, HistoryConfig, load_config
from okrsync.errors import ConfigError, RowIssue, SheetLayoutError
from okrsync.history import (
    HISTORY_HEADER,
    Lookback,
    history_rows,
    merge_warnings,
    new_checkins,
    off_track_streak,
    parse_history,
    previous_progress,
    sparkline,
)
from okrsync.pipeline import SyncResult, check, sync
from tests.helpers import HEADER, base_row, read_workbook

TODAY = dt.date(2026, 11, 16)
D = dt.date
REVISIT = "Health: off track for 3 check-ins in a row; consider revisiting this KR"
SYNCED_AT_RE = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"
READS = {"spreadsheets.get", "spreadsheets.values.get", "spreadsheets.values.batchGet"}


def add_sheet(path: Path, title: str, rows: Sequence[Sequence[Any]]) -> None:
    """Add a worksheet holding ``rows`` (the first is the header) to the workbook."""
    wb = openpyxl.load_workbook(path)
    ws = wb.create_sheet(title)
    for row in rows:
        ws.append(list(row))
    wb.save(path)


def _plain(value: Any) -> Any:
    """A cell as both backends can be compared: dates as ISO text, blanks as None."""
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return None if value == "" else value


class Place:
    """Where a test's check-in sheet lives; the sync sees it only through ``config``."""

    config: Config

    def values(self, title: str) -> list[list[Any]]:
        raise NotImplementedError

    def edit(self, sheet_row: int, column: str, value: Any) -> None:
        """Change one owner cell, as an owner would between two syncs."""
        raise NotImplementedError

    def state(self) -> object:
        """A snapshot: equal before and after a sync means it wrote nothing at all."""
        raise NotImplementedError

    def titles(self) -> list[str]:
        raise NotImplementedError

    def header(self, title: str = "Check-ins") -> list[str]:
        return [str(h) for h in self.values(title)[0]]

    def rows(self, title: str = "Check-ins") -> list[dict[str, Any]]:
        header, *rows = self.values(title)
        return [
            {str(h): _plain(v) for h, v in zip(header, [*r, *[None] * len(header)], strict=False)}
            for r in rows
        ]


class WorkbookPlace(Place):
    def __init__(self, path: Path, config: Config) -> None:
        self.path, self.config = path, config

    def values(self, title: str) -> list[list[Any]]:
        ws = openpyxl.load_workbook(self.path)[title]
        return [list(r) for r in ws.iter_rows(values_only=True)]

    def edit(self, sheet_row: int, column: str, value: Any) -> None:
        wb = openpyxl.load_workbook(self.path)
        ws = wb["Check-ins"]
        header = [c.value for c in ws[1]]
        ws.cell(row=sheet_row, column=header.index(column) + 1).value = value
        wb.save(self.path)

    def state(self) -> object:
        return self.path.read_bytes()

    def titles(self) -> list[str]:
        return openpyxl.load_workbook(self.path).sheetnames


class SpreadsheetPlace(Place):
    def __init__(self, emulator: Any, key: str, config: Config) -> None:
        self.emulator, self.key, self.config = emulator, key, config

    def values(self, title: str) -> list[list[Any]]:
        return self.emulator.values(self.key, title, "UNFORMATTED_VALUE", "FORMATTED_STRING")

    def edit(self, sheet_row: int, column: str, value: Any) -> None:
        letter = chr(ord("A") + self.header().index(column))
        self.emulator.set_values(self.key, "Check-ins", f"{letter}{sheet_row}", [[value]])

    def state(self) -> object:
        writes = [c for c in self.emulator.api_calls() if c.api not in READS]
        return [self.values(t) for t in self.titles()], len(writes)

    def titles(self) -> list[str]:
        return [s.title for s in self.emulator.spreadsheet(self.key).sheets]


def _place_maker(
    kind: str,
    request: pytest.FixtureRequest,
    make_workbook: Callable[..., Path],
    make_config: Callable[..., Path],
) -> Callable[..., Place]:
    def make(
        rows: Sequence[dict[str, Any]],
        history: Sequence[Sequence[Any]] | None = None,
        **history_config: Any,
    ) -> Place:
        settings = {"worksheet": "History", **history_config}
        if kind == "xlsx":
            workbook = make_workbook(rows)
            if history is not None:
                add_sheet(workbook, "History", history)
            return WorkbookPlace(workbook, load_config(make_config(history=settings)))
        request.getfixturevalue("fast_sheets_retries")
        emulator = request.getfixturevalue("sheets_emulator")
        sheets = {"Check-ins": [HEADER, *([r.get(h) for h in HEADER] for r in rows)]}
        if history is not None:
            sheets["History"] = [list(r) for r in history]
        key = emulator.add_spreadsheet("Team OKRs", sheets)
        sheet = {"backend": "gsheets", "spreadsheet": key, "api_endpoint": emulator.url}
        config = load_config(make_config(sheet=sheet, history=settings))
        return SpreadsheetPlace(emulator, key, config)

    return make


@pytest.fixture(params=["xlsx", "gsheets"])
def place(
    request: pytest.FixtureRequest,
    make_workbook: Callable[..., Path],
    make_config: Callable[..., Path],
) -> Callable[..., Place]:
    """``place(rows, history=[...], **history_config)``: the sheet on each backend."""
    return _place_maker(request.param, request, make_workbook, make_config)


@pytest.fixture
def spreadsheet(
    request: pytest.FixtureRequest,
    make_workbook: Callable[..., Path],
    make_config: Callable[..., Path],
) -> Callable[..., Place]:
    """Like ``place``, on Google Sheets (the emulator) only."""
    return _place_maker("gsheets", request, make_workbook, make_config)


@pytest.fixture
def setup(
    make_workbook: Callable[..., Path], make_config: Callable[..., Path]
) -> Callable[..., tuple[Path, Config]]:
    """xlsx only: ``setup(rows, history=[...], **history_config)`` -> (workbook, config)."""

    def make(
        rows: Sequence[dict[str, Any]],
        history: Sequence[Sequence[Any]] | None = None,
        **history_config: Any,
    ) -> tuple[Path, Config]:
        workbook = make_workbook(rows)
        if history is not None:
            add_sheet(workbook, "History", history)
        config = load_config(make_config(history={"worksheet": "History", **history_config}))
        return workbook, config

    return make


def by_id(result: SyncResult, column: str) -> dict[str, Any]:
    return dict(zip(result.table[Col.ID], result.table[column], strict=True))


FOUR = [
    base_row(ID="KR-0001", Current=50),
    base_row(ID="KR-0002", Current=None, Check_in_Date=None),  # never checked in
    base_row(ID="KR-0003", Current="abc"),  # an error row
    base_row(ID="KR-0004", Current=20, Owner_Health="green"),
]


# --- appending ----------------------------------------------------------------------


def test_first_sync_creates_history_with_its_header(place: Callable[..., Place]) -> None:
    """History is created with the contract's header; one row per error-free checked-in KR."""
    sheet = place(FOUR)
    result = sync(sheet.config, today=TODAY)
    assert result.to_dict()["history"] == {
        "worksheet": "History",
        "appended": 2,
        "to_revisit": [],
    }
    assert sheet.titles() == ["Check-ins", "History"]
    assert sheet.header("History") == [
        "ID", "Check-in Date", "Current", "Progress", "Expected", "Health",
        "Owner Health", "Synced At",
    ]  # fmt: skip
    rows = sheet.rows("History")
    stamps = [r.pop("Synced At") for r in rows]
    assert all(re.match(SYNCED_AT_RE, s) for s in stamps)
    assert rows == [
        {
            "ID": "KR-0001",
            "Check-in Date": "2026-11-10",
            "Current": 50,
            "Progress": 0.5,
            "Expected": 0.5055,
            "Health": "on track",
            "Owner Health": None,
        },
        {
            "ID": "KR-0004",
            "Check-in Date": "2026-11-10",
            "Current": 20,
            "Progress": 0.2,
            "Expected": 0.5055,
            "Health": "off track",
            "Owner Health": "on track",
        },
    ]
    # No earlier check-in anywhere: Trend is blank on every row.
    assert list(by_id(result, Col.TREND).values()) == [None] * 4
    assert [r["Trend"] for r in sheet.rows()] == [None] * 4


def test_second_sync_without_edits_appends_and_writes_nothing(
    place: Callable[..., Place],
) -> None:
    """Re-running on an unchanged sheet writes nothing (the workbook keeps every byte)."""
    sheet = place(FOUR)
    sync(sheet.config, today=TODAY)
    before = sheet.state()
    again = sync(sheet.config, today=TODAY)
    assert again.changes == []
    assert again.to_dict()["history"]["appended"] == 0
    assert sheet.state() == before


@pytest.mark.parametrize(
    ("column", "value", "trend", "current"),
    [
        ("Current", 60, "↑", 60),  # 0.5 -> 0.6
        ("Current", 40, "↓", 40),  # 0.5 -> 0.4
        ("Check-in Date", D(2026, 11, 14), "→", 50),  # a new check-in, same progress
    ],
    ids=["up", "down", "same"],
)
def test_new_checkin_appends_one_row_and_trend_stays(
    place: Callable[..., Place], column: str, value: Any, trend: str, current: int
) -> None:
    """A changed Current or Check-in Date is one new row and a Trend; a re-run keeps both."""
    sheet = place(FOUR)
    sync(sheet.config, today=TODAY)
    sheet.edit(2, column, value)
    second = sync(sheet.config, today=TODAY)
    assert second.to_dict()["history"]["appended"] == 1
    assert by_id(second, Col.TREND) == {
        "KR-0001": trend,
        "KR-0002": None,
        "KR-0003": None,
        "KR-0004": None,
    }
    assert sheet.rows()[0]["Trend"] == trend
    assert [(r["ID"], r["Current"]) for r in sheet.rows("History")] == [
        ("KR-0001", 50),
        ("KR-0004", 20),
        ("KR-0001", current),
    ]
    # The third sync: the previous check-in is still the one before the edit.
    before = sheet.state()
    third = sync(sheet.config, today=TODAY)
    assert by_id(third, Col.TREND)["KR-0001"] == trend
    assert third.changes == []
    assert third.to_dict()["history"]["appended"] == 0
    assert sheet.state() == before


def test_a_later_day_without_a_checkin_appends_nothing(place: Callable[..., Place]) -> None:
    """Expected moves on with the calendar, but that is not a check-in: nothing is appended."""
    sheet = place(FOUR)
    sync(sheet.config, today=TODAY)
    later = sync(sheet.config, today=D(2026, 11, 23))
    assert later.to_dict()["history"]["appended"] == 0
    assert len(sheet.rows("History")) == 2
    assert later.changes  # Expected, Days Since Check-in... did change


class CrashingAppend(XlsxBackend):
    """The real workbook backend, killed between the sheet write and the History append."""

    def append_rows(
        self, worksheet: str, header: Sequence[str], rows: Sequence[Sequence[Cell]]
    ) -> None:
        raise KeyboardInterrupt


def test_crash_between_write_and_append_converges(setup: Callable[..., Any]) -> None:
    """After a crash that lost the append, the next sync appends it and rewrites nothing."""
    workbook, config = setup(FOUR)
    sheet = WorkbookPlace(workbook, config)
    sync(config, today=TODAY)
    sheet.edit(2, "Current", 60)
    with pytest.raises(KeyboardInterrupt):
        sync(config, today=TODAY, backend=CrashingAppend(config.sheet))
    assert read_workbook(workbook)[0]["Trend"] == "↑"  # the sheet write happened
    assert len(read_workbook(workbook, "History")) == 2  # the append did not
    rerun = sync(config, today=TODAY)
    assert rerun.changes == []
    assert rerun.to_dict()["history"]["appended"] == 1
    assert [r["Current"] for r in read_workbook(workbook, "History")] == [50, 20, 60]


class CountingBackend(XlsxBackend):
    """The real workbook backend, counting its calls (History must not add reads or appends)."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.calls: list[str] = []

    def read(self, extra: Sequence[str] = ()) -> dict[str, SheetTable | None]:
        self.calls.append(f"read {list(extra)}")
        return super().read(extra)

    def write(self, changes: Sequence[Any]) -> None:
        self.calls.append("write")
        super().write(changes)

    def append_rows(
        self, worksheet: str, header: Sequence[str], rows: Sequence[Sequence[Cell]]
    ) -> None:
        self.calls.append(f"append {worksheet} {len(rows)}")
        super().append_rows(worksheet, header, rows)


def test_one_read_and_one_append_per_sync(setup: Callable[..., Any]) -> None:
    """History is read in the sheet's batch and appended in one call, only when something is new."""
    _, config = setup(FOUR)
    first = CountingBackend(config.sheet)
    sync(config, today=TODAY, backend=first)
    assert first.calls == ["read ['History']", "write", "append History 2"]
    second = CountingBackend(config.sheet)
    sync(config, today=TODAY, backend=second)
    assert second.calls == ["read ['History']"]


def test_on_google_sheets_history_rides_the_read_and_appends_in_one_request(
    spreadsheet: Callable[..., Place],
) -> None:
    """History is one more range in the sync's one batchGet, and the append one batchUpdate."""
    sheet = spreadsheet(FOUR)
    assert isinstance(sheet, SpreadsheetPlace)
    emulator = sheet.emulator
    # Fill the computed columns first, so that what follows only concerns History.
    sync(dataclasses.replace(sheet.config, history=HistoryConfig(worksheet="")), today=TODAY)

    def calls() -> list[tuple[str, object]]:
        out = [
            (c.api, c.query.get("ranges") or [next(iter(r)) for r in c.body["requests"]])
            for c in emulator.api_calls()
            if c.api != "spreadsheets.get"  # metadata, once per sync either way
        ]
        emulator.clear_log()
        return out

    calls()
    sync(sheet.config, today=TODAY)
    assert calls() == [
        ("spreadsheets.values.batchGet", ["'Check-ins'"]),  # no History yet
        ("spreadsheets.batchUpdate", ["addSheet", "appendCells"]),
    ]
    sync(sheet.config, today=TODAY)
    assert calls() == [("spreadsheets.values.batchGet", ["'Check-ins'", "'History'"])]
    sheet.edit(2, "Current", 60)
    sync(sheet.config, today=TODAY)
    found = calls()
    assert found[0] == ("spreadsheets.values.batchGet", ["'Check-ins'", "'History'"])
    assert found[-1] == ("spreadsheets.batchUpdate", ["appendCells"])
    assert [r["Current"] for r in sheet.rows("History")] == [50, 20, 60]


def test_existing_empty_history_gets_its_header(place: Callable[..., Place]) -> None:
    """A History worksheet someone created but left empty gets the header above the rows."""
    sheet = place(FOUR[:1], history=[])
    sync(sheet.config, today=TODAY)
    rows = sheet.values("History")
    assert [str(h) for h in rows[0]] == list(HISTORY_HEADER)
    assert [_plain(v) for v in rows[1][:3]] == ["KR-0001", "2026-11-10", 50]
    assert len(rows) == 2


def test_history_columns_in_another_order(place: Callable[..., Place]) -> None:
    """Headers match loosely and in any order; new rows follow the worksheet's own order."""
    header = [
        " synced at", "ID", "Notes", "HEALTH", "check-in  date", "Current", "Progress",
        "Expected", "Owner Health",
    ]  # fmt: skip
    old = [None, "KR-0001", "by hand", "on track", D(2026, 11, 3), 40, 0.4, 0.3626, None]
    sheet = place(FOUR[:1], history=[header, old])
    result = sync(sheet.config, today=TODAY)
    assert by_id(result, Col.TREND) == {"KR-0001": "↑"}  # 0.4 -> 0.5
    rows = sheet.values("History")
    assert len(rows) == 3
    assert [str(h) for h in rows[0]] == header  # no column added, none moved
    new = dict(zip(header, [_plain(v) for v in rows[2]] + [None] * 9, strict=False))
    assert re.match(SYNCED_AT_RE, new.pop(" synced at"))
    assert new == {
        "ID": "KR-0001",
        "Notes": None,
        "HEALTH": "on track",
        "check-in  date": "2026-11-10",
        "Current": 50,
        "Progress": 0.5,
        "Expected": 0.5055,
        "Owner Health": None,
    }


def test_history_missing_a_column_is_a_layout_error(place: Callable[..., Place]) -> None:
    """A History worksheet without the columns okrsync needs stops the sync before any write."""
    sheet = place(FOUR[:1], history=[["ID", "Check-in Date", "Current"]])
    before = sheet.state()
    with pytest.raises(SheetLayoutError) as info:
        sync(sheet.config, today=TODAY)
    assert str(info.value) == (
        'Worksheet "History" has no "Progress", "Expected", "Health", "Owner Health", '
        '"Synced At" column in row 1; add the header, or rename the worksheet so okrsync '
        "starts a new History with every column."
    )
    assert sheet.state() == before


def test_history_on_the_checkin_worksheet_is_a_config_error(
    make_workbook: Callable[..., Path], make_config: Callable[..., Path]
) -> None:
    make_workbook(FOUR)
    with pytest.raises(ConfigError, match=r"\[history\] worksheet must differ"):
        load_config(make_config(history={"worksheet": "Check-ins"}))


# --- off, dry run, validate -----------------------------------------------------------


def test_history_off_appends_nothing_and_trend_is_blank(
    make_workbook: Callable[..., Path], make_config: Callable[..., Path]
) -> None:
    """With ``worksheet = ""`` no History is read or written and Trend stays blank."""
    workbook = make_workbook(FOUR)
    config = load_config(make_config(history={"worksheet": ""}))
    counting = CountingBackend(config.sheet)
    result = sync(config, today=TODAY, backend=counting)
    assert counting.calls == ["read []", "write"]
    assert "history" not in result.to_dict()
    assert list(by_id(result, Col.TREND).values()) == [None] * 4
    assert result.table["revisit"].tolist() == [False] * 4
    assert openpyxl.load_workbook(workbook).sheetnames == ["Check-ins"]


@pytest.mark.parametrize("how", ["dry run", "validate"])
def test_dry_run_and_validate_append_nothing(place: Callable[..., Place], how: str) -> None:
    """A dry run says how many check-ins it would record and changes nothing."""
    sheet = place(FOUR)
    before = sheet.state()
    if how == "dry run":
        result = sync(sheet.config, today=TODAY, dry_run=True)
    else:
        result = check(sheet.config, today=TODAY)
    assert sheet.state() == before
    assert sheet.titles() == ["Check-ins"]
    assert result.to_dict()["history"] == {
        "worksheet": "History",
        "appended": 0,
        "would_append": 2,
        "to_revisit": [],
    }
    assert result.extras["history"].lines() == ['History: would append 2 check-in(s) to "History".']


# --- revisit -------------------------------------------------------------------------

HISTORY = list(HISTORY_HEADER)


def off_track_rows(*healths: str) -> list[list[Any]]:
    """History rows of KR-0001, one a week from 2026-10-13, with the given computed healths."""
    return [
        [
            "KR-0001",
            D(2026, 10, 13) + dt.timedelta(weeks=i),
            5 * (i + 1),
            0.05 * (i + 1),
            0.1,
            h,
            None,
            "",
        ]
        for i, h in enumerate(healths)
    ]


def test_revisit_warning_after_n_off_track_checkins(place: Callable[..., Place]) -> None:
    """Off track at the last 3 check-ins (2 in History + the current one): warned, listed."""
    rows = [base_row(ID="KR-0001", Current=20, Owner_Health="on trak"), base_row(ID="KR-0002")]
    sheet = place(rows, history=[HISTORY, *off_track_rows("Off Track", "off track")])
    result = sync(sheet.config, today=TODAY)
    assert result.table["revisit"].tolist() == [True, False]
    warning = RowIssue(2, "Health", None, REVISIT[len("Health: ") :], error=False)
    assert warning in result.issues
    assert [i.row for i in result.issues] == [2, 2]  # the validator's warning first
    notes = 'Owner Health: "on trak" is not on track, at risk or off track; ' + REVISIT
    assert sheet.rows()[0]["Sync Notes"] == notes
    assert result.to_dict()["history"]["to_revisit"] == ["KR-0001"]
    assert result.extras["history"].lines()[-1] == (
        "To revisit (off track 3+ check-ins in a row): KR-0001"
    )
    # The current check-in is now in History; the next sync warns the same, writes nothing.
    before = sheet.state()
    again = sync(sheet.config, today=TODAY)
    assert again.table["revisit"].tolist() == [True, False]
    assert again.changes == []
    assert sheet.state() == before


@pytest.mark.parametrize(
    ("healths", "warned"),
    [
        (["off track"], False),  # 2 in a row
        (["off track", "at risk", "off track"], False),  # broken: 2 in a row
        (["at risk", "off track", "off track", "off track"], True),  # 4 in a row
    ],
    ids=["two", "broken", "four"],
)
def test_revisit_warning_not_before_n(
    setup: Callable[..., Any], healths: list[str], warned: bool
) -> None:
    rows = [base_row(ID="KR-0001", Current=20)]
    workbook, config = setup(rows, history=[HISTORY, *off_track_rows(*healths)])
    result = sync(config, today=TODAY)
    assert result.table["revisit"].tolist() == [warned]
    notes = read_workbook(workbook)[0]["Sync Notes"]
    if warned:
        assert notes == REVISIT.replace("3 check-ins", "4 check-ins")
    else:
        assert notes is None


def test_no_revisit_warning_when_off_track_now_but_not_before(
    setup: Callable[..., Any],
) -> None:
    """The current check-in must be off track too: an improved KR is not flagged."""
    rows = [base_row(ID="KR-0001", Current=50)]  # 0.5: on track
    _, config = setup(rows, history=[HISTORY, *off_track_rows("off track", "off track")])
    assert sync(config, today=TODAY).table["revisit"].tolist() == [False]


def test_revisit_after_one(setup: Callable[..., Any]) -> None:
    """With revisit_after = 1 every KR off track now is flagged, but not one never checked in."""
    rows = [base_row(ID="KR-0001", Current=20), base_row(ID="KR-0002", Current=None)]
    rows[1]["Check-in Date"] = None
    _, config = setup(rows, revisit_after=1)
    result = sync(config, today=TODAY)
    assert by_id(result, Col.HEALTH) == {"KR-0001": "off track", "KR-0002": "off track"}
    assert result.table["revisit"].tolist() == [True, False]
    assert result.issues[0].note == (
        "Health: off track for 1 check-in in a row; consider revisiting this KR"
    )


# --- the model on its own -----------------------------------------------------------


def table(rows: Sequence[Sequence[Any]], header: Sequence[str] = HISTORY) -> SheetTable:
    return SheetTable("History", list(header), [list(r) for r in rows])


def krs(*checkins: tuple[str, dt.date | None, float | None]) -> pd.DataFrame:
    """KRs as validate types them: ID, Check-in Date (datetime64), Current (float)."""
    return pd.DataFrame(
        {
            Col.ID: [c[0] for c in checkins],
            Col.CHECKIN_DATE: pd.to_datetime([c[1] for c in checkins]).astype("datetime64[ns]"),
            Col.CURRENT: [np.nan if c[2] is None else c[2] for c in checkins],
        },
        index=range(2, 2 + len(checkins)),
    )


def row(kr: str, date: dt.date | None, current: float | None, progress: float, health: str) -> list:
    return [kr, date, current, progress, 0.5, health, None, "2026-11-01T09:00:00Z"]


def test_parse_history_types_cells_and_skips_rows_without_id() -> None:
    parsed = parse_history(
        table(
            [
                ["kr-0001 ", "2026-11-02", "1,200", 0.4, "40%", "on track", "green", None],
                [None, D(2026, 11, 3), 5, 0.5, 0.5, "at risk", None, None],
                [7, 46330, "abc", None, None, None, None, dt.datetime(2026, 11, 4, 9, 30)],
            ]
        )
    )
    assert parsed.index.tolist() == [2, 4]
    assert parsed[Col.ID].tolist() == ["kr-0001", "7"]
    assert parsed["_key"].tolist() == ["KR-0001", "7"]
    assert parsed[Col.CHECKIN_DATE].tolist() == [
        pd.Timestamp("2026-11-02"),
        pd.Timestamp("2026-11-04"),  # serial 46330
    ]
    assert parsed[Col.CURRENT].tolist()[0] == 1200.0
    assert np.isnan(parsed[Col.CURRENT].tolist()[1])
    assert parsed[Col.EXPECTED].tolist()[0] == 0.4
    assert parsed["Synced At"].tolist() == ["", "2026-11-04 09:30:00"]


def test_parse_history_of_nothing() -> None:
    assert parse_history(None).empty
    assert parse_history(table([], header=[])).empty
    assert list(parse_history(None).columns) == [*HISTORY_HEADER, "_key"]


def test_previous_progress_skips_rows_of_the_current_checkin() -> None:
    """The previous check-in is the last row that differs from the current one."""
    history = parse_history(
        table(
            [
                row("KR-0001", D(2026, 11, 2), 10, 0.1, "off track"),
                row("KR-0001", D(2026, 11, 9), 20, 0.2, "off track"),
                row("KR-0002", D(2026, 11, 9), 30, 0.3, "at risk"),
                row("KR-0001", D(2026, 11, 10), 50, 0.5, "on track"),  # = current
                row("KR-0003", D(2026, 11, 2), 10, 0.1, "off track"),
                row("KR-0003", D(2026, 11, 9), 20, 0.2, "off track"),
                row("KR-0003", D(2026, 11, 2), 10, 0.1, "off track"),  # reverted
                row("KR-0005", None, 10, 0.1, "at risk"),  # a check-in with no date
            ]
        )
    )
    current = krs(
        ("KR-0001", D(2026, 11, 10), 50),  # recorded already: previous is 0.2
        ("kr-0002", D(2026, 11, 10), 40),  # new: previous is its last row
        ("KR-0003", D(2026, 11, 2), 10),  # reverted to an old check-in: previous 0.2
        ("KR-0004", D(2026, 11, 10), 10),  # nothing in History
        ("KR-0005", None, 10),  # the same dateless check-in
    )
    prev = previous_progress(current, history)
    assert prev.index.tolist() == [2, 3, 4, 5, 6]
    assert prev.tolist()[:3] == [0.2, 0.3, 0.2]
    assert np.isnan(prev.tolist()[3])
    assert np.isnan(prev.tolist()[4])
    look = Lookback(current, history)
    assert look.recorded.tolist() == [True, False, True, False, True]


def test_previous_progress_is_the_same_before_and_after_the_append() -> None:
    """Appending the current check-in does not move the previous one (Trend is stable)."""
    before = [row("KR-0001", D(2026, 11, 2), 10, 0.1, "off track")]
    after = [*before, row("KR-0001", D(2026, 11, 9), 30, 0.3, "at risk")]
    current = krs(("KR-0001", D(2026, 11, 9), 30))
    assert previous_progress(current, parse_history(table(before))).tolist() == [0.1]
    assert previous_progress(current, parse_history(table(after))).tolist() == [0.1]


def test_off_track_streak_counts_only_prior_checkins() -> None:
    history = parse_history(
        table(
            [
                row("KR-0001", D(2026, 11, 2), 10, 0.1, "off track"),
                row("KR-0001", D(2026, 11, 9), 20, 0.2, "off track"),
                row("KR-0001", D(2026, 11, 10), 25, 0.25, "off track"),  # = current
                row("KR-0002", D(2026, 11, 9), 20, 0.2, "at risk"),
            ]
        )
    )
    current = krs(
        ("KR-0001", D(2026, 11, 10), 25),
        ("KR-0002", D(2026, 11, 10), 20),
        ("KR-0003", D(2026, 11, 10), 20),
    )
    current[Col.HEALTH] = ["off track", "off track", "on track"]
    assert off_track_streak(current, history).tolist() == [3, 1, 0]


def test_new_checkins_rows_for_the_sheet() -> None:
    """Only new check-ins of error-free KRs; cells typed for the backend, blanks as None."""
    history = parse_history(table([row("KR-0001", D(2026, 11, 2), 10, 0.1, "off track")]))
    current = krs(
        ("KR-0001", D(2026, 11, 2), 10),  # recorded
        ("KR-0002", None, 30),  # new, no date
        ("KR-0003", D(2026, 11, 9), 30),  # an error row
        ("KR-0004", None, None),  # never checked in
    )
    current[Col.PROGRESS] = [0.1, 0.3, np.nan, 0.0]
    current[Col.EXPECTED] = [0.5, 0.5, np.nan, 0.5]
    current[Col.HEALTH] = ["off track", "at risk", None, "off track"]
    current[Col.OWNER_HEALTH] = [None, "on track", None, None]
    current["error"] = [False, False, True, False]
    new = new_checkins(current, history, "2026-11-16T09:00:00Z")
    assert new.index.tolist() == [3]
    assert history_rows(new, None) == (
        list(HISTORY_HEADER),
        [["KR-0002", None, 30.0, 0.3, 0.5, "at risk", "on track", "2026-11-16T09:00:00Z"]],
    )
    # Under an existing header in another order, up to its last non-blank text.
    theirs = ["Notes", *reversed(HISTORY_HEADER), "", ""]
    assert history_rows(new, table([], header=theirs)) == (
        ["Notes", *reversed(HISTORY_HEADER)],
        [[None, "2026-11-16T09:00:00Z", "on track", "at risk", 0.5, 0.3, 30.0, None, "KR-0002"]],
    )


def test_merge_warnings_keeps_row_order() -> None:
    first = RowIssue(3, "Owner Health", "on trak", "is not on track", error=False)
    second = RowIssue(5, "Current", "x", "is not a number")
    notes = pd.Series(["", first.note, "", second.note], index=[2, 3, 4, 5], dtype=object)
    extra = [
        RowIssue(2, "Health", None, "off track for 3 check-ins", error=False),
        RowIssue(3, "Health", None, "off track for 4 check-ins", error=False),
        RowIssue(3, "Health", None, "another", error=False),
    ]
    issues, merged = merge_warnings([first, second], notes, extra)
    assert issues == [extra[0], first, extra[1], extra[2], second]
    assert merged.tolist() == [
        "Health: off track for 3 check-ins",
        'Owner Health: "on trak" is not on track; Health: off track for 4 check-ins; '
        "Health: another",
        "",
        'Current: "x" is not a number',
    ]


@pytest.mark.parametrize(
    ("values", "line"),
    [
        ([0.0, 0.1, 0.3, 0.6, 1.0, 1.2], "▁▂▃▅██"),
        ([0.1, np.nan, -0.5], "▂ ▁"),
        ([], ""),
    ],
)
def test_sparkline(values: list[float], line: str) -> None:
    """A fixed 0..1 scale in 8 steps: 0.1 * 7 = 0.7 is the 2nd block, 0.6 * 7 = 4.2 the 5th."""
    assert sparkline(values) == line


def test_a_boolean_kr_never_checked_in_is_not_recorded(
    make_workbook: Callable[..., Path], make_config: Callable[..., Path]
) -> None:
    """Blank Current on a boolean KR counts as not done for Progress, but it is not a
    check-in: nothing goes to History for it."""
    from tests.helpers import base_row

    workbook = make_workbook(
        [
            base_row(ID="KR-0001", Type="boolean", Target=None, Current=None, Check_in_Date=None),
            base_row(ID="KR-0002", Type="boolean", Target=None, Current="done"),
        ]
    )
    config = load_config(make_config(history={"worksheet": "History"}))
    result = sync(config, today=TODAY)
    assert result.table[Col.PROGRESS].tolist() == [0.0, 1.0]
    history = openpyxl.load_workbook(workbook)["History"]
    assert [r[0] for r in history.iter_rows(min_row=2, values_only=True)] == ["KR-0002"]
