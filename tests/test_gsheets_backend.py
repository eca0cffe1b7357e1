"""GSheetsBackend against the local Sheets API emulator: real gspread, real HTTP, no Google."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sheets_emulator import Emulator

from okrsync.backends.base import CellChange, SheetTable
from okrsync.backends.gsheets import GSheetsBackend, RetryPolicy
from okrsync.config import BackendKind, SheetConfig
from okrsync.errors import ConfigError, SheetError, SheetLayoutError

HEADER = ["ID", "Objective", "Key Result", "Owner", "Current", "Check-in Date", "Comment"]
ROWS: list[list[Any]] = [
    ["KR-0001", "Grow", "Signups", "Ana", 120, dt.date(2026, 11, 2), "on plan"],
    ["KR-0002", "Grow", "Churn", "Bo", 2.5, None, None],
    [None, "Keep", "Uptime", "Cy", "TRUE", None, "new row"],
    ["KR-0003", "Keep", "Latency", "Di", None, None, None],
]
ACCOUNT = "okrsync@test-project.iam.gserviceaccount.com"


@pytest.fixture
def sheet(sheets_emulator: Emulator) -> str:
    return sheets_emulator.add_spreadsheet(
        "Team OKRs", {"Check-ins": [HEADER, *ROWS], "History": [["ID", "Synced At"]]}
    )


def config(key: str, emu: Emulator, **fields: Any) -> SheetConfig:
    return SheetConfig(backend=BackendKind.GSHEETS, spreadsheet=key, api_endpoint=emu.url, **fields)


@pytest.fixture
def backend(sheet: str, sheets_emulator: Emulator, fast_sheets_retries: None) -> GSheetsBackend:
    return GSheetsBackend(config(sheet, sheets_emulator))


def progress(row: int, value: float | None, key: str | None, col: int = 8) -> CellChange:
    return CellChange(row, col, "Progress", value, None, key)


# --- reading --------------------------------------------------------------------------------


def test_read_returns_typed_cells(backend: GSheetsBackend) -> None:
    """Numbers as numbers, dates as serial numbers, blanks as None, booleans as bool."""
    tables = backend.read(extra=["History", "Nowhere"])
    table = tables["Check-ins"]
    assert table == SheetTable(
        "Check-ins",
        HEADER,
        [
            ["KR-0001", "Grow", "Signups", "Ana", 120, 46328, "on plan"],
            ["KR-0002", "Grow", "Churn", "Bo", 2.5],
            [None, "Keep", "Uptime", "Cy", True, None, "new row"],
            ["KR-0003", "Keep", "Latency", "Di"],
        ],
    )
    assert isinstance(table.rows[0][4], int)
    assert isinstance(table.rows[1][4], float)
    assert tables["History"] == SheetTable("History", ["ID", "Synced At"], [])
    assert tables["Nowhere"] is None


def test_read_costs_two_requests_whatever_the_row_count(
    sheets_emulator: Emulator, fast_sheets_retries: None
) -> None:
    """Metadata and one batched values read, for 3 rows as for 3000."""
    for count in (3, 3000):
        sheets_emulator.reset()
        rows = [[f"KR-{i:04d}", "Grow", "x", "Ana", i] for i in range(count)]
        key = sheets_emulator.add_spreadsheet("x", {"Check-ins": [HEADER, *rows]})
        table = GSheetsBackend(config(key, sheets_emulator)).read()["Check-ins"]
        assert table is not None
        assert len(table.rows) == count
        calls = sheets_emulator.api_calls()
        assert [c.api for c in calls] == ["spreadsheets.get", "spreadsheets.values.batchGet"]
        assert calls[1].query["valueRenderOption"] == ["UNFORMATTED_VALUE"]
        assert calls[1].query["dateTimeRenderOption"] == ["SERIAL_NUMBER"]


def test_a_missing_worksheet_lists_the_ones_there(
    sheets_emulator: Emulator, sheet: str, fast_sheets_retries: None
) -> None:
    backend = GSheetsBackend(config(sheet, sheets_emulator, worksheet="Checkins"))
    with pytest.raises(SheetLayoutError) as raised:
        backend.read()
    assert str(raised.value) == (
        'Spreadsheet "Team OKRs" has no worksheet "Checkins" (it has "Check-ins", "History"); '
        "set [sheet] worksheet to one of them."
    )
    assert raised.value.exit_code == 2


def test_the_spreadsheet_may_be_given_as_its_url(
    sheets_emulator: Emulator, sheet: str, fast_sheets_retries: None
) -> None:
    url = f"https://docs.google.com/spreadsheets/d/{sheet}/edit#gid=0"
    backend = GSheetsBackend(config(url, sheets_emulator))
    assert backend.key == sheet
    assert backend.read()["Check-ins"] is not None
    assert backend.location() == f"{sheets_emulator.url}/spreadsheets/d/{sheet}/edit"


@pytest.mark.parametrize(
    "value",
    ["https://example.com/not-a-sheet", "my sheet"],
    ids=["url-without-key", "spaces"],
)
def test_a_spreadsheet_that_is_neither_key_nor_url_is_a_config_error(
    sheets_emulator: Emulator, value: str
) -> None:
    with pytest.raises(ConfigError, match=r"\[sheet\] spreadsheet"):
        GSheetsBackend(config(value, sheets_emulator))


# --- writing --------------------------------------------------------------------------------


def test_write_changes_only_the_named_cells(
    backend: GSheetsBackend, sheets_emulator: Emulator, sheet: str
) -> None:
    """Other cells keep their values; computed cells get their number formats."""
    backend.read()
    before = sheets_emulator.values(sheet, "Check-ins")
    backend.write(
        [
            CellChange(1, 8, "Progress", "Progress"),
            CellChange(1, 9, "Next Check-in", "Next Check-in"),
            CellChange(1, 10, "Days Since Check-in", "Days Since Check-in"),
            CellChange(1, 11, "Sync Notes", "Sync Notes"),
            progress(2, 0.75, "KR-0001"),
            CellChange(2, 9, "Next Check-in", dt.date(2026, 11, 9), None, "KR-0001"),
            CellChange(2, 10, "Days Since Check-in", 14, None, "KR-0001"),
            CellChange(3, 11, "Sync Notes", "Current: 2.5 is odd", None, "KR-0002"),
        ]
    )
    after = sheets_emulator.values(sheet, "Check-ins")
    for r, row in enumerate(before):
        assert after[r][: len(row)] == row  # owners' cells untouched
    assert after[0][7:] == ["Progress", "Next Check-in", "Days Since Check-in", "Sync Notes"]
    assert after[1][7:10] == [0.75, 46335, 14]
    assert after[2][10] == "Current: 2.5 is odd"
    shown = sheets_emulator.values(sheet, "Check-ins", "FORMATTED_VALUE")
    assert shown[1][7:10] == ["75%", "2026-11-09", "14"]
    assert sheets_emulator.cell(sheet, "Check-ins", "I2")["userEnteredFormat"] == {
        "numberFormat": {"type": "DATE", "pattern": "yyyy-mm-dd"}
    }


def test_a_read_and_write_cycle_costs_four_requests_and_no_changes_cost_none(
    backend: GSheetsBackend, sheets_emulator: Emulator
) -> None:
    backend.read()
    backend.write([])
    assert len(sheets_emulator.api_calls()) == 2
    backend.write([progress(r, 0.5, f"KR-000{r - 1}") for r in (2, 3)])
    assert [c.api for c in sheets_emulator.api_calls()] == [
        "spreadsheets.get",
        "spreadsheets.values.batchGet",
        "spreadsheets.values.batchGet",  # the header row and ID column, just before writing
        "spreadsheets.batchUpdate",
    ]


def test_a_large_write_is_still_one_batch(
    sheets_emulator: Emulator, fast_sheets_retries: None
) -> None:
    """2000 rows of changes in two columns: one batchUpdate, one run per column (the
    percent column's format set once for its run)."""
    rows = [[f"KR-{i:04d}", "Grow", f"kr {i}", "Ana", i] for i in range(2000)]
    key = sheets_emulator.add_spreadsheet("x", {"Check-ins": [HEADER, *rows]})
    backend = GSheetsBackend(config(key, sheets_emulator))
    backend.read()
    changes = [progress(i + 2, i / 2000, f"KR-{i:04d}") for i in range(2000)]
    changes += [
        CellChange(i + 2, 9, "Health", "on track", None, f"KR-{i:04d}") for i in range(2000)
    ]
    backend.write(changes)
    calls = sheets_emulator.api_calls()
    assert len(calls) == 4
    requests_ = calls[-1].body["requests"]
    assert [next(iter(r)) for r in requests_] == ["repeatCell", "updateCells", "updateCells"]
    values = sheets_emulator.values(key, "Check-ins")
    assert values[1500][7:9] == [1499 / 2000, "on track"]


def test_the_grid_grows_in_the_same_batch(
    sheets_emulator: Emulator, fast_sheets_retries: None
) -> None:
    """A sheet exactly as wide as its header gets its new columns in the writing batch."""
    key = sheets_emulator.add_spreadsheet("x", {"Check-ins": [HEADER, *ROWS]}, cols=len(HEADER))
    backend = GSheetsBackend(config(key, sheets_emulator))
    backend.read()
    backend.write([CellChange(1, 8, "Progress", "Progress"), progress(2, 1.0, "KR-0001")])
    calls = sheets_emulator.api_calls()
    assert len(calls) == 4
    assert next(iter(calls[-1].body["requests"][0])) == "appendDimension"
    assert sheets_emulator.sheet(key, "Check-ins").col_count == len(HEADER) + 1
    assert sheets_emulator.values(key, "Check-ins")[1][7] == 1


def test_text_is_never_a_formula(
    backend: GSheetsBackend, sheets_emulator: Emulator, sheet: str
) -> None:
    """=HYPERLINK(...) and 0123 written by okrsync come back exactly as text."""
    backend.read()
    link = '=HYPERLINK("http://x","y")'
    backend.write(
        [
            CellChange(2, 7, "Comment", link, None, "KR-0001"),
            CellChange(3, 7, "Comment", "0123", None, "KR-0002"),
        ]
    )
    table = backend.read()["Check-ins"]
    assert table is not None
    assert table.rows[0][6] == link
    assert table.rows[1][6] == "0123"
    assert sheets_emulator.cell(sheet, "Check-ins", "G2")["userEnteredValue"] == {
        "stringValue": link
    }


def test_a_blank_id_is_filled(
    backend: GSheetsBackend, sheets_emulator: Emulator, sheet: str
) -> None:
    backend.read()
    backend.write(
        [
            CellChange(4, 1, "ID", "KR-0004", None, "KR-0004"),
            progress(4, 0.0, "KR-0004"),
        ]
    )
    assert sheets_emulator.values(sheet, "Check-ins")[3][0] == "KR-0004"
    assert sheets_emulator.values(sheet, "Check-ins")[3][7] == 0


# --- owners editing during a sync -----------------------------------------------------------


def _changes_for_every_row() -> list[CellChange]:
    return [
        progress(2, 0.1, "KR-0001"),
        progress(3, 0.2, "KR-0002"),
        CellChange(4, 1, "ID", "KR-0004", None, "KR-0004"),
        progress(4, 0.3, "KR-0004"),
        progress(5, 0.4, "KR-0003"),
    ]


def _progress_by_key_result(emu: Emulator, key: str) -> dict[str, Any]:
    rows = emu.values(key, "Check-ins")[1:]
    return {row[2]: (row[0], row[7] if len(row) > 7 else None) for row in rows if len(row) > 2}


EXPECTED = {
    "Signups": ("KR-0001", 0.1),
    "Churn": ("KR-0002", 0.2),
    "Uptime": ("KR-0004", 0.3),
    "Latency": ("KR-0003", 0.4),
}


def test_a_row_inserted_between_read_and_write_leaves_every_value_on_its_row(
    backend: GSheetsBackend, sheets_emulator: Emulator, sheet: str
) -> None:
    """Another user inserts a KR above the others between okrsync's read and its write."""
    backend.read()
    sheets_emulator.insert_rows_before_next_request(
        sheet, "Check-ins", 2, values=[["KR-0009", "Grow", "Revenue", "Ed"]]
    )
    backend.write(_changes_for_every_row())
    assert _progress_by_key_result(sheets_emulator, sheet) == {
        **EXPECTED,
        "Revenue": ("KR-0009", None),
    }
    assert len(sheets_emulator.api_calls()) == 4


def test_rows_sorted_or_deleted_between_read_and_write(
    backend: GSheetsBackend, sheets_emulator: Emulator, sheet: str
) -> None:
    backend.read()

    def edit(emu: Emulator) -> None:
        emu.delete_rows(sheet, "Check-ins", 3)  # KR-0002 is gone
        emu.sort_rows(sheet, "Check-ins", 3, descending=True)  # by Key Result

    sheets_emulator.before_next_request(edit)
    backend.write(_changes_for_every_row())
    assert [r[2] for r in sheets_emulator.values(sheet, "Check-ins")[1:]] == [
        "Uptime",
        "Signups",
        "Latency",
    ]
    expected = {k: v for k, v in EXPECTED.items() if k != "Churn"}
    assert _progress_by_key_result(sheets_emulator, sheet) == expected


TWIN = [None, "Keep", "Same", "Cy"]


@pytest.mark.parametrize(
    ("at_row", "inserted", "ids"),
    [
        (2, ["KR-0009"], ["KR-0009", "KR-0001", "KR-0002", "KR-0003"]),
        (3, TWIN, ["KR-0001", "", "", ""]),
    ],
    ids=["above-the-anchor", "a-lookalike-among-them"],
)
def test_blank_id_rows_that_read_alike_are_placed_by_their_neighbours_or_not_at_all(
    sheets_emulator: Emulator,
    fast_sheets_retries: None,
    at_row: int,
    inserted: list[Any],
    ids: list[str],
) -> None:
    """Two blank-ID rows with the same texts follow the KR above them; a third lookalike
    appearing among them makes any choice a guess, so none is written."""
    key = sheets_emulator.add_spreadsheet(
        "x", {"Check-ins": [HEADER, ["KR-0001", "Grow", "a", "Ana"], TWIN, TWIN]}
    )
    backend = GSheetsBackend(config(key, sheets_emulator))
    backend.read()
    sheets_emulator.insert_rows_before_next_request(key, "Check-ins", at_row, values=[inserted])
    backend.write(
        [
            progress(2, 0.5, "KR-0001"),
            CellChange(3, 1, "ID", "KR-0002", None, "KR-0002"),
            CellChange(4, 1, "ID", "KR-0003", None, "KR-0003"),
        ]
    )
    values = sheets_emulator.values(key, "Check-ins")
    assert [row[0] for row in values[1:]] == ids
    assert next(row[7] for row in values if row[0] == "KR-0001") == 0.5


def test_a_column_inserted_between_read_and_write_writes_nothing(
    backend: GSheetsBackend, sheets_emulator: Emulator, sheet: str
) -> None:
    backend.read()
    before = sheets_emulator.values(sheet, "Check-ins")

    def insert_column(emu: Emulator) -> None:
        emu.sheet(sheet, "Check-ins").insert("COLUMNS", 0, 1)

    sheets_emulator.before_next_request(insert_column)
    with pytest.raises(SheetError, match="changed while okrsync was syncing"):
        backend.write([progress(2, 0.5, "KR-0001")])
    after = sheets_emulator.values(sheet, "Check-ins")
    assert [row[1:] for row in after] == before
    assert sheets_emulator.api_calls()[-1].api == "spreadsheets.values.batchGet"


# --- appending ------------------------------------------------------------------------------


def test_append_rows_creates_a_missing_worksheet_in_one_batch(
    backend: GSheetsBackend, sheets_emulator: Emulator, sheet: str
) -> None:
    backend.read()
    sheets_emulator.clear_log()
    backend.append_rows("Log", ["ID", "Date"], [["KR-0001", dt.date(2026, 11, 16)]])
    (call,) = sheets_emulator.api_calls()
    assert [next(iter(r)) for r in call.body["requests"]] == ["addSheet", "appendCells"]
    assert sheets_emulator.values(sheet, "Log", "FORMATTED_VALUE") == [
        ["ID", "Date"],
        ["KR-0001", "2026-11-16"],
    ]
    assert sheets_emulator.sheet(sheet, "Log").grid["frozenRowCount"] == 1
    backend.append_rows("Log", ["ID", "Date"], [["KR-0002", None]])
    assert sheets_emulator.values(sheet, "Log")[-1] == ["KR-0002"]
    assert len(sheets_emulator.api_calls()) == 2


def test_append_rows_follows_the_worksheets_own_header(
    backend: GSheetsBackend, sheets_emulator: Emulator, sheet: str
) -> None:
    """Values go under their headers as the sheet has them; unknown headers are added."""
    backend.read(extra=["History"])
    backend.append_rows(
        "History",
        ["Synced At", "ID", "Progress"],
        [[dt.datetime(2026, 11, 16, 9, 30), "KR-0001", 0.5]],
    )
    assert sheets_emulator.values(sheet, "History", "FORMATTED_VALUE") == [
        ["ID", "Synced At", "Progress"],
        ["KR-0001", "2026-11-16 09:30:00", "0.5"],
    ]
    assert backend.append_rows("History", ["ID"], []) is None
    assert len(sheets_emulator.api_calls()) == 3


# --- failures -------------------------------------------------------------------------------


def recording_policy(waits: list[float], budget: float = 60.0) -> RetryPolicy:
    return RetryPolicy(budget=budget, base=1.0, cap=8.0, sleep=waits.append, jitter=lambda: 0.5)


def test_429_with_retry_after_is_waited_out(sheets_emulator: Emulator, sheet: str) -> None:
    """Retry-After is the least wait; the read then succeeds."""
    waits: list[float] = []
    backend = GSheetsBackend(config(sheet, sheets_emulator), retry=recording_policy(waits))
    sheets_emulator.fail_next(429, retry_after=7)
    assert backend.read()["Check-ins"] is not None
    assert waits == [7.0]
    assert [c.status for c in sheets_emulator.api_calls()] == [429, 200, 200]


def test_503s_are_retried_with_exponential_backoff_and_jitter(
    sheets_emulator: Emulator, sheet: str
) -> None:
    waits: list[float] = []
    backend = GSheetsBackend(config(sheet, sheets_emulator), retry=recording_policy(waits))
    sheets_emulator.fail_next(503, count=4)
    backend.read()
    assert waits == [0.5, 1.0, 2.0, 4.0]  # base * 2**n, capped at 8, times the jitter 0.5


def test_retries_stop_at_the_budget_with_one_sentence(
    sheets_emulator: Emulator, sheet: str
) -> None:
    waits: list[float] = []
    backend = GSheetsBackend(
        config(sheet, sheets_emulator), retry=recording_policy(waits, budget=3.0)
    )
    sheets_emulator.fail_next(500, count=10)
    with pytest.raises(SheetError) as raised:
        backend.read()
    assert str(raised.value) == (
        "Google Sheets kept answering HTTP 500 while reading the sheet (3 tries over 2 s); "
        "try again later."
    )
    assert raised.value.exit_code == 1
    assert sum(waits) <= 3.0


def test_real_retries_recover_quickly_with_a_small_budget(
    backend: GSheetsBackend, sheets_emulator: Emulator
) -> None:
    """With the suite's fast policy, real sleeps: a 503 then a 429 are both recovered."""
    sheets_emulator.fail_next(503)
    sheets_emulator.fail_next(429, retry_after=0)
    assert backend.read()["Check-ins"] is not None


def test_403_names_the_service_account_to_share_with(
    sheets_emulator: Emulator,
    make_service_account: Callable[..., Path],
    fast_sheets_retries: None,
) -> None:
    key = sheets_emulator.add_spreadsheet("x", shared_with=["someone-else@example.com"])
    backend = GSheetsBackend(config(key, sheets_emulator, credentials=make_service_account()))
    with pytest.raises(SheetError) as raised:
        backend.read()
    assert str(raised.value) == (
        f"Google Sheets refused access to spreadsheet {key}; share the sheet with {ACCOUNT} "
        "as an editor (the Share button) and run again."
    )


def test_a_shared_sheet_is_read_with_the_service_accounts_token(
    sheets_emulator: Emulator,
    make_service_account: Callable[..., Path],
    fast_sheets_retries: None,
) -> None:
    """The key signs a JWT for the emulator's /token; every API call carries the token."""
    key = sheets_emulator.add_spreadsheet("x", {"Check-ins": [HEADER]}, shared_with=[ACCOUNT])
    backend = GSheetsBackend(config(key, sheets_emulator, credentials=make_service_account()))
    assert backend.account == ACCOUNT
    backend.read()
    assert [r.path for r in sheets_emulator.requests if r.api is None] == ["/token"]
    assert {c.caller for c in sheets_emulator.api_calls()} == {ACCOUNT}


def test_google_application_credentials_is_used_when_the_config_has_none(
    sheets_emulator: Emulator,
    make_service_account: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
    fast_sheets_retries: None,
) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(make_service_account()))
    key = sheets_emulator.add_spreadsheet("x", {"Check-ins": [HEADER]}, shared_with=[ACCOUNT])
    GSheetsBackend(config(key, sheets_emulator)).read()
    assert {c.caller for c in sheets_emulator.api_calls()} == {ACCOUNT}


