"""``okrsync setup``: prepare the check-in worksheet for owners, on either backend.

Most mistakes owners make (a typo in a health word, a date typed as text, a computed
cell overwritten) are cheaper to prevent in the sheet than to report after the fact
(issue 7). So ``setup`` gives the worksheet what a careful admin would: every missing
header (owner and computed columns, in the contract's order, to the right of the last
header), a frozen header row, column widths, dropdowns for Type, Owner Health and
Cadence, a date check on the date columns with help text saying what to enter, number
formats, colours for Health and Overdue that do not rely on colour alone, the computed
columns protected with a warning, and a note on each computed header saying how it is
computed.

What each column needs is decided here, once, as a backend-neutral :class:`SetupPlan`.
A backend's :meth:`~okrsync.backends.base.SheetBackend.setup` compares the plan with
what its sheet already has and adds only what is missing; that is what makes a second
``okrsync setup`` change nothing, on both backends. The sentences describing each
change are built here too (``describe_*``), so both backends report the same list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from okrsync.backends import open_backend
from okrsync.columns import COMPUTED_COLUMNS, Col, Health, KrType, col_letter
from okrsync.config import Config
from okrsync.lock import RunLock
from okrsync.read import match_headers

__all__ = [
    "Colour",
    "ColourRule",
    "ColumnSetup",
    "NumberFormat",
    "Placement",
    "SetupPlan",
    "SetupResult",
    "Validation",
    "plan_setup",
    "setup",
]


class NumberFormat(StrEnum):
    """How a column's numbers are shown; each backend has its own pattern for each."""

    PERCENT = "percent"
    DATE = "date"
    INTEGER = "integer"


@dataclass(frozen=True)
class Validation:
    """A check on a column's data cells (not the header).

    :param kind: ``"list"`` (a dropdown of ``values``) or ``"date"`` (any date).
    :param strict: refuse other values (``True``) or only warn about them.
    :param help: shown when an owner selects a cell: what to enter.
    """

    kind: Literal["list", "date"]
    values: tuple[str, ...] = ()
    strict: bool = False
    help: str = ""


@dataclass(frozen=True)
class ColumnSetup:
    """What one column gets.

    :param width: in characters (Excel's unit); Google Sheets gets :attr:`pixels`.
    :param computed: written by okrsync: protected, and its number format is forced on
        every data cell. An owner column's date format is only set on cells that show no
        date format yet, so a team's own ``dd/mm/yyyy`` stays.
    :param note: the header note of a computed column: how it is computed.
    """

    column: Col
    width: int
    computed: bool = False
    number_format: NumberFormat | None = None
    validation: Validation | None = None
    note: str | None = None

    @property
    def pixels(self) -> int:
        """The width in Google Sheets pixels (about 7 per character, plus padding)."""
        return self.width * 7 + 5


@dataclass(frozen=True)
class Colour:
    """A cell colour: background and text as ``#RRGGBB``."""

    fill: str
    text: str
    bold: bool = False


@dataclass(frozen=True)
class ColourRule:
    """Colour the data cells of ``column`` that read exactly ``value``."""

    column: Col
    value: str
    colour: Colour


@dataclass(frozen=True)
class Placement:
    """Where each column of the plan is (or will be) in the worksheet.

    :param positions: every column of the plan -> its 1-based sheet column.
    :param added: the headers to write, ``(column, text)``, left to right.
    :param last: the 1-based column of the last non-blank header before setup.
    """

    positions: Mapping[Col, int]
    added: tuple[tuple[int, str], ...]
    last: int

    def label(self, col: Col) -> str:
        """``Progress (column R)``."""
        return f"{col.value} (column {col_letter(self.positions[col])})"

    def blocks(self, columns: Sequence[Col]) -> list[tuple[int, int]]:
        """The positions of ``columns`` as runs of adjacent sheet columns, ``(first, last)``."""
        runs: list[tuple[int, int]] = []
        for pos in sorted(self.positions[c] for c in columns if c in self.positions):
            if runs and pos == runs[-1][1] + 1:
                runs[-1] = (runs[-1][0], pos)
            else:
                runs.append((pos, pos))
        return runs


@dataclass(frozen=True)
class SetupPlan:
    """Everything ``setup`` gives a worksheet, whatever the backend.

    :param aliases: ``[columns]`` of the config: header text (normalised) -> column.
    """

    worksheet: str
    columns: tuple[ColumnSetup, ...]
    colours: tuple[ColourRule, ...]
    aliases: Mapping[str, Col] = field(default_factory=dict)
    freeze_rows: int = 1

    def spec(self, col: Col) -> ColumnSetup:
        return next(c for c in self.columns if c.column == col)

    @property
    def computed(self) -> tuple[Col, ...]:
        return tuple(c.column for c in self.columns if c.computed)

    def place(self, header: Sequence[object], used: int = 0) -> Placement:
        """Find the plan's columns in ``header`` (row 1) the way a sync does; place the
        missing ones to the right of the last header, in the contract's order.

        :param used: the last column holding anything in any row
            (:func:`okrsync.read.used_width`): new columns go right of it too, so an
            owner's column without a header is never taken over.

        :raises SheetLayoutError: two headers name the same column.
        """
        found, last = match_headers(header, self.aliases, self.worksheet)
        added: list[tuple[int, str]] = []
        next_col = max(last, used) + 1
        for spec in self.columns:
            if spec.column not in found:
                found[spec.column] = next_col
                added.append((next_col, spec.column.value))
                next_col += 1
        return Placement(positions=found, added=tuple(added), last=last)


