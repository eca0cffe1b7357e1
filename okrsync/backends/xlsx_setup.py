"""``okrsync setup`` on a local workbook: written into the worksheet's XML, like a sync.

Why not openpyxl, which has every one of these features: openpyxl rewrites the whole
workbook when it saves and drops the cached results of formulas (see
:mod:`okrsync.backends.xlsx_package`), so a set-up workbook would show an owner's
``=SUM(...)`` in Current as blank until someone opened and saved it in a spreadsheet
program, and okrsync would read it as blank too. Every part of setup is a small,
well-specified piece of SpreadsheetML, so it is added to the worksheet part and
``styles.xml`` directly and every other byte of the package stays as it was:

* headers: ``<c>`` cells in row 1, styled like the last header (as a sync adds them);
* the frozen header row: ``<pane ySplit="1" state="frozen">`` in ``<sheetView>``;
* widths: ``<col width customWidth="1">``, only on columns nobody gave a width;
* dropdowns and date checks: ``<dataValidation type="list|date">`` with a prompt (the
  help text Excel and LibreOffice show on the selected cell) on rows 2 and below;
* header notes: a ``<dataValidation>`` with only a prompt on the header cell, which both
  programs show the same way. A real comment needs a comments part, a VML drawing and
  their relationships; a prompt says the same with one element;
* number formats: cell styles (``<xf numFmtId>``) on the column's cells and, through
  ``<col style>``, on its empty cells; an owner's date column keeps a team's own date
  format;
* colours: ``<conditionalFormatting>`` with ``cellIs`` rules and their ``<dxf>`` in
  ``styles.xml``;
* protection: ``<sheetProtection>`` without a password, every cell style unlocked
  (``<protection locked="0"/>``) except in the computed columns, for existing cells and,
  through ``<col style>``, for every column's empty cells, so owners can type anywhere
  else, add rows and format cells. Protection is a matter for the spreadsheet program:
  okrsync's own writes go into the XML and are not stopped by it.

Each piece is looked for before it is added, so a second run changes nothing; an existing
validation on the same cells is replaced rather than doubled (overlapping validations are
an error to Excel).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lxml import etree
from openpyxl.styles.numbers import is_date_format

from okrsync.backends.xlsx_package import (
    WORKSHEET_ORDER,
    CellWrite,
    XlsxPackage,
    _cell_col,
    _index_cells,
    _q,
    insert_in_order,
)
from okrsync.columns import Col, col_letter, col_number
from okrsync.setup import (
    DESCRIBE_FREEZE,
    Colour,
    ColumnSetup,
    NumberFormat,
    Placement,
    SetupPlan,
    describe_colours,
    describe_format,
    describe_header,
    describe_notes,
    describe_protection,
    describe_validation,
    describe_widths,
)

__all__ = ["FORMAT_CODES", "setup_worksheet"]

MAX_ROW = 1_048_576
MAX_COL = 16_384
#: Excel's width of a column nobody resized (8.43 characters of Calibri 11, plus padding).
DEFAULT_WIDTH = "9.140625"
FORMAT_CODES = {
    NumberFormat.PERCENT: "0%",
    NumberFormat.DATE: "yyyy-mm-dd",
    NumberFormat.INTEGER: "0",
}
_TRUE = ("1", "true")
# Attribute values a dataValidation has when they are left out.
_DV_DEFAULTS = {
    "type": "none",
    "errorStyle": "stop",
    "imeMode": "noControl",
    "operator": "between",
    "allowBlank": "0",
    "showDropDown": "0",
    "showInputMessage": "0",
    "showErrorMessage": "0",
}


def setup_worksheet(
    pkg: XlsxPackage, part: str, plan: SetupPlan, header: Sequence[str], used: int = 0
) -> list[str]:
    """Give worksheet ``part`` what ``plan`` asks and it lacks; return the changes made.

    Changes happen in ``pkg`` in memory; the caller saves it (or does not, for a dry run).
    """
    placement = plan.place(header, used)
    if placement.added:
        pkg.set_cells(
            part,
            (
                CellWrite(1, col, text, None, (1, placement.last) if placement.last else None)
                for col, text in placement.added
            ),
        )
    root = pkg.root(part)
    froze = _freeze(root, plan.freeze_rows)
    cols = _Cols(root)
    resized = _widths(cols, plan, placement)
    styler = _Styler(pkg, plan, placement)
    styler.restyle_cells(root)
    styler.restyle_columns(cols)
    cols.write()
    validated, noted = _validations(root, plan, placement)
    coloured = _colours(pkg, root, plan, placement)
    protected = _protect(root)

    changes = [describe_header(col, text) for col, text in placement.added]
    if froze:
        changes.append(DESCRIBE_FREEZE)
    if resized:
        changes.append(describe_widths(resized))
    changes += [describe_validation(spec, placement) for spec in validated]
    changes += [
        describe_format(spec, placement)
        for spec in plan.columns
        if placement.positions[spec.column] in styler.formatted
    ]
    changes += [describe_colours(col, values, placement) for col, values in coloured]
    if protected or styler.relocked:
        changes.append(describe_protection(placement, plan, update=not protected))
    if noted:
        changes.append(describe_notes(noted, placement))
    if changes:
        pkg.touch(part)
    return changes


# --- frozen header row ------------------------------------------------------------------


def _freeze(root: etree._Element, rows: int) -> bool:
    """Freeze the top ``rows`` rows (keeping frozen columns); whether anything changed."""
    views = root.find(_q("sheetViews"))
    if views is None:
        views = etree.Element(_q("sheetViews"))
        insert_in_order(root, views, WORKSHEET_ORDER)
    view = views.find(_q("sheetView"))
    if view is None:
        view = etree.SubElement(views, _q("sheetView"), workbookViewId="0")
    pane = view.find(_q("pane"))
    frozen = pane is not None and pane.get("state") in ("frozen", "frozenSplit")
    if frozen and pane is not None and float(pane.get("ySplit", "0")) >= rows:
        return False
    columns = int(float(pane.get("xSplit", "0"))) if frozen and pane is not None else 0
    for old in [*view.iterchildren(_q("pane")), *view.iterchildren(_q("selection"))]:
        view.remove(old)
    top_left = f"{col_letter(columns + 1)}{rows + 1}"
    active = "bottomRight" if columns else "bottomLeft"
    pane = etree.Element(_q("pane"))
    if columns:
        pane.set("xSplit", str(columns))
    pane.set("ySplit", str(rows))
    pane.set("topLeftCell", top_left)
    pane.set("activePane", active)
    pane.set("state", "frozen")
    view.insert(0, pane)
    selection = etree.Element(_q("selection"), pane=active, activeCell=top_left, sqref=top_left)
    pane.addnext(selection)
    return True


# --- columns: widths and default styles ---------------------------------------------------


@dataclass
class _Span:
    """One ``<col>``: columns ``lo``..``hi`` and their attributes (width, style, ...)."""

    lo: int
    hi: int
    attrs: dict[str, str]


class _Cols:
    """The worksheet's ``<cols>`` as spans, editable one column at a time."""

    def __init__(self, root: etree._Element) -> None:
        self.root = root
        fmt = root.find(_q("sheetFormatPr"))
        default = fmt.get("defaultColWidth") if fmt is not None else None
        self.default_width = default or DEFAULT_WIDTH
        self.spans = sorted(
            (
                _Span(
                    int(el.get("min", "1")),
                    int(el.get("max", "1")),
                    {k: v for k, v in el.attrib.items() if k not in ("min", "max")},
                )
                for el in root.iterfind(f"{_q('cols')}/{_q('col')}")
            ),
            key=lambda span: span.lo,
        )
        self.before = self._key()

    def attrs(self, col: int) -> dict[str, str]:
        """The attributes of column ``col`` alone (its span is split off when shared)."""
        for i, span in enumerate(self.spans):
            if span.lo <= col <= span.hi:
                mine = _Span(col, col, dict(span.attrs))
                pieces = [mine]
                if span.lo < col:
                    pieces.insert(0, _Span(span.lo, col - 1, dict(span.attrs)))
                if col < span.hi:
                    pieces.append(_Span(col + 1, span.hi, dict(span.attrs)))
                self.spans[i : i + 1] = pieces
                return mine.attrs
        mine = _Span(col, col, {"width": self.default_width})
        self.spans.append(mine)
        self.spans.sort(key=lambda span: span.lo)
        return mine.attrs

    def fill(self) -> None:
        """Cover every column of the sheet, so each has a default style of its own."""
        filled: list[_Span] = []
        nxt = 1
        for span in self.spans:
            if span.lo > nxt:
                filled.append(_Span(nxt, span.lo - 1, {"width": self.default_width}))
            filled.append(span)
            nxt = span.hi + 1
        if nxt <= MAX_COL:
            filled.append(_Span(nxt, MAX_COL, {"width": self.default_width}))
        self.spans = filled

    def write(self) -> None:
        """Put the spans back as ``<cols>``, merging neighbours that became alike."""
        merged: list[_Span] = []
        for span in self.spans:
            if merged and merged[-1].attrs == span.attrs and merged[-1].hi == span.lo - 1:
                merged[-1].hi = span.hi
            else:
                merged.append(span)
        self.spans = merged
        if self._key() == self.before:
            return
        for old in self.root.findall(_q("cols")):
            self.root.remove(old)
        if not self.spans:
            return
        cols = etree.Element(_q("cols"))
        for span in self.spans:
            el = etree.SubElement(cols, _q("col"), min=str(span.lo), max=str(span.hi))
            for key, value in span.attrs.items():
                el.set(key, value)
        insert_in_order(self.root, cols, WORKSHEET_ORDER)

    def _key(self) -> list[tuple[int, int, tuple[tuple[str, str], ...]]]:
        return [(s.lo, s.hi, tuple(sorted(s.attrs.items()))) for s in self.spans]


