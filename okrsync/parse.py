"""Read spreadsheet cells as numbers, dates, booleans and words, a whole column at a time.

Every parser takes a column of raw cells (``object`` dtype: ``None``, ``str``, ``int``,
``float``, :class:`~okrsync.backends.base.Percent`, ``date``, ``datetime``, ``bool``) and
returns the parsed values plus a ``bad`` mask of the cells that were not blank and could
not be read. Nothing here raises on bad input: a bad cell becomes a Sync Note upstream.

Whole-column ``str`` methods and ``pd.to_numeric``/``pd.to_datetime`` do the work; the
word columns (Type, Health, Cadence) map their few distinct values through a dict.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from okrsync.backends.base import SERIAL_EPOCH, Percent
from okrsync.columns import Health, KrType

__all__ = [
    "Cadence",
    "Cells",
    "Parsed",
    "as_cells",
    "cell_kinds",
    "is_blank",
    "number_mask",
    "parse_cadence",
    "parse_cadences",
    "parse_dates",
    "parse_done",
    "parse_emails",
    "parse_health",
    "parse_numbers",
    "parse_numbers_and_percent",
    "parse_types",
    "percent_mask",
    "text_of",
]

_MIN_DATE = pd.Timestamp("1900-01-01")
_MAX_DATE = pd.Timestamp("2199-12-31")
# Serial day numbers of _MIN_DATE and of the day after _MAX_DATE.
_MIN_SERIAL = (_MIN_DATE - SERIAL_EPOCH).days
_END_SERIAL = (_MAX_DATE - SERIAL_EPOCH).days + 1
_MIN_NUMBER_SERIAL = (pd.Timestamp("1990-01-01") - SERIAL_EPOCH).days

_NUMBER_RE = (
    r"^(?P<sign>[+\-−]?)\s*(?P<cur>[$€£¥])?\s*(?P<sign2>[+\-−]?)"
    r"(?P<body>(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)"
    r"\s*(?P<pct>%)?$"
)
_ISO_DATE_RE = r"^\d{4}-\d{1,2}-\d{1,2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
# One plain address: no display name, list separator, quote or line break can get through.
EMAIL_RE = rf"^[^@\s,;:<>\"'()\[\]\\]+@{_LABEL}(?:\.{_LABEL})+$"


class Parsed(NamedTuple):
    """Parsed values, and the cells that were entered but could not be read."""

    values: pd.Series
    bad: pd.Series


@dataclass(frozen=True)
class Cadence:
    """How often a KR is checked in: a number of days, or of calendar months."""

    days: int = 0
    months: int = 0


class Cells:
    """A column of raw cells with what every parser needs, each worked out once.

    Parsers accept a ``Cells`` or a plain Series; the validator wraps each column once so
    that the kind of each cell, its stripped text and its blankness are not recomputed by
    every check that looks at the column.
    """

    __slots__ = ("_blank", "_kinds", "_text", "raw")

    def __init__(self, raw: pd.Series) -> None:
        self.raw = raw
        self._kinds: pd.Series | None = None
        self._text: pd.Series | None = None
        self._blank: pd.Series | None = None

    @property
    def kinds(self) -> pd.Series:
        """The Python type of each cell (``type()`` per cell is one C call)."""
        if self._kinds is None:
            self._kinds = self.raw.map(type, na_action=None)
        return self._kinds

    @property
    def text(self) -> pd.Series:
        """The stripped text of string cells; ``NaN`` for every other kind of cell."""
        if self._text is None:
            strings = self.raw.where(self.kinds.isin([str]))
            self._text = strings.astype(object).str.strip()
        return self._text

    @property
    def blank(self) -> pd.Series:
        """Cells that are empty: ``None``, ``NaN``, or only white space."""
        if self._blank is None:
            self._blank = self.raw.isna() | (self.text == "").fillna(value=False).astype(bool)
        return self._blank

    def take(self, mask: pd.Series) -> Cells:
        """The cells where ``mask`` is true, keeping what was already worked out."""
        out = Cells(self.raw[mask])
        out._kinds = None if self._kinds is None else self._kinds[mask]
        out._text = None if self._text is None else self._text[mask]
        out._blank = None if self._blank is None else self._blank[mask]
        return out


def as_cells(raw: pd.Series | Cells) -> Cells:
    return raw if isinstance(raw, Cells) else Cells(raw)


def cell_kinds(raw: pd.Series | Cells) -> pd.Series:
    """The Python type of each cell."""
    return as_cells(raw).kinds


def text_of(raw: pd.Series | Cells) -> pd.Series:
    """The stripped text of string cells; ``NaN`` for every other kind of cell."""
    return as_cells(raw).text


def is_blank(raw: pd.Series | Cells) -> pd.Series:
    """Cells that are empty: ``None``, ``NaN``, or only white space."""
    return as_cells(raw).blank


def number_mask(kinds: pd.Series) -> pd.Series:
    return kinds.isin([int, float, np.int64, np.float64, Percent])


def parse_numbers(raw: pd.Series | Cells) -> Parsed:
    """Numbers from number cells and from text like ``1,200``, ``3.5``, ``75%``, ``$1,200``, ``-4``.

    Returns float values (``NaN`` for blank or bad). Use :func:`parse_numbers_and_percent`
    to learn in the same pass which cells were written as percentages.
    """
    values, _pct, bad = parse_numbers_and_percent(raw)
    return Parsed(values, bad)


def percent_mask(raw: pd.Series | Cells) -> pd.Series:
    """Cells written as a percentage: ``75%`` as text, or a number cell shown as percent."""
    return parse_numbers_and_percent(raw)[1]


def parse_numbers_and_percent(
    column: pd.Series | Cells,
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """:func:`parse_numbers` and :func:`percent_mask` in one pass: ``(values, pct, bad)``.

    For a column that needs both (a percent KR's Current), so the text is parsed once.
    """
    cells = as_cells(column)
    raw, kinds = cells.raw, cells.kinds
    numeric = number_mask(kinds)
    values = pd.Series(np.nan, index=raw.index, dtype="float64")
    values[numeric] = raw[numeric].astype("float64")
    pct = (kinds == Percent).to_numpy().copy()
    text = cells.text
    has_text = text.notna() & (text != "")
    if has_text.any():
        # Plain numbers ("3.5", "-4") parse in C; only the rest ("$1,200", "75%") need the regex.
        plain = pd.to_numeric(text[has_text], errors="coerce")
        values[plain.index] = plain
        rest = has_text & values.isna()
        if rest.any():
            parts = text[rest].str.extract(_NUMBER_RE)
            # One sign, before or after the currency symbol: "-$5" and "$-5", never "--5".
            two_signs = parts["sign"].fillna("").ne("") & parts["sign2"].fillna("").ne("")
            ok = parts["body"].notna() & ~two_signs
            body = pd.to_numeric(parts["body"].str.replace(",", "", regex=False), errors="coerce")
            minus = (parts["sign"].isin(["-", "−"])) ^ (parts["sign2"].isin(["-", "−"]))
            is_pct = parts["pct"].eq("%")
            number = body.where(~minus, -body) / np.where(is_pct, 100.0, 1.0)
            values[rest] = number.where(ok)
            pct[rest.to_numpy()] = (is_pct & ok).to_numpy()
    bad = ~cells.blank & (values.isna() | ~np.isfinite(values.fillna(0.0)))
    values[bad] = np.nan
    return values, pd.Series(pct, index=raw.index), bad


def parse_dates(column: pd.Series | Cells, formats: Sequence[str] = ()) -> Parsed:
    """Dates from date cells, serial numbers, ISO text (``2026-11-20``) and ``formats``.

    Returns ``datetime64`` values at midnight (``NaT`` for blank or bad). A date outside
    1900..2199 is bad: it is a typo, not a plan.
    """
    cells = as_cells(column)
    raw, kinds = cells.raw, cells.kinds
    out = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns]")
    is_date = kinds.isin([dt.date, dt.datetime, pd.Timestamp])
    if is_date.any():
        out[is_date] = _in_range(pd.to_datetime(raw[is_date].map(_as_datetime), errors="coerce"))
    numeric = number_mask(kinds)
    if numeric.any():
        serial = raw[numeric].astype("float64")
        # A bare number is a date only as a plausible serial (Google sends dates so): a 5
        # typed in Check-in Date is a mistake, not 1900-01-04.
        ok = (serial >= _MIN_NUMBER_SERIAL) & (serial < _END_SERIAL)
        days = pd.to_timedelta(np.floor(serial.where(ok, np.nan)), unit="D")
        out[numeric] = SERIAL_EPOCH + days
    text = cells.text
    pending = text.notna() & (text != "")
    if pending.any():
        iso = pending & text.str.match(_ISO_DATE_RE).fillna(value=False).astype(bool)
        if iso.any():
            out[iso] = _in_range(pd.to_datetime(text[iso], format="ISO8601", errors="coerce"))
        pending &= ~iso
        for fmt in formats:
            if not pending.any():
                break
            got = _in_range(pd.to_datetime(text[pending], format=fmt, errors="coerce"))
            hit = got.notna()
            out[hit[hit].index] = got[hit]
            pending[hit[hit].index] = False
    out = out.dt.normalize()
    bad = ~cells.blank & out.isna()
    return Parsed(out, bad)


def _in_range(values: pd.Series) -> pd.Series:
    """``NaT`` outside 1900..2199, in nanoseconds like ``out``.

    pandas parses to microseconds, which holds year 1 or 9999; assigning such a value
    into a nanosecond column raises, so the range check must come first.
    """
    end = _MAX_DATE + pd.Timedelta(days=1)
    return values.where((values >= _MIN_DATE) & (values < end)).astype("datetime64[ns]")


def _as_datetime(value: Any) -> Any:
    if isinstance(value, dt.datetime | pd.Timestamp):
        return value
    return dt.datetime(value.year, value.month, value.day)


def _map_words(column: pd.Series | Cells, lookup: Callable[[Hashable], Any]) -> Parsed:
    """Map each distinct cell through ``lookup`` (``None`` = unreadable). Few distinct values."""
    cells = as_cells(column)
    blank = cells.blank
    keys = cells.raw.where(~blank)
    # True == 1 == 1.0 as dict keys and to unique(), so a checkbox cell and a number cell
    # in one column would share one lookup: look the bools up on their own.
    is_bool = cells.kinds.eq(bool)
    values = pd.Series(None, index=keys.index, dtype=object)
    for part in (is_bool, ~is_bool):
        if part.any():
            sub = keys[part]
            table = {k: lookup(k) for k in sub.dropna().unique()}
            values[part] = sub.map(table).astype(object)
    values = values.where(values.notna(), None)
    bad = ~blank & values.isna()
    return Parsed(values, bad)


def _word(value: Hashable) -> str:
    return re.sub(r"[\s_\-]+", " ", str(value).strip().casefold())


_HEALTH_WORDS = {
    "on track": Health.ON_TRACK,
    "ontrack": Health.ON_TRACK,
    "green": Health.ON_TRACK,
    "at risk": Health.AT_RISK,
    "yellow": Health.AT_RISK,
    "amber": Health.AT_RISK,
    "off track": Health.OFF_TRACK,
    "offtrack": Health.OFF_TRACK,
    "red": Health.OFF_TRACK,
}


def parse_health(raw: pd.Series | Cells) -> Parsed:
    """Owner Health words: on track / at risk / off track, and green / amber / red etc."""
    return _map_words(raw, lambda v: _HEALTH_WORDS.get(_word(v)))


_TYPE_WORDS = {_word(t.value): t for t in KrType} | {
    "atleast": KrType.AT_LEAST,
    "atmost": KrType.AT_MOST,
    "bool": KrType.BOOLEAN,
    "yes/no": KrType.BOOLEAN,
    "%": KrType.PERCENT,
}


def parse_types(raw: pd.Series | Cells) -> Parsed:
    """KR Type words (``increase``, ``at least``, ...); blank stays ``None`` (inferred later)."""
    return _map_words(raw, lambda v: _TYPE_WORDS.get(_word(v)))


_DONE_WORDS = {"done": True, "yes": True, "true": True, "1": True, "x": True, "✓": True}
_DONE_WORDS |= {"✔": True, "no": False, "false": False, "0": False}


def parse_done(raw: pd.Series | Cells) -> Parsed:
    """Boolean Current: ``done``/``yes``/``true``/``1``/``x``/``✓`` or ``no``/``false``/``0``.

    Returns floats, 1.0 for done and 0.0 for not done; blank is not done (0.0).
    """

    def lookup(v: Hashable) -> float | None:
        if isinstance(v, bool):
            return float(v)
        if isinstance(v, int | float) and v in (0, 1):
            return float(v)
        found = _DONE_WORDS.get(_word(v))
        return None if found is None else float(found)

    values, bad = _map_words(raw, lookup)
    return Parsed(values.astype("float64").fillna(0.0), bad)


_CADENCE_WORDS = {
    "weekly": Cadence(days=7),
    "biweekly": Cadence(days=14),
    "bi weekly": Cadence(days=14),
    "fortnightly": Cadence(days=14),
    "monthly": Cadence(months=1),
}
_DAYS_RE = re.compile(r"^(\d+)\s*(?:d|days?)?$")


def parse_cadence(value: object) -> Cadence | None:
    """One Cadence cell: ``weekly``, ``biweekly``, ``monthly``, ``10`` or ``10d``; else ``None``."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        days = float(value)
        return Cadence(days=int(days)) if days.is_integer() and 0 < days <= 366 else None
    word = _word(value)
    if word in _CADENCE_WORDS:
        return _CADENCE_WORDS[word]
    if (m := _DAYS_RE.match(word)) and 0 < int(m[1]) <= 366:
        return Cadence(days=int(m[1]))
    return None


def parse_cadences(raw: pd.Series | Cells) -> Parsed:
    """A Cadence column; values are :class:`Cadence` (``None`` for blank or bad)."""
    return _map_words(raw, parse_cadence)


def parse_emails(raw: pd.Series | Cells) -> Parsed:
    """Owner Email: one plain address (a list, a name or a header break is bad)."""
    cells = as_cells(raw)
    text = cells.text
    ok = text.str.fullmatch(EMAIL_RE).fillna(value=False).astype(bool)
    values = text.where(ok, None).astype(object)
    bad = ~cells.blank & ~ok
    return Parsed(values.where(~bad, None), bad)
