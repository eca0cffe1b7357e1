"""The contract's computed columns, with expected values worked out by hand.

Cycle 2026-10-01 .. 2026-12-31 (91 days) unless a test says otherwise.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from okrsync.backends.base import Percent
from okrsync.columns import Col
from tests.helpers import base_row, make_config_obj, run_rows

D = dt.date
# A 10-day KR (Due 2026-10-11) makes Expected a round number: on 2026-10-06 it is 0.5.
TEN_DAY = {"Due_Date": D(2026, 10, 11), "Check_in_Date": D(2026, 10, 2)}


def one(row: dict, today: dt.date, **config: object) -> pd.Series:
    computed, checked = run_rows([row], today, make_config_obj(**config) if config else None)
    assert not checked.error.iloc[0], checked.notes.iloc[0]
    return computed.iloc[0]


@pytest.mark.parametrize(
    ("cells", "progress"),
    [
        ({"Start": 0, "Target": 100, "Current": 40}, 0.4),
        ({"Start": 20, "Target": 120, "Current": 70}, 0.5),
        ({"Start": 50, "Target": 10, "Current": 30}, 0.5),  # decrease, inferred
        ({"Type": "decrease", "Start": 50, "Target": 10, "Current": 40}, 0.25),
        ({"Start": 0, "Target": 100, "Current": 150}, 1.0),  # clamped
        ({"Start": 0, "Target": 100, "Current": -5}, 0.0),  # clamped
        ({"Start": 0, "Target": 100, "Current": None}, 0.0),  # no check-in: at Start
        ({"Start": 10, "Target": 40, "Current": None}, 0.0),
        ({"Start": None, "Target": 3, "Current": 1}, 0.3333),  # blank Start is 0; rounded
        ({"Start": 0, "Target": "1,200", "Current": "$300"}, 0.25),
        ({"Type": "percent", "Target": None, "Current": 75}, 0.75),  # bare > 1 is a percent
        ({"Type": "percent", "Target": None, "Current": "75%"}, 0.75),
        ({"Type": "percent", "Target": None, "Current": 0.4}, 0.4),
        ({"Type": "percent", "Target": None, "Current": Percent(1.5)}, 1.0),  # 150% cell
        ({"Type": "percent", "Target": None, "Current": 1}, 1.0),  # 1 is not above 1
        ({"Type": "boolean", "Target": None, "Current": "done"}, 1.0),
        ({"Type": "boolean", "Target": None, "Current": "✓"}, 1.0),
        ({"Type": "boolean", "Target": None, "Current": "no"}, 0.0),
        ({"Type": "boolean", "Target": None, "Current": None}, 0.0),
        ({"Type": "at least", "Target": 99.9, "Current": 99.95}, 1.0),
        ({"Type": "at least", "Target": 99.9, "Current": 99.0}, 0.0),
        ({"Type": "at least", "Target": 99.9, "Current": None}, 0.0),  # blank is not met
        ({"Type": "at most", "Target": 5, "Current": 5}, 1.0),
        ({"Type": "at most", "Target": 5, "Current": 6}, 0.0),
    ],
    ids=lambda v: str(v) if not isinstance(v, dict) else ",".join(f"{k}={v[k]}" for k in v),
)
def test_progress(cells: dict, progress: float) -> None:
    """Progress follows the KR's Type as the contract defines it."""
    got = one(base_row(**cells), D(2026, 11, 16))
    assert got[Col.PROGRESS] == pytest.approx(progress, abs=1e-12)


