"""The cell parsers: every form the contract accepts, the rejections, and properties.

Expected values are worked out by hand from the contract (section 1, "Numbers",
"Dates", "Boolean Current", the Owner Health, Type and Cadence rows), not read off the
code. A parser takes a column of raw cells and returns values plus a ``bad`` mask; a
bad cell becomes a Sync Note upstream, so the properties below hold the parsers to
"never raise, and flag exactly the non-blank cells they could not read".
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from okrsync.backends.base import Percent
from okrsync.columns import Health, KrType
from okrsync.parse import (
    Cadence,
    Parsed,
    is_blank,
    parse_cadence,
    parse_cadences,
    parse_dates,
    parse_done,
    parse_emails,
    parse_health,
    parse_numbers,
    parse_types,
    percent_mask,
    text_of,
)


def col(*cells: Any) -> pd.Series:
    """A column of raw cells as a backend hands it over."""
    return pd.Series(list(cells), dtype=object)


def one(parser: Callable[[pd.Series], Parsed], cell: Any) -> tuple[Any, bool]:
    """Parse a single cell: (value, bad)."""
    parsed = parser(col(cell))
    return parsed.values.iloc[0], bool(parsed.bad.iloc[0])


def table(cases: dict[str, tuple[Any, Any]]) -> dict[str, Any]:
    """``parametrize`` arguments from ``{id: (cell, expected)}``."""
    return {"argvalues": list(cases.values()), "ids": list(cases)}


BLANKS = {"none": None, "empty": "", "spaces": "   ", "tab-newline": "\t\n", "nan": math.nan}


# --- numbers ------------------------------------------------------------------------

NUMBERS = {
    "int-cell": (1200, 1200.0),
    "float-cell": (3.5, 3.5),
    "zero-cell": (0, 0.0),
    "negative-cell": (-4, -4.0),
    "percent-cell": (Percent(0.75), 0.75),
    "thousands": ("1,200", 1200.0),
    "millions": ("1,200,000", 1_200_000.0),
    "thousands-decimal": ("1,200.50", 1200.5),
    "decimal": ("3.5", 3.5),
    "leading-dot": (".5", 0.5),
    "trailing-dot": ("5.", 5.0),
    "percent-text": ("75%", 0.75),
    "percent-decimal": ("12.5%", 0.125),
    "percent-space": ("75 %", 0.75),
    "over-100-percent": ("150%", 1.5),
    "dollars": ("$1,200", 1200.0),
    "dollars-space": ("$ 45,000", 45000.0),
    "euros": ("€3.5", 3.5),
    "pounds": ("£10", 10.0),
    "minus": ("-4", -4.0),
    "unicode-minus": ("−4", -4.0),
    "plus": ("+7", 7.0),
    "minus-before-currency": ("-$5", -5.0),
    "minus-after-currency": ("$-5", -5.0),
    "exponent": ("1e3", 1000.0),
    "padded": ("  42  ", 42.0),
}

NOT_NUMBERS = {
    "word": "abc",
    "tbd": "TBD",
    "n/a": "n/a",
    "comma-not-thousands": "1,20",
    "indian-grouping": "12,34,567",
    "european-decimal": "1.200,50",
    "two-dots": "1.2.3",
    "space-grouping": "1 200",
    "two-signs": "--5",
    "plus-minus": "+-5",
    "signs-around-currency": "-$-5",
    "currency-after": "1,200$",
    "only-currency": "$",
    "only-percent": "%",
    "with-unit": "5 apples",
    "parenthesised": "(1,200)",
    "nan-text": "nan",
    "inf-text": "inf",
    "infinity-text": "Infinity",
    "overflow": "1e999",
    "bool-cell": True,
    "date-cell": dt.date(2026, 11, 20),
    "infinite-cell": math.inf,
}


@pytest.mark.parametrize(("cell", "expected"), **table(NUMBERS))
def test_number_forms(cell: Any, expected: float) -> None:
    """Each accepted form reads as the number the contract gives."""
    value, bad = one(parse_numbers, cell)
    assert not bad
    assert value == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("cell", list(NOT_NUMBERS.values()), ids=list(NOT_NUMBERS))
def test_number_rejections(cell: Any) -> None:
    """Anything else in a number column is bad, and has no value."""
    value, bad = one(parse_numbers, cell)
    assert bad
    assert math.isnan(value)


@pytest.mark.parametrize("cell", list(BLANKS.values()), ids=list(BLANKS))
def test_number_blank(cell: Any) -> None:
    """A blank cell is no value, and not an error."""
    value, bad = one(parse_numbers, cell)
    assert not bad
    assert math.isnan(value)


def test_percent_mask() -> None:
    """A percent KR needs to know which cells were written as percentages."""
    cells = col("75%", Percent(0.5), 0.75, "0.75", "$5", None, "abc")
    assert percent_mask(cells).tolist() == [True, True, False, False, False, False, False]


# --- dates --------------------------------------------------------------------------

NOV_20 = pd.Timestamp("2026-11-20")

DATES: dict[str, tuple[Any, tuple[str, ...], pd.Timestamp]] = {
    "date-cell": (dt.date(2026, 11, 20), (), NOV_20),
    "datetime-cell-midnight": (dt.datetime(2026, 11, 20), (), NOV_20),
    "datetime-cell-afternoon": (dt.datetime(2026, 11, 20, 15, 30), (), NOV_20),
    "timestamp-cell": (pd.Timestamp("2026-11-20 08:00"), (), NOV_20),
    # 2026-01-01 is serial 46023 (2025-01-01 is 45658, plus 365); Nov 20 is day 324.
    "serial": (46346, (), NOV_20),
    "serial-float": (46346.0, (), NOV_20),
    "serial-with-time": (46346.75, (), NOV_20),
    "serial-1990-01-01": (32874, (), pd.Timestamp("1990-01-01")),  # the first a number may be
    "iso": ("2026-11-20", (), NOV_20),
    "iso-padded": ("  2026-11-20 ", (), NOV_20),
    "iso-single-digits": ("2026-1-5", (), pd.Timestamp("2026-01-05")),
    "iso-with-time": ("2026-11-20T09:30", (), NOV_20),
    "iso-with-space-time": ("2026-11-20 09:30:15", (), NOV_20),
    "iso-last-day": ("2199-12-31", (), pd.Timestamp("2199-12-31")),
    "format-dmy": ("20/11/2026", ("%d/%m/%Y",), NOV_20),
    "format-mdy": ("11/20/2026", ("%m/%d/%Y",), NOV_20),
    "format-second-of-two": ("20.11.2026", ("%d/%m/%Y", "%d.%m.%Y"), NOV_20),
    "format-month-name": ("Nov 20, 2026", ("%b %d, %Y",), NOV_20),
    "iso-still-read-with-formats": ("2026-11-20", ("%d/%m/%Y",), NOV_20),
}

NOT_DATES: dict[str, tuple[Any, tuple[str, ...]]] = {
    "words": ("next week", ()),
    "feb-30": ("2026-02-30", ()),
    "month-13": ("2026-13-01", ()),
    "dmy-without-format": ("20/11/2026", ()),
    "wrong-format": ("20/11/2026", ("%m/%d/%Y",)),
    "number-as-text": ("46346", ()),
    "bool-cell": (True, ()),
    "year-1-text": ("0001-01-01", ()),
    "year-9999-text": ("9999-12-31", ()),
    "year-3026-cell": (dt.date(3026, 11, 20), ()),
    "year-1-cell": (dt.date(1, 1, 1), ()),
    "year-1899-cell": (dt.date(1899, 12, 31), ()),
    "year-9999-format": ("31/12/9999", ("%d/%m/%Y",)),
    "serial-zero": (0, ()),
    # A bare number is a date only from 1990 on: a 5 typed in a date column is a mistake.
    "serial-five": (5, ()),
    "serial-1989-12-31": (32873, ()),
    "serial-negative": (-5, ()),
    "serial-year-2447": (200000, ()),
    "serial-infinite": (math.inf, ()),
}


@pytest.mark.parametrize(("cell", "formats", "expected"), **table(DATES))
def test_date_forms(cell: Any, formats: tuple[str, ...], expected: pd.Timestamp) -> None:
    """Real date cells, serials, ISO text and the config's formats read as that day."""
    parsed = parse_dates(col(cell), formats)
    assert not parsed.bad.iloc[0]
    assert parsed.values.iloc[0] == expected