def _widths(cols: _Cols, plan: SetupPlan, placement: Placement) -> list[int]:
    """Give the plan's widths to columns nobody resized; the columns changed."""
    resized = []
    for spec in plan.columns:
        col = placement.positions[spec.column]
        attrs = cols.attrs(col)
        if attrs.get("customWidth") in _TRUE:
            continue
        if attrs.get("width") != str(spec.width):
            attrs["width"] = str(spec.width)
            attrs["customWidth"] = "1"
            resized.append(col)
    return resized


# --- cell styles: number formats and locks ------------------------------------------------


@dataclass(frozen=True)
class _Want:
    """What a column's cells should have: a number format (forced or only where no date
    format is set) and whether they are locked."""

    code: str | None
    force: bool
    locked: bool


class _Styler:
    """Restyles cells (and columns' empty cells) to their column's :class:`_Want`."""

    def __init__(self, pkg: XlsxPackage, plan: SetupPlan, placement: Placement) -> None:
        self.pkg = pkg
        self.wants: dict[int, _Want] = {}
        computed = set(plan.computed)
        for spec in plan.columns:
            self.wants[placement.positions[spec.column]] = _want(spec, spec.column in computed)
        self.other = _Want(None, False, False)
        self.formatted: set[int] = set()
        self.relocked = False
        self._cache: dict[tuple[int, _Want, bool], tuple[int, bool, bool]] = {}

    def style(self, base: int, col: int | None, *, header: bool) -> int:
        """The style a cell of style ``base`` in column ``col`` should have."""
        want = self.wants.get(col, self.other) if col is not None else self.other
        key = (base, want, header)
        if key not in self._cache:
            new, formatted = base, False
            if want.code is not None and not header:
                have = self.pkg.format_code(new)
                if have != want.code if want.force else not is_date_format(have):
                    new = self.pkg.derived_style(new, number_format=want.code)
                    formatted = True
            relocked = self.pkg.is_locked(new) != want.locked
            if relocked:
                new = self.pkg.derived_style(new, locked=want.locked)
            self._cache[key] = (new, formatted, relocked)
        new, formatted, relocked = self._cache[key]
        if formatted and col is not None:
            self.formatted.add(col)
        self.relocked |= relocked
        return new

    def restyle_cells(self, root: etree._Element) -> None:
        sheet_data = root.find(_q("sheetData"))
        if sheet_data is None:
            return
        r = 0
        for row_el in sheet_data.iterchildren(_q("row")):
            r = int(row_el.get("r") or r + 1)
            cells = _index_cells(row_el, r)
            for col, cell in cells.items():
                base = int(cell.get("s") or 0)
                _set_style(cell, self.style(base, col, header=r == 1), base)
            if row_el.get("customFormat") in _TRUE:
                self._restyle_row(row_el, r, cells)

    def _restyle_row(self, row_el: etree._Element, r: int, cells: dict[int, object]) -> None:
        # Empty cells of a row with a style of its own take the row's style, not the
        # column's: unlock the row, and give the cells that must differ a cell of their own.
        base = int(row_el.get("s") or 0)
        own = self.style(base, None, header=r == 1)
        if own != base:
            row_el.set("s", str(own))
        added = False
        for col in self.wants:
            if col in cells:
                continue
            style = self.style(base, col, header=r == 1)
            if style != own:
                etree.SubElement(row_el, _q("c"), r=f"{col_letter(col)}{r}", s=str(style))
                added = True
        if added:
            row_el[:] = sorted(row_el, key=lambda el: _cell_col(el) or 1 << 30)
            row_el.attrib.pop("spans", None)

    def restyle_columns(self, cols: _Cols) -> None:
        for col in self.wants:
            cols.attrs(col)
        cols.fill()
        for span in cols.spans:
            col = span.lo if span.lo == span.hi and span.lo in self.wants else None
            base = int(span.attrs.get("style") or 0)
            new = self.style(base, col, header=False)
            if new != base:
                if new:
                    span.attrs["style"] = str(new)
                else:
                    span.attrs.pop("style", None)


