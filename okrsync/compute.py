"""Progress, expected pace, health, overdue and the rest of okrsync's columns.

Pure and vectorised: each value depends only on the row, the config, "today" and the KR's
previous check-in in History, so a second sync with no edits computes the same cells and
writes nothing. The rounding rules are the contract's: Progress and Expected to 4 places,
the gap compared after rounding to 9, so ``gap <= 0.10`` holds at exactly 0.10.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from okrsync.columns import Col, Health, KrType
from okrsync.config import Config
from okrsync.validate import Checked

__all__ = ["compute"]


def compute(
    checked: Checked,
    config: Config,
    today: dt.date,
    previous_progress: pd.Series | None = None,
) -> pd.DataFrame:
    """Compute okrsync's columns for every row of ``checked``.

    :param previous_progress: each KR's Progress at its previous check-in (from History),
        indexed like ``checked.kr``; ``None`` when history is off (Trend stays blank).
    :returns: one column per computed column, as written to the sheet: floats for Progress
        and Expected, whole numbers for Days Since Check-in, timestamps for Next Check-in,
        text for the rest; blank (``NaN``/``NaT``/``None``) on rows with an error.
    """
    kr = checked.kr
    kind = kr[Col.TYPE]
    start, target, current = kr[Col.START], kr[Col.TARGET], kr[Col.CURRENT]
    today_ts = pd.Timestamp(today)
    cycle_start = pd.Timestamp(config.cycle.start)

    kept = kind.isin([KrType.AT_LEAST, KrType.AT_MOST]).to_numpy()
    met = kr["_met"].to_numpy(dtype=bool)
    moved = (current.fillna(start) - start) / (target - start)
    progress = np.select(
        [
            kind.isin([KrType.INCREASE, KrType.DECREASE]),
            kind == KrType.PERCENT,
            kind == KrType.BOOLEAN,
            kept,
        ],
        [moved, current.fillna(0.0), current.fillna(0.0), met.astype(float)],
        default=np.nan,
    )
    progress = np.round(np.clip(progress, 0.0, 1.0), 4)

    due = kr[Col.DUE_DATE]
    elapsed = (today_ts - cycle_start).days
    span = (due - cycle_start).dt.days.to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = np.round(np.clip(elapsed / span, 0.0, 1.0), 4)

    past_due = (today_ts > due).to_numpy()
    gap = np.round(expected - progress, 9)
    pace = np.select(
        [
            progress >= 1,
            past_due,
            gap <= config.health.at_risk_gap,
            gap <= config.health.off_track_gap,
        ],
        [Health.DONE, Health.OFF_TRACK, Health.ON_TRACK, Health.AT_RISK],
        default=Health.OFF_TRACK,
    )
    keeping = np.select(
        [met & past_due, met], [Health.DONE, Health.ON_TRACK], default=Health.OFF_TRACK
    )
    health = np.where(kept, keeping, pace).astype(object)

    checkin = kr[Col.CHECKIN_DATE]
    base = checkin.fillna(cycle_start)
    by_days = base + pd.to_timedelta(kr["_days"], unit="D")
    monthly = kr["_months"] > 0
    next_checkin = by_days
    if monthly.any():
        # DateOffset clamps to the month's end: Jan 31 + 1 month = Feb 28.
        next_checkin = by_days.where(~monthly, base + pd.DateOffset(months=1))
    overdue = np.where((today_ts > next_checkin) & (health != Health.DONE), "yes", "no")
    days_since = (today_ts - checkin).dt.days.astype("float64")

    out = pd.DataFrame(
        {
            Col.PROGRESS: progress,
            Col.EXPECTED: expected,
            Col.HEALTH: health,
            Col.OVERDUE: overdue.astype(object),
            Col.DAYS_SINCE: days_since,
            Col.NEXT_CHECKIN: next_checkin,
            Col.TREND: _trend(progress, previous_progress, kr.index),
            Col.SYNC_NOTES: checked.notes,
        },
        index=kr.index,
    )
    bad = checked.error
    if bad.any():
        blank_cols = [c for c in out.columns if c != Col.SYNC_NOTES]
        for col in blank_cols:
            out[col] = out[col].where(~bad)
        for col in (Col.HEALTH, Col.OVERDUE, Col.TREND):
            out[col] = out[col].astype(object).where(~bad, None)
    return out


def _trend(progress: np.ndarray, previous: pd.Series | None, index: pd.Index) -> pd.Series:
    """↑, ↓ or → against the previous check-in's Progress; ``None`` without one."""
    if previous is None:
        # A list, not a scalar: pandas broadcasts a scalar None to NaN.
        return pd.Series([None] * len(index), index=index, dtype=object)
    prev = previous.reindex(index).to_numpy(dtype=float)
    delta = np.round(progress - prev, 4)
    arrows = np.select([delta > 0, delta < 0, delta == 0], ["↑", "↓", "→"], default="")
    return pd.Series(arrows, index=index, dtype=object).replace("", None)
