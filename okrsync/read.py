"""Find the contract's columns in a worksheet and lay its rows out as a DataFrame.

Headers match case-insensitively, ignoring surrounding and repeated spaces; ``[columns]``
maps a team's own header texts onto the contract's names. Columns okrsync does not know
are left out of the frame (and so are never written).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from okrsync.backends.base import SheetTable
from okrsync.columns import CANONICAL_BY_KEY, COMPUTED_COLUMNS, Col, col_letter, normalize_header
from okrsync.config import Config
from okrsync.errors import SheetLayoutError
from okrsync.parse import Cells

__all__ = ["Frame", "match_headers", "read_table", "used_width"]

#: Headers the sheet must have: without them no row can be understood.
REQUIRED_HEADERS = (Col.OBJECTIVE, Col.KEY_RESULT, Col.OWNER)


@dataclass
class Frame:
    """The check-in worksheet as okrsync sees it.

    :param raw: the non-blank rows, indexed by sheet row number, one ``object`` column per
        canonical column found (cells as the backend typed them).
    :param positions: canonical column -> 1-based sheet column, for the columns found.
    :param width: the 1-based column of the last header or cell holding anything (new
        columns go after it, so an owner's unheaded column is never written over).
    :param blank_rows: the rows skipped as blank, with any leftover computed cells, indexed
        by sheet row number (okrsync clears what it once wrote there).
    :param cells: ``raw``'s columns as :class:`~okrsync.parse.Cells`, whose kinds, text and
        blankness the reader already worked out (the validator reuses them).
    """

    title: str
    raw: pd.DataFrame
    positions: dict[Col, int]
    width: int
    blank_rows: pd.DataFrame
    cells: dict[Col, Cells] = field(default_factory=dict)

    def column(self, col: Col) -> Cells:
        """Column ``col`` as Cells; all blank when the sheet has no such column."""
        if col in self.cells:
            return self.cells[col]
        return Cells(pd.Series(None, index=self.raw.index, dtype=object))


def read_table(table: SheetTable, config: Config) -> Frame:
    """Map ``table``'s headers onto the contract and build the frame.

    :raises SheetLayoutError: two headers name the same column, or a required one is missing.
    """
    positions, _ = match_headers(table.header, config.columns, table.title)
    missing = [c.value for c in REQUIRED_HEADERS if c not in positions]
    if missing:
        names = ", ".join(f'"{m}"' for m in missing)
        raise SheetLayoutError(
            f'Worksheet "{table.title}" has no {names} column in row 1; add the header '
            "(`okrsync setup` adds every missing one) or map yours in [columns]."
        )
    width = used_width(table)

    rows = table.rows
    longest = max(map(len, rows), default=0)
    if any(len(r) != longest for r in rows):  # trailing blanks are often left out
        rows = [r if len(r) == longest else [*r, *[None] * (longest - len(r))] for r in rows]
    grid = pd.DataFrame(rows, dtype=object) if rows else pd.DataFrame(dtype=object)
    grid.index = pd.RangeIndex(2, 2 + len(grid))
    # Columns the rows never reached (trailing blanks omitted) are blank.
    for i in range(grid.shape[1], max(width, len(table.header))):
        grid[i] = None
    raw = pd.DataFrame(
        {col: grid[pos - 1] for col, pos in positions.items()}, index=grid.index, dtype=object
    )
    cells = {col: Cells(raw[col]) for col in positions}
    by_position = {positions[col] - 1: c for col, c in cells.items()}
    computed_pos = {positions[c] - 1 for c in COMPUTED_COLUMNS if c in positions}
    owner_side = [c for c in grid.columns if c not in computed_pos and c < max(width, 1)]
    blank = pd.Series(True, index=grid.index)
    for c in owner_side:
        blank &= (by_position.get(c) or Cells(grid[c])).blank
    computed = [c for c in COMPUTED_COLUMNS if c in positions]
    leftover = raw.loc[blank, computed]
    keep = ~blank
    return Frame(
        title=table.title,
        raw=raw.loc[keep],
        positions=positions,
        width=width,
        blank_rows=leftover,
        cells={col: c.take(keep) for col, c in cells.items()},
    )


def match_headers(
    header: Sequence[object], aliases: Mapping[str, Col], worksheet: str
) -> tuple[dict[Col, int], int]:
    """Find the contract's columns in a header row, the one way sync and setup both do.

    :param header: row 1 as read, left to right.
    :param aliases: ``[columns]`` of the config: normalised header text -> column; tried
        before the contract's own names.
    :param worksheet: the worksheet's title, for the error message.
    :returns: each column found -> its 1-based sheet column, and the 1-based column of the
        last non-blank header (0 when the row is blank).
    :raises SheetLayoutError: two headers name the same column.
    """
    positions: dict[Col, int] = {}
    last = 0
    for index, text in enumerate(header, start=1):
        key = normalize_header(text)
        if not key:
            continue
        last = index
        col = aliases.get(key) or CANONICAL_BY_KEY.get(key)
        if col is None:
            continue
        if col in positions:
            raise SheetLayoutError(
                f'Worksheet "{worksheet}" has two {col} columns '
                f"({col_letter(positions[col])} and {col_letter(index)}); rename or remove one "
                "so okrsync knows which to use."
            )
        positions[col] = index
    return positions, last


def used_width(table: SheetTable) -> int:
    """The 1-based column of the last header or cell that holds anything.

    New columns go to the right of this, never onto an owner's column that merely has
    no header.
    """
    width = max((i for i, h in enumerate(table.header, start=1) if str(h or "").strip()), default=0)
    for row in table.rows:
        for i in range(len(row), width, -1):
            value = row[i - 1]
            if value is not None and (not isinstance(value, str) or value.strip()):
                width = i
                break
    return width
