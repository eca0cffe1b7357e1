"""`okrsync run`: the schedule in ``[schedule] at``.

Forms of ``at``: ``"monday 09:00"`` (a weekday and a time), ``"daily 08:30"``, and
``"every 1h"`` / ``"every 30m"`` (an interval).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["At", "parse_at"]

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_AT_RE = re.compile(r"^(?P<day>[a-z]+)\s+(?P<h>\d{1,2}):(?P<m>\d{2})$")
_EVERY_RE = re.compile(r"^every\s+(?P<n>\d+)\s*(?P<unit>m|min|minutes?|h|hours?)$")


@dataclass(frozen=True)
class At:
    """One parsed ``at`` entry: ``day`` is a weekday, ``"daily"`` or ``"every"``."""

    day: str
    hour: int = 0
    minute: int = 0
    every_minutes: int = 0


def parse_at(text: str) -> At:
    """Parse one ``[schedule] at`` entry.

    :raises ValueError: with a message that shows the accepted forms.
    """
    spec = " ".join(text.split()).casefold()
    if m := _EVERY_RE.match(spec):
        n = int(m["n"])
        minutes = n * 60 if m["unit"].startswith("h") else n
        if minutes < 1:
            raise ValueError(f"{text!r}: the interval must be at least 1 minute")
        return At(day="every", every_minutes=minutes)
    if (m := _AT_RE.match(spec)) and m["day"] in (*_WEEKDAYS, "daily"):
        hour, minute = int(m["h"]), int(m["m"])
        if hour < 24 and minute < 60:
            return At(day=m["day"], hour=hour, minute=minute)
    raise ValueError(f'{text!r} is not a schedule; use "monday 09:00", "daily 08:30" or "every 1h"')
