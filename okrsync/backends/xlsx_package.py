"""Edit a few cells of an ``.xlsx`` file in place, leaving every other byte of it alone.

openpyxl rewrites a whole workbook when it saves, and drops the cached results of
formulas on the way: after such a save an owner's ``=SUM(...)`` in Current would read
as blank until someone opened the file in a spreadsheet program. So okrsync writes the
way a careful person would: it opens the package (a zip of XML parts), changes only the
``<c>`` elements of the cells it owns in the one worksheet part, adds a number format
to ``styles.xml`` when it needs one, and copies every other part over untouched.

Reading stays with openpyxl (read-only mode), which does that well.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from lxml import etree

from okrsync.backends.base import Cell, serial_number
from okrsync.columns import col_letter, col_number

__all__ = ["CellWrite", "XlsxPackage"]

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
WORKSHEET_TYPE = REL + "/worksheet"
WORKSHEET_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
_CELL_REF = re.compile(r"^([A-Z]+)(\d+)$")
#: The order CT_Worksheet and CT_Stylesheet want their children in (ECMA-376 part 1).
WORKSHEET_ORDER = (
    "sheetPr", "dimension", "sheetViews", "sheetFormatPr", "cols", "sheetData", "sheetCalcPr",
    "sheetProtection", "protectedRanges", "scenarios", "autoFilter", "sortState",
    "dataConsolidate", "customSheetViews", "mergeCells", "phoneticPr", "conditionalFormatting",
    "dataValidations", "hyperlinks", "printOptions", "pageMargins", "pageSetup", "headerFooter",
    "rowBreaks", "colBreaks", "customProperties", "cellWatches", "ignoredErrors", "smartTags",
    "drawing", "legacyDrawing", "legacyDrawingHF", "drawingHF", "picture", "oleObjects",
    "controls", "webPublishItems", "tableParts", "extLst",
)  # fmt: skip
STYLESHEET_ORDER = (
    "numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles", "dxfs",
    "tableStyles", "colors", "extLst",
)  # fmt: skip


def _q(tag: str) -> str:
    return f"{{{MAIN}}}{tag}"


@dataclass(frozen=True)
class CellWrite:
    """One cell to set: ``number_format`` (e.g. ``"0%"``) only for numbers and dates.

    :param style_from: copy the style of this (row, col) cell, e.g. a header's.
    """

    row: int
    col: int
    value: Cell
    number_format: str | None = None
    style_from: tuple[int, int] | None = None


class XlsxPackage:
    """An ``.xlsx`` file opened for surgical edits. Call :meth:`save` to write it out."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with zipfile.ZipFile(path) as zf:
            self._infos = zf.infolist()
            self._parts = {info.filename: zf.read(info) for info in self._infos}
        self._trees: dict[str, etree._ElementTree] = {}
        # Parts we changed; every other part is copied byte for byte.
        self._dirty: set[str] = set()
        self._styles: dict[tuple[int, str], int] = {}
        self._derived: dict[tuple[int, str | None, bool | None], int] = {}
        self._workbook_part = self._office_document()

    # --- parts ------------------------------------------------------------------

    def _tree(self, part: str) -> etree._ElementTree:
        if part not in self._trees:
            parser = etree.XMLParser(resolve_entities=False, huge_tree=True)
            self._trees[part] = etree.ElementTree(etree.fromstring(self._parts[part], parser))
        return self._trees[part]

    def _office_document(self) -> str:
        rels = self._tree("_rels/.rels").getroot()
        for rel in rels.iter(f"{{{PKG_REL}}}Relationship"):
            if rel.get("Type", "").endswith("/officeDocument"):
                return rel.get("Target", "xl/workbook.xml").lstrip("/")
        return "xl/workbook.xml"

    def _rels_part(self, part: str) -> str:
        p = PurePosixPath(part)
        return str(p.parent / "_rels" / f"{p.name}.rels")

    def _resolve(self, source: str, target: str) -> str:
        if target.startswith("/"):
            return target.lstrip("/")
        parts: list[str] = []
        for piece in (PurePosixPath(source).parent / target).parts:
            if piece == "..":
                parts.pop()
            elif piece != ".":
                parts.append(piece)
        return "/".join(parts)

    def sheet_titles(self) -> list[str]:
        wb = self._tree(self._workbook_part).getroot()
        return [s.get("name", "") for s in wb.iter(_q("sheet"))]

    def sheet_part(self, title: str) -> str | None:
        """The part name of worksheet ``title`` (e.g. ``xl/worksheets/sheet1.xml``)."""
        wb = self._tree(self._workbook_part).getroot()
        rels = self._tree(self._rels_part(self._workbook_part)).getroot()
        targets = {r.get("Id"): r.get("Target", "") for r in rels}
        for sheet in wb.iter(_q("sheet")):
            if sheet.get("name") == title:
                target = targets.get(sheet.get(f"{{{REL}}}id"))
                return self._resolve(self._workbook_part, target) if target else None
        return None

    # --- styles -----------------------------------------------------------------

    @functools.cached_property
    def _styles_part(self) -> str:
        rels = self._tree(self._rels_part(self._workbook_part)).getroot()
        for rel in rels:
            if rel.get("Type", "").endswith("/styles"):
                return self._resolve(self._workbook_part, rel.get("Target", ""))
        raise KeyError("styles")

    def style_with_format(self, base: int, number_format: str) -> int:
        """The index of a cell style like ``base`` but with ``number_format``; reused if present."""
        key = (base, number_format)
        if key not in self._styles:
            self._styles[key] = self._find_or_add_style(base, number_format)
        return self._styles[key]

    def _find_or_add_style(self, base: int, number_format: str) -> int:
        styles = self._tree(self._styles_part).getroot()
        fmt_id = self._format_id(number_format)
        xfs = styles.find(_q("cellXfs"))
        assert xfs is not None
        items = list(xfs)
        template = items[base] if 0 <= base < len(items) else items[0]
        for i, xf in enumerate(items):
            if xf.get("numFmtId") == str(fmt_id) and _same_but_format(xf, template):
                return i
        new = etree.fromstring(etree.tostring(template))
        new.set("numFmtId", str(fmt_id))
        new.set("applyNumberFormat", "1")
        xfs.append(new)
        xfs.set("count", str(len(xfs)))
        self._dirty.add(self._styles_part)
        return len(xfs) - 1

    def _format_id(self, number_format: str) -> int:
        """The numFmtId of ``number_format``: a built-in one, or one in numFmts (added)."""
        styles = self._tree(self._styles_part).getroot()
        builtin = {"0": 1, "0.00": 2, "0%": 9, "0.00%": 10}
        if number_format in builtin:
            return builtin[number_format]
        num_fmts = styles.find(_q("numFmts"))
        existing = [] if num_fmts is None else list(num_fmts)
        for nf in existing:
            if nf.get("formatCode") == number_format:
                return int(nf.get("numFmtId", "0"))
        if num_fmts is None:
            num_fmts = etree.Element(_q("numFmts"))
            styles.insert(0, num_fmts)
        fmt_id = max([163, *(int(nf.get("numFmtId", "0")) for nf in existing)]) + 1
        etree.SubElement(num_fmts, _q("numFmt"), numFmtId=str(fmt_id), formatCode=number_format)
        num_fmts.set("count", str(len(num_fmts)))
        self._dirty.add(self._styles_part)
        return fmt_id

    def format_code(self, style: int) -> str:
        """The number format code of cell style ``style`` (``General``, ``0%``, ...)."""
        from openpyxl.styles.numbers import BUILTIN_FORMATS

        styles = self._tree(self._styles_part).getroot()
        xf = self._xf(style)
        fmt_id = int(xf.get("numFmtId", "0")) if xf is not None else 0
        for nf in styles.iterfind(f"{_q('numFmts')}/{_q('numFmt')}"):
            if int(nf.get("numFmtId", "-1")) == fmt_id:
                return nf.get("formatCode", "General")
        return BUILTIN_FORMATS.get(fmt_id, "General")

    def _xf(self, style: int) -> etree._Element | None:
        xfs = self._tree(self._styles_part).getroot().find(_q("cellXfs"))
        if xfs is None or not 0 <= style < len(xfs):
            return None
        return xfs[style]

    def is_locked(self, style: int) -> bool:
        """Whether cells of style ``style`` are locked on a protected sheet (the default)."""
        xf = self._xf(style)
        protection = xf.find(_q("protection")) if xf is not None else None
        if protection is None:
            return True
        return protection.get("locked", "1") not in ("0", "false")

    def derived_style(
        self, base: int, *, number_format: str | None = None, locked: bool | None = None
    ) -> int:
        """The index of a cell style like ``base`` with ``number_format`` and/or ``locked``
        set; an identical existing style is reused, so styles.xml grows once, not per run."""
        key = (base, number_format, locked)
        if key in self._derived:
            return self._derived[key]
        styles = self._tree(self._styles_part).getroot()
        xfs = styles.find(_q("cellXfs"))
        assert xfs is not None
        items = list(xfs)
        template = items[base] if 0 <= base < len(items) else items[0]
        new = etree.fromstring(etree.tostring(template))
        if number_format is not None:
            new.set("numFmtId", str(self._format_id(number_format)))
            new.set("applyNumberFormat", "1")
        if locked is not None:
            protection = new.find(_q("protection"))
            if protection is None:
                protection = etree.Element(_q("protection"))
                ext = new.find(_q("extLst"))
                if ext is not None:
                    ext.addprevious(protection)
                else:
                    new.append(protection)
            protection.attrib.pop("locked", None)
            if not locked:
                protection.set("locked", "0")
            if not protection.attrib:
                new.remove(protection)
            new.set("applyProtection", "1")
        canonical = _canonical(new)
        index = next((i for i, xf in enumerate(items) if _canonical(xf) == canonical), None)
        if index is None:
            xfs.append(new)
            xfs.set("count", str(len(xfs)))
            self._dirty.add(self._styles_part)
            index = len(xfs) - 1
        self._derived[key] = index
        return index

    def add_dxf(self, dxf: etree._Element) -> int:
        """The index of differential format ``dxf`` (for conditional formats); reused if present."""
        styles = self._tree(self._styles_part).getroot()
        dxfs = styles.find(_q("dxfs"))
        if dxfs is None:
            dxfs = etree.Element(_q("dxfs"))
            insert_in_order(styles, dxfs, STYLESHEET_ORDER)
        canonical = _canonical(dxf)
        for i, existing in enumerate(dxfs):
            if _canonical(existing) == canonical:
                return i
        dxfs.append(dxf)
        dxfs.set("count", str(len(dxfs)))
        self._dirty.add(self._styles_part)
        return len(dxfs) - 1

    def root(self, part: str) -> etree._Element:
        """The root element of ``part``; call :meth:`touch` after changing it."""
        return self._tree(part).getroot()

    def touch(self, part: str) -> None:
        """Mark ``part`` as changed, so that :meth:`save` writes it."""
        self._dirty.add(part)

    @property
    def dirty(self) -> bool:
        """Whether any part was changed (and :meth:`save` has something to write)."""
        return bool(self._dirty)

    def discard(self) -> None:
        """Forget the changes made so far: :meth:`save` would write the file as it was."""
        for part in self._dirty:
            self._trees.pop(part, None)
        self._dirty.clear()
        self._styles.clear()
        self._derived.clear()

    # --- cells ------------------------------------------------------------------

    def set_cells(self, part: str, writes: Iterable[CellWrite]) -> None:
        """Set each cell; text is always inline text, never a formula."""
        root = self._tree(part).getroot()
        self._dirty.add(part)
        sheet_data = root.find(_q("sheetData"))
        assert sheet_data is not None
        rows = _index_rows(sheet_data)
        by_row: dict[int, list[CellWrite]] = {}
        for w in writes:
            by_row.setdefault(w.row, []).append(w)
        col_styles = column_styles(root)
        header_styles = {}
        if 1 in rows:
            header_styles = {c: el.get("s") for c, el in _index_cells(rows[1], 1).items()}
        max_row, max_col = 0, 0
        for r in sorted(by_row):
            row_el = rows.get(r)
            if row_el is None:
                row_el = _insert_row(sheet_data, rows, r)
            cells = _index_cells(row_el, r)
            inserted = False
            for w in by_row[r]:
                cell = cells.get(w.col)
                if cell is None:
                    cell = etree.SubElement(row_el, _q("c"), r=f"{col_letter(w.col)}{r}")
                    # A new cell is styled as a person typing into it would get: by its
                    # row's style when the row has one, else by its column's (which keeps
                    # a set-up sheet's computed cells locked and owner cells editable).
                    default = (
                        row_el.get("s")
                        if row_el.get("customFormat") in ("1", "true")
                        else col_styles.get(w.col)
                    )
                    if default:
                        cell.set("s", default)
                    cells[w.col] = cell
                    inserted = True
                style = cell.get("s")
                if w.style_from is not None and w.style_from[0] == 1:
                    style = header_styles.get(w.style_from[1]) or style
                if w.number_format and w.value is not None:
                    style = str(self.style_with_format(int(style or 0), w.number_format))
                _set_value(cell, w.value)
                if style is not None and style != "0":
                    cell.set("s", style)
                elif "s" in cell.attrib:
                    del cell.attrib["s"]
                max_col = max(max_col, w.col)
            if inserted:
                # Cells must stand in column order; "spans" is a hint that is now stale.
                row_el[:] = sorted(row_el, key=lambda el: _cell_col(el) or 1 << 30)
                row_el.attrib.pop("spans", None)
            max_row = max(max_row, r)
        _grow_dimension(root, max_row, max_col)

    def append_rows(
        self, part: str, rows_values: Sequence[Sequence[Cell]], date_format: str
    ) -> None:
        """Append rows below the last non-empty row of worksheet ``part``."""
        root = self._tree(part).getroot()
        sheet_data = root.find(_q("sheetData"))
        assert sheet_data is not None
        last = 0
        for r, row_el in _index_rows(sheet_data).items():
            if any(len(c) for c in row_el):
                last = max(last, r)
        writes = []
        for i, values in enumerate(rows_values, start=last + 1):
            for j, value in enumerate(values, start=1):
                if value is None:
                    continue
                fmt = date_format if isinstance(value, dt.date) else None
                writes.append(CellWrite(i, j, value, fmt))
        self.set_cells(part, writes)

    def add_sheet(self, title: str) -> str:
        """Add an empty worksheet ``title`` at the end; return its part name."""
        n = 1
        while f"xl/worksheets/sheet{n}.xml" in self._parts:
            n += 1
        part = f"xl/worksheets/sheet{n}.xml"
        xml = (
            f'<worksheet xmlns="{MAIN}" xmlns:r="{REL}"><sheetViews><sheetView workbookViewId="0">'
            '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
            '</sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/><sheetData/>'
            '<pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" footer="0.5"/>'
            "</worksheet>"
        )
        self._parts[part] = xml.encode()
        self._infos.append(zipfile.ZipInfo(part, date_time=(2026, 1, 1, 0, 0, 0)))
        rels_part = self._rels_part(self._workbook_part)
        rels = self._tree(rels_part).getroot()
        ids = {r.get("Id") for r in rels}
        k = 1
        while f"rId{k}" in ids:
            k += 1
        folder = "/" + str(PurePosixPath(self._workbook_part).parent)
        target = str(PurePosixPath("/" + part).relative_to(folder))
        rel = etree.SubElement(rels, f"{{{PKG_REL}}}Relationship", Id=f"rId{k}")
        rel.set("Type", WORKSHEET_TYPE)
        rel.set("Target", target)
        wb = self._tree(self._workbook_part).getroot()
        sheets = wb.find(_q("sheets"))
        assert sheets is not None
        sheet_id = max([0, *(int(s.get("sheetId", "0")) for s in sheets)]) + 1
        el = etree.SubElement(sheets, _q("sheet"), name=title, sheetId=str(sheet_id))
        el.set(f"{{{REL}}}id", f"rId{k}")
        types = self._tree("[Content_Types].xml").getroot()
        etree.SubElement(types, f"{{{CT}}}Override", PartName="/" + part, ContentType=WORKSHEET_CT)
        self._dirty.update({rels_part, self._workbook_part, "[Content_Types].xml"})
        return part

    def last_filled_col(self, part: str, row: int) -> int | None:
        """The column of the last cell in ``row`` that holds a value (e.g. the last header)."""
        sheet_data = self._tree(part).getroot().find(_q("sheetData"))
        assert sheet_data is not None
        row_el = _index_rows(sheet_data).get(row)
        if row_el is None:
            return None
        filled = [_cell_col(c) for c in row_el.iterchildren(_q("c")) if len(c)]
        return max(filled, default=None)

    # --- saving -----------------------------------------------------------------

    def save(self, target: Path) -> None:
        """Write the package to ``target``: edited parts re-serialised, the rest as they were."""
        for part in self._dirty:
            tree = self._trees[part]
            self._parts[part] = etree.tostring(
                tree, xml_declaration=True, encoding="UTF-8", standalone=True
            )
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for info in self._infos:
                out = zipfile.ZipInfo(info.filename, date_time=info.date_time)
                out.compress_type = zipfile.ZIP_DEFLATED
                out.external_attr = info.external_attr
                zf.writestr(out, self._parts[info.filename])