@pytest.mark.parametrize(("cell", "formats"), **table(NOT_DATES))
def test_date_rejections(cell: Any, formats: tuple[str, ...]) -> None:
    """Unreadable text and dates outside 1900..2199 are bad cells, never exceptions."""
    parsed = parse_dates(col(cell), formats)
    assert parsed.bad.iloc[0]
    assert pd.isna(parsed.values.iloc[0])


@pytest.mark.parametrize("cell", list(BLANKS.values()), ids=list(BLANKS))
def test_date_blank(cell: Any) -> None:
    parsed = parse_dates(col(cell))
    assert not parsed.bad.iloc[0]
    assert pd.isna(parsed.values.iloc[0])


def test_dates_mixed_column() -> None:
    """One column holding every kind at once, as a shared sheet does."""
    parsed = parse_dates(
        col(dt.date(2026, 10, 2), "2026-10-03", 46300, None, "soon", dt.datetime(2026, 10, 5, 9)),
    )
    assert parsed.values.dtype == "datetime64[ns]"
    assert parsed.values.tolist()[:3] == [
        pd.Timestamp("2026-10-02"),
        pd.Timestamp("2026-10-03"),
        pd.Timestamp("2026-10-05"),  # serial 46300 = 46346 - 46 days
    ]
    assert parsed.values.iloc[5] == pd.Timestamp("2026-10-05")
    assert parsed.bad.tolist() == [False, False, False, False, True, False]


