"""``okrsync setup`` on Google Sheets: the plan as ONE ``spreadsheets.batchUpdate``.

:meth:`GSheetsBackend.setup <okrsync.backends.gsheets.GSheetsBackend.setup>` reads what
the worksheet has (three ``spreadsheets.get``: the sheet properties with their
conditional formats and protected ranges; the header row and the first data row with
their notes, rules, formats and the column widths; then, thin, the rule kinds and number
formats of the rows below in the columns that get them) and
:func:`setup_requests` turns the difference between that and the
:class:`~okrsync.setup.SetupPlan` into the requests of one batch:

* ``appendDimension`` when new headers need more columns, ``updateCells`` for the headers;
* ``updateSheetProperties`` for ``frozenRowCount``;
* ``updateDimensionProperties`` for widths, only of columns still at Google's default
  width (100 px), so a width someone chose stays;
* ``setDataValidation`` (``ONE_OF_LIST`` with ``showCustomUi`` for dropdowns,
  ``DATE_IS_VALID`` for dates, ``inputMessage`` for the help text) on the data rows,
  when the first data row's rule differs from the plan's or a row below has lost it;
* ``repeatCell`` number formats, on the runs of rows that lack them;
* ``addConditionalFormatRule`` (``TEXT_EQ``), one per word that has no rule yet;
* ``addProtectedRange`` with ``warningOnly`` over the computed columns (whole columns, so
  rows added later are covered), found again by its description;
* ``updateCells`` with ``fields: note`` for the computed headers' notes.

Data validation in Google Sheets belongs to each cell, so setting it again replaces it:
there is nothing to duplicate. Conditional rules and protected ranges are lists, which is
why each is looked for before one is added. With nothing missing no request is sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from okrsync.setup import (
    DESCRIBE_FREEZE,
    ColourRule,
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

__all__ = ["DEFAULT_PIXELS", "PROTECTION_DESCRIPTION", "SETUP_FIELDS", "setup_requests"]

#: Google's width of a column nobody has resized.
DEFAULT_PIXELS = 100
#: How okrsync finds its own protected range again.
PROTECTION_DESCRIPTION = "okrsync: computed columns, written by every sync"
#: spreadsheets.get fields of the first setup read.
SETUP_FIELDS = (
    "spreadsheetId,spreadsheetUrl,properties.title,"
    "sheets(properties(sheetId,title,index,gridProperties),conditionalFormats,protectedRanges)"
)
#: The header row and the first data row, in full: texts, notes, rules, formats, widths.
HEADER_FIELDS = (
    "sheets(data(rowData(values(formattedValue,note,dataValidation,"
    "userEnteredFormat.numberFormat)),columnMetadata(pixelSize)))"
)
#: The rows below, thin: a rule's kind and a number format are enough to see a cell that
#: lost them (pasted over), and keep the read to a few dozen bytes a cell.
COLUMN_FIELDS = (
    "sheets(data(rowData(values(dataValidation.condition.type,"
    "userEnteredFormat.numberFormat(type,pattern)))))"
)
DATE_TYPES = frozenset({"DATE", "DATE_TIME"})


def number_format(kind: NumberFormat) -> dict[str, str]:
    """The Sheets NumberFormat okrsync writes for ``kind`` (the same as a sync writes)."""
    from okrsync.backends.gsheets import DATE_FORMAT, INTEGER_FORMAT, PERCENT_FORMAT

    return dict(
        {
            NumberFormat.PERCENT: PERCENT_FORMAT,
            NumberFormat.DATE: DATE_FORMAT,
            NumberFormat.INTEGER: INTEGER_FORMAT,
        }[kind]
    )


def validation_rule(spec: ColumnSetup) -> dict[str, Any]:
    """The DataValidationRule for a column's data cells."""
    rule = spec.validation
    assert rule is not None
    if rule.kind == "date":
        condition: dict[str, Any] = {"type": "DATE_IS_VALID"}
    else:
        condition = {
            "type": "ONE_OF_LIST",
            "values": [{"userEnteredValue": v} for v in rule.values],
        }
    return {
        "condition": condition,
        "inputMessage": rule.help,
        "strict": rule.strict,
        "showCustomUi": rule.kind == "list",
    }