@dataclass
class SetupResult:
    """What one ``okrsync setup`` changed (or, with ``dry_run``, would change)."""

    location: str
    worksheet: str
    changes: list[str]
    dry_run: bool = False

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (what ``--json`` prints)."""
        return {
            "location": self.location,
            "worksheet": self.worksheet,
            "dry_run": self.dry_run,
            "changes": list(self.changes),
        }


# --- the plan ---------------------------------------------------------------------------

#: Colour-blind-safe (after Okabe and Ito's palette): the fills differ in lightness as
#: well as hue (on track lightest, off track darkest; done blue against at-risk amber,
#: the blue-yellow contrast that red-green colour blindness keeps), and every text colour
#: has a contrast of at least 4.5:1 (WCAG AA) on its fill. The words stay in the cells,
#: so colour is never the only cue.
HEALTH_COLOURS: Mapping[Health, Colour] = {
    Health.DONE: Colour("#B8D4F0", "#0B3A66"),
    Health.ON_TRACK: Colour("#D2EFE3", "#0A5A42"),
    Health.AT_RISK: Colour("#F5B942", "#3D2600", bold=True),
    Health.OFF_TRACK: Colour("#A8326E", "#FFFFFF", bold=True),
}
OVERDUE_COLOUR = Colour("#A8326E", "#FFFFFF", bold=True)

OWNER_HEALTH_WORDS = (Health.ON_TRACK.value, Health.AT_RISK.value, Health.OFF_TRACK.value)
CADENCE_WORDS = ("weekly", "biweekly", "monthly")

# Widths in characters, wide enough for the header and typical content.
WIDTHS: Mapping[Col, int] = {
    Col.ID: 10,
    Col.OBJECTIVE: 30,
    Col.KEY_RESULT: 40,
    Col.OWNER: 16,
    Col.OWNER_EMAIL: 26,
    Col.TEAM: 12,
    Col.TYPE: 11,
    Col.START: 8,
    Col.TARGET: 8,
    Col.CURRENT: 9,
    Col.OWNER_HEALTH: 15,
    Col.CHECKIN_DATE: 15,
    Col.COMMENT: 32,
    Col.BLOCKERS: 28,
    Col.NEXT_STEPS: 28,
    Col.CADENCE: 10,
    Col.DUE_DATE: 12,
    Col.PROGRESS: 10,
    Col.EXPECTED: 10,
    Col.HEALTH: 11,
    Col.OVERDUE: 10,
    Col.DAYS_SINCE: 23,
    Col.NEXT_CHECKIN: 16,
    Col.TREND: 7,
    Col.SYNC_NOTES: 44,
}


def plan_setup(config: Config) -> SetupPlan:
    """The plan for the configured worksheet: every contract column, in contract order.

    The notes quote the config (the health gaps, the default cadence), so a changed
    config gives changed notes, which the next ``setup`` writes.
    """
    at_risk, off_track = config.health.at_risk_gap, config.health.off_track_gap
    cadence = config.cycle.default_cadence
    validations = {
        Col.TYPE: Validation(
            "list",
            tuple(t.value for t in KrType),
            strict=True,
            help=(
                "How Current is measured: increase or decrease (blank: from Start and "
                "Target), at least / at most (stay above / below Target), boolean (done or "
                "not), percent (percent complete)."
            ),
        ),
        Col.OWNER_HEALTH: Validation(
            "list",
            OWNER_HEALTH_WORDS,
            strict=True,
            help="Your own call on this KR: on track, at risk or off track.",
        ),
        Col.CADENCE: Validation(
            "list",
            CADENCE_WORDS,
            strict=False,
            help=(
                "How often you check in: weekly, biweekly, monthly, or a number of days "
                f"such as 10d. Blank: {cadence}."
            ),
        ),
        Col.CHECKIN_DATE: Validation(
            "date",
            help="The date of your latest check-in, e.g. 2026-11-16; not in the future.",
        ),
        Col.DUE_DATE: Validation(
            "date",
            help="This KR's own end date, e.g. 2026-12-31. Blank: the end of the cycle.",
        ),
    }
    formats = {
        Col.CHECKIN_DATE: NumberFormat.DATE,
        Col.DUE_DATE: NumberFormat.DATE,
        Col.PROGRESS: NumberFormat.PERCENT,
        Col.EXPECTED: NumberFormat.PERCENT,
        Col.DAYS_SINCE: NumberFormat.INTEGER,
        Col.NEXT_CHECKIN: NumberFormat.DATE,
    }
    notes = {
        Col.PROGRESS: (
            "(Current − Start) / (Target − Start), kept within 0–100%. percent KRs: "
            "Current itself; boolean: 100% when done; at least / at most: 100% while met."
        ),
        Col.EXPECTED: (
            "Share of the KR's time used up: (today − cycle start) / (Due Date − cycle "
            "start), within 0–100%."
        ),
        Col.HEALTH: (
            "done at 100% Progress; off track past the Due Date; otherwise by Expected − "
            f"Progress: up to {at_risk:.2f} on track, up to {off_track:.2f} at risk, more "
            "off track. at least / at most: on track while met."
        ),
        Col.OVERDUE: "yes when today is after Next Check-in and Health is not done.",
        Col.DAYS_SINCE: "Whole days from Check-in Date to today; blank before the first one.",
        Col.NEXT_CHECKIN: (
            f"Check-in Date + Cadence (blank Cadence: {cadence}); with no check-in yet, "
            "cycle start + Cadence."
        ),
        Col.TREND: (
            "↑ ↓ or →: Progress since the KR's previous check-in in History; blank without one."
        ),
        Col.SYNC_NOTES: (
            "Every problem okrsync found on the row, separated by ;, each naming the "
            "column and quoting the cell. Blank when there is none."
        ),
    }
    columns = tuple(
        ColumnSetup(
            column=col,
            width=WIDTHS[col],
            computed=col in COMPUTED_COLUMNS,
            number_format=formats.get(col),
            validation=validations.get(col),
            note=(f"Written by okrsync on every sync. {notes[col]}" if col in notes else None),
        )
        for col in Col
    )
    colours = (
        *(ColourRule(Col.HEALTH, h.value, HEALTH_COLOURS[h]) for h in Health),
        ColourRule(Col.OVERDUE, "yes", OVERDUE_COLOUR),
    )
    return SetupPlan(
        worksheet=config.sheet.worksheet,
        columns=columns,
        colours=colours,
        aliases=dict(config.columns),
    )


def setup(config: Config, *, dry_run: bool = False) -> SetupResult:
    """Prepare the configured worksheet for owners; safe to run again.

    A run that changes the sheet holds the run lock, so it never writes while a sync
    does.

    :param dry_run: find what is missing, change nothing.
    :raises OkrsyncError: the sheet cannot be read or written (see :mod:`okrsync.errors`).
    """
    plan = plan_setup(config)
    backend = open_backend(config)
    try:
        if dry_run:
            changes = backend.setup(plan, dry_run=True)
        else:
            with RunLock(config.state.dir):
                changes = backend.setup(plan)
        return SetupResult(backend.location(), plan.worksheet, changes, dry_run)
    finally:
        backend.close()


# --- what each change is called (the same words on both backends) -----------------------


def spans(cols: Sequence[int]) -> str:
    """Sheet columns as short text: ``[1, 2, 3, 5]`` -> ``A–C, E``."""
    out: list[str] = []
    runs: list[list[int]] = []
    for c in sorted(set(cols)):
        if runs and c == runs[-1][-1] + 1:
            runs[-1].append(c)
        else:
            runs.append([c])
    for run in runs:
        first, last = col_letter(run[0]), col_letter(run[-1])
        out.append(first if len(run) == 1 else f"{first}–{last}")
    return ", ".join(out)


def describe_header(col: int, text: str) -> str:
    return f'add header "{text}" in column {col_letter(col)}'


DESCRIBE_FREEZE = "freeze the header row"


def describe_widths(cols: Sequence[int]) -> str:
    return f"set the widths of columns {spans(cols)}"


def describe_validation(spec: ColumnSetup, placement: Placement) -> str:
    rule = spec.validation
    assert rule is not None
    if rule.kind == "date":
        return f"add a date check with help text to {placement.label(spec.column)}"
    return (
        f"add a dropdown with help text to {placement.label(spec.column)}: "
        + ", ".join(rule.values)
        + ("" if rule.strict else " (other values allowed)")
    )


_FORMAT_WORDS = {
    NumberFormat.PERCENT: "percentages",
    NumberFormat.DATE: "dates (yyyy-mm-dd)",
    NumberFormat.INTEGER: "whole numbers",
}


def describe_format(spec: ColumnSetup, placement: Placement) -> str:
    assert spec.number_format is not None
    return f"show {placement.label(spec.column)} as {_FORMAT_WORDS[spec.number_format]}"


def describe_colours(col: Col, values: Sequence[str], placement: Placement) -> str:
    return f"colour {placement.label(col)}: " + ", ".join(values)


def describe_protection(placement: Placement, plan: SetupPlan, *, update: bool) -> str:
    cols = spans([placement.positions[c] for c in plan.computed])
    if update:
        return f"move the protection to the computed columns {cols} (a warning, no password)"
    return f"protect the computed columns {cols} (a warning, no password)"


def describe_notes(cols: Sequence[Col], placement: Placement) -> str:
    names = ", ".join(c.value for c in cols)
    where = spans([placement.positions[c] for c in cols])
    return f"add a note on how it is computed to the headers of {names} ({where})"
