"""History: one row per KR check-in, appended by each sync, and what is read back from it.

The History worksheet (``[history] worksheet``) is an append-only log. Each sync adds a
row for every error-free KR whose check-in (Check-in Date or Current) differs from that
KR's last History row, so a sync with no new check-in appends nothing. From the log come
the ``Trend`` column (Progress against the previous check-in's) and the revisit warning
(a KR computed ``off track`` at its last ``revisit_after`` check-ins in a row).

Everything here is worked out from the History rows *before* the current check-in, so it
does not matter whether this sync's check-in is already in History: a re-run after a
crash, or a second sync with no edits, computes the same Trend and the same warnings.

Only the :class:`~okrsync.backends.base.SheetBackend` interface is used (one batched
``read(extra=...)``, one ``append_rows``), so History works the same on every backend.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from okrsync.backends import SheetBackend, open_backend
from okrsync.backends.base import Cell, SheetTable
from okrsync.columns import Col, Health, normalize_header
from okrsync.config import Config
from okrsync.errors import ConfigError, RowIssue, SheetLayoutError, UnknownKrError
from okrsync.parse import Cells, parse_dates, parse_numbers
from okrsync.read import read_table

__all__ = [
    "HISTORY_HEADER",
    "SYNCED_AT",
    "HistoryReport",
    "KrHistory",
    "Lookback",
    "history_rows",
    "kr_history",
    "merge_warnings",
    "new_checkins",
    "off_track_streak",
    "parse_history",
    "previous_progress",
    "revisit_warnings",
    "sparkline",
]

SYNCED_AT = "Synced At"
#: The History worksheet's columns, in the order a new worksheet gets them.
HISTORY_HEADER: tuple[str, ...] = (
    Col.ID.value,
    Col.CHECKIN_DATE.value,
    Col.CURRENT.value,
    Col.PROGRESS.value,
    Col.EXPECTED.value,
    Col.HEALTH.value,
    Col.OWNER_HEALTH.value,
    SYNCED_AT,
)
_BY_KEY = {normalize_header(h): h for h in HISTORY_HEADER}
_KEY = "_key"
#: Two Currents closer than this are the same check-in (floats survive a sheet round trip,
#: but a value typed as "50" and one computed as 50.0000000001 should still match).
_SAME = 1e-9
_OFF_TRACK = normalize_header(Health.OFF_TRACK.value)
_SPARKS = "▁▂▃▄▅▆▇█"


# --- reading ----------------------------------------------------------------------


def _positions(table: SheetTable | None) -> dict[str, int] | None:
    """History column -> 0-based position in ``table``; ``None`` when there is no header yet.

    :raises SheetLayoutError: a History column is missing or appears twice.
    """
    if table is None or not any(str(h or "").strip() for h in table.header):
        return None
    positions: dict[str, int] = {}
    for i, header in enumerate(table.header):
        name = _BY_KEY.get(normalize_header(header))
        if name is None:
            continue
        if name in positions:
            raise SheetLayoutError(
                f'Worksheet "{table.title}" has two "{name}" columns; remove one so okrsync '
                "knows which holds the check-in history."
            )
        positions[name] = i
    missing = [h for h in HISTORY_HEADER if h not in positions]
    if missing:
        names = ", ".join(f'"{m}"' for m in missing)
        raise SheetLayoutError(
            f'Worksheet "{table.title}" has no {names} column in row 1; add the header, or '
            "rename the worksheet so okrsync starts a new History with every column."
        )
    return positions


def parse_history(table: SheetTable | None, date_formats: Sequence[str] = ()) -> pd.DataFrame:
    """The History worksheet as typed columns, one row per recorded check-in, in sheet order.

    Headers match like the check-in sheet's (case and spacing ignored) and may stand in any
    order; other columns are ignored. Cells are typed with :mod:`okrsync.parse`: ``ID`` and
    the health columns as stripped text, ``Check-in Date`` as ``datetime64``, ``Current``,
    ``Progress`` and ``Expected`` as floats (``NaN`` blank or unreadable), ``Synced At`` as
    text. Rows with a blank ID cannot belong to any KR and are left out.

    :param table: as read by the backend; ``None`` (no worksheet yet) gives no rows.
    :returns: the columns of :data:`HISTORY_HEADER` plus ``_key`` (the ID upper-cased, the
        way IDs are compared), indexed by sheet row number.
    :raises SheetLayoutError: a History column is missing or appears twice.
    """
    positions = _positions(table)
    if table is None or positions is None or not table.rows:
        return _empty_history()
    width = max(len(table.header), *map(len, table.rows))
    grid = pd.DataFrame(
        [[*r, *[None] * (width - len(r))] for r in table.rows],
        index=pd.RangeIndex(2, 2 + len(table.rows)),
        dtype=object,
    )
    raw = {name: grid[positions[name]] for name in HISTORY_HEADER}
    out = pd.DataFrame(index=grid.index)
    for name in (Col.ID, Col.HEALTH, Col.OWNER_HEALTH, SYNCED_AT):
        out[str(name)] = _text(raw[str(name)])
    dates, _ = parse_dates(raw[Col.CHECKIN_DATE.value], date_formats)
    out[Col.CHECKIN_DATE.value] = dates
    for name in (Col.CURRENT, Col.PROGRESS, Col.EXPECTED):
        out[name.value], _ = parse_numbers(raw[name.value])
    out = out[list(HISTORY_HEADER)]
    out[_KEY] = out[Col.ID.value].str.upper()
    return out[out[Col.ID.value] != ""]


def _empty_history() -> pd.DataFrame:
    out = pd.DataFrame({h: pd.Series(dtype=object) for h in HISTORY_HEADER})
    out[Col.CHECKIN_DATE.value] = pd.Series(dtype="datetime64[ns]")
    for name in (Col.CURRENT, Col.PROGRESS, Col.EXPECTED):
        out[name.value] = pd.Series(dtype="float64")
    out[_KEY] = pd.Series(dtype=object)
    return out


def _text(raw: pd.Series) -> pd.Series:
    """Cells as stripped text (``""`` blank); numbers and dates as an owner would type them."""
    cells = Cells(raw)
    text = cells.text
    other = raw.notna() & text.isna()
    if other.any():
        text = text.where(~other, raw[other].map(_plain))
    return text.fillna("").astype(object)


def _plain(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


# --- looking back -----------------------------------------------------------------


class Lookback:
    """Each KR's History before its current check-in, worked out once per sync.

    A KR's *previous* check-in is its last History row whose check-in (Check-in Date and
    Current) differs from the current one. Rows after it can only repeat the current
    check-in (this sync, or a sync that crashed before its sheet write showed), so they
    are skipped: Trend and the off-track streak come out the same whether or not the
    current check-in has been appended yet.

    :param krs: one row per KR with ``ID``, ``Check-in Date`` and ``Current`` typed as
        :func:`okrsync.validate.validate` types them (``Checked.kr`` or ``SyncResult.table``).
    :param history: :func:`parse_history`'s frame.
    """

    def __init__(self, krs: pd.DataFrame, history: pd.DataFrame) -> None:
        self.index = krs.index
        keys = krs[Col.ID].astype(str).str.strip().str.upper()
        self.keys = keys
        date = krs[Col.CHECKIN_DATE]
        current = krs[Col.CURRENT].astype("float64")
        #: The row holds a check-in at all (a KR never checked in has nothing to record).
        self.checked_in = (date.notna() | current.notna()).to_numpy()
        # Duplicate IDs are errors on every row that shares them; the first row stands
        # for the key here, and the others' results are blanked by compute anyway.
        first = ~keys.duplicated()
        now = pd.DataFrame(
            {"date": date[first].to_numpy(), "current": current[first].to_numpy()},
            index=pd.Index(keys[first].to_numpy(), name=_KEY),
        )
        h = history.loc[history[_KEY].isin(now.index)].reset_index(drop=True)
        mine = now.reindex(h[_KEY].to_numpy())
        h_date = h[Col.CHECKIN_DATE.value].to_numpy(dtype="datetime64[ns]")
        c_date = mine["date"].to_numpy(dtype="datetime64[ns]")
        same_date = (h_date == c_date) | (np.isnat(h_date) & np.isnat(c_date))
        h_cur = h[Col.CURRENT.value].to_numpy(dtype=float)
        c_cur = mine["current"].to_numpy(dtype=float)
        same_cur = np.isclose(h_cur, c_cur, rtol=0, atol=_SAME) | (
            np.isnan(h_cur) & np.isnan(c_cur)
        )
        same = pd.Series(same_date & same_cur, index=h.index)
        pos = h.groupby(_KEY, sort=False).cumcount()
        by = h[_KEY]
        # Position of the previous check-in: the last row that is not the current one.
        prev_pos = pos.where(~same).groupby(by, sort=False).max()
        is_prev = pos.to_numpy() == prev_pos.reindex(by).to_numpy()
        prev_progress = pd.Series(
            h.loc[is_prev, Col.PROGRESS.value].to_numpy(dtype=float),
            index=by[is_prev].to_numpy(),
        )
        # Off-track check-ins in a row, ending at the previous check-in.
        off = h[Col.HEALTH.value].map(normalize_header).eq(_OFF_TRACK)
        prior = pos.to_numpy() <= prev_pos.reindex(by).fillna(-1).to_numpy()
        last_not_off = pos.where(prior & ~off.to_numpy()).groupby(by, sort=False).max()
        run = prev_pos - last_not_off.reindex(prev_pos.index).fillna(-1)
        # The KR's last row already records the current check-in.
        recorded = same.groupby(by, sort=False).last()

        def per_kr(values: pd.Series, blank: float | bool) -> np.ndarray:
            # fill_value, not fillna: no object-dtype downcasting for the bool column.
            return values.reindex(keys.to_numpy(), fill_value=blank).to_numpy()

        #: Progress at each KR's previous check-in (``NaN`` without one), indexed like krs.
        self.previous_progress = pd.Series(
            per_kr(prev_progress, np.nan).astype(float), index=krs.index
        )
        self.prior_off_track = pd.Series(
            np.nan_to_num(per_kr(run, 0).astype(float)).astype("int64"), index=krs.index
        )
        self.recorded = pd.Series(per_kr(recorded, False).astype(bool), index=krs.index)

    def streak(self, health: pd.Series) -> pd.Series:
        """Check-ins in a row computed off track, counting the current one (0 when it is not).

        :param health: each KR's computed Health now, indexed like the KRs.
        """
        off = health.reindex(self.index).map(normalize_header, na_action="ignore")
        now_off = off.eq(_OFF_TRACK).to_numpy() & self.checked_in
        return pd.Series(
            np.where(now_off, self.prior_off_track.to_numpy() + 1, 0), index=self.index
        )

    def new_checkins(self, table: pd.DataFrame, synced_at: str) -> pd.DataFrame:
        """The History rows to append: error-free KRs whose check-in is not yet recorded.

        :param table: the same KRs, in the same order, with their computed columns and
            ``error`` (``SyncResult.table``).
        :param synced_at: the Synced At text for every new row.
        :returns: :data:`HISTORY_HEADER` columns, one row per new check-in, in sheet order.
        """
        take = ~table["error"].to_numpy(dtype=bool) & self.checked_in & ~self.recorded.to_numpy()
        new = table.loc[take]
        out = pd.DataFrame(
            {
                Col.ID.value: new[Col.ID].astype(str).str.strip(),
                Col.CHECKIN_DATE.value: new[Col.CHECKIN_DATE],
                Col.CURRENT.value: new[Col.CURRENT].astype("float64"),
                Col.PROGRESS.value: new[Col.PROGRESS].astype("float64"),
                Col.EXPECTED.value: new[Col.EXPECTED].astype("float64"),
                Col.HEALTH.value: new[Col.HEALTH],
                Col.OWNER_HEALTH.value: new[Col.OWNER_HEALTH],
                SYNCED_AT: synced_at,
            },
            index=new.index,
        )
        return out[list(HISTORY_HEADER)]


def previous_progress(krs: pd.DataFrame, history: pd.DataFrame) -> pd.Series:
    """Each KR's Progress at its previous check-in, for Trend (see :class:`Lookback`).

    :returns: floats indexed like ``krs``; ``NaN`` for a KR with no earlier check-in.
    """
    return Lookback(krs, history).previous_progress


def off_track_streak(krs: pd.DataFrame, history: pd.DataFrame) -> pd.Series:
    """How many check-ins in a row each KR has been computed off track, counting the current.

    :param krs: the KRs with their computed ``Health`` (``SyncResult.table``).
    :returns: whole numbers indexed like ``krs``; 0 when the KR is not off track now.
    """
    return Lookback(krs, history).streak(krs[Col.HEALTH])


def new_checkins(krs: pd.DataFrame, history: pd.DataFrame, synced_at: str) -> pd.DataFrame:
    """The History rows to append for ``krs`` (see :meth:`Lookback.new_checkins`)."""
    return Lookback(krs, history).new_checkins(krs, synced_at)


def history_rows(new: pd.DataFrame, table: SheetTable | None) -> tuple[list[str], list[list[Cell]]]:
    """``new`` as ``(header, rows)`` for :meth:`SheetBackend.append_rows`.

    On a worksheet that already has a header, ``header`` is that header as read (up to its
    last non-blank text) and each row is laid out under it, so the History columns may
    stand in any order among a team's own. A backend that places values under their own
    headers (Google Sheets) then maps each column onto itself, and one that appends rows
    as given (xlsx) puts them in the same place. A new or empty worksheet gets
    :data:`HISTORY_HEADER` and rows in its order.
    """
    positions = _positions(table)
    if table is None or positions is None:
        header = list(HISTORY_HEADER)
        positions = {h: i for i, h in enumerate(HISTORY_HEADER)}
    else:
        width = max(i for i, h in enumerate(table.header) if str(h or "").strip()) + 1
        header = ["" if h is None else str(h) for h in table.header[:width]]
    columns: list[list[Cell]] = []
    for name in HISTORY_HEADER:
        values = new[name]
        if name == Col.CHECKIN_DATE.value:
            cells = pd.DatetimeIndex(values).date.astype(object)
            cells[pd.isna(values).to_numpy()] = None
            columns.append(list(cells))
        elif values.dtype.kind == "f":
            columns.append([None if np.isnan(v) else float(v) for v in values.to_numpy(float)])
        else:
            columns.append([None if _blank(v) else str(v) for v in values.to_numpy(object)])
    at = [positions[name] for name in HISTORY_HEADER]
    rows: list[list[Cell]] = []
    for cells in zip(*columns, strict=True):
        row: list[Cell] = [None] * len(header)
        for i, value in zip(at, cells, strict=True):
            row[i] = value
        rows.append(row)
    return header, rows


def _blank(value: object) -> bool:
    return value is None or value == "" or (isinstance(value, float) and np.isnan(value))


# --- revisit warnings ---------------------------------------------------------------


def revisit_warnings(streak: pd.Series, revisit_after: int) -> list[RowIssue]:
    """The contract's revisit warning for each KR off track ``revisit_after`` check-ins in a row.

    :param streak: :meth:`Lookback.streak`, indexed by sheet row.
    """
    due = streak[streak >= revisit_after]
    return [
        RowIssue(
            int(row),
            Col.HEALTH.value,
            None,
            f"off track for {int(n)} check-in{'' if n == 1 else 's'} in a row; "
            "consider revisiting this KR",
            error=False,
        )
        for row, n in due.items()
    ]


def merge_warnings(
    issues: Sequence[RowIssue], notes: pd.Series, extra: Iterable[RowIssue]
) -> tuple[list[RowIssue], pd.Series]:
    """Add ``extra`` warnings to the issues and the Sync Notes, keeping the validator's order.

    Issues are ordered by row, then by the contract's column order; a History warning names
    a computed column, which comes after every owner column, so it goes last on its row.
    """
    extra = list(extra)
    if not extra:
        return list(issues), notes
    merged = sorted([*issues, *extra], key=lambda i: i.row)  # stable: extra last per row
    added = pd.Series([i.note for i in extra], index=[i.row for i in extra], dtype=object)
    added = added.groupby(level=0).agg("; ".join).reindex(notes.index)
    has_old = notes.fillna("").ne("")
    out = notes.where(added.isna(), np.where(has_old, notes.fillna("") + "; " + added, added))
    return merged, out


# --- the report -------------------------------------------------------------------


@dataclass
class HistoryReport:
    """What a sync did with History (``SyncResult.extras["history"]``).

    :param appended: rows appended (0 on a dry run or ``validate``).
    :param pending: rows this run found new (appended, or on a dry run what would be).
    :param revisit: IDs of the KRs given the revisit warning.
    """

    worksheet: str
    appended: int = 0
    pending: int = 0
    dry_run: bool = False
    revisit_after: int = 3
    revisit: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"worksheet": self.worksheet, "appended": self.appended}
        if self.dry_run:
            out["would_append"] = self.pending
        out["to_revisit"] = list(self.revisit)
        return out

    def lines(self) -> list[str]:
        """One or two human lines for the run summary on the terminal."""
        if self.dry_run:
            lines = [f'History: would append {self.pending} check-in(s) to "{self.worksheet}".']
        elif self.appended:
            lines = [f'History: appended {self.appended} check-in(s) to "{self.worksheet}".']
        else:
            lines = [f'History: no new check-ins for "{self.worksheet}".']
        if self.revisit:
            lines.append(
                f"To revisit (off track {self.revisit_after}+ check-ins in a row): "
                + ", ".join(self.revisit)
            )
        return lines


# --- okrsync history ID -------------------------------------------------------------


def sparkline(values: Sequence[float] | np.ndarray) -> str:
    """Fractions 0..1 as block characters (``▁`` for 0 up to ``█`` for 1; blank as a space).

    The scale is fixed, not stretched to the data, so a progress line and an expected line
    drawn one above the other can be compared by eye.
    """
    arr = np.asarray(values, dtype=float)
    idx = np.rint(np.clip(np.nan_to_num(arr, nan=0.0), 0.0, 1.0) * (len(_SPARKS) - 1))
    return "".join(" " if np.isnan(v) else _SPARKS[int(i)] for v, i in zip(arr, idx, strict=True))


@dataclass
class KrHistory:
    """One KR's check-ins as recorded in History (what ``okrsync history ID`` shows).

    :param checkins: the KR's History rows in order (:func:`parse_history`'s columns).
    """

    id: str
    key_result: str
    owner: str
    worksheet: str
    checkins: pd.DataFrame

    def sparklines(self) -> tuple[str, str]:
        """Progress and Expected over the check-ins, on the same 0..1 scale."""
        return (
            sparkline(self.checkins[Col.PROGRESS.value].to_numpy(float)),
            sparkline(self.checkins[Col.EXPECTED.value].to_numpy(float)),
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (what ``--json`` prints)."""
        progress, expected = self.sparklines()
        return {
            "id": self.id,
            "key_result": self.key_result,
            "owner": self.owner,
            "worksheet": self.worksheet,
            "checkins": [_checkin(r) for r in self.checkins.to_dict("records")],
            "sparkline": {"progress": progress, "expected": expected},
        }


