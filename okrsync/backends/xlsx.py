"""The embedded default backend: a local ``.xlsx`` workbook, through openpyxl.

Reads with openpyxl's read-only mode (fast, values as last calculated). Writes through
:mod:`okrsync.backends.xlsx_package`, which changes only the cells asked for and keeps
every other byte (formulas with their cached results, formats, charts), to a temporary
file beside the original that then replaces it, so a crash or a full disk never leaves
half a workbook. Nothing is saved when nothing changed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree

import openpyxl
from lxml import etree
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.workbook.workbook import Workbook

from okrsync.backends.base import Cell, CellChange, Percent, SheetBackend, SheetTable
from okrsync.backends.xlsx_package import CellWrite, XlsxPackage
from okrsync.columns import DATE_COLUMNS, INTEGER_COLUMNS, PERCENT_COLUMNS
from okrsync.config import SheetConfig
from okrsync.errors import ConfigError, SheetError, SheetLayoutError
from okrsync.read import used_width

if TYPE_CHECKING:
    from okrsync.setup import SetupPlan

__all__ = ["XlsxBackend"]

DATE_FORMAT = "yyyy-mm-dd"
NUMBER_FORMATS = {
    **dict.fromkeys(PERCENT_COLUMNS, "0%"),
    **dict.fromkeys(DATE_COLUMNS, DATE_FORMAT),
    **dict.fromkeys(INTEGER_COLUMNS, "0"),
}


class XlsxBackend(SheetBackend):
    """A check-in worksheet in a local workbook.

    :param sheet: ``[sheet]`` of the config; ``path`` is the workbook.
    """

    def __init__(self, sheet: SheetConfig) -> None:
        if sheet.path is None:  # config.py requires it; a direct caller may not
            raise ConfigError('Set [sheet] path to the .xlsx workbook to use backend = "xlsx".')
        self.path = Path(sheet.path)
        self.worksheet = sheet.worksheet
        self._stamp: tuple[int, int] | None = None

    def location(self) -> str:
        return str(self.path.resolve())

    # --- reading ------------------------------------------------------------------

    def read(self, extra: Sequence[str] = ()) -> dict[str, SheetTable | None]:
        with self._open(read_only=True) as wb:
            if self.worksheet not in wb.sheetnames:
                raise SheetLayoutError(
                    f'Workbook {self.path} has no worksheet "{self.worksheet}" (it has '
                    f"{_titles(wb.sheetnames)}); set [sheet] worksheet to one of them."
                )
            # openpyxl parses a read-only worksheet lazily: a damaged sheet fails here.
            try:
                tables: dict[str, SheetTable | None] = {self.worksheet: _table(wb[self.worksheet])}
                for title in extra:
                    tables[title] = _table(wb[title]) if title in wb.sheetnames else None
            except (ElementTree.ParseError, etree.XMLSyntaxError, KeyError, ValueError) as e:
                raise SheetError(
                    f"Workbook {self.path} has a damaged worksheet ({type(e).__name__}); open "
                    "it in a spreadsheet program and save it again as .xlsx."
                ) from e
        return tables

    # --- writing ------------------------------------------------------------------

    def write(self, changes: Sequence[CellChange]) -> None:
        if not changes:
            return
        with self._editing() as pkg:
            part = self._part(pkg, self.worksheet)
            header = pkg.last_filled_col(part, 1)
            pkg.set_cells(
                part,
                (
                    CellWrite(
                        c.row,
                        c.col,
                        c.value,
                        None if c.row == 1 else NUMBER_FORMATS.get(c.column),
                        (1, header) if c.row == 1 and header else None,
                    )
                    for c in changes
                ),
            )

    def append_rows(
        self, worksheet: str, header: Sequence[str], rows: Sequence[Sequence[Cell]]
    ) -> None:
        if not rows:
            return
        with self._editing() as pkg:
            part = pkg.sheet_part(worksheet) or pkg.add_sheet(worksheet)
            # A new worksheet, or one someone created but left empty, gets the header first.
            if pkg.last_filled_col(part, 1) is None:
                pkg.set_cells(part, (CellWrite(1, i, h) for i, h in enumerate(header, start=1)))
            pkg.append_rows(part, rows, DATE_FORMAT)

    def setup(self, plan: SetupPlan, *, dry_run: bool = False) -> list[str]:
        """Prepare the worksheet for owners, in the workbook's XML (see
        :mod:`okrsync.backends.xlsx_setup`); saved only when something changed."""
        from okrsync.backends.xlsx_setup import setup_worksheet

        table = self.read()[self.worksheet]
        assert table is not None
        used = used_width(table)
        if dry_run:
            pkg = self._package()
            return setup_worksheet(pkg, self._part(pkg, self.worksheet), plan, table.header, used)
        with self._editing() as pkg:
            part = self._part(pkg, self.worksheet)
            changes = setup_worksheet(pkg, part, plan, table.header, used)
            if not changes:
                pkg.discard()
        return changes

    def _part(self, pkg: XlsxPackage, title: str) -> str:
        part = pkg.sheet_part(title)
        if part is None:
            raise SheetLayoutError(
                f'Workbook {self.path} has no worksheet "{title}" (it has '
                f"{_titles(pkg.sheet_titles())}); set [sheet] worksheet to one of them."
            )
        return part

    # --- plumbing -----------------------------------------------------------------

    @contextlib.contextmanager
    def _open(self, *, read_only: bool) -> Iterator[Workbook]:
        if not self.path.exists():
            raise ConfigError(
                f"Workbook {self.path} not found; check [sheet] path in the config, or "
                "create a workbook with `okrsync init`."
            )
        try:
            stat = self.path.stat()
            wb = openpyxl.load_workbook(
                self.path, read_only=read_only, data_only=read_only, keep_links=True
            )
        except PermissionError as e:
            raise SheetError(
                f"Workbook {self.path} cannot be read ({e.strerror}); check its permissions."
            ) from e
        except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as e:
            raise SheetError(
                f"Workbook {self.path} is not a readable .xlsx file ({type(e).__name__}); "
                "open it in a spreadsheet program and save it as .xlsx."
            ) from e
        if read_only:
            self._stamp = (stat.st_mtime_ns, stat.st_size)
        try:
            yield wb
        finally:
            wb.close()

    def _package(self) -> XlsxPackage:
        try:
            return XlsxPackage(self.path)
        except (zipfile.BadZipFile, KeyError, etree.XMLSyntaxError) as e:
            raise SheetError(
                f"Workbook {self.path} is not a readable .xlsx file ({type(e).__name__}); "
                "open it in a spreadsheet program and save it as .xlsx."
            ) from e

    @contextlib.contextmanager
    def _editing(self) -> Iterator[XlsxPackage]:
        """Open the package, let the caller edit, save atomically; refuse if someone else has it."""
        _refuse_if_open_elsewhere(self.path)
        stat = self.path.stat()
        if self._stamp is not None and self._stamp != (stat.st_mtime_ns, stat.st_size):
            raise SheetError(
                f"Workbook {self.path} changed while okrsync was syncing; nothing was "
                "written. Run the command again."
            )
        pkg = self._package()
        yield pkg
        if not pkg.dirty:
            return
        fd, tmp = tempfile.mkstemp(
            prefix=f".{self.path.stem}.", suffix=".tmp.xlsx", dir=self.path.parent
        )
        os.close(fd)
        try:
            pkg.save(Path(tmp))
            shutil.copymode(self.path, tmp)
            os.replace(tmp, self.path)
        except OSError as e:
            raise SheetError(
                f"Workbook {self.path} could not be saved ({e.strerror}); it is unchanged. "
                "Check the disk and permissions, then run the command again."
            ) from e
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        new = self.path.stat()
        self._stamp = (new.st_mtime_ns, new.st_size)


def _refuse_if_open_elsewhere(path: Path) -> None:
    # LibreOffice and Excel leave these beside a workbook they have open; saving under
    # them would lose the other program's unsaved edits, or theirs would lose ours.
    for lock in (path.with_name(f".~lock.{path.name}#"), path.with_name(f"~${path.name}")):
        if lock.exists():
            raise SheetError(
                f"Workbook {path} is open in another program (found {lock.name}); close it "
                "there and run the command again."
            )


def _titles(names: Sequence[str]) -> str:
    return ", ".join(f'"{n}"' for n in names) or "no worksheets"


def _table(ws: Any) -> SheetTable:
    # The stored dimension is often missing or stale (files written by other tools);
    # without this openpyxl parses the whole sheet once more just to size it.
    ws.reset_dimensions()
    rows = ws.iter_rows()
    try:
        first = next(rows)
    except StopIteration:
        return SheetTable(title=ws.title, header=[], rows=[])
    header = ["" if c.value is None else str(c.value) for c in first]
    body = [[_value(c) for c in row] for row in rows]
    # Trailing empty rows (formatted but blank) are not rows of the table.
    while body and all(v is None or v == "" for v in body[-1]):
        body.pop()
    return SheetTable(title=ws.title, header=header, rows=body)


def _value(cell: Any) -> Cell:
    value = cell.value
    if isinstance(value, float | int) and not isinstance(value, bool):
        fmt = getattr(cell, "number_format", "") or ""
        if "%" in fmt:
            return Percent(value)
    if isinstance(value, dt.time | dt.timedelta):
        return str(value)
    return value
