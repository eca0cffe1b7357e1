"""Decide which cells to write: only those whose value would change.

Pure: compares what :mod:`okrsync.compute` wants in each okrsync column with what the
sheet holds, and returns a list of :class:`~okrsync.backends.base.CellChange`. The
backend only applies the list; ``--dry-run`` prints it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from okrsync.backends.base import Cell, CellChange
from okrsync.columns import COMPUTED_COLUMNS, DATE_COLUMNS, INTEGER_COLUMNS, PERCENT_COLUMNS, Col
from okrsync.parse import cell_kinds, is_blank, number_mask, parse_dates, text_of
from okrsync.read import Frame

__all__ = ["plan_changes"]


def plan_changes(
    frame: Frame, computed: pd.DataFrame, id_fills: pd.Series | None = None
) -> list[CellChange]:
    """The cells to write so the sheet shows ``computed`` (and the filled IDs).

    Missing okrsync columns get a header cell to the right of the last header. Blank rows
    that still hold okrsync's old values are cleared. Cells already equal are left alone,
    so a sync of an unchanged sheet plans nothing.
    """
    positions = dict(frame.positions)
    changes: list[CellChange] = []
    next_col = frame.width + 1
    fills = id_fills if id_fills is not None else pd.Series(dtype=object)
    if len(fills) and Col.ID not in positions:
        positions[Col.ID] = next_col
        next_col += 1
        changes.append(CellChange(1, positions[Col.ID], Col.ID, Col.ID.value))
    for col in COMPUTED_COLUMNS:
        if col not in positions:
            positions[col] = next_col
            next_col += 1
            changes.append(CellChange(1, positions[col], col, col.value))

    ids = _keys(frame, fills)
    for row, new_id in fills.items():
        changes.append(CellChange(int(row), positions[Col.ID], Col.ID, new_id, None, new_id))

    raw = frame.raw
    for col in COMPUTED_COLUMNS:
        want = computed[col]
        have = raw[col] if col in raw else pd.Series(None, index=raw.index, dtype=object)
        at = np.flatnonzero(~_same(col, want, have).to_numpy())
        if not len(at):
            continue
        rows = want.index.to_numpy()[at].tolist()
        pos = positions[col]
        changes.extend(
            CellChange(r, pos, col, w, h, ids.get(r))
            for r, w, h in zip(rows, _cells(col, want.iloc[at]), _olds(have.iloc[at]), strict=True)
        )
    # okrsync's leftovers on rows an owner has emptied.
    for col in frame.blank_rows.columns:
        leftover = frame.blank_rows[col]
        at = np.flatnonzero(~is_blank(leftover).to_numpy())
        changes.extend(
            CellChange(int(r), positions[col], col, None, v)
            for r, v in zip(leftover.index[at], _olds(leftover.iloc[at]), strict=True)
        )
    changes.sort(key=lambda c: (c.row, c.col))
    return changes


def _keys(frame: Frame, fills: pd.Series) -> dict[int, str]:
    ids = text_of(frame.raw[Col.ID]) if Col.ID in frame.raw else pd.Series(dtype=object)
    keys = {int(r): v for r, v in ids.dropna().items() if v}
    keys.update({int(r): v for r, v in fills.items()})
    return keys


def _same(col: Col, want: pd.Series, have: pd.Series) -> pd.Series:
    """Whether each sheet cell already shows the wanted value (vectorised per column)."""
    want_blank = want.isna() | (want == "").fillna(value=False).astype(bool)
    have_blank = is_blank(have)
    kinds = cell_kinds(have)
    if col in PERCENT_COLUMNS or col in INTEGER_COLUMNS:
        numeric = number_mask(kinds)
        have_num = pd.to_numeric(have.where(numeric), errors="coerce").astype("float64")
        close = pd.Series(
            np.isclose(have_num.to_numpy(), want.to_numpy(dtype=float), rtol=0, atol=1e-9),
            index=want.index,
        )
        equal = numeric & close
    elif col in DATE_COLUMNS:
        # A date cell, or the serial number a Google sheet returns for one; not text.
        dated = ~kinds.isin([str])
        have_date, _ = parse_dates(have.where(dated))
        equal = dated & (have_date == want)
    else:
        equal = kinds.isin([str]) & (text_of(have) == want)
    return (want_blank & have_blank) | (~want_blank & ~have_blank & equal.fillna(value=False))


def _cells(col: Col, want: pd.Series) -> list[Cell]:
    """Computed values as the backend writes them, a whole column at a time."""
    blank = want.isna().to_numpy() | (want == "").fillna(value=False).to_numpy(dtype=bool)
    if col in DATE_COLUMNS:
        values = pd.DatetimeIndex(want).date.astype(object, copy=True)
    elif col in INTEGER_COLUMNS:
        values = want.fillna(0).astype("int64").to_numpy(dtype=object, copy=True)
    elif col in PERCENT_COLUMNS:
        values = want.astype("float64").to_numpy(dtype=object, copy=True)
    else:
        values = want.to_numpy(dtype=object, copy=True)
    values[blank] = None
    return values.tolist()


def _olds(have: pd.Series) -> list[Cell]:
    """Cells as read, for --dry-run and logs (blanks as None)."""
    return have.astype(object).where(have.notna(), None).tolist()