def _want(spec: ColumnSetup, computed: bool) -> _Want:
    code = FORMAT_CODES[spec.number_format] if spec.number_format else None
    return _Want(code, computed, computed)


def _set_style(cell: etree._Element, style: int, base: int) -> None:
    if style == base:
        return
    if style:
        cell.set("s", str(style))
    else:
        cell.attrib.pop("s", None)


# --- data validation: dropdowns, date checks, header notes --------------------------------


def _validations(
    root: etree._Element, plan: SetupPlan, placement: Placement
) -> tuple[list[ColumnSetup], list[Col]]:
    """Add the plan's validations and header prompts that are missing.

    :returns: the columns whose validation was added, and those whose note was.
    """
    wanted: list[tuple[etree._Element, ColumnSetup, bool]] = []  # (element, column, a note?)
    for spec in plan.columns:
        letter = col_letter(placement.positions[spec.column])
        if spec.validation is not None:
            wanted.append((_dv_element(spec, f"{letter}2:{letter}{MAX_ROW}"), spec, False))
    for spec in plan.columns:
        letter = col_letter(placement.positions[spec.column])
        if spec.note is not None:
            wanted.append((_dv_note(spec, f"{letter}1"), spec, True))
    dvs = root.find(_q("dataValidations"))
    existing = list(dvs) if dvs is not None else []
    validated: list[ColumnSetup] = []
    noted: list[Col] = []
    for el, spec, is_note in wanted:
        key = _dv_key(el)
        if any(_dv_key(e) == key for e in existing):
            continue
        if dvs is None:
            dvs = etree.Element(_q("dataValidations"))
            insert_in_order(root, dvs, WORKSHEET_ORDER)
        # Whatever validated these cells before gives them up: Excel refuses overlaps.
        box = _boxes(el.get("sqref", ""))[0]
        for other in list(existing):
            before = _boxes(other.get("sqref", ""))
            left = [piece for old in before for piece in _subtract(old, box)]
            if left == before:
                continue
            if left:
                other.set("sqref", " ".join(_ref(b) for b in left))
            else:
                dvs.remove(other)
                existing.remove(other)
        dvs.append(el)
        existing.append(el)
        if is_note:
            noted.append(spec.column)
        else:
            validated.append(spec)
    if dvs is not None:
        if len(dvs):
            dvs.set("count", str(len(dvs)))
        else:
            root.remove(dvs)
    return validated, noted