def test_a_refused_key_is_one_sentence(
    sheets_emulator: Emulator,
    make_service_account: Callable[..., Path],
    fast_sheets_retries: None,
) -> None:
    """The token endpoint says invalid_grant (a deleted or disabled key): exit 1, no key."""
    sheets_emulator.token_error = "Invalid JWT Signature."
    path = make_service_account()
    key = sheets_emulator.add_spreadsheet("x", {"Check-ins": [HEADER]})
    with pytest.raises(SheetError) as raised:
        GSheetsBackend(config(key, sheets_emulator, credentials=path)).read()
    assert str(raised.value) == (
        "Google refused the service account's key while reading the sheet; check that the "
        f"key in {path} is still active in the Google Cloud console."
    )
    assert sheets_emulator.api_calls() == []


def test_an_unreachable_endpoint_is_one_sentence(fast_sheets_retries: None) -> None:
    import socket

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}"
    sheet = SheetConfig(backend=BackendKind.GSHEETS, spreadsheet="abc", api_endpoint=endpoint)
    with pytest.raises(SheetError) as raised:
        GSheetsBackend(sheet).read()
    message = str(raised.value)
    assert message.startswith(f"Could not reach Google Sheets at {endpoint} while reading")
    assert message.endswith("check the network connection and [sheet] api_endpoint.")