# --- booleans -----------------------------------------------------------------------

DONE = {
    "done": ("done", 1.0),
    "Done": ("Done", 1.0),
    "DONE-padded": ("  DONE ", 1.0),
    "yes": ("yes", 1.0),
    "Yes": ("Yes", 1.0),
    "true": ("true", 1.0),
    "TRUE": ("TRUE", 1.0),
    "one-text": ("1", 1.0),
    "one-cell": (1, 1.0),
    "one-float-cell": (1.0, 1.0),
    "checkbox-ticked": (True, 1.0),
    "x": ("x", 1.0),
    "X": ("X", 1.0),
    "tick": ("✓", 1.0),
    "no": ("no", 0.0),
    "No": ("No", 0.0),
    "false": ("false", 0.0),
    "FALSE": ("FALSE", 0.0),
    "zero-text": ("0", 0.0),
    "zero-cell": (0, 0.0),
    "checkbox-clear": (False, 0.0),
    "blank": (None, 0.0),
    "empty": ("", 0.0),
    "spaces": ("   ", 0.0),
}

NOT_DONE_WORDS = {
    "maybe": "maybe",
    "two-text": "2",
    "two-cell": 2,
    "half-cell": 0.5,
    "done-bang": "done!",
    "nope": "nope",
    "date-cell": dt.date(2026, 11, 20),
}


@pytest.mark.parametrize(("cell", "expected"), **table(DONE))
def test_done_words(cell: Any, expected: float) -> None:
    """done/yes/true/1/x/✓ are done; no/false/0/blank are not; case and spaces ignored."""
    assert one(parse_done, cell) == (expected, False)


@pytest.mark.parametrize("cell", list(NOT_DONE_WORDS.values()), ids=list(NOT_DONE_WORDS))
def test_done_rejections(cell: Any) -> None:
    """Anything else in a boolean Current is bad (and counts as not done)."""
    assert one(parse_done, cell) == (0.0, True)


# --- health words -------------------------------------------------------------------

HEALTH = {
    "on track": ("on track", Health.ON_TRACK),
    "On Track": ("On Track", Health.ON_TRACK),
    "ON TRACK": ("ON TRACK", Health.ON_TRACK),
    "on-track": ("on-track", Health.ON_TRACK),
    "On-Track": ("On-Track", Health.ON_TRACK),
    "ontrack": ("ontrack", Health.ON_TRACK),
    "green": ("green", Health.ON_TRACK),
    "Green-padded": ("  Green ", Health.ON_TRACK),
    "at risk": ("at risk", Health.AT_RISK),
    "At Risk": ("At Risk", Health.AT_RISK),
    "at-risk": ("at-risk", Health.AT_RISK),
    "yellow": ("yellow", Health.AT_RISK),
    "amber": ("amber", Health.AT_RISK),
    "AMBER": ("AMBER", Health.AT_RISK),
    "off track": ("off track", Health.OFF_TRACK),
    "Off-Track": ("Off-Track", Health.OFF_TRACK),
    "red": ("red", Health.OFF_TRACK),
    "RED": ("RED", Health.OFF_TRACK),
}

NOT_HEALTH = {
    "typo": "on trak",
    "good": "good",
    "blue": "blue",
    "done": "done",
    "number": 1,
    "bool": True,
    "date": dt.date(2026, 11, 20),
}