def _dv_element(spec: ColumnSetup, sqref: str) -> etree._Element:
    rule = spec.validation
    assert rule is not None
    el = etree.Element(_q("dataValidation"))
    if rule.kind == "list":
        el.set("type", "list")
        el.set("errorStyle", "stop" if rule.strict else "warning")
        error = ("Pick one from the list: " if rule.strict else "Usually one of: ") + ", ".join(
            rule.values
        )
        if not rule.strict:
            error += ". Other values are allowed if okrsync can read them."
        formula = '"' + ",".join(rule.values) + '"'
    else:
        el.set("type", "date")
        el.set("errorStyle", "warning")
        el.set("operator", "greaterThanOrEqual")
        error = "Enter a date such as 2026-11-16."
        formula = "1"
    el.set("allowBlank", "1")
    el.set("showInputMessage", "1")
    el.set("showErrorMessage", "1")
    el.set("errorTitle", spec.column.value)
    el.set("error", error)
    el.set("promptTitle", spec.column.value)
    el.set("prompt", rule.help)
    el.set("sqref", sqref)
    etree.SubElement(el, _q("formula1")).text = formula
    return el


def _dv_note(spec: ColumnSetup, sqref: str) -> etree._Element:
    assert spec.note is not None
    el = etree.Element(_q("dataValidation"))
    el.set("allowBlank", "1")
    el.set("showInputMessage", "1")
    el.set("promptTitle", spec.column.value)
    el.set("prompt", spec.note)
    el.set("sqref", sqref)
    return el