def _canonical(el: etree._Element) -> tuple[object, ...]:
    """An element's content (name, attributes, text, children), to compare styles by what
    they say whatever prefixes and attribute order the XML uses."""
    return (
        etree.QName(el).localname if isinstance(el.tag, str) else "",
        tuple(sorted(el.attrib.items())),
        (el.text or "").strip(),
        tuple(_canonical(child) for child in el),
    )


def insert_in_order(parent: etree._Element, child: etree._Element, order: Sequence[str]) -> None:
    """Insert ``child`` among ``parent``'s children where the schema's ``order`` puts it."""
    name = etree.QName(child).localname
    rank = order.index(name)
    for existing in parent:
        other = etree.QName(existing).localname if isinstance(existing.tag, str) else ""
        if other in order and order.index(other) > rank:
            existing.addprevious(child)
            return
    parent.append(child)


def column_styles(root: etree._Element) -> _ColumnStyles:
    """The default cell style of each column, from the worksheet's ``<cols>``."""
    spans = []
    for col in root.iterfind(f"{_q('cols')}/{_q('col')}"):
        style = col.get("style")
        if style and style != "0":
            spans.append((int(col.get("min", "0")), int(col.get("max", "0")), style))
    return _ColumnStyles(spans)


class _ColumnStyles:
    def __init__(self, spans: list[tuple[int, int, str]]) -> None:
        self.spans = spans

    def get(self, col: int) -> str | None:
        for lo, hi, style in self.spans:
            if lo <= col <= hi:
                return style
        return None