@pytest.mark.parametrize(("cell", "expected"), **table(HEALTH))
def test_health_words(cell: str, expected: Health) -> None:
    """The three words and their accepted synonyms, case-insensitive."""
    assert one(parse_health, cell) == (expected, False)


@pytest.mark.parametrize("cell", list(NOT_HEALTH.values()), ids=list(NOT_HEALTH))
def test_health_rejections(cell: Any) -> None:
    assert one(parse_health, cell) == (None, True)


@pytest.mark.parametrize("cell", list(BLANKS.values()), ids=list(BLANKS))
def test_health_blank(cell: Any) -> None:
    assert one(parse_health, cell) == (None, False)


# --- types --------------------------------------------------------------------------

TYPES = {
    "increase": ("increase", KrType.INCREASE),
    "Increase": ("Increase", KrType.INCREASE),
    "decrease": ("decrease", KrType.DECREASE),
    "at least": ("at least", KrType.AT_LEAST),
    "At Least": ("At Least", KrType.AT_LEAST),
    "at-least": ("at-least", KrType.AT_LEAST),
    "at most": ("at most", KrType.AT_MOST),
    "AT MOST": ("AT MOST", KrType.AT_MOST),
    "boolean": ("boolean", KrType.BOOLEAN),
    "percent": ("percent", KrType.PERCENT),
    "Percent-padded": (" Percent ", KrType.PERCENT),
}

NOT_TYPES = {"more": "more", "growth": "growth", "up": "up", "number": 5, "bool": True}


@pytest.mark.parametrize(("cell", "expected"), **table(TYPES))
def test_type_words(cell: str, expected: KrType) -> None:
    assert one(parse_types, cell) == (expected, False)


@pytest.mark.parametrize("cell", list(NOT_TYPES.values()), ids=list(NOT_TYPES))
def test_type_rejections(cell: Any) -> None:
    assert one(parse_types, cell) == (None, True)


@pytest.mark.parametrize("cell", list(BLANKS.values()), ids=list(BLANKS))
def test_type_blank(cell: Any) -> None:
    """A blank Type is not an error: it is inferred from Start and Target later."""
    assert one(parse_types, cell) == (None, False)


# --- cadences -----------------------------------------------------------------------

WEEK, FORTNIGHT, MONTH = Cadence(days=7), Cadence(days=14), Cadence(months=1)

CADENCES = {
    "weekly": ("weekly", WEEK),
    "Weekly-padded": (" Weekly ", WEEK),
    "biweekly": ("biweekly", FORTNIGHT),
    "bi-weekly": ("bi-weekly", FORTNIGHT),
    "Bi-Weekly": ("Bi-Weekly", FORTNIGHT),
    "fortnightly": ("fortnightly", FORTNIGHT),
    "monthly": ("monthly", MONTH),
    "MONTHLY": ("MONTHLY", MONTH),
    "10-text": ("10", Cadence(days=10)),
    "10d": ("10d", Cadence(days=10)),
    "10D": ("10D", Cadence(days=10)),
    "10-d": ("10 d", Cadence(days=10)),
    "10-days": ("10 days", Cadence(days=10)),
    "1-day": ("1 day", Cadence(days=1)),
    "10-cell": (10, Cadence(days=10)),
    "10-float-cell": (10.0, Cadence(days=10)),
    "one-year": ("366", Cadence(days=366)),
}

NOT_CADENCES = {
    "sometimes": "sometimes",
    "every-day": "every day",
    "zero-text": "0",
    "zero-cell": 0,
    "0d": "0d",
    "negative": "-7",
    "fraction-text": "10.5",
    "fraction-cell": 10.5,
    "over-a-year": "367",
    "only-d": "d",
    "bool": True,
    "date": dt.date(2026, 11, 20),
}


@pytest.mark.parametrize(("cell", "expected"), **table(CADENCES))
def test_cadence_forms(cell: Any, expected: Cadence) -> None:
    """The cadence words and a whole number of days; the column and one-cell forms agree."""
    assert one(parse_cadences, cell) == (expected, False)
    assert parse_cadence(cell) == expected


@pytest.mark.parametrize("cell", list(NOT_CADENCES.values()), ids=list(NOT_CADENCES))
def test_cadence_rejections(cell: Any) -> None:
    assert one(parse_cadences, cell) == (None, True)
    assert parse_cadence(cell) is None


@pytest.mark.parametrize("cell", list(BLANKS.values()), ids=list(BLANKS))
def test_cadence_blank(cell: Any) -> None:
    """A blank Cadence is not an error: the config's default applies."""
    assert one(parse_cadences, cell) == (None, False)


