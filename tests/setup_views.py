"""What a set-up check-in sheet has, read back from each backend in the same terms.

The xlsx view reads the saved workbook with openpyxl (a reader okrsync does not use to
write); the Google Sheets view reads the emulator's stored sheet, which is what its
``spreadsheets.get`` serves. Both answer with plain values keyed by 1-based column, so
one test can state what a set-up sheet has and check it on both backends.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import openpyxl
from sheets_emulator import Emulator, full_cell

TITLE = "Check-ins"


class SheetView(Protocol):
    """A check-in sheet under test, whatever its backend."""

    kind: str
    config: Path

    def values(self) -> list[list[Any]]: ...
    def frozen_rows(self) -> int: ...
    def widths(self) -> dict[int, float]: ...
    def validations(self) -> dict[int, tuple[str, tuple[str, ...], bool, str]]: ...
    def notes(self) -> dict[int, str]: ...
    def formats(self) -> dict[int, str]: ...
    def colours(self) -> dict[int, list[str]]: ...
    def protected(self) -> list[tuple[int, int]]: ...
    def counts(self) -> dict[str, int]: ...
    def fingerprint(self) -> object: ...


def _kind_of_format(code: str | None) -> str | None:
    return {"0%": "percent", "yyyy-mm-dd": "date", "0": "integer"}.get(code or "")


@dataclass
class XlsxView:
    path: Path
    config: Path
    kind: str = "xlsx"

    def _ws(self, data_only: bool = False) -> Any:
        return openpyxl.load_workbook(self.path, data_only=data_only)[TITLE]

    def values(self) -> list[list[Any]]:
        return [list(r) for r in self._ws(data_only=True).iter_rows(values_only=True)]

    def frozen_rows(self) -> int:
        pane = self._ws().freeze_panes
        return int("".join(ch for ch in pane if ch.isdigit())) - 1 if pane else 0

    def _dims(self) -> dict[int, Any]:
        ws = self._ws()
        out = {}
        for dim in ws.column_dimensions.values():
            for col in range(dim.min or 0, min(dim.max or 0, 60) + 1):
                out[col] = dim
        return out

    def widths(self) -> dict[int, float]:
        return {c: d.width for c, d in self._dims().items() if d.customWidth}

    def _dvs(self) -> list[tuple[Any, Any]]:
        return [(dv, r) for dv in self._ws().data_validations.dataValidation for r in dv.sqref]

    def validations(self) -> dict[int, tuple[str, tuple[str, ...], bool, str]]:
        out = {}
        for dv, r in self._dvs():
            if r.min_col == r.max_col and r.min_row == 2 and dv.type:
                values = tuple(dv.formula1.strip('"').split(",")) if dv.type == "list" else ()
                out[r.min_col] = (dv.type, values, dv.errorStyle in (None, "stop"), dv.prompt)
        return out

    def notes(self) -> dict[int, str]:
        return {
            r.min_col: dv.prompt
            for dv, r in self._dvs()
            if r.min_row == r.max_row == 1 and r.min_col == r.max_col
        }

    def formats(self) -> dict[int, str]:
        # Empty data cells take their column's style: what an owner gets typing into one.
        out = {}
        for col, dim in self._dims().items():
            kind = _kind_of_format(dim.number_format)
            if kind:
                out[col] = kind
        return out

    def colours(self) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        for cf in self._ws().conditional_formatting:
            for r in cf.sqref:
                if r.min_col == r.max_col:
                    out.setdefault(r.min_col, []).extend(
                        rule.formula[0].strip('"') for rule in cf.rules
                    )
        return {c: sorted(v) for c, v in out.items()}

    def protected(self) -> list[tuple[int, int]]:
        """Runs of locked columns among the header's, when the sheet is protected."""
        ws = self._ws()
        if not ws.protection.sheet:
            return []
        dims = self._dims()
        width = ws.max_column
        locked = [c for c in range(1, width + 1) if c in dims and dims[c].protection.locked]
        runs: list[tuple[int, int]] = []
        for c in locked:
            if runs and runs[-1][1] == c - 1:
                runs[-1] = (runs[-1][0], c)
            else:
                runs.append((c, c))
        return runs

    def counts(self) -> dict[str, int]:
        ws = self._ws()
        return {
            "validations": len(ws.data_validations.dataValidation),
            "colour_rules": sum(len(cf.rules) for cf in ws.conditional_formatting),
            "protections": int(bool(ws.protection.sheet)),
        }

    def fingerprint(self) -> object:
        with zipfile.ZipFile(self.path) as zf:
            return {i.filename: zf.read(i) for i in zf.infolist()}