def _same_but_format(a: etree._Element, b: etree._Element) -> bool:
    ignore = {"numFmtId", "applyNumberFormat"}
    attrs_a = {k: v for k, v in a.attrib.items() if k not in ignore}
    attrs_b = {k: v for k, v in b.attrib.items() if k not in ignore}
    return attrs_a == attrs_b and [etree.tostring(c) for c in a] == [etree.tostring(c) for c in b]


def _index_rows(sheet_data: etree._Element) -> dict[int, etree._Element]:
    rows: dict[int, etree._Element] = {}
    n = 0
    for row_el in sheet_data.iterchildren(_q("row")):
        n = int(row_el.get("r") or n + 1)
        row_el.set("r", str(n))
        rows[n] = row_el
    return rows


def _insert_row(
    sheet_data: etree._Element, rows: dict[int, etree._Element], r: int
) -> etree._Element:
    new = etree.Element(_q("row"), r=str(r))
    after = [n for n in rows if n < r]
    if after:
        rows[max(after)].addnext(new)
    else:
        sheet_data.insert(0, new)
    rows[r] = new
    return new


def _cell_col(cell: etree._Element) -> int:
    m = _CELL_REF.match(cell.get("r", ""))
    return col_number(m.group(1)) if m else 0


def _index_cells(row_el: etree._Element, row: int) -> dict[int, etree._Element]:
    """The row's cells by column; cells without an ``r`` attribute get one (positional)."""
    cells: dict[int, etree._Element] = {}
    position = 0
    for cell in row_el.iterchildren(_q("c")):
        position = _cell_col(cell) or position + 1
        if not cell.get("r"):
            cell.set("r", f"{col_letter(position)}{row}")
        cells[position] = cell
    return cells