def colour_rule(sheet_id: int, rows: int, col: int, rule: ColourRule) -> dict[str, Any]:
    """A ConditionalFormatRule colouring the data cells of ``col`` that read ``rule.value``."""
    return {
        "ranges": [_column_range(sheet_id, col, 1, rows)],
        "booleanRule": {
            "condition": {"type": "TEXT_EQ", "values": [{"userEnteredValue": rule.value}]},
            "format": {
                "backgroundColorStyle": {"rgbColor": _rgb(rule.colour.fill)},
                "textFormat": {
                    "foregroundColorStyle": {"rgbColor": _rgb(rule.colour.text)},
                    "bold": rule.colour.bold,
                },
            },
        },
    }


def setup_requests(
    plan: SetupPlan,
    placement: Placement,
    sheet: Mapping[str, Any],
    header: Sequence[Mapping[str, Any]],
    widths: Sequence[int],
    cells: Mapping[int, Sequence[Mapping[str, Any]]],
) -> tuple[list[dict[str, Any]], list[str]]:
    """The batch that gives the worksheet what ``plan`` asks and it lacks, and its changes.

    :param sheet: the worksheet as the first read has it (properties, conditional
        formats, protected ranges).
    :param header: row 1's cells (``formattedValue``, ``note``), by 0-based column.
    :param widths: each column's ``pixelSize``, by 0-based column.
    :param cells: 1-based column -> its cells in rows 2..rowCount (``dataValidation``,
        ``userEnteredFormat``), for the existing columns that get a rule or a format: row 2
        in full, the rows below with only the rule's condition type and the format.
    """
    props = sheet["properties"]
    sheet_id = props.get("sheetId", 0)
    grid = props.get("gridProperties", {})
    rows = grid.get("rowCount", 0)
    batch: list[dict[str, Any]] = []
    changes: list[str] = []
    new = {col for col, _ in placement.added}

    # Headers, with room for them.
    width_needed = max([col for col, _ in placement.added], default=0)
    if width_needed > grid.get("columnCount", 0):
        batch.append(
            {
                "appendDimension": {
                    "sheetId": sheet_id,
                    "dimension": "COLUMNS",
                    "length": width_needed - grid.get("columnCount", 0),
                }
            }
        )
    for col, text in placement.added:
        batch.append(_update_cell(sheet_id, 0, col, {"userEnteredValue": {"stringValue": text}}))
        changes.append(describe_header(col, text))

    if grid.get("frozenRowCount", 0) < plan.freeze_rows:
        batch.append(
            {
                "updateSheetProperties": {
                    "properties": {
                        "sheetId": sheet_id,
                        "gridProperties": {"frozenRowCount": plan.freeze_rows},
                    },
                    "fields": "gridProperties.frozenRowCount",
                }
            }
        )
        changes.append(DESCRIBE_FREEZE)

    resized = []
    for spec in plan.columns:
        col = placement.positions[spec.column]
        now = widths[col - 1] if col - 1 < len(widths) else DEFAULT_PIXELS
        if now == DEFAULT_PIXELS and now != spec.pixels:
            resized.append(col)
            batch.append(
                {
                    "updateDimensionProperties": {
                        "range": {
                            "sheetId": sheet_id,
                            "dimension": "COLUMNS",
                            "startIndex": col - 1,
                            "endIndex": col,
                        },
                        "properties": {"pixelSize": spec.pixels},
                        "fields": "pixelSize",
                    }
                }
            )
    if resized:
        changes.append(describe_widths(resized))

    if rows > 1:
        for spec in plan.columns:
            if spec.validation is None:
                continue
            col = placement.positions[spec.column]
            rule = validation_rule(spec)
            if col in new or _rule_missing(cells.get(col, ()), rule, rows):
                batch.append(
                    {
                        "setDataValidation": {
                            "range": _column_range(sheet_id, col, 1, rows),
                            "rule": rule,
                        }
                    }
                )
                changes.append(describe_validation(spec, placement))
        for spec in plan.columns:
            if spec.number_format is None:
                continue
            col = placement.positions[spec.column]
            fmt = number_format(spec.number_format)
            have = cells.get(col, ())
            missing = [
                i + 1
                for i in range(rows - 1)
                if col in new or _needs_format(_at(have, i), fmt, force=spec.computed)
            ]
            for start, end in _runs(missing):
                batch.append(
                    {
                        "repeatCell": {
                            "range": _column_range(sheet_id, col, start, end),
                            "cell": {"userEnteredFormat": {"numberFormat": fmt}},
                            "fields": "userEnteredFormat.numberFormat",
                        }
                    }
                )
            if missing:
                changes.append(describe_format(spec, placement))

        existing = list(sheet.get("conditionalFormats", []))
        index = len(existing)
        for column in dict.fromkeys(r.column for r in plan.colours):
            col = placement.positions[column]
            wanted = [r for r in plan.colours if r.column == column]
            absent = [r for r in wanted if not _has_colour(existing, sheet_id, col, r.value)]
            for rule in absent:
                batch.append(
                    {
                        "addConditionalFormatRule": {
                            "rule": colour_rule(sheet_id, rows, col, rule),
                            "index": index,
                        }
                    }
                )
                index += 1
            if absent:
                changes.append(describe_colours(column, [r.value for r in absent], placement))

    protection, moved = _protection_requests(plan, placement, sheet, sheet_id)
    batch += protection
    if protection:
        changes.append(describe_protection(placement, plan, update=moved))

    noted = []
    for spec in plan.columns:
        if spec.note is None:
            continue
        col = placement.positions[spec.column]
        cell = header[col - 1] if col - 1 < len(header) else {}
        if col in new or cell.get("note") != spec.note:
            noted.append(spec.column)
            batch.append(_update_cell(sheet_id, 0, col, {"note": spec.note}, fields="note"))
    if noted:
        changes.append(describe_notes(noted, placement))
    return batch, changes


