"""A "sheet under test" on either backend, behind one interface (issue 4).

The spine's behaviour tests run once per backend through the parametrised ``sheet``
fixture (ids ``xlsx`` and ``gsheets``), so that a local workbook and a Google spreadsheet
(served by the local Sheets API emulator) are shown to behave the same::

    def test_something(sheet, runner):
        sheet.write_rows([base_row(ID="KR-0001")])
        runner.invoke(cli, ["--config", str(sheet.config_path), "sync", "--today", TODAY])
        assert sheet.read_rows()[0]["Health"] == "on track"

Both backends start from the same bytes: the rows are written to a real .xlsx workbook,
which the gsheets side loads into the emulator (values, text, dates and percent formats
as the workbook has them). ``make_sheet(kind)`` builds one directly, for a test that
compares the two backends side by side.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from okrsync.backends.base import Percent
from tests.helpers import HEADER, config_dict, dump_toml

if TYPE_CHECKING:  # scripts/ is put on sys.path by tests.fixtures_sheets
    from sheets_emulator import Emulator

__all__ = ["GSheet", "SheetUnderTest", "XlsxSheet", "write_check_ins"]

BACKENDS = ["xlsx", "gsheets"]
TITLE = "Check-ins"
#: The emulator's API calls that change a spreadsheet.
WRITE_APIS = frozenset(
    {
        "spreadsheets.batchUpdate",
        "spreadsheets.values.update",
        "spreadsheets.values.batchUpdate",
        "spreadsheets.values.append",
        "spreadsheets.values.clear",
        "spreadsheets.values.batchClear",
    }
)

Row = Mapping[str, Any]


def write_check_ins(
    path: Path,
    rows: Sequence[Row],
    header: Sequence[str] = HEADER,
    *,
    title: str = TITLE,
    other_sheets: Mapping[str, Sequence[Sequence[Any]]] | None = None,
) -> Path:
    """Write a workbook as an owner would have typed it.

    Text is stored as text even when it starts with ``=`` (typed with a leading ``'``),
    :class:`Percent` as a number formatted ``0%``, dates as date cells.
    """
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = title
    for c, text in enumerate(header, start=1):
        ws.cell(row=1, column=c, value=text)
    for r, row in enumerate(rows, start=2):
        for c, name in enumerate(header, start=1):
            value = row.get(name)
            if value is None:
                continue
            cell = ws.cell(row=r, column=c)
            if isinstance(value, Percent):
                cell.value = float(value)
                cell.number_format = "0%"
            elif isinstance(value, str):
                cell.value = value
                cell.data_type = "s"  # never a formula, whatever the text
            else:
                cell.value = value
    for name, data in (other_sheets or {}).items():
        other = wb.create_sheet(name)
        for line in data:
            other.append(list(line))
    wb.save(path)
    return path


def _owner_value(value: Any) -> Any:
    """A cell value normalised so that both backends compare equal."""
    if value == "":
        return None
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date()
    return value


def _as_dicts(header: Sequence[Any], rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    names = ["" if h is None else str(h) for h in header]
    out = []
    for row in rows:
        cells = [*row, *[None] * (len(names) - len(row))]
        out.append({name: _owner_value(v) for name, v in zip(names, cells, strict=False)})
    while out and all(v is None for v in out[-1].values()):
        out.pop()
    return out


class SheetUnderTest:
    """A check-in sheet on one backend, a config pointing at it, and ways to look at it.

    :param folder: where the config (and, for xlsx, the workbook) lives.
    """

    kind: str

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.workbook = folder / "okrs.xlsx"
        self.config_path = self.write_config()

    # --- what a test sets up ------------------------------------------------------------

    def sheet_section(self) -> dict[str, Any]:
        """The ``[sheet]`` section that points at this sheet."""
        raise NotImplementedError

    def write_config(self, name: str = "okrsync.toml", **sections: Any) -> Path:
        """Write a config for this sheet (history off unless ``history=...`` says so);
        ``sheet={...}`` adds to or overrides the ``[sheet]`` keys."""
        data = config_dict(**{k: v for k, v in sections.items() if k != "sheet"})
        data["sheet"] = {**self.sheet_section(), **sections.get("sheet", {})}
        path = self.folder / name
        path.write_text(dump_toml(data), encoding="utf-8")
        return path

    def write_rows(
        self,
        rows: Sequence[Row],
        header: Sequence[str] = HEADER,
        *,
        other_sheets: Mapping[str, Sequence[Sequence[Any]]] | None = None,
    ) -> None:
        """Make the check-in worksheet hold ``header`` and ``rows`` (dicts keyed by header)."""
        write_check_ins(self.workbook, rows, header, other_sheets=other_sheets)

    # --- what a test looks at -----------------------------------------------------------

    def read_rows(self) -> list[dict[str, Any]]:
        """The rows below the header as the owner sees their values, keyed by header.

        Formulas show their value, blanks are ``None``, date cells are ``date`` objects.
        """
        raise NotImplementedError

    def raw_cells(self) -> dict[tuple[int, str], Any]:
        """Every stored cell of the check-in worksheet, with its type and number format:
        ``{(sheet row, header): stored form}``, to compare owner cells byte for byte."""
        raise NotImplementedError

    def begin_watch(self) -> None:
        """Start watching for writes (see :meth:`writes`)."""
        raise NotImplementedError

    def writes(self) -> list[str]:
        """What changed the stored sheet since :meth:`begin_watch` (empty: nothing did)."""
        raise NotImplementedError


class XlsxSheet(SheetUnderTest):
    """A workbook in tmp_path."""

    kind = "xlsx"

    def sheet_section(self) -> dict[str, Any]:
        return {"backend": "xlsx", "path": self.workbook.name}

    def read_rows(self) -> list[dict[str, Any]]:
        wb = openpyxl.load_workbook(self.workbook, data_only=True)
        values = list(wb[TITLE].iter_rows(values_only=True))
        return _as_dicts(values[0], values[1:])

    def raw_cells(self) -> dict[tuple[int, str], Any]:
        ws = openpyxl.load_workbook(self.workbook)[TITLE]
        header = [c.value for c in ws[1]]
        return {
            (cell.row, str(header[cell.column - 1])): (
                cell.value,
                cell.data_type,
                cell.number_format,
            )
            for row in ws.iter_rows()
            for cell in row
            if cell.value is not None and cell.column <= len(header)
        }

    def begin_watch(self) -> None:
        self._stamp = (self.workbook.stat().st_mtime_ns, self.workbook.read_bytes())

    def writes(self) -> list[str]:
        now = (self.workbook.stat().st_mtime_ns, self.workbook.read_bytes())
        return [] if now == self._stamp else [f"{self.workbook.name} rewritten"]


class GSheet(SheetUnderTest):
    """A spreadsheet in the local Sheets API emulator, reached anonymously."""

    kind = "gsheets"

    def __init__(self, folder: Path, emulator: Emulator, key: str) -> None:
        self.emulator = emulator
        self.key = key
        super().__init__(folder)

    def sheet_section(self) -> dict[str, Any]:
        return {"backend": "gsheets", "spreadsheet": self.key, "api_endpoint": self.emulator.url}

    def write_rows(
        self,
        rows: Sequence[Row],
        header: Sequence[str] = HEADER,
        *,
        other_sheets: Mapping[str, Sequence[Sequence[Any]]] | None = None,
    ) -> None:
        super().write_rows(rows, header, other_sheets=other_sheets)
        self.emulator.load_xlsx(self.workbook, spreadsheet_id=self.key)
        self.workbook.unlink()  # the spreadsheet is the only copy, as in real use

    def share_only_with(self, *emails: str) -> None:
        """Let only these service accounts in (others get Google's 403)."""
        self.emulator.spreadsheet(self.key).shared_with = set(emails)

    def read_rows(self) -> list[dict[str, Any]]:
        serial = self.emulator.values(self.key, TITLE, "UNFORMATTED_VALUE", "SERIAL_NUMBER")
        shown = self.emulator.values(self.key, TITLE, "UNFORMATTED_VALUE", "FORMATTED_STRING")
        # A date cell is the one cell whose value differs between the two date options.
        rows = [
            [
                _date_of(text) if text != value else value
                for value, text in zip(values, texts, strict=True)
            ]
            for values, texts in zip(serial[1:], shown[1:], strict=True)
        ]
        return _as_dicts(serial[0], rows)

    def raw_cells(self) -> dict[tuple[int, str], Any]:
        values = self.emulator.values(self.key, TITLE)
        header = [str(h) for h in values[0]]
        out: dict[tuple[int, str], Any] = {}
        for r in range(1, len(values) + 1):
            for c in range(1, len(header) + 1):
                cell = self.emulator.cell(self.key, TITLE, f"{get_column_letter(c)}{r}")
                if cell:
                    stored = {k: cell.get(k) for k in ("userEnteredValue", "userEnteredFormat")}
                    out[(r, header[c - 1])] = json.dumps(stored, sort_keys=True)
        return out

    def begin_watch(self) -> None:
        self.emulator.clear_log()

    def writes(self) -> list[str]:
        return [c.api for c in self.emulator.api_calls() if c.api in WRITE_APIS]


def _date_of(text: str) -> dt.date | dt.datetime:
    when = dt.datetime.fromisoformat(text)
    return when.date() if when.time() == dt.time() else when


@pytest.fixture
def make_sheet(
    tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Callable[[str], SheetUnderTest]:
    """``make_sheet("xlsx" | "gsheets")``: a sheet under test in its own folder of tmp_path.

    The gsheets one starts the emulator (once per worker), shortens retries, and keeps
    GOOGLE_APPLICATION_CREDENTIALS out of the way so that access is anonymous.
    """

    def make(kind: str) -> SheetUnderTest:
        folder = tmp_path / kind
        if kind == "xlsx":
            return XlsxSheet(folder)
        if kind == "gsheets":
            emulator: Emulator = request.getfixturevalue("sheets_emulator")
            request.getfixturevalue("fast_sheets_retries")
            monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
            return GSheet(folder, emulator, "okrsTestSheet")
        raise ValueError(kind)

    return make


@pytest.fixture(params=BACKENDS, ids=BACKENDS)
def sheet(
    request: pytest.FixtureRequest, make_sheet: Callable[[str], SheetUnderTest]
) -> SheetUnderTest:
    """The sheet under test, once on each backend."""
    return make_sheet(request.param)
