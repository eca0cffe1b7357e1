"""One sync, stage by stage: read, validate, compute, diff, write (then history and email).

This is the library API the CLI stands on::

    from okrsync import load_config, sync
    result = sync(load_config("config/okrsync.toml"), today=datetime.date(2026, 11, 16))
    print(result.summary())
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from okrsync.backends import SheetBackend, open_backend
from okrsync.backends.base import CellChange
from okrsync.columns import Col, Health
from okrsync.compute import compute
from okrsync.config import Config
from okrsync.diff import plan_changes
from okrsync.errors import ConfigError, RowIssue
from okrsync.history import (
    HistoryReport,
    Lookback,
    history_rows,
    merge_warnings,
    parse_history,
    revisit_warnings,
)
from okrsync.lock import RunLock
from okrsync.notify import send_due
from okrsync.read import read_table
from okrsync.validate import validate

__all__ = ["SyncResult", "check", "sync"]

log = logging.getLogger(__name__)


@dataclass
class SyncResult:
    """What one run found and did.

    :param table: one row per KR (non-blank sheet row): the typed owner columns, the
        computed columns as written, ``row`` (sheet row) and ``error``.
    :param issues: every problem found, by row.
    :param changes: the cells written (or, with ``dry_run``, that would be).
    """

    table: pd.DataFrame
    issues: list[RowIssue]
    changes: list[CellChange]
    today: dt.date
    location: str
    dry_run: bool = False
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def error_rows(self) -> int:
        return int(self.table["error"].sum())

    @property
    def warning_count(self) -> int:
        return sum(1 for i in self.issues if not i.error)

    @property
    def error_count(self) -> int:
        return sum(1 for i in self.issues if i.error)

    def health_counts(self) -> dict[str, int]:
        """KRs per computed health, in the contract's order (rows with errors left out)."""
        counts = Counter(self.table[Col.HEALTH].dropna())
        return {h.value: counts.get(h.value, 0) for h in Health}

    @property
    def overdue(self) -> int:
        return int((self.table[Col.OVERDUE] == "yes").sum())

    @property
    def cell_changes(self) -> list[CellChange]:
        """The data cells written (or to be written): the changes below the header row."""
        return [c for c in self.changes if c.row > 1]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (what ``--json`` prints)."""
        cells = self.cell_changes
        out: dict[str, Any] = {
            "today": self.today.isoformat(),
            "location": self.location,
            "dry_run": self.dry_run,
            "rows": len(self.table),
            "rows_with_errors": self.error_rows,
            "errors": self.error_count,
            "warnings": self.warning_count,
            "health": self.health_counts(),
            "overdue": self.overdue,
            "cells_changed": len(cells),
            "columns_added": [c.column for c in self.changes if c.row == 1],
            "ids_filled": [c.value for c in cells if c.column == Col.ID],
            "problems": [
                {
                    "row": i.row,
                    "column": i.column,
                    "value": _jsonable(i.value),
                    "message": i.note,
                    "severity": "error" if i.error else "warning",
                }
                for i in self.issues
            ],
        }
        if self.dry_run:
            out["would_write"] = [
                {
                    "row": c.row,
                    "column": c.column,
                    "old": _jsonable(c.old),
                    "new": _jsonable(c.value),
                }
                for c in self.changes
            ]
        for key, value in self.extras.items():
            out[key] = value.to_dict() if hasattr(value, "to_dict") else value
        return out


def _jsonable(value: object) -> object:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and np.isnan(value):
        return None
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def check(config: Config, *, today: dt.date, backend: SheetBackend | None = None) -> SyncResult:
    """Read, validate and compute; write and send nothing (``okrsync validate``)."""
    result = _run(config, today=today, backend=backend, dry_run=True, send=False)
    # Nothing is planned to be written by a validation: it is not a dry run of a sync.
    result.dry_run = False
    result.changes = []
    return result


def sync(
    config: Config,
    *,
    today: dt.date,
    dry_run: bool = False,
    backend: SheetBackend | None = None,
) -> SyncResult:
    """Run one sync: read, validate, compute, write the changed cells, send due email.

    A run that writes holds the lock in ``[state] dir`` for its whole length, so a cron
    sync and an ``okrsync run`` never write the same sheet at once.

    :param dry_run: plan everything, change nothing (and take no lock).
    :raises LockHeldError: another run holds the lock (exit code 75).
    :raises OkrsyncError: the sheet cannot be read or written (see :mod:`okrsync.errors`).
    """
    if dry_run:
        return _run(config, today=today, backend=backend, dry_run=True, send=True)
    with RunLock(config.state.dir):
        return _run(config, today=today, backend=backend, dry_run=False, send=True)


def _run(
    config: Config,
    *,
    today: dt.date,
    backend: SheetBackend | None,
    dry_run: bool,
    send: bool,
) -> SyncResult:
    own = backend is None
    apply = not dry_run  # a dry run (and validate) plans everything, changes nothing
    backend = backend or open_backend(config)
    title = config.history.worksheet if config.history.enabled else ""
    try:
        if title and title == backend.worksheet:  # inside try: the backend gets closed
            raise ConfigError(
                f'[history] worksheet and [sheet] worksheet are both "{title}"; give History '
                'its own worksheet (e.g. "History"), or set it to "" to turn history off.'
            )
        # History comes in the same batch as the sheet: one read, on every backend.
        tables = backend.read(extra=[title] if title else [])
        frame = read_table(tables[backend.worksheet], config)  # type: ignore[arg-type]
        checked = validate(frame, config, today)
        issues = checked.issues
        look: Lookback | None = None
        if title:
            look = Lookback(checked.kr, parse_history(tables.get(title), config.date_formats))
        computed = compute(checked, config, today, look.previous_progress if look else None)
        revisit = pd.Series(False, index=computed.index)
        if look is not None:
            streak = look.streak(computed[Col.HEALTH])
            revisit = streak >= config.history.revisit_after
            issues, computed[Col.SYNC_NOTES] = merge_warnings(
                issues,
                computed[Col.SYNC_NOTES],
                revisit_warnings(streak, config.history.revisit_after),
            )
        changes = plan_changes(frame, computed, checked.id_fills)
        log.info(
            "read %d KRs from %s: %d with errors, %d problems; %d cells to write",
            len(frame.raw),
            backend.location(),
            int(checked.error.sum()),
            len(issues),
            len(changes),
        )
        if apply and changes:
            backend.write(changes)
            log.info("wrote %d cells", len(changes))
        table = checked.kr.drop(columns=["_days", "_months", "_met"])
        table[Col.CADENCE] = checked.kr[Col.CADENCE]
        table = table.join(computed)
        table["row"] = table.index.astype(int)
        table["error"] = checked.error
        table["revisit"] = revisit.astype(bool)
        extras: dict[str, Any] = {}
        if look is not None:
            # History is appended after the sheet write, so it only records check-ins the
            # sheet has shown. A crash (or a rejected write) in between leaves the check-in
            # unrecorded; the next sync finds it still new and appends it then. Trend and
            # the off-track streak look only at History rows before the current check-in
            # (see Lookback), so that re-run computes the same cells whether or not the
            # append happened: it converges, and never appends a check-in twice.
            new = look.new_checkins(table, _synced_at())
            header, rows = history_rows(new, tables.get(title))
            if apply and rows:
                backend.append_rows(title, header, rows)
                log.info("appended %d check-ins to %s", len(new), title)
            extras["history"] = HistoryReport(
                worksheet=title,
                appended=len(new) if apply else 0,
                pending=len(new),
                dry_run=dry_run,
                revisit_after=config.history.revisit_after,
                revisit=table.loc[table["revisit"], Col.ID].astype(str).tolist(),
            )
        result = SyncResult(
            table=table,
            issues=issues,
            changes=changes,
            today=today,
            location=backend.location(),
            dry_run=dry_run,
            extras=extras,
        )
        if send:
            # Email goes last: a sheet write that fails sends nothing, and a message that
            # fails to send is in the ledger, tried again by the next run.
            result.extras["emails"] = send_due(
                config,
                table,
                issues,
                today=today,
                location=result.location,
                dry_run=dry_run,
            )
        return result
    finally:
        if own:
            backend.close()


def _synced_at() -> str:
    """The Synced At text of History rows: the wall-clock time in UTC (not ``--today``)."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