def _protection_requests(
    plan: SetupPlan, placement: Placement, sheet: Mapping[str, Any], sheet_id: int
) -> tuple[list[dict[str, Any]], bool]:
    """Requests that leave exactly one warning-only protected range per run of computed
    columns, reusing okrsync's own ranges (found by their description); and whether an
    existing one had to move or go."""
    wanted = placement.blocks(plan.computed)
    ours = [
        pr
        for pr in sheet.get("protectedRanges", [])
        if pr.get("description") == PROTECTION_DESCRIPTION
    ]
    matched: set[tuple[int, int]] = set()
    spare = []  # okrsync's ranges that no longer fit: moved where needed, else removed
    for pr in ours:
        span = _span(pr.get("range") or {})
        if span in wanted and pr.get("warningOnly") and span not in matched:
            matched.add(span)
        else:
            spare.append(pr)
    batch: list[dict[str, Any]] = []
    for first, last in (b for b in wanted if b not in matched):
        new_range = {
            "sheetId": sheet_id,
            "startColumnIndex": first - 1,
            "endColumnIndex": last,
        }
        if spare:
            pr = spare.pop(0)
            batch.append(
                {
                    "updateProtectedRange": {
                        "protectedRange": {
                            "protectedRangeId": pr["protectedRangeId"],
                            "range": new_range,
                            "warningOnly": True,
                        },
                        "fields": "range,warningOnly",
                    }
                }
            )
        else:
            batch.append(
                {
                    "addProtectedRange": {
                        "protectedRange": {
                            "range": new_range,
                            "description": PROTECTION_DESCRIPTION,
                            "warningOnly": True,
                        }
                    }
                }
            )
    moved = any("updateProtectedRange" in r for r in batch) or bool(spare)
    for pr in spare:
        batch.append({"deleteProtectedRange": {"protectedRangeId": pr["protectedRangeId"]}})
    return batch, moved