@dataclass
class GSheetView:
    emu: Emulator
    key: str
    config: Path
    kind: str = "gsheets"

    @property
    def sheet(self) -> Any:
        return self.emu.sheet(self.key, TITLE)

    def values(self) -> list[list[Any]]:
        return self.emu.values(self.key, TITLE)

    def frozen_rows(self) -> int:
        return int(self.sheet.grid.get("frozenRowCount", 0))

    def widths(self) -> dict[int, float]:
        return {c + 1: m["pixelSize"] for c, m in self.sheet.col_meta.items() if "pixelSize" in m}

    def _column(self, col: int) -> list[dict[str, Any]]:
        sheet = self.sheet
        return [full_cell(sheet.get(r, col - 1)) for r in range(1, sheet.row_count)]

    def validations(self) -> dict[int, tuple[str, tuple[str, ...], bool, str]]:
        out = {}
        for col in range(1, self.sheet.col_count + 1):
            rules = [c.get("dataValidation") for c in self._column(col)]
            if rules and rules[0] and all(r == rules[0] for r in rules):
                rule = rules[0]
                kind = {"ONE_OF_LIST": "list", "DATE_IS_VALID": "date"}[rule["condition"]["type"]]
                values = tuple(v["userEnteredValue"] for v in rule["condition"].get("values", []))
                out[col] = (kind, values, bool(rule.get("strict")), rule.get("inputMessage", ""))
        return out

    def notes(self) -> dict[int, str]:
        sheet = self.sheet
        cells = [full_cell(sheet.get(0, c)) for c in range(sheet.col_count)]
        return {c + 1: cell["note"] for c, cell in enumerate(cells) if "note" in cell}

    def formats(self) -> dict[int, str]:
        out = {}
        for col in range(1, self.sheet.col_count + 1):
            fmts = [
                (c.get("userEnteredFormat") or {}).get("numberFormat") for c in self._column(col)
            ]
            empty = fmts[-1]  # the last grid row: an empty cell an owner may type into
            if empty and all(f and f.get("type") == empty["type"] for f in fmts):
                kind = _kind_of_format(empty.get("pattern"))
                if kind:
                    out[col] = kind
        return out

    def colours(self) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        for rule in self.sheet.conditional_formats:
            for gr in rule["ranges"]:
                if gr["endColumnIndex"] - gr["startColumnIndex"] == 1:
                    value = rule["booleanRule"]["condition"]["values"][0]["userEnteredValue"]
                    out.setdefault(gr["startColumnIndex"] + 1, []).append(value)
        return {c: sorted(v) for c, v in out.items()}

    def protected(self) -> list[tuple[int, int]]:
        return sorted(
            (pr["range"]["startColumnIndex"] + 1, pr["range"]["endColumnIndex"])
            for pr in self.sheet.protected_ranges
            if pr.get("warningOnly")
        )

    def counts(self) -> dict[str, int]:
        sheet = self.sheet
        validated = sum(
            1 for row in sheet.cells for cell in row if cell and "dataValidation" in cell
        )
        return {
            "validations": validated,
            "colour_rules": len(sheet.conditional_formats),
            "protections": len(sheet.protected_ranges),
        }

    def fingerprint(self) -> object:
        return self.emu.spreadsheet(self.key).clone()