def test_checkbox_and_number_in_one_column() -> None:
    """A ticked checkbox next to the number 1 is still a bad cadence, and 1 still 1 day
    (True == 1 to Python, which must not make them share one lookup)."""
    parsed = parse_cadences(col(True, 1, 7.0, False, 0))
    assert parsed.values.tolist() == [None, Cadence(days=1), WEEK, None, None]
    assert parsed.bad.tolist() == [True, False, False, True, True]
    parsed = parse_cadences(col(1, True))
    assert parsed.values.tolist() == [Cadence(days=1), None]


# --- emails -------------------------------------------------------------------------

EMAILS = {
    "plain": ("maya.chen@example.com", "maya.chen@example.com"),
    "padded": ("  tom@example.com ", "tom@example.com"),
    "plus-and-subdomain": ("a.b+okr@mail.example.co.uk", "a.b+okr@mail.example.co.uk"),
}

NOT_EMAILS = {
    "comma-list": "priya@example.com, lead@example.com",
    "semicolon-list": "priya@example.com; lead@example.com",
    "with-name": "Ann <ann@example.com>",
    "spelled-out": "maya at example.com",
    "no-domain-dot": "a@example",
    "header-injection": "a@example.com\nBcc: x@evil.example",
    "two-ats": "a@b@example.com",
    "number": 5,
}


@pytest.mark.parametrize(("cell", "expected"), **table(EMAILS))
def test_email_forms(cell: str, expected: str) -> None:
    assert one(parse_emails, cell) == (expected, False)


@pytest.mark.parametrize("cell", list(NOT_EMAILS.values()), ids=list(NOT_EMAILS))
def test_email_rejections(cell: Any) -> None:
    """One plain address per cell: lists, names and line breaks are bad."""
    assert one(parse_emails, cell) == (None, True)


# --- text helpers -------------------------------------------------------------------


def test_is_blank_and_text_of() -> None:
    cells = col(None, "", "  ", math.nan, "x ", 0, False, dt.date(2026, 1, 1))
    assert is_blank(cells).tolist() == [True, True, True, True, False, False, False, False]
    text = text_of(cells)
    assert text.iloc[4] == "x"
    assert text.iloc[[0, 3, 5, 6, 7]].isna().all()


# --- properties ---------------------------------------------------------------------

# Cells a backend can hand over. Integers stay within what a sheet holds (IEEE doubles).
cells = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.sampled_from(["", " ", "1,200", "75%", "$-5", "--5", "weekly", "done", "✓", "red",
                     "2026-11-20", "2026-02-30", "0001-01-01", "1e999", "nan", "10d"]),
    st.from_regex(r"\A[-+$ ]{0,2}[0-9,.]{1,8}%?\Z"),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(),
    st.floats(min_value=0, max_value=200_000).map(Percent),
    st.booleans(),
    st.dates(),
    st.datetimes(),
)  # fmt: skip
columns = st.lists(cells, max_size=25)
FORMATS = ("%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%b %d, %Y")

PARSERS: dict[str, Callable[[pd.Series], Parsed]] = {
    "numbers": parse_numbers,
    "dates": parse_dates,
    "dates-with-formats": lambda raw: parse_dates(raw, FORMATS),
    "done": parse_done,
    "health": parse_health,
    "types": parse_types,
    "cadences": parse_cadences,
    "emails": parse_emails,
}


def missing(values: pd.Series) -> pd.Series:
    return pd.Series([v is None or v is pd.NaT or pd.isna(v) for v in values], index=values.index)


@pytest.mark.parametrize("parser", list(PARSERS.values()), ids=list(PARSERS))
@settings(deadline=None, max_examples=60)
@given(raw=columns)
def test_parsers_never_raise_and_flag_exactly_the_unreadable(
    parser: Callable[[pd.Series], Parsed], raw: list[Any]
) -> None:
    """On any mix of cells: no exception, one result per cell, every bad cell non-blank,
    and (except for booleans, where blank means "not done") every non-blank cell without
    a value is bad."""
    series = col(*raw)
    parsed = parser(series)
    assert parsed.values.index.equals(series.index)
    assert parsed.bad.index.equals(series.index)
    assert parsed.bad.dtype == bool
    blank = is_blank(series)
    assert not (parsed.bad & blank).any()
    if parser is not parse_done:
        assert (missing(parsed.values) & ~blank).equals(parsed.bad)
        assert missing(parsed.values[blank]).all()