def _dv_key(el: etree._Element) -> tuple[object, ...]:
    """What a dataValidation does, whatever program wrote it: defaults and order ignored."""
    attrs = {}
    for key, value in el.attrib.items():
        if key == "sqref":
            continue
        norm = {"true": "1", "false": "0"}.get(value, value)
        if _DV_DEFAULTS.get(key) != norm:
            attrs[key] = norm
    formulas = tuple((etree.QName(c).localname, (c.text or "").strip()) for c in el)
    return tuple(sorted(attrs.items())), formulas, tuple(sorted(_boxes(el.get("sqref", ""))))


# --- conditional colours ------------------------------------------------------------------


def _colours(
    pkg: XlsxPackage, root: etree._Element, plan: SetupPlan, placement: Placement
) -> list[tuple[Col, list[str]]]:
    """Add the colour rules that are missing; returns ``(column, [values])`` added."""
    formats = root.findall(_q("conditionalFormatting"))
    priorities = [int(r.get("priority", "0")) for cf in formats for r in cf]
    priority = max(priorities, default=0) + 1
    added: list[tuple[Col, list[str]]] = []
    for column in dict.fromkeys(rule.column for rule in plan.colours):
        col = placement.positions[column]
        absent = [
            r for r in plan.colours if r.column == column and not _has_colour(formats, col, r.value)
        ]
        if not absent:
            continue
        letter = col_letter(col)
        cf = etree.Element(_q("conditionalFormatting"), sqref=f"{letter}2:{letter}{MAX_ROW}")
        for rule in absent:
            el = etree.SubElement(cf, _q("cfRule"), type="cellIs")
            el.set("dxfId", str(pkg.add_dxf(_dxf(rule.colour))))
            el.set("priority", str(priority))
            el.set("operator", "equal")
            etree.SubElement(el, _q("formula")).text = '"' + rule.value.replace('"', '""') + '"'
            priority += 1
        insert_in_order(root, cf, WORKSHEET_ORDER)
        added.append((column, [r.value for r in absent]))
    return added


