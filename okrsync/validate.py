"""Check every entry and type the sheet's cells.

Each check works on whole columns and yields a mask of the rows it fails. Every failure
becomes a :class:`~okrsync.errors.RowIssue` quoting the cell as entered; errors blank a
row's computed cells, warnings do not. The result is typed columns ready for
:mod:`okrsync.compute`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from okrsync.columns import Col, KrType
from okrsync.config import Config
from okrsync.errors import RowIssue
from okrsync.parse import (
    Cells,
    number_mask,
    parse_cadence,
    parse_cadences,
    parse_dates,
    parse_done,
    parse_emails,
    parse_health,
    parse_numbers,
    parse_numbers_and_percent,
    parse_types,
)
from okrsync.read import Frame

__all__ = ["NO_TEAM", "Checked", "validate"]

NO_TEAM = "(no team)"
_ID_RE = r"^KR-(\d+)$"
_ORDER = {c: i for i, c in enumerate(Col)}
TEXT_COLUMNS = (
    Col.OBJECTIVE,
    Col.KEY_RESULT,
    Col.OWNER,
    Col.TEAM,
    Col.COMMENT,
    Col.BLOCKERS,
    Col.NEXT_STEPS,
    Col.CADENCE,
)


@dataclass
class Checked:
    """The typed rows and everything found wrong with them.

    :param kr: typed columns, indexed by sheet row (see :func:`validate`).
    :param error: rows with at least one error (their computed cells stay blank).
    :param notes: the Sync Notes text of every row (``""`` when nothing was found).
    :param issues: every problem, in row order.
    :param id_fills: new IDs for rows whose ID was blank, indexed by sheet row.
    """

    kr: pd.DataFrame
    error: pd.Series
    notes: pd.Series
    issues: list[RowIssue] = field(default_factory=list)
    id_fills: pd.Series = field(default_factory=lambda: pd.Series(dtype=object))


class _Issues:
    """Collects masks of failing rows; turns them into RowIssues in one pass at the end."""

    def __init__(self, raw: pd.DataFrame) -> None:
        self.raw = raw
        self.parts: list[pd.DataFrame] = []

    def add(
        self,
        mask: pd.Series,
        column: Col,
        reason: str | pd.Series,
        *,
        error: bool = True,
        quote_cell: bool = True,
        shown: pd.Series | None = None,
    ) -> None:
        """:param shown: the cells to quote instead of the raw ones (at least the failing rows)."""
        mask = mask.fillna(value=False).astype(bool)
        if not mask.any():
            return
        rows = mask[mask].index
        if shown is not None:
            values = shown.loc[rows]
        elif quote_cell and column in self.raw:
            values = self.raw.loc[rows, column]
        else:
            values = pd.Series(None, index=rows, dtype=object)
        reasons = reason.loc[rows] if isinstance(reason, pd.Series) else reason
        self.parts.append(
            pd.DataFrame(
                {
                    "row": rows,
                    "column": column.value,
                    "order": _ORDER[column],
                    "value": values.to_numpy(dtype=object),
                    "reason": reasons if isinstance(reasons, str) else reasons.to_numpy(),
                    "error": error,
                }
            )
        )

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame(columns=["row", "column", "order", "value", "reason", "error"])
        found = pd.concat(self.parts, ignore_index=True)
        return found.sort_values(["row", "order"], kind="stable", ignore_index=True)


def validate(frame: Frame, config: Config, today: dt.date) -> Checked:
    """Type and check the rows of ``frame`` as the contract says.

    ``kr`` has a column per contract column: text columns as ``str`` (``""`` blank, Team
    ``"(no team)"``), Type resolved (blank inferred from Start and Target), Start (blank 0),
    Target and Current as floats (Current as a fraction for percent KRs, 1/0 for boolean),
    Owner Health as a :class:`~okrsync.columns.Health` value or ``None``, dates as
    ``datetime64`` (Due Date defaulted to the cycle end), plus ``_days``/``_months``
    (the cadence) and ``_met`` (for at least / at most).
    """
    raw = frame.raw
    issues = _Issues(raw)
    kr = pd.DataFrame(index=raw.index)
    today_ts = pd.Timestamp(today)
    cycle_start = pd.Timestamp(config.cycle.start)

    for col in TEXT_COLUMNS:
        kr[col] = _owner_text(frame.column(col)).astype(object)
    kr[Col.TEAM] = kr[Col.TEAM].where(kr[Col.TEAM] != "", NO_TEAM)

    for col in (Col.OBJECTIVE, Col.KEY_RESULT, Col.OWNER):
        issues.add(kr[col] == "", col, "is required", quote_cell=False)

    # Type: blank is inferred below, once Start and Target are known.
    types, bad = parse_types(frame.column(Col.TYPE))
    issues.add(
        bad,
        Col.TYPE,
        "is not a type (use increase, decrease, at least, at most, boolean or percent)",
    )

    start, bad_start = parse_numbers(frame.column(Col.START))
    target, bad_target = parse_numbers(frame.column(Col.TARGET))
    issues.add(bad_start, Col.START, "is not a number")
    issues.add(bad_target, Col.TARGET, "is not a number")
    start = start.fillna(0.0)
    inferred = np.where(target < start, KrType.DECREASE.value, KrType.INCREASE.value)
    kind = types.where(types.notna() | bad, pd.Series(inferred, index=raw.index))
    kr[Col.TYPE] = kind

    is_bool = kind == KrType.BOOLEAN
    is_pct = kind == KrType.PERCENT
    kept = kind.isin([KrType.AT_LEAST, KrType.AT_MOST])
    moving = kind.isin([KrType.INCREASE, KrType.DECREASE])
    needs_target = moving | kept
    issues.add(
        needs_target & target.isna() & ~bad_target,
        Col.TARGET,
        "is required",
        quote_cell=False,
    )
    issues.add(
        moving & (target == start),
        Col.TARGET,
        pd.Series("equals Start; there is nothing to progress toward", index=raw.index),
    )
    contradicts = ((types == KrType.INCREASE) & (target < start)) | (
        (types == KrType.DECREASE) & (target > start)
    )
    issues.add(
        contradicts,
        Col.TYPE,
        pd.Series(
            np.where(
                types == KrType.INCREASE, "but Target is below Start", "but Target is above Start"
            ),
            index=raw.index,
        ),
        error=False,
    )

    current_raw = frame.column(Col.CURRENT)
    current, written_pct, bad_current = parse_numbers_and_percent(current_raw)
    # Only boolean KRs read Current as done / not done: map just their rows.
    bool_current = current_raw.take(is_bool)
    done, bad_done = parse_done(bool_current)
    # Blank is "not done" for Progress, but not a check-in: History must not record it.
    done = done.where(~bool_current.blank).reindex(raw.index)
    # percent: "75%" or a percent-formatted cell is the fraction; a bare number above 1 is %.
    as_fraction = current.where(written_pct | (current <= 1), current / 100.0)
    current = current.where(~is_pct, as_fraction).where(~is_bool, done)
    issues.add(bad_current & ~is_bool, Col.CURRENT, "is not a number")
    issues.add(bad_done, Col.CURRENT, "is not done or not done (use done, yes or no)")
    kr[Col.START] = start
    kr[Col.TARGET] = target
    kr[Col.CURRENT] = current
    # at least / at most: a blank Current is not met.
    met = np.where(kind == KrType.AT_LEAST, current >= target, current <= target)
    kr["_met"] = pd.Series(met, index=raw.index) & current.notna() & kept

    health, bad_health = parse_health(frame.column(Col.OWNER_HEALTH))
    kr[Col.OWNER_HEALTH] = health
    issues.add(bad_health, Col.OWNER_HEALTH, "is not on track, at risk or off track", error=False)

    emails, bad_email = parse_emails(frame.column(Col.OWNER_EMAIL))
    kr[Col.OWNER_EMAIL] = emails
    issues.add(bad_email, Col.OWNER_EMAIL, "is not an email address")

    checkin, bad_checkin = parse_dates(frame.column(Col.CHECKIN_DATE), config.date_formats)
    due, bad_due = parse_dates(frame.column(Col.DUE_DATE), config.date_formats)
    issues.add(bad_checkin, Col.CHECKIN_DATE, "is not a date (use YYYY-MM-DD)")
    issues.add(bad_due, Col.DUE_DATE, "is not a date (use YYYY-MM-DD)")
    late, early, due_early = checkin > today_ts, checkin < cycle_start, due <= cycle_start
    checkin_shown = _dates_as_shown(frame.column(Col.CHECKIN_DATE), checkin, late | early)
    issues.add(late, Col.CHECKIN_DATE, f"is after today ({today.isoformat()})", shown=checkin_shown)
    issues.add(
        early,
        Col.CHECKIN_DATE,
        f"is before the cycle start ({config.cycle.start.isoformat()})",
        error=False,
        shown=checkin_shown,
    )
    issues.add(
        due_early,
        Col.DUE_DATE,
        f"is on or before the cycle start ({config.cycle.start.isoformat()})",
        shown=_dates_as_shown(frame.column(Col.DUE_DATE), due, due_early),
    )
    kr[Col.CHECKIN_DATE] = checkin
    kr[Col.DUE_DATE] = due.fillna(pd.Timestamp(config.cycle.end))

    cadence, bad_cadence = parse_cadences(frame.column(Col.CADENCE))
    issues.add(
        bad_cadence,
        Col.CADENCE,
        "is not a cadence (use weekly, biweekly, monthly or a number of days)",
    )
    default = parse_cadence(config.cycle.default_cadence)
    assert default is not None  # config checked it
    cadence = cadence.where(cadence.notna(), default)
    kr["_days"] = cadence.map(lambda c: c.days).astype("int64")
    kr["_months"] = cadence.map(lambda c: c.months).astype("int64")

    ids, id_fills = _ids(frame.column(Col.ID), issues)
    kr.insert(0, Col.ID, ids)

    found = issues.frame()
    error_rows = found.loc[found["error"].astype(bool), "row"].unique()
    error = pd.Series(raw.index.isin(error_rows), index=raw.index)
    issue_list = [
        RowIssue(int(row), column, None if _isna(value) else value, reason, bool(err))
        for row, column, value, reason, err in zip(
            found["row"].to_numpy(),
            found["column"].to_numpy(),
            found["value"].to_numpy(dtype=object),
            found["reason"].to_numpy(),
            found["error"].to_numpy(),
            strict=True,
        )
    ]
    by_row: dict[int, list[str]] = {}
    for issue in issue_list:
        by_row.setdefault(issue.row, []).append(issue.note)
    notes = pd.Series("", index=raw.index, dtype=object)
    if by_row:
        notes.loc[list(by_row)] = ["; ".join(v) for v in by_row.values()]
    return Checked(kr=kr, error=error, notes=notes, issues=issue_list, id_fills=id_fills)


def _ids(cell: Cells, issues: _Issues) -> tuple[pd.Series, pd.Series]:
    """Keep IDs as entered; fill blanks with KR-nnnn above the highest; flag duplicates."""
    text = _owner_text(cell)
    ours = text.str.match(_ID_RE, flags=re.IGNORECASE).fillna(value=False).astype(bool)
    numbers = pd.to_numeric(text[ours].str[3:], errors="coerce")
    highest = int(numbers.max()) if numbers.notna().any() else 0
    blank = text == ""
    fills = pd.Series(
        [f"KR-{n:04d}" for n in range(highest + 1, highest + 1 + int(blank.sum()))],
        index=text.index[blank],
        dtype=object,
    )
    ids = text.copy()
    ids[blank] = fills
    # Compare IDs as owners would: "kr-0001" and "KR-0001 " are the same key.
    key = ids.str.upper()
    dup = key.duplicated(keep=False) & ~blank
    if dup.any():
        rows_by_key = pd.Series(key[dup].index, index=key[dup].to_numpy()).groupby(level=0)
        others = {k: list(v) for k, v in rows_by_key}
        reason = pd.Series(
            [
                "is also used on row " + ", ".join(str(r) for r in others[k] if r != row)
                for row, k in key[dup].items()
            ],
            index=key[dup].index,
        )
        issues.add(dup, Col.ID, reason)
    return ids.astype(object), fills


def _dates_as_shown(cells: Cells, parsed: pd.Series, mask: pd.Series) -> pd.Series:
    """The cells of ``mask`` to quote: a date cell as the date it shows, text as typed.

    Backends hand a date cell over as a datetime (xlsx) or as a serial number (Google
    Sheets gives 46346 for 2026-11-20); the owner sees 2026-11-20 either way, so the
    note says that, and both backends report the same problem.
    """
    mask = mask.fillna(value=False).astype(bool)
    shown = cells.raw[mask].astype(object)
    kinds = cells.kinds[mask]
    is_cell = kinds.isin([dt.date, dt.datetime, pd.Timestamp]) | number_mask(kinds)
    if is_cell.any():
        shown[is_cell] = parsed[mask][is_cell].dt.date
    return shown


def _isna(value: object) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def _owner_text(cell: Cells) -> pd.Series:
    """The column as text, ``""`` when blank; a number or date cell reads as an owner would
    type it (an Owner called 7 is "7", not an error)."""
    text = cell.text
    other = cell.raw.notna() & text.isna()
    if other.any():
        text = text.where(~other, cell.raw[other].map(_plain))
    return text.fillna("")


def _plain(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()[:10]
    return str(value).strip()
