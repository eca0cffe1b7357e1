"""Decide which cells to write: only those whose value would change.

Pure: compares what :mod:`okrsync.compute` wants in each okrsync column with what the
sheet holds, and returns a list of :class:`~okrsync.backends.base.CellChange`. The
backend only applies the list; ``--dry-run`` prints it.
"""

from __future__ import annotations

import datetime as dt

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
        differs = ~_same(col, want, have)
        for row in differs[differs].index:
            changes.append(
                CellChange(
                    int(row),
                    positions[col],
                    col,
                    _cell(col, want.at[row]),
                    _old(have.at[row]),
                    ids.get(row),
                )
            )
    # okrsync's leftovers on rows an owner has emptied.
    for col in frame.blank_rows.columns:
        stale = ~is_blank(frame.blank_rows[col])
        for row in stale[stale].index:
            changes.append(
                CellChange(int(row), positions[col], col, None, _old(frame.blank_rows.at[row, col]))
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


def _cell(col: Col, value: object) -> Cell:
    """A computed value as the backend writes it."""
    if value is None or value == "" or value is pd.NaT:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if col in DATE_COLUMNS:
        return pd.Timestamp(value).date()
    if col in INTEGER_COLUMNS:
        return int(value)
    if col in PERCENT_COLUMNS:
        return float(value)
    return str(value)


def _old(value: object) -> Cell:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, str | bool | int | float | dt.date):
        return value
    return str(value)