@pytest.mark.parametrize(
    ("today", "due", "expected"),
    [
        (D(2026, 11, 16), None, 0.5055),  # 46 of 91 days
        (D(2026, 9, 20), None, 0.0),  # before the cycle start
        (D(2026, 10, 1), None, 0.0),
        (D(2026, 12, 31), None, 1.0),
        (D(2027, 1, 15), None, 1.0),  # clamped after the end
        (D(2026, 10, 6), D(2026, 10, 11), 0.5),  # the KR's own due date
    ],
)
def test_expected(today: dt.date, due: dt.date | None, expected: float) -> None:
    """Expected is the share of the KR's period elapsed, clamped to [0, 1]."""
    row = base_row(Due_Date=due, Check_in_Date=None)
    assert one(row, today)[Col.EXPECTED] == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    ("today", "current", "health"),
    [
        (D(2026, 10, 6), 40, "on track"),  # gap exactly 0.10
        (D(2026, 10, 6), 39, "at risk"),  # gap 0.11
        (D(2026, 10, 9), 70, "on track"),  # 0.8 - 0.7 is 0.10000000000000009 in floats
        (D(2026, 10, 6), 25, "at risk"),  # gap exactly 0.25
        (D(2026, 10, 6), 24, "off track"),  # gap 0.26
        (D(2026, 10, 6), 100, "done"),
        (D(2026, 10, 11), 95, "on track"),  # due date today is not past it
        (D(2026, 10, 12), 95, "off track"),  # past due and not done
        (D(2026, 10, 12), 100, "done"),
    ],
)
def test_health_by_gap(today: dt.date, current: float, health: str) -> None:
    """Health compares Expected − Progress with the gaps after the contract's rounding."""
    row = base_row(Current=current, **TEN_DAY)
    assert one(row, today)[Col.HEALTH] == health


def test_health_gaps_come_from_config() -> None:
    """[health] at_risk_gap and off_track_gap move the boundaries."""
    row = base_row(Current=40, **TEN_DAY)
    got = one(row, D(2026, 10, 6), health={"at_risk_gap": 0.05, "off_track_gap": 0.08})
    assert got[Col.HEALTH] == "off track"


@pytest.mark.parametrize(
    ("kind", "current", "today", "health"),
    [
        ("at least", 99.95, D(2026, 11, 16), "on track"),  # met, whatever the pace
        ("at least", 98, D(2026, 11, 16), "off track"),
        ("at least", 99.95, D(2027, 1, 2), "done"),  # met past the due date
        ("at least", 98, D(2027, 1, 2), "off track"),
        ("at most", 99, D(2026, 11, 16), "on track"),
        ("at most", 100, D(2026, 11, 16), "off track"),
    ],
)
def test_kept_kr_health(kind: str, current: float, today: dt.date, health: str) -> None:
    """at least / at most KRs are kept, not reached: met is on track, then done."""
    row = base_row(Type=kind, Target=99.9, Current=current, Check_in_Date=D(2026, 11, 1))
    assert one(row, today)[Col.HEALTH] == health


@pytest.mark.parametrize(
    ("checkin", "cadence", "today", "next_checkin", "overdue"),
    [
        (D(2026, 11, 1), "weekly", D(2026, 11, 16), D(2026, 11, 8), "yes"),
        (D(2026, 11, 10), "weekly", D(2026, 11, 16), D(2026, 11, 17), "no"),
        (D(2026, 11, 9), "weekly", D(2026, 11, 16), D(2026, 11, 16), "no"),  # due today
        (D(2026, 11, 1), "biweekly", D(2026, 11, 16), D(2026, 11, 15), "yes"),
        (D(2026, 11, 1), "Bi-Weekly", D(2026, 11, 14), D(2026, 11, 15), "no"),
        (D(2026, 11, 1), "fortnightly", D(2026, 11, 16), D(2026, 11, 15), "yes"),
        (D(2026, 11, 1), "10d", D(2026, 11, 16), D(2026, 11, 11), "yes"),
        (D(2026, 11, 1), 10, D(2026, 11, 16), D(2026, 11, 11), "yes"),
        (D(2026, 10, 31), "monthly", D(2026, 11, 16), D(2026, 11, 30), "no"),  # Oct 31 -> Nov 30
        (None, "weekly", D(2026, 11, 16), D(2026, 10, 8), "yes"),  # none yet: cycle start + 7
        (None, None, D(2026, 10, 5), D(2026, 10, 8), "no"),  # blank: the config default
    ],
)
def test_next_checkin_and_overdue(
    checkin: dt.date | None,
    cadence: object,
    today: dt.date,
    next_checkin: dt.date,
    overdue: str,
) -> None:
    """Next Check-in is Check-in Date (or the cycle start) plus Cadence; late means overdue."""
    row = base_row(Check_in_Date=checkin, Cadence=cadence)
    got = one(row, today)
    assert got[Col.NEXT_CHECKIN] == pd.Timestamp(next_checkin)
    assert got[Col.OVERDUE] == overdue


