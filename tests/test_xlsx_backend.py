"""The xlsx backend on real workbooks: what it reads, and that it writes only its cells."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from okrsync.backends.base import CellChange, Percent
from okrsync.backends.xlsx import XlsxBackend
from okrsync.config import SheetConfig
from okrsync.pipeline import sync
from tests.helpers import HEADER, base_row, make_config_obj, write_workbook

TODAY = dt.date(2026, 11, 16)


def with_cached_formula(path: Path, cell: str, formula: str, cached: str) -> None:
    """Put a formula with a saved result in ``cell``, as Excel or LibreOffice would save it.

    openpyxl cannot write cached results, so the sheet XML is edited directly.
    """
    with zipfile.ZipFile(path) as zf:
        parts = {i.filename: zf.read(i) for i in zf.infolist()}
    xml = parts["xl/worksheets/sheet1.xml"].decode()
    xml, n = re.subn(
        rf'<c r="{cell}"[^>]*?(/>|>.*?</c>)',
        f'<c r="{cell}"><f>{formula}</f><v>{cached}</v></c>',
        xml,
    )
    assert n == 1
    parts["xl/worksheets/sheet1.xml"] = xml.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)


def parts_of(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


@pytest.fixture
def workbook(tmp_path: Path) -> Path:
    path = write_workbook(tmp_path / "okrs.xlsx", [base_row(ID="KR-0001", Target=200, Current=1)])
    wb = openpyxl.load_workbook(path)
    wb.create_sheet("Read me")["A1"] = "Update your row every Monday."
    wb.save(path)
    return path


def backend_for(path: Path) -> XlsxBackend:
    return XlsxBackend(SheetConfig(path=path))


def test_owner_formula_keeps_its_saved_result_across_syncs(workbook: Path) -> None:
    """An owner's formula in Current keeps its cached result, so every sync reads 80."""
    current_col = openpyxl.utils.get_column_letter(HEADER.index("Current") + 1)
    with_cached_formula(workbook, f"{current_col}2", "40*2", "80")
    config = make_config_obj(workbook.parent)
    first = sync(config, today=TODAY)
    assert first.table["Progress"].tolist() == [0.4]
    second = sync(config, today=TODAY)
    assert second.table["Progress"].tolist() == [0.4]
    assert second.changes == []
    xml = parts_of(workbook)["xl/worksheets/sheet1.xml"].decode()
    assert re.search(rf'<c r="{current_col}2"[^>]*><f>40\*2</f><v>80</v></c>', xml)


def test_parts_okrsync_does_not_edit_stay_byte_identical(workbook: Path) -> None:
    """Other worksheets, the theme and the rest of the package are copied byte for byte."""
    before = parts_of(workbook)
    sync(make_config_obj(workbook.parent), today=TODAY)
    after = parts_of(workbook)
    assert list(after) == list(before)
    changed = {name for name in before if before[name] != after[name]}
    assert changed <= {"xl/worksheets/sheet1.xml", "xl/styles.xml"}
    assert "xl/worksheets/sheet1.xml" in changed


def test_reads_typed_cells(tmp_path: Path) -> None:
    """Numbers, percent-formatted numbers, dates and text come back as such."""
    path = tmp_path / "okrs.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Check-ins"
    ws.append(["Objective", "Current", "Check-in Date", "Comment"])
    ws.append(["O", 0.75, dt.date(2026, 11, 2), "  hello "])
    ws["B2"].number_format = "0%"
    ws.append(["O", 12, "2026-11-02", None])
    wb.save(path)
    table = backend_for(path).read()["Check-ins"]
    assert table is not None
    assert table.header == ["Objective", "Current", "Check-in Date", "Comment"]
    first, second = table.rows
    assert isinstance(first[1], Percent)
    assert first[1] == 0.75
    assert first[2] == dt.datetime(2026, 11, 2)
    assert first[3] == "  hello "
    assert second[1] == 12
    assert not isinstance(second[1], Percent)
    assert second[2] == "2026-11-02"