def _has_colour(formats: Sequence[etree._Element], col: int, value: str) -> bool:
    wanted = ('"' + value + '"').casefold()
    for cf in formats:
        if not any(b[0] == b[2] == col for b in _boxes(cf.get("sqref", ""))):
            continue
        for rule in cf.iterchildren(_q("cfRule")):
            formula = rule.find(_q("formula"))
            if (
                rule.get("type") == "cellIs"
                and rule.get("operator") == "equal"
                and formula is not None
                and (formula.text or "").strip().casefold() == wanted
            ):
                return True
    return False


def _dxf(colour: Colour) -> etree._Element:
    """A differential format: text colour (bold) and a solid fill. Excel takes a dxf's
    solid fill from ``bgColor``; both colours are set so every reader agrees."""
    dxf = etree.Element(_q("dxf"))
    font = etree.SubElement(dxf, _q("font"))
    if colour.bold:
        etree.SubElement(font, _q("b"))
    etree.SubElement(font, _q("color"), rgb=_argb(colour.text))
    fill = etree.SubElement(etree.SubElement(dxf, _q("fill")), _q("patternFill"))
    fill.set("patternType", "solid")
    etree.SubElement(fill, _q("fgColor"), rgb=_argb(colour.fill))
    etree.SubElement(fill, _q("bgColor"), rgb=_argb(colour.fill))
    return dxf


def _argb(hex_colour: str) -> str:
    return "FF" + hex_colour.lstrip("#").upper()


# --- sheet protection ---------------------------------------------------------------------


def _protect(root: etree._Element) -> bool:
    """Protect the sheet (no password) if it is not; whether it changed.

    Owners keep every right that does not touch a locked cell: formatting, inserting and
    deleting rows, sorting and filtering.
    """
    protection = root.find(_q("sheetProtection"))
    if protection is not None and protection.get("sheet") in _TRUE:
        return False
    if protection is None:
        protection = etree.Element(_q("sheetProtection"))
        insert_in_order(root, protection, WORKSHEET_ORDER)
    protection.set("sheet", "1")
    for right in (
        "formatCells",
        "formatColumns",
        "formatRows",
        "insertRows",
        "insertHyperlinks",
        "deleteRows",
        "sort",
        "autoFilter",
    ):
        protection.set(right, "0")  # "0": not protected, i.e. allowed
    return True


# --- ranges -------------------------------------------------------------------------------

Box = tuple[int, int, int, int]  # first column, first row, last column, last row


def _boxes(sqref: str) -> list[Box]:
    """``"A2:A10 C5"`` -> boxes; whole columns (``A:A``) and rows (``2:2``) included."""
    out = []
    for ref in sqref.split():
        first, _, last = ref.partition(":")
        c0, r0 = _corner(first, 1, 1)
        c1, r1 = _corner(last or first, MAX_COL, MAX_ROW)
        out.append((min(c0, c1), min(r0, r1), max(c0, c1), max(r0, r1)))
    return out


def _corner(ref: str, col_default: int, row_default: int) -> tuple[int, int]:
    ref = ref.replace("$", "").upper()
    letters = "".join(ch for ch in ref if ch.isalpha())
    digits = "".join(ch for ch in ref if ch.isdigit())
    return (
        col_number(letters) if letters else col_default,
        int(digits) if digits else row_default,
    )


def _ref(box: Box) -> str:
    c0, r0, c1, r1 = box
    first = f"{col_letter(c0)}{r0}"
    return first if (c0, r0) == (c1, r1) else f"{first}:{col_letter(c1)}{r1}"


def _subtract(box: Box, cut: Box) -> list[Box]:
    """``box`` without the cells of ``cut``, as up to four boxes."""
    c0, r0, c1, r1 = box
    k0, s0, k1, s1 = cut
    if k0 > c1 or k1 < c0 or s0 > r1 or s1 < r0:
        return [box]
    out = []
    if r0 < s0:
        out.append((c0, r0, c1, s0 - 1))
    if s1 < r1:
        out.append((c0, s1 + 1, c1, r1))
    top, bottom = max(r0, s0), min(r1, s1)
    if c0 < k0:
        out.append((c0, top, k0 - 1, bottom))
    if k1 < c1:
        out.append((k1 + 1, top, c1, bottom))
    return out
