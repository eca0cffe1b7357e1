"""The sheet's vocabulary: column names, health words, KR types.

The names here are the contract's header texts. Everything after ``read`` speaks in
these canonical names, so a team's own header texts (``[columns]`` in the config) never
leak past the reader.
"""

from __future__ import annotations

from enum import StrEnum


class Col(StrEnum):
    """Canonical column names, in the contract's order."""

    ID = "ID"
    OBJECTIVE = "Objective"
    KEY_RESULT = "Key Result"
    OWNER = "Owner"
    OWNER_EMAIL = "Owner Email"
    TEAM = "Team"
    TYPE = "Type"
    START = "Start"
    TARGET = "Target"
    CURRENT = "Current"
    OWNER_HEALTH = "Owner Health"
    CHECKIN_DATE = "Check-in Date"
    COMMENT = "Comment"
    BLOCKERS = "Blockers"
    NEXT_STEPS = "Next Steps"
    CADENCE = "Cadence"
    DUE_DATE = "Due Date"
    # Computed by okrsync.
    PROGRESS = "Progress"
    EXPECTED = "Expected"
    HEALTH = "Health"
    OVERDUE = "Overdue"
    DAYS_SINCE = "Days Since Check-in"
    NEXT_CHECKIN = "Next Check-in"
    TREND = "Trend"
    SYNC_NOTES = "Sync Notes"


OWNER_COLUMNS: tuple[Col, ...] = tuple(Col)[: tuple(Col).index(Col.DUE_DATE) + 1]
COMPUTED_COLUMNS: tuple[Col, ...] = tuple(Col)[len(OWNER_COLUMNS) :]

# How computed cells are written; backends turn these into number formats.
PERCENT_COLUMNS = frozenset({Col.PROGRESS, Col.EXPECTED})
DATE_COLUMNS = frozenset({Col.NEXT_CHECKIN})
INTEGER_COLUMNS = frozenset({Col.DAYS_SINCE})


class Health(StrEnum):
    """The computed (and the owner's) health of a KR."""

    DONE = "done"
    ON_TRACK = "on track"
    AT_RISK = "at risk"
    OFF_TRACK = "off track"


# Worst first: an objective's health is its weakest KR's.
HEALTH_ORDER: tuple[Health, ...] = (Health.OFF_TRACK, Health.AT_RISK, Health.ON_TRACK, Health.DONE)


class KrType(StrEnum):
    """How a KR's Current is measured against its Target."""

    INCREASE = "increase"
    DECREASE = "decrease"
    AT_LEAST = "at least"
    AT_MOST = "at most"
    BOOLEAN = "boolean"
    PERCENT = "percent"


def normalize_header(text: object) -> str:
    """Fold a header for matching: case-insensitive, outer space trimmed, inner runs of one.

    >>> normalize_header("  check-in   DATE ")
    'check-in date'
    """
    if text is None:
        return ""
    return " ".join(str(text).split()).casefold()


CANONICAL_BY_KEY: dict[str, Col] = {normalize_header(c.value): c for c in Col}


def col_letter(col: int) -> str:
    """1-based column number -> A1 letters, as both Excel and Google Sheets name columns.

    >>> col_letter(1), col_letter(27)
    ('A', 'AA')
    """
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def col_number(letters: str) -> int:
    """A1 letters (upper case) -> 1-based column number: the inverse of :func:`col_letter`.

    >>> col_number("AA")
    27
    """
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n
