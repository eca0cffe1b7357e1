"""Errors a user of okrsync can act on.

One root, :class:`OkrsyncError`, and small leaves. Each carries the process exit code
the CLI uses (``exit_code``), so ``cli.py`` catches the root once and exits with it.
Messages are one sentence that says what went wrong and what to do next; they never
contain secrets.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from okrsync.backends.base import Percent


class OkrsyncError(Exception):
    """Root of every error okrsync raises on purpose. ``exit_code`` 1: the run failed."""

    exit_code: int = 1


class ConfigError(OkrsyncError):
    """The config file (or an option, or the sheet's layout) is wrong: fix it and re-run."""

    exit_code = 2


class UnknownKrError(ConfigError):
    """A command was given a KR ID that no row has (a usage error, exit code 2)."""


class SheetError(OkrsyncError):
    """The sheet could not be read or written: unreachable, not found, access denied."""

    exit_code = 1


class SheetLayoutError(ConfigError):
    """The sheet exists but its layout cannot be used (a required column is missing)."""


class NotifyError(OkrsyncError):
    """Email could not be prepared or sent."""

    exit_code = 1


class LockHeldError(OkrsyncError):
    """Another okrsync run holds the lock on this state directory.

    Exit code 75 (EX_TEMPFAIL from sysexits.h) tells cron wrappers "try again later".
    """

    exit_code = 75


@dataclass(frozen=True)
class RowIssue:
    """One problem found on one sheet row.

    :param row: the 1-based sheet row number (row 1 is the header).
    :param column: the canonical column name, e.g. ``"Current"``.
    :param value: the cell as the owner entered it (quoted in the message).
    :param reason: what is wrong, e.g. ``"is not a number"``.
    :param error: ``True`` for an error (computed cells stay blank), ``False`` for a warning.
    """

    row: int
    column: str
    value: object
    reason: str
    error: bool = True

    @property
    def note(self) -> str:
        """The Sync Notes wording: ``Current: "abc" is not a number``."""
        # NaN is the one value not equal to itself: a blank cell as pandas holds it.
        if self.value is None or self.value == "" or self.value != self.value:
            return f"{self.column}: {self.reason}"
        return f"{self.column}: {quote(self.value)} {self.reason}"

    def __str__(self) -> str:
        return f"row {self.row}, {self.note}"


def quote(value: object) -> str:
    """Quote a cell as the owner sees it: ``"abc"``, ``"5"``, ``"2026-11-20"``; long text cut."""
    if isinstance(value, Percent):
        text = f"{float(value) * 100:g}%"  # as the sheet shows it, not Percent(0.5)
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    elif isinstance(value, dt.datetime) and value.time() == dt.time():
        text = value.date().isoformat()
    elif isinstance(value, dt.date):
        text = value.isoformat()
    else:
        text = str(value)
    # A quoted cell must stay on one line of Sync Notes and of any message.
    text = " ".join(text.split())
    if len(text) > 60:
        text = text[:57] + "..."
    return '"' + text.replace('"', '""') + '"'