def _checkin(r: dict[str, Any]) -> dict[str, Any]:
    date = r[Col.CHECKIN_DATE.value]
    return {
        "date": None if pd.isna(date) else date.date().isoformat(),
        "current": _number(r[Col.CURRENT.value]),
        "progress": _number(r[Col.PROGRESS.value]),
        "expected": _number(r[Col.EXPECTED.value]),
        "health": r[Col.HEALTH.value] or None,
        "owner_health": r[Col.OWNER_HEALTH.value] or None,
        "synced_at": r[SYNCED_AT] or None,
    }


def _number(value: float) -> float | None:
    return None if pd.isna(value) else float(value)


def kr_history(config: Config, kr_id: str, *, backend: SheetBackend | None = None) -> KrHistory:
    """Read one KR's check-ins from History (one batched read of the sheet and History).

    ``kr_id`` matches IDs case-insensitively; a bare number (``7``, ``kr-7``) finds
    ``KR-0007``.

    :raises ConfigError: history is off in the config.
    :raises UnknownKrError: no KR in the sheet or in History has that ID (the message names
        close matches).
    :raises SheetError: the sheet cannot be read.
    """
    title = config.history.worksheet
    if not config.history.enabled:
        where = f" in {config.source}" if config.source else ""
        raise ConfigError(
            f'History is off ([history] worksheet = ""); set [history] worksheet = "History"'
            f"{where} and each `okrsync sync` will record check-ins there."
        )
    own = backend is None
    backend = backend or open_backend(config)
    try:
        tables = backend.read(extra=[title])
        frame = read_table(tables[backend.worksheet], config)  # type: ignore[arg-type]
    finally:
        if own:
            backend.close()
    history = parse_history(tables.get(title), config.date_formats)
    sheet = pd.DataFrame(
        {
            "id": _text(frame.column(Col.ID).raw),
            "kr": _text(frame.column(Col.KEY_RESULT).raw),
            "owner": _text(frame.column(Col.OWNER).raw),
        }
    )
    sheet = sheet[sheet["id"] != ""]
    known = list(dict.fromkeys([*sheet["id"], *history[Col.ID.value]]))
    by_key = {k.upper(): k for k in reversed(known)}
    wanted = kr_id.strip().upper()
    if wanted not in by_key and (m := re.fullmatch(r"(?:KR-?)?0*(\d+)", wanted)):
        wanted = f"KR-{int(m[1]):04d}"
    if wanted not in by_key:
        close = difflib.get_close_matches(wanted, list(by_key), n=3, cutoff=0.6)
        names = [by_key[c] for c in close]
        hint = (
            f"did you mean {_one_of(names)}?"
            if names
            else f'the IDs are in the ID column of "{backend.worksheet}".'
        )
        raise UnknownKrError(f'No KR has ID "{kr_id.strip()}" in the sheet or in History; {hint}')
    row = sheet[sheet["id"].str.upper() == wanted]
    return KrHistory(
        id=by_key[wanted],
        key_result=str(row["kr"].iloc[0]) if len(row) else "",
        owner=str(row["owner"].iloc[0]) if len(row) else "",
        worksheet=title,
        checkins=history[history[_KEY] == wanted].drop(columns=[_KEY]),
    )


def _one_of(names: Sequence[str]) -> str:
    """``A``, ``A or B``, ``A, B or C``."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