def test_missing_extra_worksheet_reads_as_none(workbook: Path) -> None:
    tables = backend_for(workbook).read(extra=["History", "Read me"])
    assert tables["History"] is None
    assert tables["Read me"] is not None


def test_write_sets_number_formats_and_text(workbook: Path) -> None:
    """Progress is a percent number, Next Check-in a date, text never a formula."""
    backend = backend_for(workbook)
    backend.read()
    backend.write(
        [
            CellChange(1, 20, "Progress", "Progress"),
            CellChange(2, 20, "Progress", 0.25),
            CellChange(2, 21, "Next Check-in", dt.date(2026, 11, 23)),
            CellChange(2, 22, "Sync Notes", "=1+1"),
            CellChange(2, 23, "Days Since Check-in", 6),
        ]
    )
    ws = openpyxl.load_workbook(workbook)["Check-ins"]
    assert ws.cell(1, 20).value == "Progress"
    assert ws.cell(1, 20).font.b == ws.cell(1, 1).font.b  # styled like the other headers
    assert (ws.cell(2, 20).value, ws.cell(2, 20).number_format) == (0.25, "0%")
    assert ws.cell(2, 21).value == dt.datetime(2026, 11, 23)
    assert ws.cell(2, 21).number_format == "yyyy-mm-dd"
    assert (ws.cell(2, 22).value, ws.cell(2, 22).data_type) == ("=1+1", "s")
    assert ws.cell(2, 23).value == 6


def test_writing_twice_reuses_styles(workbook: Path) -> None:
    """A percent format added once is reused: styles.xml does not grow on every sync."""
    backend = backend_for(workbook)
    backend.write([CellChange(2, 20, "Progress", 0.25)])
    styles = parts_of(workbook)["xl/styles.xml"]
    backend.write([CellChange(2, 20, "Progress", 0.5), CellChange(3, 20, "Progress", 0.1)])
    assert parts_of(workbook)["xl/styles.xml"] == styles


def test_clearing_a_cell(workbook: Path) -> None:
    backend = backend_for(workbook)
    backend.write([CellChange(2, 20, "Health", "on track")])
    backend.write([CellChange(2, 20, "Health", None)])
    assert openpyxl.load_workbook(workbook)["Check-ins"].cell(2, 20).value is None


def test_append_rows_creates_the_worksheet_with_its_header(workbook: Path) -> None:
    backend = backend_for(workbook)
    header = ["ID", "Check-in Date", "Progress"]
    backend.append_rows("History", header, [["KR-0001", dt.date(2026, 11, 2), 0.4]])
    backend.append_rows("History", header, [["KR-0001", dt.date(2026, 11, 9), 0.5]])
    wb = openpyxl.load_workbook(workbook)
    assert wb.sheetnames == ["Check-ins", "Read me", "History"]
    rows = list(wb["History"].iter_rows(values_only=True))
    assert rows == [
        ("ID", "Check-in Date", "Progress"),
        ("KR-0001", dt.datetime(2026, 11, 2), 0.4),
        ("KR-0001", dt.datetime(2026, 11, 9), 0.5),
    ]
    assert backend.read(extra=["History"])["History"] is not None


def test_workbook_edited_during_a_sync_is_not_overwritten(workbook: Path) -> None:
    """If the file changes between read and write, nothing is written and the run fails."""
    from okrsync.errors import SheetError

    backend = backend_for(workbook)
    backend.read()
    wb = openpyxl.load_workbook(workbook)
    wb["Check-ins"]["J2"] = 999
    wb.save(workbook)
    content = workbook.read_bytes()
    with pytest.raises(SheetError, match="changed while okrsync was syncing"):
        backend.write([CellChange(2, 20, "Progress", 0.25)])
    assert workbook.read_bytes() == content