def test_403_without_credentials_says_to_configure_them(
    sheets_emulator: Emulator, fast_sheets_retries: None
) -> None:
    key = sheets_emulator.add_spreadsheet("x", shared_with=[ACCOUNT])
    with pytest.raises(SheetError, match=r"refused anonymous access.*\[sheet\] credentials"):
        GSheetsBackend(config(key, sheets_emulator)).read()


def test_404_says_the_spreadsheet_was_not_found(
    sheets_emulator: Emulator, fast_sheets_retries: None
) -> None:
    with pytest.raises(SheetError) as raised:
        GSheetsBackend(config("missingKey123", sheets_emulator)).read()
    assert str(raised.value) == (
        "Spreadsheet missingKey123 not found; check [sheet] spreadsheet (the sheet's key or URL)."
    )


def test_a_refused_write_is_one_sentence_and_changes_nothing(
    backend: GSheetsBackend, sheets_emulator: Emulator, sheet: str
) -> None:
    backend.read()
    before = sheets_emulator.values(sheet, "Check-ins")
    sheets_emulator.before_next_request(
        lambda emu: emu.before_next_request(lambda e: e.fail_next(400, message="Bad things."))
    )
    with pytest.raises(SheetError) as raised:
        backend.write([progress(2, 0.5, "KR-0001")])
    assert str(raised.value) == "Google Sheets refused writing the sheet: Bad things."
    assert sheets_emulator.values(sheet, "Check-ins") == before