@pytest.mark.parametrize("parser", list(PARSERS.values()), ids=list(PARSERS))
@settings(deadline=None, max_examples=40)
@given(raw=columns)
def test_a_cell_parses_the_same_whatever_its_neighbours(
    parser: Callable[[pd.Series], Parsed], raw: list[Any]
) -> None:
    """Parsing a whole column gives, cell by cell, what parsing each cell alone gives."""
    parsed = parser(col(*raw))
    for i, cell in enumerate(raw):
        alone = parser(col(cell))
        assert bool(parsed.bad.iloc[i]) == bool(alone.bad.iloc[0])
        a, b = parsed.values.iloc[i], alone.values.iloc[0]
        assert (missing(col(a)).iloc[0] and missing(col(b)).iloc[0]) or a == b


finite = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False)


@settings(deadline=None, max_examples=50)
@given(x=finite)
def test_round_trip_thousands(x: float) -> None:
    """A number written with thousands separators reads back as written."""
    text = f"{x:,.2f}"
    value, bad = one(parse_numbers, text)
    assert not bad
    assert value == float(text.replace(",", ""))


@settings(deadline=None, max_examples=50)
@given(n=st.integers(min_value=-(2**53), max_value=2**53))
def test_round_trip_whole_numbers(n: int) -> None:
    assert one(parse_numbers, f"{n:,}") == (float(n), False)


@settings(deadline=None, max_examples=50)
@given(x=finite)
def test_round_trip_currency(x: float) -> None:
    """``-$1,234.50`` style, the way a sheet shows currency."""
    text = f"{'-' if x < 0 else ''}${abs(x):,.2f}"
    value, bad = one(parse_numbers, text)
    assert not bad
    assert value == pytest.approx(float(f"{x:.2f}"), rel=1e-15, abs=0)


@settings(deadline=None, max_examples=50)
@given(x=st.floats(min_value=-1e6, max_value=1e6, allow_nan=False))
def test_round_trip_percent(x: float) -> None:
    """``12.3456%`` reads as the fraction 0.123456, and is marked as a percentage."""
    text = f"{x * 100:.4f}%"
    value, bad = one(parse_numbers, text)
    assert not bad
    assert value == pytest.approx(float(text[:-1]) / 100, rel=1e-12, abs=1e-15)
    assert percent_mask(col(text)).iloc[0]


days = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2199, 12, 31))


@settings(deadline=None, max_examples=50)
@given(day=days)
def test_round_trip_iso(day: dt.date) -> None:
    assert one(parse_dates, day.isoformat()) == (pd.Timestamp(day), False)


@settings(deadline=None, max_examples=50)
@given(day=days, fmt=st.sampled_from((*FORMATS, "%Y/%m/%d", "%d %B %Y")))
def test_round_trip_date_formats(day: dt.date, fmt: str) -> None:
    """A date written in a configured format reads back as that day."""
    parsed = parse_dates(col(day.strftime(fmt)), [fmt])
    assert not parsed.bad.iloc[0]
    assert parsed.values.iloc[0] == pd.Timestamp(day)


@settings(deadline=None, max_examples=50)
@given(day=days, hour=st.floats(min_value=0, max_value=0.999))
def test_round_trip_serial(day: dt.date, hour: float) -> None:
    """A Google serial number (days since 1899-12-30, time as a fraction) is its day
    (serials are read from 1990 on; older numbers are typos, see NOT_DATES)."""
    day = max(day, dt.date(1990, 1, 1))
    serial = (day - dt.date(1899, 12, 30)).days + hour
    assert one(parse_dates, serial) == (pd.Timestamp(day), False)


@settings(deadline=None, max_examples=50)
@given(n=st.integers(min_value=1, max_value=366))
def test_round_trip_days(n: int) -> None:
    """A whole number of days, as ``Nd``, ``N`` or a number cell."""
    for cell in (f"{n}d", str(n), n):
        assert one(parse_cadences, cell) == (Cadence(days=n), False)


def test_numbers_keep_the_index() -> None:
    """Rows keep their sheet positions: a parser never reorders or renumbers."""
    raw = pd.Series(["1", None, "x"], index=[7, 3, 12], dtype=object)
    parsed = parse_numbers(raw)
    assert parsed.values.index.tolist() == [7, 3, 12]
    assert parsed.values.iloc[0] == 1.0
    assert parsed.bad.tolist() == [False, False, True]
    assert np.isnan(parsed.values.iloc[1])