def _span(gr: Mapping[str, Any]) -> tuple[int, int]:
    """A GridRange's columns as 1-based ``(first, last)``."""
    return gr.get("startColumnIndex", 0) + 1, gr.get("endColumnIndex", 0)


def _has_colour(rules: Sequence[Mapping[str, Any]], sheet_id: int, col: int, value: str) -> bool:
    for rule in rules:
        condition = (rule.get("booleanRule") or {}).get("condition") or {}
        values = [v.get("userEnteredValue", "") for v in condition.get("values", [])]
        if condition.get("type") != "TEXT_EQ" or [v.casefold() for v in values] != [
            value.casefold()
        ]:
            continue
        for gr in rule.get("ranges", []):
            if gr.get("sheetId", 0) == sheet_id and _span(gr) == (col, col):
                return True
    return False


def _rule_missing(cells: Sequence[Mapping[str, Any]], rule: Mapping[str, Any], rows: int) -> bool:
    """Whether the first data row lacks ``rule``, or a row below has another kind of rule."""
    if _pruned(_at(cells, 0).get("dataValidation")) != _pruned(rule):
        return True
    kind = rule["condition"]["type"]
    return any(
        ((_at(cells, i).get("dataValidation") or {}).get("condition") or {}).get("type") != kind
        for i in range(1, rows - 1)
    )


def _needs_format(cell: Mapping[str, Any], fmt: Mapping[str, str], *, force: bool) -> bool:
    have = (cell.get("userEnteredFormat") or {}).get("numberFormat") or {}
    if force:
        return _pruned(have) != _pruned(fmt)
    # An owner's date column keeps any date format the team chose.
    return have.get("type") not in DATE_TYPES


def _at(cells: Sequence[Mapping[str, Any]], i: int) -> Mapping[str, Any]:
    return cells[i] if i < len(cells) else {}


def _runs(indexes: Sequence[int]) -> list[tuple[int, int]]:
    """Sorted row indexes as half-open runs ``[start, end)``."""
    runs: list[list[int]] = []
    for i in indexes:
        if runs and i == runs[-1][1]:
            runs[-1][1] = i + 1
        else:
            runs.append([i, i + 1])
    return [(a, b) for a, b in runs]


def _pruned(value: Any) -> Any:
    """``value`` without the fields Google leaves out of answers (false, 0-length, null)."""
    if isinstance(value, Mapping):
        out = {k: _pruned(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, False, "", [], {})}
    if isinstance(value, list):
        return [_pruned(v) for v in value]
    return value


def _column_range(sheet_id: int, col: int, start: int, end: int) -> dict[str, int]:
    return {
        "sheetId": sheet_id,
        "startRowIndex": start,
        "endRowIndex": end,
        "startColumnIndex": col - 1,
        "endColumnIndex": col,
    }


def _update_cell(
    sheet_id: int, row: int, col: int, cell: Mapping[str, Any], fields: str = "userEnteredValue"
) -> dict[str, Any]:
    return {
        "updateCells": {
            "start": {"sheetId": sheet_id, "rowIndex": row, "columnIndex": col - 1},
            "rows": [{"values": [dict(cell)]}],
            "fields": fields,
        }
    }


def _rgb(hex_colour: str) -> dict[str, float]:
    """``#A8326E`` -> Sheets Color (0..1 floats)."""
    h = hex_colour.lstrip("#")
    red, green, blue = (int(h[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return {"red": round(red, 4), "green": round(green, 4), "blue": round(blue, 4)}