# --- credentials ----------------------------------------------------------------------------

SECRET = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC-not-a-real-key-SECRET-MATERIAL"


def _write(tmp_path: Path, content: str) -> Path:
    path = tmp_path / "key.json"
    path.write_text(content, encoding="utf-8")
    return path


def _broken_key() -> str:
    return json.dumps(
        {
            "type": "service_account",
            "client_email": ACCOUNT,
            "token_uri": "http://127.0.0.1:9/token",
            "private_key": f"-----BEGIN PRIVATE KEY-----\n{SECRET}\n-----END PRIVATE KEY-----\n",
        }
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (_broken_key(), "holds a private key that cannot be read"),
        ('{"type": "service_account", "private_key": "' + SECRET + '"', "is not JSON"),
        ('{"type": "authorized_user", "refresh_token": "' + SECRET + '"}', '"authorized_user"'),
        ('{"type": "service_account", "private_key": "' + SECRET + '"}', "lacks client_email"),
    ],
    ids=["unreadable-key", "not-json", "user-credential", "missing-fields"],
)
def test_bad_credentials_are_config_errors_that_never_show_the_key(
    sheets_emulator: Emulator, tmp_path: Path, content: str, message: str
) -> None:
    path = _write(tmp_path, content)
    with pytest.raises(ConfigError) as raised:
        GSheetsBackend(config("abc", sheets_emulator, credentials=path))
    error = raised.value
    assert message in str(error)
    assert str(path) in str(error)
    assert error.exit_code == 2
    assert SECRET not in str(error)
    assert "PRIVATE KEY" not in str(error)
    # Nothing chained either: a traceback under -v shows no parser message quoting the key.
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__


def test_a_missing_credentials_file_is_a_config_error(
    sheets_emulator: Emulator, tmp_path: Path
) -> None:
    path = tmp_path / "nope.json"
    with pytest.raises(ConfigError, match="not found"):
        GSheetsBackend(config("abc", sheets_emulator, credentials=path))


def test_no_credentials_and_no_endpoint_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    sheet = SheetConfig(backend=BackendKind.GSHEETS, spreadsheet="abc")
    with pytest.raises(ConfigError, match="needs a service-account key"):
        GSheetsBackend(sheet)
