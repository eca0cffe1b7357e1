"""Errors, warnings, Sync Notes wording, IDs and blank rows, as the contract lists them."""

from __future__ import annotations

import datetime as dt

import pytest

from okrsync.columns import Col
from okrsync.errors import SheetLayoutError
from okrsync.read import read_table
from tests.helpers import HEADER, base_row, make_config_obj, run_rows, to_table

TODAY = dt.date(2026, 11, 16)


def notes_for(row: dict, **config: object) -> tuple[bool, str]:
    _, checked = run_rows([row], TODAY, make_config_obj(**config) if config else None)
    return bool(checked.error.iloc[0]), checked.notes.iloc[0]


@pytest.mark.parametrize(
    ("cells", "note"),
    [
        ({"Objective": None}, "Objective: is required"),
        ({"Key Result": "  "}, "Key Result: is required"),
        ({"Owner": None}, "Owner: is required"),
        ({"Target": None}, "Target: is required"),
        ({"Type": "at least", "Target": None}, "Target: is required"),
        ({"Current": "abc"}, 'Current: "abc" is not a number'),
        ({"Current": "1,2"}, 'Current: "1,2" is not a number'),
        ({"Start": "ten"}, 'Start: "ten" is not a number'),
        ({"Target": dt.date(2026, 1, 1)}, 'Target: "2026-01-01" is not a number'),
        (
            {"Check-in Date": "last week"},
            'Check-in Date: "last week" is not a date (use YYYY-MM-DD)',
        ),
        ({"Due Date": "soon"}, 'Due Date: "soon" is not a date (use YYYY-MM-DD)'),
        (
            {"Type": "linear"},
            'Type: "linear" is not a type (use increase, decrease, at least, at most, '
            "boolean or percent)",
        ),
        (
            {"Cadence": "sometimes"},
            'Cadence: "sometimes" is not a cadence (use weekly, biweekly, monthly or a number of '
            "days)",
        ),
        (
            {"Cadence": "0d"},
            'Cadence: "0d" is not a cadence (use weekly, biweekly, monthly or a number of days)',
        ),
        (
            {"Owner Email": "ann@example.com, bob@example.com"},
            'Owner Email: "ann@example.com, bob@example.com" is not an email address',
        ),
        (
            {"Owner Email": "Ann <ann@example.com>"},
            'Owner Email: "Ann <ann@example.com>" is not an email address',
        ),
        (
            {"Start": 100, "Target": 100},
            'Target: "100" equals Start; there is nothing to progress toward',
        ),
        (
            {"Due Date": dt.date(2026, 10, 1)},
            'Due Date: "2026-10-01" is on or before the cycle start (2026-10-01)',
        ),
        (
            {"Check-in Date": dt.date(2026, 11, 17)},
            'Check-in Date: "2026-11-17" is after today (2026-11-16)',
        ),
        (
            {"Type": "boolean", "Target": None, "Current": "maybe"},
            'Current: "maybe" is not done or not done (use done, yes or no)',
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_errors(cells: dict, note: str) -> None:
    """Each error in the contract is an error, worded with its column and quoted cell."""
    row = base_row()
    row.update(cells)
    assert notes_for(row) == (True, note)


@pytest.mark.parametrize(
    ("cells", "note"),
    [
        (
            {"Owner Health": "on trak"},
            'Owner Health: "on trak" is not on track, at risk or off track',
        ),
        (
            {"Type": "increase", "Start": 100, "Target": 50, "Current": 80},
            'Type: "increase" but Target is below Start',
        ),
        (
            {"Type": "decrease", "Start": 10, "Target": 50, "Current": 20},
            'Type: "decrease" but Target is above Start',
        ),
        (
            {"Check-in Date": dt.date(2026, 9, 28)},
            'Check-in Date: "2026-09-28" is before the cycle start (2026-10-01)',
        ),
    ],
)
def test_warnings(cells: dict, note: str) -> None:
    """Warnings are noted and do not stop the row from computing."""
    row = base_row()
    row.update(cells)
    assert notes_for(row) == (False, note)


@pytest.mark.parametrize(
    ("cells", "note"),
    [
        (
            {"Check-in Date": 46346},
            'Check-in Date: "2026-11-20" is after today (2026-11-16)',
        ),
        (
            {"Check-in Date": 46293},
            'Check-in Date: "2026-09-28" is before the cycle start (2026-10-01)',
        ),
        (
            {"Due Date": 46296.0},
            'Due Date: "2026-10-01" is on or before the cycle start (2026-10-01)',
        ),
        (
            {"Check-in Date": dt.datetime(2026, 11, 20)},
            'Check-in Date: "2026-11-20" is after today (2026-11-16)',
        ),
        (
            {"Check-in Date": "2026-11-20"},
            'Check-in Date: "2026-11-20" is after today (2026-11-16)',
        ),
    ],
    ids=["serial", "serial-warning", "serial-due", "datetime", "text"],
)
def test_date_cells_are_quoted_as_dates(cells: dict, note: str) -> None:
    """Google Sheets hands a date cell over as its serial number (46346 is 2026-11-20):
    a note quotes the date the owner sees, as for a workbook's date cell."""
    row = base_row()
    row.update(cells)
    _, checked = run_rows([row], TODAY)
    assert checked.notes.iloc[0] == note
    assert [str(i.value)[:10] for i in checked.issues] == [note.split('"')[1]]


@pytest.mark.parametrize(
    "word",
    ["on track", "On-Track", "ONTRACK", "green", "at risk", "Amber", "yellow", "off track", "RED"],
)
def test_owner_health_words_are_accepted(word: str) -> None:
    """Every accepted Owner Health spelling is clean (no note)."""
    assert notes_for(base_row(Owner_Health=word)) == (False, "")


def test_percent_and_boolean_need_no_target() -> None:
    """Target is not required for boolean and percent KRs."""
    for kind, current in (("boolean", "yes"), ("percent", "40%")):
        assert notes_for(base_row(Type=kind, Target=None, Current=current)) == (False, "")


def test_several_problems_on_one_row_are_all_noted_in_column_order() -> None:
    """Sync Notes lists every problem on the row, separated by ';'."""
    row = base_row(Owner=None, Current="abc", Owner_Health="meh")
    error, note = notes_for(row)
    assert error
    assert note.split("; ") == [
        "Owner: is required",
        'Current: "abc" is not a number',
        'Owner Health: "meh" is not on track, at risk or off track',
    ]


def test_duplicate_ids_are_errors_on_every_row_sharing_them() -> None:
    """An ID used twice is an error on both rows, naming the other row."""
    rows = [base_row(ID="KR-0001"), base_row(ID="KR-0002"), base_row(ID="kr-0001 ")]
    _, checked = run_rows(rows, TODAY)
    assert checked.error.tolist() == [True, False, True]
    assert checked.notes.tolist() == [
        'ID: "KR-0001" is also used on row 4',
        "",
        'ID: "kr-0001" is also used on row 2',
    ]


def test_blank_ids_are_filled_above_the_highest_in_row_order() -> None:
    """Blank IDs get KR- and a 4-digit number one above the highest, in row order."""
    rows = [base_row(), base_row(ID="KR-0007"), base_row(), base_row(ID="KR-0002"), base_row()]
    _, checked = run_rows(rows, TODAY)
    assert checked.id_fills.to_dict() == {2: "KR-0008", 4: "KR-0009", 6: "KR-0010"}
    assert checked.kr[Col.ID].tolist() == ["KR-0008", "KR-0007", "KR-0009", "KR-0002", "KR-0010"]


def test_first_id_in_a_sheet_without_ids_is_kr_0001() -> None:
    _, checked = run_rows([base_row(), base_row(ID="Sales-1")], TODAY)
    assert checked.id_fills.tolist() == ["KR-0001"]


def test_entirely_blank_rows_are_skipped_not_errors() -> None:
    """A blank row is neither an error nor a KR; the rows around it keep their numbers."""
    rows = [base_row(), dict.fromkeys(HEADER), {"Objective": "  "}, base_row(Current="x")]
    _, checked = run_rows(rows, TODAY)
    assert checked.kr.index.tolist() == [2, 5]
    assert checked.error.tolist() == [False, True]
    assert [i.row for i in checked.issues] == [5]


def test_headers_match_loosely_and_in_any_order() -> None:
    """Headers match case-insensitively, ignoring outer and repeated spaces; order is free."""
    header = ["  key   RESULT", "owner", "OBJECTIVE ", "target", "current", "Check-In  Date"]
    rows = [{"  key   RESULT": "KR", "owner": "Ann", "OBJECTIVE ": "O", "target": 10, "current": 5}]
    computed, checked = run_rows(rows, TODAY, header=header)
    assert checked.notes.tolist() == [""]
    assert computed.iloc[0][Col.PROGRESS] == 0.5


def test_columns_config_maps_other_header_texts() -> None:
    """[columns] maps a team's own header texts onto the contract's names."""
    header = ["Goal", "KR", "Who", "Goal value", "Now"]
    config = make_config_obj(
        columns={
            "Goal": "Objective",
            "KR": "Key Result",
            "Who": "Owner",
            "goal VALUE": "Target",
            "Now": "Current",
        }
    )
    rows = [{"Goal": "O", "KR": "K", "Who": "Ann", "Goal value": 8, "Now": 2}]
    computed, checked = run_rows(rows, TODAY, config, header=header)
    assert checked.notes.tolist() == [""]
    assert computed.iloc[0][Col.PROGRESS] == 0.25


def test_missing_required_header_is_a_layout_error() -> None:
    """Without an Owner column no row can be understood: one sentence, what to do."""
    header = [h for h in HEADER if h != "Owner"]
    with pytest.raises(SheetLayoutError, match=r'no "Owner" column.*okrsync setup') as e:
        read_table(to_table([base_row()], header), make_config_obj())
    assert e.value.exit_code == 2


def test_two_headers_for_one_column_is_a_layout_error() -> None:
    header = [*HEADER, "current"]
    with pytest.raises(SheetLayoutError, match="two Current columns"):
        read_table(to_table([base_row()], header), make_config_obj())