def _set_value(cell: etree._Element, value: Cell) -> None:
    for child in list(cell):
        cell.remove(child)
    cell.attrib.pop("t", None)
    if value is None:
        return
    if isinstance(value, bool):
        cell.set("t", "b")
        etree.SubElement(cell, _q("v")).text = "1" if value else "0"
    elif isinstance(value, int | float):
        text = repr(float(value)) if isinstance(value, float) else str(value)
        etree.SubElement(cell, _q("v")).text = text
    elif isinstance(value, dt.date):
        serial = serial_number(value)
        text = str(int(serial)) if float(serial).is_integer() else repr(serial)
        etree.SubElement(cell, _q("v")).text = text
    else:
        cell.set("t", "inlineStr")
        text = _xml_safe(str(value))
        inline = etree.SubElement(cell, _q("is"))
        t = etree.SubElement(inline, _q("t"))
        t.text = text
        if text != text.strip():
            t.set(XML_SPACE, "preserve")


def _xml_safe(text: str) -> str:
    # XML 1.0 cannot carry most control characters; a sheet cell should not either.
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]", "", text)


def _grow_dimension(root: etree._Element, max_row: int, max_col: int) -> None:
    dim = root.find(_q("dimension"))
    if dim is None or not max_row:
        return
    ref = dim.get("ref", "A1")
    end = ref.split(":")[-1]
    m = _CELL_REF.match(end)
    if not m:
        return
    end_col = max(col_number(m.group(1)), max_col)
    end_row = max(int(m.group(2)), max_row)
    start = ref.split(":")[0]
    dim.set("ref", f"{start}:{col_letter(end_col)}{end_row}")
