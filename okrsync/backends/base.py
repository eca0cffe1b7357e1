"""The small interface every sheet backend implements.

The core of okrsync (validate, compute, diff) never sees openpyxl or gspread: it gets a
:class:`SheetTable` of typed cells and hands back a list of :class:`CellChange`. A
backend reads a whole worksheet in one batch and applies a set of changes in one batch,
which is what keeps a Google Sheets sync at a constant number of API calls.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from okrsync.setup import SetupPlan

__all__ = [
    "SERIAL_EPOCH",
    "Cell",
    "CellChange",
    "Percent",
    "SheetBackend",
    "SheetTable",
    "serial_number",
]


class Percent(float):
    """A number cell that the sheet shows as a percentage (``0.75`` shown as ``75%``).

    Backends return this instead of a plain float so that a ``percent`` KR's Current of
    ``150%`` is read as 1.5, not as the bare number 1.5 (which means 1.5%).
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return f"Percent({float(self)!r})"


#: A typed cell as a backend returns it. Dates may also come as Google serial numbers.
Cell = str | bool | int | float | dt.date | dt.datetime | None

#: Day 0 of the serial numbers Google Sheets and Excel store dates as (1899-12-30 rather
#: than 12-31: Lotus 1-2-3 counted 1900 as a leap year, and Excel kept the bug).
SERIAL_EPOCH = dt.datetime(1899, 12, 30)


def serial_number(value: dt.date | dt.datetime) -> int | float:
    """A date as the sheet stores it: days since :data:`SERIAL_EPOCH`.

    A ``date`` gives whole days (an ``int``); a ``datetime`` adds the time of day as a
    fraction (a ``float``, rounded once, by exact division of microseconds). A timezone is
    dropped: a sheet cell has none, and the wall-clock time is what an owner reads.
    """
    if isinstance(value, dt.datetime):
        return (value.replace(tzinfo=None) - SERIAL_EPOCH) / dt.timedelta(days=1)
    return (value - SERIAL_EPOCH.date()).days


@dataclass
class SheetTable:
    """One worksheet as read: the header row and the data rows below it.

    :param title: the worksheet title.
    :param header: row 1, one text per column in sheet order (``""`` for a blank header).
    :param rows: the rows below the header; ``rows[i]`` is sheet row ``i + 2``. Rows may
        be shorter or longer than ``header`` (trailing blanks are often omitted).
    """

    title: str
    header: list[str]
    rows: list[list[Cell]] = field(default_factory=list)


class CellChange(NamedTuple):
    """One cell okrsync wants to write (a NamedTuple: a first sync makes 8 per row).

    Header cells (row 1) of missing computed columns are changes too, so a backend applies
    one list in one batch.

    :param row: 1-based sheet row (1 is the header).
    :param col: 1-based sheet column.
    :param column: the canonical column name, which tells the backend the number format.
    :param value: the new value; ``None`` clears the cell. Strings are always written as
        text, never as formulas.
    :param old: the value read (for ``--dry-run`` and logs).
    :param key: the KR's ID, so that a backend that can see rows move between read and
        write (Google Sheets) can put the value on the right row.
    """

    row: int
    col: int
    column: str
    value: Cell
    old: Cell = None
    key: str | None = None


class SheetBackend(ABC):
    """Where the check-in table lives: a local workbook, or a Google spreadsheet."""

    #: Title of the check-in worksheet.
    worksheet: str

    @abstractmethod
    def read(self, extra: Sequence[str] = ()) -> dict[str, SheetTable | None]:
        """Read the check-in worksheet and the ``extra`` worksheets, in one batch.

        Cells come back typed: numbers as ``int``/``float`` (``Percent`` when shown as a
        percentage), dates as ``date``/``datetime`` or serial numbers, text as ``str``,
        blanks as ``None``. Formulas come back as their computed values.

        :returns: ``{title: table}``. The check-in worksheet is always there; an extra
            worksheet that does not exist maps to ``None``.
        :raises SheetLayoutError: the check-in worksheet does not exist (the message lists
            the worksheets that do).
        :raises SheetError: the sheet cannot be reached or read.
        """

    @abstractmethod
    def write(self, changes: Sequence[CellChange]) -> None:
        """Apply ``changes`` to the check-in worksheet in one batch, all or nothing.

        Only the cells named are touched; formats of computed columns follow
        ``CellChange.column``. With no changes nothing is written at all.

        :raises SheetError: the write was rejected; the sheet is as it was.
        """

    @abstractmethod
    def append_rows(
        self, worksheet: str, header: Sequence[str], rows: Sequence[Sequence[Cell]]
    ) -> None:
        """Append ``rows`` below the last row of ``worksheet`` in one batch.

        The worksheet is created with ``header`` in row 1 when it does not exist.
        """

    @abstractmethod
    def setup(self, plan: SetupPlan, *, dry_run: bool = False) -> list[str]:
        """Give the check-in worksheet what ``plan`` asks for and it lacks, in one batch.

        Compares the plan with what the sheet already has (headers, frozen rows, widths,
        validation, number formats, conditional colours, protection, header notes) and
        adds only what is missing, so a second call changes nothing and returns ``[]``.
        Owners' values are never changed.

        :param dry_run: work out the changes, make none.
        :returns: one sentence per change made (or that would be made), in the words of
            the ``describe_*`` helpers of :mod:`okrsync.setup`.
        :raises SheetLayoutError: the worksheet does not exist, or two headers name the
            same column.
        :raises SheetError: the sheet cannot be read or written.
        """

    @abstractmethod
    def location(self) -> str:
        """Where a person finds the sheet: a file path or a URL (for messages and email)."""

    def close(self) -> None:  # noqa: B027 - optional hook, most backends hold nothing open
        """Release anything the backend holds open."""