def test_monthly_from_january_31_ends_on_february_28() -> None:
    """monthly adds one calendar month, ending on the last day of a shorter month."""
    config = make_config_obj(cycle={"start": D(2027, 1, 1), "end": D(2027, 3, 31)})
    row = base_row(Check_in_Date=D(2027, 1, 31), Cadence="monthly")
    for today, overdue in ((D(2027, 2, 28), "no"), (D(2027, 3, 1), "yes")):
        computed, _ = run_rows([row], today, config)
        assert computed.iloc[0][Col.NEXT_CHECKIN] == pd.Timestamp(2027, 2, 28)
        assert computed.iloc[0][Col.OVERDUE] == overdue


def test_done_kr_is_never_overdue() -> None:
    """Overdue is 'no' once Health is done, however late the check-in."""
    got = one(base_row(Current=100, Check_in_Date=D(2026, 10, 2)), D(2026, 11, 16))
    assert (got[Col.HEALTH], got[Col.OVERDUE]) == ("done", "no")


@pytest.mark.parametrize(
    ("checkin", "days"),
    [(D(2026, 11, 1), 15), (D(2026, 11, 16), 0), (None, None)],
)
def test_days_since_checkin(checkin: dt.date | None, days: int | None) -> None:
    """Whole calendar days from Check-in Date to today; blank without a check-in."""
    got = one(base_row(Check_in_Date=checkin), D(2026, 11, 16))[Col.DAYS_SINCE]
    assert (pd.isna(got) and days is None) or got == days


def test_dates_in_every_accepted_form_agree() -> None:
    """A date cell, a datetime, a Google serial, ISO text and a configured format are equal."""
    forms = [
        D(2026, 11, 2),
        dt.datetime(2026, 11, 2, 17, 30),
        46328,  # 2026-11-02 as a Google Sheets serial number
        "2026-11-02",
        "02/11/2026",
    ]
    rows = [base_row(Check_in_Date=f) for f in forms]
    config = make_config_obj(date_formats=["%d/%m/%Y"])
    computed, checked = run_rows(rows, D(2026, 11, 16), config)
    assert not checked.error.any(), checked.notes.tolist()
    assert set(computed[Col.DAYS_SINCE]) == {14}


def test_error_rows_keep_only_sync_notes() -> None:
    """A row with an error gets Sync Notes and blank computed cells; others compute."""
    computed, _ = run_rows([base_row(), base_row(Current="abc")], D(2026, 11, 16))
    good, bad = computed.iloc[0], computed.iloc[1]
    assert good[Col.HEALTH] == "on track"
    assert bad[Col.SYNC_NOTES] == 'Current: "abc" is not a number'
    for col in (Col.PROGRESS, Col.EXPECTED, Col.HEALTH, Col.OVERDUE, Col.DAYS_SINCE):
        assert pd.isna(bad[col]) or bad[col] is None, col
    assert pd.isna(bad[Col.NEXT_CHECKIN])


def test_warning_rows_still_compute() -> None:
    """Warnings go into Sync Notes and the row is computed as usual."""
    computed, checked = run_rows([base_row(Owner_Health="on trak")], D(2026, 11, 16))
    assert not checked.error.iloc[0]
    assert computed.iloc[0][Col.HEALTH] == "on track"
    assert computed.iloc[0][Col.SYNC_NOTES] == (
        'Owner Health: "on trak" is not on track, at risk or off track'
    )


def test_trend_from_previous_progress() -> None:
    """Trend compares Progress with the previous check-in's; blank without one."""
    rows = [base_row(Current=c) for c in (50, 50, 50, 50)]
    config = make_config_obj()
    from okrsync.compute import compute
    from okrsync.read import read_table
    from okrsync.validate import validate
    from tests.helpers import to_table

    frame = read_table(to_table(rows), config)
    checked = validate(frame, config, D(2026, 11, 16))
    previous = pd.Series([0.4, 0.6, 0.5, None], index=checked.kr.index)
    computed = compute(checked, config, D(2026, 11, 16), previous_progress=previous)
    assert computed[Col.TREND].tolist() == ["↑", "↓", "→", None]
