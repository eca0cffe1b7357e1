#!/usr/bin/env python3
"""A local Google Sheets API v4 emulator, strict enough to catch what the real API rejects.

Start it by hand to try okrsync's ``gsheets`` backend without a Google account::

    python scripts/sheets_emulator.py --port 8085 --load okrs.xlsx

and point the config at it (``[sheet] api_endpoint = "http://127.0.0.1:8085"`` and the
spreadsheet id it prints). The test suite starts it in-process on a random port through
:class:`Emulator`.

What is faithful (each looked up in the Sheets API reference, gspread's code and public
reports of the real API's answers):

* every query parameter and request body is checked against Google's discovery document
  (``sheets.v4.json`` shipped with google-api-python-client): unknown fields, wrong types
  and unknown enum values get the 400 ``INVALID_ARGUMENT`` JSON Google sends, worded the way
  Google words it (``Invalid JSON payload received. Unknown name "x" at 'requests[0]':
  Cannot find field.``, ``Invalid value at 'value_input_option' (...), "X"``);
* values responses omit trailing empty rows and cells and have no ``values`` key for an
  empty range; ``range`` in a response is the requested range clamped to the grid, with
  the sheet title quoted when it needs quoting (``'Check-ins'!A1:Z1000``);
* ``FORMATTED_VALUE`` / ``UNFORMATTED_VALUE`` / ``FORMULA`` rendering, ``SERIAL_NUMBER`` /
  ``FORMATTED_STRING`` dates, number formats (number, percent, currency, date, time);
* ``USER_ENTERED`` input is parsed as if typed (``=`` starts a formula, ``75%``, ``$1,200``,
  ``2026-11-20``, ``TRUE``, a leading ``'`` forces text); ``RAW`` input is stored as is;
* writes past the grid are refused with Google's ``Range (...) exceeds grid limits. Max
  rows: N, max columns: M`` message; ``spreadsheets.batchUpdate`` and
  ``values.batchUpdate`` apply all of their requests or none;
* A1 ranges with quoted sheet names (``'Bob''s sheet'!A1:Z``), whole columns/rows, open
  ended ranges; ``fields`` partial responses; ``ranges``/``includeGridData`` in
  ``spreadsheets.get``; sheets shared with given service accounts only (403 otherwise);
  unknown spreadsheets 404.

What is NOT real, on purpose:

* formulas are stored, but only ``HYPERLINK(...)``, literal text and arithmetic on number
  literals are evaluated; any other formula (cell references, functions) evaluates to
  ``#N/A`` -- a formula's cached value is kept when it comes from a loaded .xlsx;
* the ``/token`` endpoint issues a token for any signed JWT without checking the signature;
* formats are kept as given (``userEnteredFormat``); ``effectiveFormat`` is only the number
  format; conditional formats, validation rules and protected ranges are stored and served
  back but never enforced (their conditions are checked as Google checks them: the
  condition types each may use and their number of values, read from the discovery
  document, and the formats a conditional rule may set); ``autoResizeDimensions`` is
  accepted and does nothing;
* request kinds okrsync does not send (charts, pivots, filters...) answer 501.

The Python API for tests: :class:`Emulator` (start/stop or ``with``), its request log
(:class:`LoggedRequest`), fault injection (:meth:`Emulator.fail_next`,
:meth:`Emulator.before_next_request`, :meth:`Emulator.insert_rows_before_next_request`)
and direct access to the stored cells (:meth:`Emulator.values`, :meth:`Emulator.cell`).
"""

from __future__ import annotations

import argparse
import base64
import calendar
import contextlib
import copy
import datetime as dt
import functools
import html
import json
import math
import re
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = ["ApiError", "Emulator", "LoggedRequest", "Sheet", "Spreadsheet", "main"]

SHEETS_PREFIX = "type.googleapis.com/google.apps.sheets.v4."
DEFAULT_ROWS = 1000
DEFAULT_COLS = 26
CELL_LIMIT = 10_000_000
EPOCH = dt.datetime(1899, 12, 30)

STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    408: "DEADLINE_EXCEEDED",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
# What Google says for each fault a test can inject.
FAULT_MESSAGES = {
    403: "The caller does not have permission",
    404: "Requested entity was not found.",
    429: (
        "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute "
        "per user' of service 'sheets.googleapis.com' for consumer 'project_number:000000'."
    ),
    500: "Internal error encountered.",
    502: "Bad Gateway",
    503: "The service is currently unavailable.",
    504: "The service is currently unavailable.",
}
ERROR_TEXT = {
    "ERROR": "#ERROR!",
    "NULL_VALUE": "#NULL!",
    "DIVIDE_BY_ZERO": "#DIV/0!",
    "VALUE": "#VALUE!",
    "REF": "#REF!",
    "NAME": "#NAME?",
    "NUM": "#NUM!",
    "N_A": "#N/A",
    "LOADING": "Loading...",
}


# --- errors -------------------------------------------------------------------------------


class ApiError(Exception):
    """An error answered in Google's JSON shape: ``{"error": {code, message, status}}``."""

    def __init__(
        self,
        code: int,
        message: str,
        status: str | None = None,
        *,
        details: list[dict[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
        payload: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or STATUS_NAMES.get(code, "UNKNOWN")
        self.details = details
        self.headers = dict(headers or {})
        self.payload = payload  # a body of another shape (the OAuth endpoint's)

    def body(self) -> dict[str, Any]:
        if self.payload is not None:
            return self.payload
        error: dict[str, Any] = {"code": self.code, "message": self.message, "status": self.status}
        if self.details:
            error["details"] = self.details
        return {"error": error}


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


# --- the discovery document -----------------------------------------------------------------


def discovery_path() -> Path:
    """Where google-api-python-client keeps the Sheets v4 discovery document."""
    import googleapiclient

    return (
        Path(googleapiclient.__file__).parent / "discovery_cache" / "documents" / "sheets.v4.json"
    )


def snake(name: str) -> str:
    """``valueInputOption`` -> ``value_input_option`` (how Google names fields in errors)."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


_SNAKES: dict[str, str] = {}


def _snake(name: str) -> str:
    """:func:`snake`, remembered: bodies of 10k rows name the same fields again and again."""
    found = _SNAKES.get(name)
    if found is None:
        found = _SNAKES[name] = snake(name)
    return found


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def _path_text(path: Sequence[str]) -> str:
    return ".".join(path)


_TYPE_NAMES = {
    ("string", None): "TYPE_STRING",
    ("integer", "int32"): "TYPE_INT32",
    ("integer", "int64"): "TYPE_INT64",
    ("integer", "uint32"): "TYPE_UINT32",
    ("number", "double"): "TYPE_DOUBLE",
    ("number", "float"): "TYPE_FLOAT",
    ("boolean", None): "TYPE_BOOL",
}


class Discovery:
    """Checks requests against the discovery document, the way Google's front end does.

    Bodies are parsed with proto3 JSON rules: camelCase or snake_case names, ``null`` means
    "not set", numbers may come as strings, enums by name. Every problem is reported, each on
    its own line, as Google does.
    """

    def __init__(self, doc: Mapping[str, Any]) -> None:
        self.doc = doc
        self.schemas: Mapping[str, Any] = doc["schemas"]
        self.global_params: Mapping[str, Any] = doc["parameters"]
        self.methods: dict[str, Mapping[str, Any]] = {}
        self._collect(doc["resources"])
        self._aliases: dict[str, dict[str, str]] = {}
        for sid, schema in self.schemas.items():
            props = schema.get("properties", {})
            aliases = {snake(p): p for p in props}
            aliases.update({p: p for p in props})
            self._aliases[sid] = aliases

    @classmethod
    def load(cls, path: Path | None = None) -> Discovery:
        return cls(json.loads((path or discovery_path()).read_text(encoding="utf-8")))

    def _collect(self, resources: Mapping[str, Any]) -> None:
        for res in resources.values():
            for method in res.get("methods", {}).values():
                self.methods[method["id"]] = method
            self._collect(res.get("resources", {}))

    # query parameters

    def query(self, method_id: str, query: Mapping[str, list[str]]) -> dict[str, Any]:
        """Typed query parameters of ``method_id``; unknown names and bad values are 400."""
        method = self.methods[method_id]
        params = {**self.global_params}
        params.update(
            {k: v for k, v in method.get("parameters", {}).items() if v["location"] == "query"}
        )
        out: dict[str, Any] = {}
        problems: list[str] = []
        for name, values in query.items():
            canon = name if name in params else camel(name) if camel(name) in params else None
            if canon is None:
                problems.append(
                    f'Invalid JSON payload received. Unknown name "{name}": Cannot bind query '
                    f"parameter. Field '{name}' could not be found in request message."
                )
                continue
            spec = params[canon]
            typed = [self._query_value(canon, spec, v, problems) for v in values]
            out[canon] = typed if spec.get("repeated") else typed[0]
        if problems:
            raise bad_request("\n".join(problems))
        return out

    def _query_value(
        self, name: str, spec: Mapping[str, Any], value: str, problems: list[str]
    ) -> Any:
        kind = spec.get("type")
        where = snake(name) if not name.startswith("$") else name
        if name == "$.xgafv" and value not in ("1", "2"):
            problems.append(
                "Invalid query parameters. Invalid value "
                f"'{value}' for system query parameter : $.xgafv"
            )
            return value
        if "enum" in spec and value not in spec["enum"]:
            problems.append(
                f"Invalid value at '{where}' ({SHEETS_PREFIX}{name[:1].upper()}{name[1:]}), "
                f'"{value}"'
            )
            return value
        if kind == "boolean":
            if value.lower() not in ("true", "false"):
                problems.append(f"Invalid value at '{where}' (TYPE_BOOL), \"{value}\"")
                return False
            return value.lower() == "true"
        if kind == "integer":
            if not re.fullmatch(r"-?\d+", value):
                problems.append(f"Invalid value at '{where}' (TYPE_INT32), \"{value}\"")
                return 0
            return int(value)
        return value

    # bodies

    def body(self, ref: str, value: Any) -> Any:
        """``value`` checked against schema ``ref`` and normalised to camelCase names."""
        problems: list[str] = []
        if not isinstance(value, dict):
            raise bad_request(
                'Invalid JSON payload received. Unknown name "": Root element must be a message.'
            )
        out = self._value({"$ref": ref}, value, [], problems, name="")
        if problems:
            raise bad_request("\n".join(problems))
        return out

    def _invalid(self, path: Sequence[str], type_name: str, value: Any) -> str:
        return f"Invalid value at '{_path_text(path)}' ({type_name}), {json.dumps(value)}"

    def _value(
        self, spec: Mapping[str, Any], value: Any, path: list[str], problems: list[str], name: str
    ) -> Any:
        if value is None:  # proto3 JSON: null is "not set"
            return None
        if "$ref" in spec:
            return self._message(spec["$ref"], value, path, problems)
        kind = spec.get("type")
        if kind == "array":
            if not isinstance(value, list):
                problems.append(self._invalid(path, _scalar_type(spec.get("items", {})), value))
                return None
            items = spec.get("items", {})
            if items.get("type") == "any":
                return value  # cells of a ValueRange: checked where they are written
            out = []
            for i, item in enumerate(value):
                ipath = [*path[:-1], f"{path[-1]}[{i}]"] if path else [f"[{i}]"]
                checked = self._value(items, item, ipath, problems, name)
                out.append(checked)
            return out
        if isinstance(value, list):
            problems.append(
                "Invalid JSON payload received. Proto field is not repeating, cannot start list."
            )
            return None
        if kind == "object":
            if not isinstance(value, dict):
                problems.append(self._invalid(path, "TYPE_MESSAGE", value))
                return None
            extra = spec.get("additionalProperties")
            if extra is None:
                return value
            return {k: self._value(extra, v, [*path, k], problems, k) for k, v in value.items()}
        if kind == "any":
            return value
        if kind == "string":
            if not isinstance(value, str):
                problems.append(self._invalid(path, "TYPE_STRING", value))
                return None
            if "enum" in spec and value not in spec["enum"]:
                enum_name = name[:1].upper() + name[1:]
                problems.append(self._invalid(path, f"{SHEETS_PREFIX}{enum_name}", value))
                return None
            return value
        if kind == "boolean":
            if not isinstance(value, bool):
                problems.append(self._invalid(path, "TYPE_BOOL", value))
                return None
            return value
        if kind == "integer":
            number = _as_integer(value)
            if number is None or not (-(2**31) <= number < 2**31 or spec.get("format") != "int32"):
                problems.append(self._invalid(path, _scalar_type(spec), value))
                return None
            return number
        if kind == "number":
            real = _as_number(value)
            if real is None:
                problems.append(self._invalid(path, _scalar_type(spec), value))
                return None
            return real
        return value

    def _message(self, sid: str, value: Any, path: list[str], problems: list[str]) -> Any:
        if not isinstance(value, dict):
            problems.append(self._invalid(path, SHEETS_PREFIX + sid, value))
            return None
        props = self.schemas[sid].get("properties", {})
        aliases = self._aliases[sid]
        out: dict[str, Any] = {}
        for key, item in value.items():
            canon = aliases.get(key)
            if canon is None:
                at = f" at '{_path_text(path)}'" if path else ""
                problems.append(
                    f'Invalid JSON payload received. Unknown name "{key}"{at}: Cannot find field.'
                )
                continue
            checked = self._value(props[canon], item, [*path, _snake(canon)], problems, canon)
            if checked is not None:
                out[canon] = checked
        return out

    def schema_has_path(self, sid: str, names: Sequence[str]) -> bool:
        """Whether ``a.b.c`` names a field under schema ``sid`` (for ``fields`` masks)."""
        spec: Mapping[str, Any] = {"$ref": sid}
        for name in names:
            while "$ref" not in spec and spec.get("type") == "array":
                spec = spec.get("items", {})
            if "$ref" not in spec:
                return spec.get("type") == "object" and "additionalProperties" in spec
            props = self.schemas[spec["$ref"]].get("properties", {})
            if name == "*":
                return True
            canon = self._aliases[spec["$ref"]].get(name)
            if canon is None:
                return False
            spec = props[canon]
        return True


def _scalar_type(spec: Mapping[str, Any]) -> str:
    if "$ref" in spec:
        return SHEETS_PREFIX + spec["$ref"]
    return _TYPE_NAMES.get((spec.get("type", ""), spec.get("format")), "TYPE_STRING")


def _as_integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    return None


def _as_number(value: Any) -> float | int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        if value in ("NaN", "Infinity", "-Infinity"):
            return float(value)
        with contextlib.suppress(ValueError):
            return float(value)
    return None


# --- field masks ----------------------------------------------------------------------------

Mask = dict[str, "Mask | None"]


def parse_mask(text: str) -> Mask:
    """Parse a ``fields`` mask: ``a,b.c,d(e,f/g)`` -> ``{a: None, b: {c: None}, d: {...}}``."""
    pos = 0

    def items() -> Mask:
        nonlocal pos
        out: Mask = {}
        while True:
            m = re.compile(r"\s*([A-Za-z0-9_*$]+(?:[./][A-Za-z0-9_*$]+)*)\s*").match(text, pos)
            if not m:
                raise ValueError(text)
            pos = m.end()
            names = re.split(r"[./]", m.group(1))
            sub: Mask | None = None
            if pos < len(text) and text[pos] == "(":
                pos += 1
                sub = items()
                if pos >= len(text) or text[pos] != ")":
                    raise ValueError(text)
                pos += 1
            _mask_add(out, names, sub)
            if pos < len(text) and text[pos] == ",":
                pos += 1
                continue
            return out

    result = items()
    if pos != len(text):
        raise ValueError(text)
    return result


def _mask_add(mask: Mask, names: Sequence[str], sub: Mask | None) -> None:
    head, rest = names[0], names[1:]
    if not rest:
        if head in mask and mask[head] is None:
            return
        if sub is None:
            mask[head] = None
        else:
            existing = mask.get(head) or {}
            for k, v in sub.items():
                _mask_add(existing, [k], v)
            mask[head] = existing
        return
    child = mask.get(head, {})
    if child is None:
        return
    _mask_add(child, rest, sub)
    mask[head] = child


def mask_paths(mask: Mask, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for name, sub in mask.items():
        if sub is None:
            yield (*prefix, name)
        else:
            yield from mask_paths(sub, (*prefix, name))


def apply_mask(value: Any, mask: Mask | None) -> Any:
    """The partial response: only what ``mask`` selects (lists are selected element-wise)."""
    if mask is None or "*" in mask:
        return value
    if isinstance(value, list):
        return [apply_mask(v, mask) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for name, sub in mask.items():
        if name in value:
            picked = apply_mask(value[name], sub)
            if picked not in ({}, []) or sub is None:
                out[name] = picked
    return out


def merge_masked(
    dst: Mapping[str, Any] | None, src: Mapping[str, Any], mask: Mask
) -> dict[str, Any]:
    """``dst`` with the fields ``mask`` names taken from ``src`` (absent in src = cleared)."""
    # No deep copies: stored cells are never mutated in place, so sharing is safe.
    if "*" in mask:
        return dict(src)
    out = dict(dst or {})
    for name, sub in mask.items():
        if sub is None:
            if name in src:
                out[name] = src[name]
            else:
                out.pop(name, None)
        else:
            inner = merge_masked(out.get(name), src.get(name) or {}, sub)
            if inner:
                out[name] = inner
            else:
                out.pop(name, None)
    return out


# --- A1 notation ----------------------------------------------------------------------------


def col_letters(index: int) -> str:
    """0-based column index -> letters (0 -> A, 26 -> AA)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def col_index(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n - 1


def quote_title(title: str) -> str:
    """A sheet title as Google writes it in a range: quoted unless it is a plain word."""
    plain = re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", title) and not re.fullmatch(
        r"[A-Za-z]{1,3}\d+|R\d+C\d+", title, re.IGNORECASE
    )
    return title if plain else "'" + title.replace("'", "''") + "'"


@dataclass(frozen=True)
class Bounds:
    """A block of cells, 0-based and half open; ``None`` is unbounded on that side."""

    r0: int | None
    r1: int | None
    c0: int | None
    c1: int | None

    def clamp(self, rows: int, cols: int) -> Bounds:
        return Bounds(
            self.r0 or 0,
            min(rows, self.r1) if self.r1 is not None else rows,
            self.c0 or 0,
            min(cols, self.c1) if self.c1 is not None else cols,
        )

    def a1(self) -> str:
        if None not in (self.r0, self.r1, self.c0, self.c1):
            r0, r1, c0, c1 = self.box()
            start = f"{col_letters(c0)}{r0 + 1}"
            if r1 - r0 == 1 and c1 - c0 == 1:
                return start
            return f"{start}:{col_letters(c1 - 1)}{r1}"
        start = (col_letters(self.c0) if self.c0 is not None else "") + (
            str(self.r0 + 1) if self.r0 is not None else ""
        )
        end = (col_letters(self.c1 - 1) if self.c1 is not None else "") + (
            str(self.r1) if self.r1 is not None else ""
        )
        return f"{start}:{end}"

    def box(self) -> tuple[int, int, int, int]:
        """``(r0, r1, c0, c1)`` of a clamped (fully bounded) block."""
        if self.r0 is None or self.r1 is None or self.c0 is None or self.c1 is None:
            raise ValueError(f"unbounded block {self}")
        return self.r0, self.r1, self.c0, self.c1

    @classmethod
    def from_grid_range(cls, gr: Mapping[str, Any]) -> Bounds:
        return cls(
            gr.get("startRowIndex", 0),
            gr.get("endRowIndex"),
            gr.get("startColumnIndex", 0),
            gr.get("endColumnIndex"),
        )


_CELL_RE = re.compile(r"^\$?([A-Za-z]{1,3})?\$?(\d+)?$")


def parse_cells(text: str) -> Bounds | None:
    """The cell part of an A1 range (``A1``, ``A1:B2``, ``A:C``, ``2:5``, ``A2:Z``)."""
    parts = text.split(":")
    if len(parts) > 2 or not all(parts):
        return None
    ends = []
    for part in parts:
        m = _CELL_RE.match(part.strip())
        if not m or not (m.group(1) or m.group(2)):
            return None
        col = col_index(m.group(1)) if m.group(1) else None
        row = int(m.group(2)) - 1 if m.group(2) else None
        if row is not None and row < 0:
            return None
        ends.append((col, row))
    if len(ends) == 1:
        col, row = ends[0]
        if col is None or row is None:
            return None
        return Bounds(row, row + 1, col, col + 1)
    (c0, r0), (c1, r1) = ends
    accepted = (
        (c0 is not None and c1 is not None)  # A1:B2, A:B, A2:B, A:B5
        or (c0 is None and c1 is None and r0 is not None and r1 is not None)  # 2:5
        or (c0 is not None and r0 is not None and c1 is None and r1 is not None)  # A2:5
    )
    if not accepted:
        return None
    if c0 is not None and c1 is not None and c0 > c1:
        c0, c1 = c1, c0
    if r0 is not None and r1 is not None and r0 > r1:
        r0, r1 = r1, r0
    return Bounds(
        r0,
        r1 + 1 if r1 is not None else None,
        c0,
        c1 + 1 if c1 is not None else None,
    )


# --- dates and numbers ----------------------------------------------------------------------


def serial_of(value: dt.date | dt.datetime) -> float | int:
    """A date as a Google serial number (days since 1899-12-30, time as a fraction)."""
    if isinstance(value, dt.datetime):
        delta = value.replace(tzinfo=None) - EPOCH
        days = delta.days + delta.seconds / 86400 + delta.microseconds / 86_400_000_000
        return int(days) if float(days).is_integer() else days
    return (value - EPOCH.date()).days


def date_of(serial: float) -> dt.datetime:
    return EPOCH + dt.timedelta(days=serial)


def _number_text(value: float | int) -> str:
    """A number with no format, as Sheets shows it ("3", "0.75", "1234.5")."""
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return "#NUM!"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    text = f"{value:.10g}"
    if "e" in text:
        mantissa, exp = text.split("e")
        return f"{mantissa}E{int(exp):+03d}"
    return text


def _decimals(pattern: str) -> int:
    m = re.search(r"\.([0#?]+)", pattern)
    return len(m.group(1)) if m else 0


def _grouped(value: float, decimals: int, group: bool) -> str:
    text = f"{abs(value):,.{decimals}f}" if group else f"{abs(value):.{decimals}f}"
    return ("-" if value < 0 and float(text.replace(",", "")) != 0 else "") + text


_DATE_TOKENS = re.compile(
    r"yyyy|yy|mmmm|mmm|mm|m|dddd|ddd|dd|d|hh|h|ss|s|am/pm|a/p|\"[^\"]*\"|\\.|.", re.IGNORECASE
)


def format_date(serial: float, pattern: str) -> str:
    """A serial number through a Sheets date/time pattern (``yyyy-mm-dd``, ``M/d/yyyy``)."""
    when = date_of(serial)
    tokens = _DATE_TOKENS.findall(pattern)
    lowered = [t.lower() for t in tokens]
    out = []
    twelve = any(t in ("am/pm", "a/p") for t in lowered)
    for i, (tok, low) in enumerate(zip(tokens, lowered, strict=True)):
        if low in ("m", "mm"):
            before = [x for x in lowered[:i] if x.isalpha() or x in ("am/pm",)]
            after = [x for x in lowered[i + 1 :] if x.isalpha()]
            minute = (before and before[-1] in ("h", "hh")) or (after and after[0] in ("s", "ss"))
            if minute:
                out.append(f"{when.minute:02d}" if low == "mm" else str(when.minute))
            else:
                out.append(f"{when.month:02d}" if low == "mm" else str(when.month))
        elif low == "yyyy":
            out.append(f"{when.year:04d}")
        elif low == "yy":
            out.append(f"{when.year % 100:02d}")
        elif low == "mmmm":
            out.append(calendar.month_name[when.month])
        elif low == "mmm":
            out.append(calendar.month_abbr[when.month])
        elif low == "dddd":
            out.append(calendar.day_name[when.weekday()])
        elif low == "ddd":
            out.append(calendar.day_abbr[when.weekday()])
        elif low == "dd":
            out.append(f"{when.day:02d}")
        elif low == "d":
            out.append(str(when.day))
        elif low in ("hh", "h"):
            hour = when.hour % 12 or 12 if twelve else when.hour
            out.append(f"{hour:02d}" if low == "hh" else str(hour))
        elif low == "ss":
            out.append(f"{when.second:02d}")
        elif low == "s":
            out.append(str(when.second))
        elif low == "am/pm":
            out.append("AM" if when.hour < 12 else "PM")
        elif low == "a/p":
            out.append("A" if when.hour < 12 else "P")
        elif tok.startswith('"'):
            out.append(tok[1:-1])
        elif tok.startswith("\\"):
            out.append(tok[1:])
        else:
            out.append(tok)
    return "".join(out)


DEFAULT_PATTERNS = {
    "NUMBER": "#,##0.00",
    "PERCENT": "0.00%",
    "CURRENCY": '"$"#,##0.00',
    "DATE": "M/d/yyyy",
    "TIME": "h:mm:ss am/pm",
    "DATE_TIME": "M/d/yyyy H:mm:ss",
    "SCIENTIFIC": "0.00E+00",
}
DATE_TYPES = frozenset({"DATE", "TIME", "DATE_TIME"})


def format_number(value: float | int, number_format: Mapping[str, Any] | None) -> str:
    """A number as a cell with ``number_format`` shows it (the FORMATTED_VALUE)."""
    kind = (number_format or {}).get("type", "NUMBER_FORMAT_TYPE_UNSPECIFIED")
    if kind in ("NUMBER_FORMAT_TYPE_UNSPECIFIED", "TEXT"):
        return _number_text(value)
    pattern = (number_format or {}).get("pattern") or DEFAULT_PATTERNS.get(kind, "")
    if kind in DATE_TYPES:
        return format_date(float(value), pattern)
    if kind == "PERCENT":
        return _grouped(value * 100, _decimals(pattern), "," in pattern) + "%"
    if kind == "SCIENTIFIC":
        return f"{value:.{_decimals(pattern)}E}".replace("E+0", "E+").replace("E-0", "E-")
    text = _grouped(value, _decimals(pattern), "," in pattern)
    if kind == "CURRENCY" or "$" in pattern:
        sign = "-" if text.startswith("-") else ""
        return f"{sign}${text.lstrip('-')}"
    return text


# --- cells ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CellError:
    """An error value (``#N/A``, ``#DIV/0!``)."""

    type: str
    message: str = ""

    @property
    def text(self) -> str:
        return ERROR_TEXT.get(self.type, "#ERROR!")


_NUMBER_RE = re.compile(
    r"^(?P<sign>[+-])?(?P<cur>\$)?(?P<int>\d{1,3}(?:,\d{3})+|\d+)?(?P<frac>\.\d+)?(?P<pct>%)?$"
)


def user_entered(text: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """What Sheets stores for ``text`` typed by a person: (userEnteredValue, numberFormat)."""
    if text == "":
        return None, None
    if text.startswith("="):
        return {"formulaValue": text}, None
    if text.startswith("'"):
        return {"stringValue": text[1:]}, None
    stripped = text.strip()
    if stripped.upper() in ("TRUE", "FALSE"):
        return {"boolValue": stripped.upper() == "TRUE"}, None
    m = _NUMBER_RE.match(stripped.replace(" ", ""))
    if m and (m.group("int") or m.group("frac")):
        number = float((m.group("int") or "0").replace(",", "") + (m.group("frac") or ""))
        if m.group("sign") == "-":
            number = -number
        decimals = len(m.group("frac") or ".") - 1
        fmt: dict[str, Any] | None = None
        if m.group("pct"):
            number /= 100
            fmt = {
                "type": "PERCENT",
                "pattern": "0%" if not decimals else "0." + "0" * decimals + "%",
            }
        elif m.group("cur"):
            fmt = {
                "type": "CURRENCY",
                "pattern": '"$"#,##0' + ("." + "0" * decimals if decimals else ""),
            }
        elif "," in (m.group("int") or ""):
            fmt = {
                "type": "NUMBER",
                "pattern": "#,##0" + ("." + "0" * decimals if decimals else ""),
            }
        value: float | int = round(number, 15)
        if float(value).is_integer():
            value = int(value)
        return {"numberValue": value}, fmt
    when = _typed_date(stripped)
    if when is not None:
        serial, fmt = when
        return {"numberValue": serial}, fmt
    return {"stringValue": text}, None


def _typed_date(text: str) -> tuple[float | int, dict[str, Any]] | None:
    patterns = (
        ("%Y-%m-%d", {"type": "DATE", "pattern": "yyyy-mm-dd"}),
        ("%Y-%m-%d %H:%M:%S", {"type": "DATE_TIME", "pattern": "yyyy-mm-dd hh:mm:ss"}),
        ("%Y-%m-%d %H:%M", {"type": "DATE_TIME", "pattern": "yyyy-mm-dd hh:mm"}),
        ("%m/%d/%Y", {"type": "DATE", "pattern": "M/d/yyyy"}),
    )
    for fmt, number_format in patterns:
        try:
            when = dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
        return serial_of(when), dict(number_format)
    return None


def python_cell(value: Any, option: str = "USER_ENTERED") -> dict[str, Any] | None:
    """CellData for a Python value (``date`` becomes a formatted serial number)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return {"userEnteredValue": {"boolValue": value}}
    if isinstance(value, dt.datetime):
        return {
            "userEnteredValue": {"numberValue": serial_of(value)},
            "userEnteredFormat": {
                "numberFormat": {"type": "DATE_TIME", "pattern": "yyyy-mm-dd hh:mm:ss"}
            },
        }
    if isinstance(value, dt.date):
        return {
            "userEnteredValue": {"numberValue": serial_of(value)},
            "userEnteredFormat": {"numberFormat": {"type": "DATE", "pattern": "yyyy-mm-dd"}},
        }
    if isinstance(value, int | float):
        return {"userEnteredValue": {"numberValue": value}}
    text = str(value)
    if option == "RAW":
        return {"userEnteredValue": {"stringValue": text}} if text else None
    uev, fmt = user_entered(text)
    if uev is None:
        return None
    cell: dict[str, Any] = {"userEnteredValue": uev}
    if fmt:
        cell["userEnteredFormat"] = {"numberFormat": fmt}
    return cell


def _evaluate(formula: str) -> tuple[Any, str | None]:
    """(value, hyperlink) of the formulas the emulator understands; others are #N/A."""
    body = formula[1:].strip()
    m = re.fullmatch(r'HYPERLINK\(\s*"((?:[^"]|"")*)"\s*(?:,\s*"((?:[^"]|"")*)"\s*)?\)', body, re.I)
    if m:
        url = m.group(1).replace('""', '"')
        label = m.group(2).replace('""', '"') if m.group(2) is not None else url
        return label, url
    m = re.fullmatch(r'"((?:[^"]|"")*)"', body)
    if m:
        return m.group(1).replace('""', '"'), None
    if body.upper() in ("TRUE", "FALSE"):
        return body.upper() == "TRUE", None
    try:
        return _Arithmetic(body).parse(), None
    except ZeroDivisionError:
        return CellError("DIVIDE_BY_ZERO", "Function DIVIDE parameter 2 cannot be zero."), None
    except ValueError:
        return CellError("N_A", "okrsync's Sheets emulator does not evaluate this formula."), None


class _Arithmetic:
    """``1+2*(3-4)/5`` over number literals only: a tiny recursive-descent parser, no eval."""

    def __init__(self, text: str) -> None:
        self.tokens = re.findall(r"\d+(?:\.\d+)?|[-+*/()]|\S", text)
        self.pos = 0

    def parse(self) -> float | int:
        value = self._sum()
        if self.pos != len(self.tokens):
            raise ValueError("trailing input")
        return int(value) if float(value).is_integer() else value

    def _peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _sum(self) -> float:
        value = self._product()
        while self._peek() in ("+", "-"):
            op = self.tokens[self.pos]
            self.pos += 1
            rhs = self._product()
            value = value + rhs if op == "+" else value - rhs
        return value

    def _product(self) -> float:
        value = self._unary()
        while self._peek() in ("*", "/"):
            op = self.tokens[self.pos]
            self.pos += 1
            rhs = self._unary()
            value = value * rhs if op == "*" else value / rhs
        return value

    def _unary(self) -> float:
        tok = self._peek()
        if tok in ("-", "+"):
            self.pos += 1
            inner = self._unary()
            return -inner if tok == "-" else inner
        if tok == "(":
            self.pos += 1
            value = self._sum()
            if self._peek() != ")":
                raise ValueError("unbalanced")
            self.pos += 1
            return value
        if tok is not None and re.fullmatch(r"\d+(?:\.\d+)?", tok):
            self.pos += 1
            return float(tok)
        raise ValueError(f"unsupported token {tok!r}")


def effective(cell: Mapping[str, Any] | None) -> Any:
    """A cell's computed value: ``float``/``int``, ``str``, ``bool``, :class:`CellError` or None."""
    if not cell:
        return None
    if "_cached" in cell:  # a formula's value as last calculated by the program that saved it
        return cell["_cached"]
    uev = cell.get("userEnteredValue")
    if not uev:
        return None
    if "numberValue" in uev:
        return uev["numberValue"]
    if "stringValue" in uev:
        return uev["stringValue"]
    if "boolValue" in uev:
        return uev["boolValue"]
    if "errorValue" in uev:
        err = uev["errorValue"]
        return CellError(err.get("type", "ERROR"), err.get("message", ""))
    if "formulaValue" in uev:
        return _evaluate(uev["formulaValue"])[0]
    return None


def number_format_of(cell: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    return ((cell or {}).get("userEnteredFormat") or {}).get("numberFormat")


def formatted(cell: Mapping[str, Any] | None) -> str:
    """The cell as shown (FORMATTED_VALUE)."""
    value = effective(cell)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, CellError):
        return value.text
    if isinstance(value, int | float):
        return format_number(value, number_format_of(cell))
    return str(value)


def render(cell: Mapping[str, Any] | None, value_option: str, date_option: str) -> Any:
    """One cell of a values response under the given render options ("" when empty)."""
    if value_option == "FORMATTED_VALUE":
        return formatted(cell)
    if value_option == "FORMULA" and cell:
        uev = cell.get("userEnteredValue") or {}
        if "formulaValue" in uev:
            return uev["formulaValue"]
    value = effective(cell)
    if value is None:
        return ""
    if isinstance(value, CellError):
        return value.text
    if isinstance(value, bool | str):
        return value
    fmt = number_format_of(cell)
    if date_option == "FORMATTED_STRING" and fmt and fmt.get("type") in DATE_TYPES:
        return format_number(value, fmt)
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def full_cell(cell: Mapping[str, Any] | None) -> dict[str, Any]:
    """CellData as spreadsheets.get returns it with grid data."""
    if not cell:
        return {}
    out = {k: copy.deepcopy(v) for k, v in cell.items() if not k.startswith("_")}
    value = effective(cell)
    if value is not None:
        if isinstance(value, CellError):
            out["effectiveValue"] = {"errorValue": {"type": value.type, "message": value.message}}
        elif isinstance(value, bool):
            out["effectiveValue"] = {"boolValue": value}
        elif isinstance(value, int | float):
            out["effectiveValue"] = {"numberValue": value}
        else:
            out["effectiveValue"] = {"stringValue": value}
        out["formattedValue"] = formatted(cell)
    fmt = number_format_of(cell)
    if fmt:
        out["effectiveFormat"] = {"numberFormat": copy.deepcopy(dict(fmt))}
    formula = (cell.get("userEnteredValue") or {}).get("formulaValue")
    if formula:
        link = _evaluate(formula)[1]
        if link:
            out["hyperlink"] = link
    return out


def is_blank(cell: Mapping[str, Any] | None) -> bool:
    return effective(cell) in (None, "")


# --- the model ------------------------------------------------------------------------------


@dataclass
class Sheet:
    """One worksheet: its properties and cells (CellData dicts, never mutated in place)."""

    properties: dict[str, Any]
    cells: list[list[dict[str, Any] | None]] = field(default_factory=list)
    row_meta: dict[int, dict[str, Any]] = field(default_factory=dict)
    col_meta: dict[int, dict[str, Any]] = field(default_factory=dict)
    conditional_formats: list[dict[str, Any]] = field(default_factory=list)
    protected_ranges: list[dict[str, Any]] = field(default_factory=list)
    merges: list[dict[str, Any]] = field(default_factory=list)

    @property
    def title(self) -> str:
        return self.properties["title"]

    @property
    def sheet_id(self) -> int:
        return self.properties["sheetId"]

    @property
    def grid(self) -> dict[str, Any]:
        return self.properties.setdefault("gridProperties", {})

    @property
    def row_count(self) -> int:
        return self.grid.get("rowCount", 0)

    @property
    def col_count(self) -> int:
        return self.grid.get("columnCount", 0)

    def clone(self) -> Sheet:
        return Sheet(
            properties=copy.deepcopy(self.properties),
            cells=[list(row) for row in self.cells],
            row_meta=dict(self.row_meta),
            col_meta=dict(self.col_meta),
            conditional_formats=copy.deepcopy(self.conditional_formats),
            protected_ranges=copy.deepcopy(self.protected_ranges),
            merges=copy.deepcopy(self.merges),
        )

    def get(self, r: int, c: int) -> dict[str, Any] | None:
        if r < len(self.cells):
            row = self.cells[r]
            if c < len(row):
                return row[c]
        return None

    def put(self, r: int, c: int, cell: Mapping[str, Any] | None) -> None:
        cell = dict(cell) if cell else None
        if cell is None and self.get(r, c) is None:
            return
        while len(self.cells) <= r:
            self.cells.append([])
        row = self.cells[r]
        while len(row) <= c:
            row.append(None)
        row[c] = cell

    def last_data_row(self) -> int:
        """0-based index of the last row holding a value, -1 when none does."""
        for r in range(len(self.cells) - 1, -1, -1):
            if any(not is_blank(c) for c in self.cells[r]):
                return r
        return -1

    def insert(self, dimension: str, start: int, count: int) -> None:
        if dimension == "ROWS":
            if start < len(self.cells):
                self.cells[start:start] = [[] for _ in range(count)]
            self.grid["rowCount"] = self.row_count + count
            self.row_meta = {(k + count if k >= start else k): v for k, v in self.row_meta.items()}
        else:
            for row in self.cells:
                if start < len(row):
                    row[start:start] = [None] * count
            self.grid["columnCount"] = self.col_count + count
            self.col_meta = {(k + count if k >= start else k): v for k, v in self.col_meta.items()}
        self._shift_ranges(dimension, start, count)

    def delete(self, dimension: str, start: int, end: int) -> None:
        count = end - start
        if dimension == "ROWS":
            del self.cells[start:end]
            self.grid["rowCount"] = self.row_count - count
            self.row_meta = {
                (k - count if k >= end else k): v
                for k, v in self.row_meta.items()
                if not start <= k < end
            }
        else:
            for row in self.cells:
                del row[start:end]
            self.grid["columnCount"] = self.col_count - count
            self.col_meta = {
                (k - count if k >= end else k): v
                for k, v in self.col_meta.items()
                if not start <= k < end
            }
        self._shift_ranges(dimension, end, -count)

    def _shift_ranges(self, dimension: str, at: int, count: int) -> None:
        """Keep stored GridRanges on the same cells when rows or columns move, as Sheets does."""
        lo, hi = (
            ("startRowIndex", "endRowIndex")
            if dimension == "ROWS"
            else (
                "startColumnIndex",
                "endColumnIndex",
            )
        )
        ranges = [r for rule in self.conditional_formats for r in rule.get("ranges", [])]
        ranges += [p["range"] for p in self.protected_ranges if "range" in p]
        ranges += self.merges
        for gr in ranges:
            if gr.get("sheetId", 0) != self.sheet_id:
                continue
            for key in (lo, hi):
                if key in gr and gr[key] >= at:
                    gr[key] = max(at if count < 0 else 0, gr[key] + count)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"properties": copy.deepcopy(self.properties)}
        if self.conditional_formats:
            out["conditionalFormats"] = copy.deepcopy(self.conditional_formats)
        if self.protected_ranges:
            out["protectedRanges"] = copy.deepcopy(self.protected_ranges)
        if self.merges:
            out["merges"] = copy.deepcopy(self.merges)
        return out

    def grid_data(self, b: Bounds) -> dict[str, Any]:
        """GridData for the clamped block ``b`` (trailing empty rows and cells omitted)."""
        r0, r1, c0, c1 = b.box()
        rows: list[dict[str, Any]] = []
        for r in range(r0, min(r1, len(self.cells))):
            values = [full_cell(self.get(r, c)) for c in range(c0, c1)]
            while values and not values[-1]:
                values.pop()
            rows.append({"values": values} if values else {})
        while rows and not rows[-1]:
            rows.pop()
        data: dict[str, Any] = {}
        if r0:
            data["startRow"] = r0
        if c0:
            data["startColumn"] = c0
        if rows:
            data["rowData"] = rows
        data["rowMetadata"] = [{"pixelSize": 21, **self.row_meta.get(r, {})} for r in range(r0, r1)]
        data["columnMetadata"] = [
            {"pixelSize": 100, **self.col_meta.get(c, {})} for c in range(c0, c1)
        ]
        return data


@dataclass
class Spreadsheet:
    """A spreadsheet held in memory."""

    spreadsheet_id: str
    title: str
    sheets: list[Sheet] = field(default_factory=list)
    properties: dict[str, Any] = field(default_factory=dict)
    #: Service-account emails allowed in; ``None`` lets anyone (anonymous too) in.
    shared_with: set[str] | None = None
    next_protected_id: int = 1

    def clone(self) -> Spreadsheet:
        return Spreadsheet(
            spreadsheet_id=self.spreadsheet_id,
            title=self.title,
            sheets=[s.clone() for s in self.sheets],
            properties=copy.deepcopy(self.properties),
            shared_with=None if self.shared_with is None else set(self.shared_with),
            next_protected_id=self.next_protected_id,
        )

    def by_title(self, title: str) -> Sheet | None:
        for sheet in self.sheets:
            if sheet.title == title:
                return sheet
        return None

    def by_id(self, sheet_id: int) -> Sheet | None:
        for sheet in self.sheets:
            if sheet.sheet_id == sheet_id:
                return sheet
        return None

    def reindex(self) -> None:
        for i, sheet in enumerate(self.sheets):
            sheet.properties["index"] = i

    def cell_count(self) -> int:
        return sum(s.row_count * s.col_count for s in self.sheets)

    def add_sheet(self, properties: Mapping[str, Any] | None = None) -> Sheet:
        props = copy.deepcopy(dict(properties or {}))
        if "sheetId" not in props:
            while True:
                candidate = secrets.randbelow(2**31 - 1) if self.sheets else 0
                if self.by_id(candidate) is None:
                    break
            props["sheetId"] = candidate
        if self.by_id(props["sheetId"]) is not None:
            raise bad_request(f"A sheet with id {props['sheetId']} already exists.")
        n = len(self.sheets) + 1
        props.setdefault("title", f"Sheet{n}")
        if any(s.title.casefold() == props["title"].casefold() for s in self.sheets):
            raise bad_request(
                f'A sheet with the name "{props["title"]}" already exists. '
                "Please enter another name."
            )
        props.setdefault("sheetType", "GRID")
        grid = props.setdefault("gridProperties", {})
        grid.setdefault("rowCount", DEFAULT_ROWS)
        grid.setdefault("columnCount", DEFAULT_COLS)
        index = props.pop("index", len(self.sheets))
        sheet = Sheet(properties=props)
        self.sheets.insert(min(index, len(self.sheets)), sheet)
        self.reindex()
        return sheet

    def locate(self, text: str) -> tuple[Sheet, Bounds]:
        """Parse an A1 range (``'Check-ins'!A1:Z``, ``Sheet1``, ``A1:B2``) on this spreadsheet."""
        title: str | None
        cells: str | None
        if text.startswith("'"):
            m = re.match(r"'((?:[^']|'')*)'(?:!(.*))?$", text, re.S)
            if not m:
                raise bad_request(f"Unable to parse range: {text}")
            title, cells = m.group(1).replace("''", "'"), m.group(2)
        elif "!" in text:
            title, _, cells = text.rpartition("!")
        else:
            title, cells = (text, None) if self.by_title(text) else (None, text)
        if title is None:
            visible = [s for s in self.sheets if not s.properties.get("hidden")]
            if not visible:
                raise bad_request(f"Unable to parse range: {text}")
            sheet = visible[0]
        else:
            found = self.by_title(title)
            if found is None:
                raise bad_request(f"Unable to parse range: {text}")
            sheet = found
        if cells is None:
            return sheet, Bounds(None, None, None, None)
        bounds = parse_cells(cells)
        if bounds is None:
            raise bad_request(f"Unable to parse range: {text}")
        return sheet, bounds

    def to_json(self, base_url: str) -> dict[str, Any]:
        return {
            "spreadsheetId": self.spreadsheet_id,
            "properties": {
                "title": self.title,
                "locale": "en_US",
                "autoRecalc": "ON_CHANGE",
                "timeZone": "Etc/GMT",
                **copy.deepcopy(self.properties),
            },
            "sheets": [s.to_json() for s in self.sheets],
            "spreadsheetUrl": f"{base_url}/spreadsheets/d/{self.spreadsheet_id}/edit",
        }


def range_text(sheet: Sheet, bounds: Bounds) -> str:
    return f"{quote_title(sheet.title)}!{bounds.a1()}"


def grid_limits(sheet: Sheet, bounds: Bounds) -> ApiError:
    return bad_request(
        f"Range ({range_text(sheet, bounds)}) exceeds grid limits. Max rows: {sheet.row_count}, "
        f"max columns: {sheet.col_count}"
    )


def check_read(sheet: Sheet, bounds: Bounds) -> Bounds:
    """Clamp a read range to the grid; a range that starts outside it is refused."""
    if (bounds.r0 or 0) >= max(sheet.row_count, 1) and bounds.r0 is not None:
        raise grid_limits(sheet, bounds)
    if (bounds.c0 or 0) >= max(sheet.col_count, 1) and bounds.c0 is not None:
        raise grid_limits(sheet, bounds)
    return bounds.clamp(sheet.row_count, sheet.col_count)


# --- values ---------------------------------------------------------------------------------


def read_values(
    sheet: Sheet, bounds: Bounds, value_option: str, date_option: str, major: str
) -> list[list[Any]]:
    """The cells of a clamped block as a values response has them, trailing blanks omitted."""
    r0, r1, c0, c1 = bounds.box()
    rows: list[list[Any]] = []
    for r in range(r0, min(r1, len(sheet.cells))):
        stored = sheet.cells[r]
        values = [
            render(stored[c], value_option, date_option) for c in range(c0, min(c1, len(stored)))
        ]
        while values and values[-1] == "":
            values.pop()
        rows.append(values)
    while rows and not rows[-1]:
        rows.pop()
    if major != "COLUMNS":
        return rows
    width = max((len(r) for r in rows), default=0)
    columns = []
    for c in range(width):
        column = [row[c] if c < len(row) else "" for row in rows]
        while column and column[-1] == "":
            column.pop()
        columns.append(column)
    return columns


def write_values(
    sheet: Sheet,
    bounds: Bounds,
    values: Sequence[Sequence[Any]],
    major: str,
    option: str,
    requested: str,
) -> dict[str, Any]:
    """Write a values body at ``bounds``; returns the UpdateValuesResponse counts."""
    for i, row in enumerate(values):
        if not isinstance(row, list):
            raise bad_request(f"Invalid values[{i}]: {_proto_text(row)}")
        for j, item in enumerate(row):
            if isinstance(item, dict | list):
                raise bad_request(f"Invalid values[{i}][{j}]: {_proto_text(item)}")
    grid = [list(r) for r in values]
    if major == "COLUMNS":
        width = max((len(r) for r in grid), default=0)
        grid = [[col[i] if i < len(col) else None for col in grid] for i in range(width)]
    r0, c0 = bounds.r0 or 0, bounds.c0 or 0
    if bounds.r1 == r0 + 1 and bounds.c1 == c0 + 1:
        bounds = Bounds(r0, None, c0, None)  # a single cell is where the block starts
    height = len(grid)
    width = max((len(r) for r in grid), default=0)
    if bounds.r1 is not None and height and r0 + height > bounds.r1:
        raise bad_request(
            f"Requested writing within range [{requested}], but tried writing to row "
            f"[{r0 + height}]"
        )
    if bounds.c1 is not None and width and c0 + width > bounds.c1:
        raise bad_request(
            f"Requested writing within range [{requested}], but tried writing to column "
            f"[{col_letters(c0 + width - 1)}]"
        )
    if height and (r0 + height > sheet.row_count or c0 + width > sheet.col_count):
        raise bad_request(
            f"Range ({requested}) exceeds grid limits. Max rows: {sheet.row_count}, "
            f"max columns: {sheet.col_count}"
        )
    cells = 0
    rows_touched = set()
    cols_touched = set()
    for i, row in enumerate(grid):
        for j, item in enumerate(row):
            if item is None:
                continue  # "Null values will be skipped."
            old = sheet.get(r0 + i, c0 + j) or {}
            new = {k: v for k, v in old.items() if k not in ("userEnteredValue", "_cached")}
            if isinstance(item, str) and option == "RAW":
                if item:
                    new["userEnteredValue"] = {"stringValue": item}
            elif isinstance(item, str):
                uev, fmt = user_entered(item)
                if uev is not None:
                    new["userEnteredValue"] = uev
                if fmt and not number_format_of(old):
                    new["userEnteredFormat"] = {
                        **new.get("userEnteredFormat", {}),
                        "numberFormat": fmt,
                    }
            elif isinstance(item, bool):
                new["userEnteredValue"] = {"boolValue": item}
            else:
                new["userEnteredValue"] = {"numberValue": item}
            sheet.put(r0 + i, c0 + j, new or None)
            cells += 1
            rows_touched.add(i)
            cols_touched.add(j)
    if height and width:
        written = Bounds(r0, r0 + height, c0, c0 + width)
    else:
        written = bounds.clamp(sheet.row_count, sheet.col_count)
    return {
        "updatedRange": range_text(sheet, written),
        "updatedRows": len(rows_touched),
        "updatedColumns": len(cols_touched),
        "updatedCells": cells,
    }


def _proto_text(value: Any) -> str:
    """How Google's error quotes a JSON value it could not take as a cell."""
    if isinstance(value, list):
        inner = "".join(f"  values {{\n    {_proto_scalar(v)}\n  }}\n" for v in value)
        return "list_value {\n" + inner + "}\n"
    if isinstance(value, dict):
        return "struct_value {\n}\n"
    return _proto_scalar(value)


def _proto_scalar(value: Any) -> str:
    if isinstance(value, str):
        return f"string_value: {json.dumps(value)}"
    if isinstance(value, bool):
        return f"bool_value: {str(value).lower()}"
    if isinstance(value, int | float):
        return f"number_value: {value}"
    return "struct_value {\n}"


# --- the request log and faults --------------------------------------------------------------


@dataclass
class LoggedRequest:
    """One request the emulator answered.

    :param api: the discovery method id without the ``sheets.`` prefix
        (``spreadsheets.values.batchGet``), or ``None`` for ``/token`` and other non-API paths.
    :param caller: the service-account email the bearer token was issued to, or ``None``.
    """

    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    status: int
    api: str | None
    caller: str | None
    bytes_in: int
    bytes_out: int


@dataclass
class _Fault:
    status: int
    message: str
    retry_after: float | None


# --- the HTTP side --------------------------------------------------------------------------

_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("POST", re.compile(r"^/v4/spreadsheets$"), "spreadsheets.create"),
    ("GET", re.compile(r"^/v4/spreadsheets/([^/:]+)$"), "spreadsheets.get"),
    ("POST", re.compile(r"^/v4/spreadsheets/([^/:]+):batchUpdate$"), "spreadsheets.batchUpdate"),
    (
        "GET",
        re.compile(r"^/v4/spreadsheets/([^/:]+)/values:batchGet$"),
        "spreadsheets.values.batchGet",
    ),
    (
        "POST",
        re.compile(r"^/v4/spreadsheets/([^/:]+)/values:batchUpdate$"),
        "spreadsheets.values.batchUpdate",
    ),
    (
        "POST",
        re.compile(r"^/v4/spreadsheets/([^/:]+)/values:batchClear$"),
        "spreadsheets.values.batchClear",
    ),
    (
        "POST",
        re.compile(r"^/v4/spreadsheets/([^/:]+)/values/(.+):append$"),
        "spreadsheets.values.append",
    ),
    (
        "POST",
        re.compile(r"^/v4/spreadsheets/([^/:]+)/values/(.+):clear$"),
        "spreadsheets.values.clear",
    ),
    ("GET", re.compile(r"^/v4/spreadsheets/([^/:]+)/values/(.+)$"), "spreadsheets.values.get"),
    ("PUT", re.compile(r"^/v4/spreadsheets/([^/:]+)/values/(.+)$"), "spreadsheets.values.update"),
]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as Google's front end does
    # The headers and the body of an answer go out in two writes; with Nagle's algorithm on,
    # the body waits for the client's delayed ACK of the headers (~40 ms on Linux), which
    # made every request of a keep-alive connection take 40 ms instead of 1 to 4.
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:
        self.server.emulator._handle(self, "GET")

    def do_POST(self) -> None:
        self.server.emulator._handle(self, "POST")

    def do_PUT(self) -> None:
        self.server.emulator._handle(self, "PUT")

    def do_DELETE(self) -> None:
        self.server.emulator._handle(self, "DELETE")

    def do_PATCH(self) -> None:
        self.server.emulator._handle(self, "PATCH")

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.emulator.verbose:
            super().log_message(format, *args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    emulator: Emulator


class Emulator:
    """A Sheets API v4 emulator on ``host:port`` (port 0 picks a free one).

    Usage in a test::

        with Emulator() as emu:
            key = emu.add_spreadsheet("OKRs", {"Check-ins": [["ID", "Objective"], ["KR-1", "x"]]})
            ...  # point a client at emu.url
            assert [r.api for r in emu.api_calls()] == ["spreadsheets.get", ...]
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, verbose: bool = False) -> None:
        self.host = host
        self.port = port
        self.verbose = verbose
        self.discovery = Discovery.load()
        self._lock = threading.RLock()
        self._spreadsheets: dict[str, Spreadsheet] = {}
        self._log: list[LoggedRequest] = []
        self._faults: list[_Fault] = []
        self._hooks: list[Callable[[Emulator], None]] = []
        #: token -> the service-account email it was issued to.
        self.tokens: dict[str, str] = {}
        #: When set, ``/token`` refuses every assertion with ``invalid_grant`` and this text.
        self.token_error: str | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # lifecycle

    def bind(self) -> Emulator:
        """Open the listening socket (so that :attr:`url` knows the port) without serving."""
        if self._server is None:
            server = _Server((self.host, self.port), _Handler)
            server.emulator = self
            self._server = server
            self.port = server.server_address[1]
        return self

    def start(self) -> Emulator:
        """Serve from a background thread; returns ``self``."""
        server = self.bind()._server
        assert server is not None
        self._thread = threading.Thread(
            target=server.serve_forever, name="sheets-emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            if self._thread is not None:
                self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Emulator:
        return self.start() if self._thread is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Serve in the foreground until interrupted (the command line)."""
        server = self.bind()._server
        assert server is not None
        try:
            server.serve_forever()
        finally:
            server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        """The base URL to use as ``api_endpoint`` (``http://127.0.0.1:PORT``)."""
        return f"http://{self.host}:{self.port}"

    @property
    def token_uri(self) -> str:
        """The OAuth token endpoint to put in a test service-account JSON."""
        return f"{self.url}/token"

    def reset(self) -> None:
        """Forget every spreadsheet, request, fault, hook and token (between tests)."""
        with self._lock:
            self._spreadsheets.clear()
            self._log.clear()
            self._faults.clear()
            self._hooks.clear()
            self.tokens.clear()
            self.token_error = None

    # spreadsheets

    def add_spreadsheet(
        self,
        title: str = "Untitled spreadsheet",
        sheets: Mapping[str, Sequence[Sequence[Any]]] | None = None,
        *,
        spreadsheet_id: str | None = None,
        rows: int = DEFAULT_ROWS,
        cols: int = DEFAULT_COLS,
        input_option: str = "USER_ENTERED",
        shared_with: Iterable[str] | None = None,
    ) -> str:
        """Create a spreadsheet and return its id.

        :param sheets: ``{title: rows}``; each cell a Python value: text is taken as typed
            into the sheet (``input_option="USER_ENTERED"``: ``=`` makes a formula, ``75%`` a
            percent number) or as is (``"RAW"``); ``date``/``datetime`` become date cells.
        :param rows: grid rows of each sheet (at least the rows given).
        :param cols: grid columns of each sheet (at least the widest row).
        :param shared_with: service-account emails allowed in; default: anyone, anonymous too.
        """
        key = spreadsheet_id or _new_key()
        ss = Spreadsheet(key, title, shared_with=None if shared_with is None else set(shared_with))
        for name, data in (sheets or {"Sheet1": []}).items():
            width = max((len(r) for r in data), default=0)
            sheet = ss.add_sheet(
                {
                    "title": name,
                    "gridProperties": {
                        "rowCount": max(rows, len(data)),
                        "columnCount": max(cols, width),
                    },
                }
            )
            for r, row in enumerate(data):
                for c, value in enumerate(row):
                    sheet.put(r, c, python_cell(value, input_option))
        with self._lock:
            self._spreadsheets[key] = ss
        return key

    def load_xlsx(
        self,
        path: str | Path,
        *,
        spreadsheet_id: str | None = None,
        shared_with: Iterable[str] | None = None,
    ) -> str:
        """Load a workbook (values, formulas with their cached values, number formats)."""
        import openpyxl

        formulas = openpyxl.load_workbook(path)
        cached = openpyxl.load_workbook(path, data_only=True)
        key = spreadsheet_id or _new_key()
        ss = Spreadsheet(
            key, Path(path).stem, shared_with=None if shared_with is None else set(shared_with)
        )
        for ws in formulas.worksheets:
            sheet = ss.add_sheet(
                {
                    "title": ws.title,
                    "gridProperties": {
                        "rowCount": max(DEFAULT_ROWS, ws.max_row),
                        "columnCount": max(DEFAULT_COLS, ws.max_column),
                        **({"frozenRowCount": 1} if ws.freeze_panes == "A2" else {}),
                    },
                }
            )
            values = cached[ws.title]
            for row in ws.iter_rows():
                for xl in row:
                    cell = _xlsx_cell(xl, values.cell(row=xl.row, column=xl.column).value)
                    if cell:
                        sheet.put(xl.row - 1, xl.column - 1, cell)
        with self._lock:
            self._spreadsheets[key] = ss
        return key

    def spreadsheet(self, spreadsheet_id: str) -> Spreadsheet:
        """The stored spreadsheet (for assertions; do not mutate while requests run)."""
        return self._spreadsheets[spreadsheet_id]

    def sheet(self, spreadsheet_id: str, title: str) -> Sheet:
        sheet = self._spreadsheets[spreadsheet_id].by_title(title)
        if sheet is None:
            raise KeyError(title)
        return sheet

    def values(
        self,
        spreadsheet_id: str,
        title: str,
        render_option: str = "UNFORMATTED_VALUE",
        date_option: str = "SERIAL_NUMBER",
    ) -> list[list[Any]]:
        """A sheet's cells as values.get would answer them (trailing blanks omitted)."""
        with self._lock:
            sheet = self.sheet(spreadsheet_id, title)
            bounds = Bounds(None, None, None, None).clamp(sheet.row_count, sheet.col_count)
            return read_values(sheet, bounds, render_option, date_option, "ROWS")

    def cell(self, spreadsheet_id: str, title: str, a1: str) -> dict[str, Any]:
        """One cell as spreadsheets.get returns it with grid data (value, format, formula...)."""
        bounds = parse_cells(a1)
        if bounds is None or bounds.r0 is None or bounds.c0 is None:
            raise ValueError(a1)
        with self._lock:
            return full_cell(self.sheet(spreadsheet_id, title).get(bounds.r0, bounds.c0))

    def insert_rows(
        self,
        spreadsheet_id: str,
        title: str,
        at_row: int,
        count: int = 1,
        values: Sequence[Sequence[Any]] | None = None,
    ) -> None:
        """Insert ``count`` rows so that the first new row is sheet row ``at_row`` (1-based),
        as a person would, optionally typing ``values`` into them."""
        with self._lock:
            sheet = self.sheet(spreadsheet_id, title)
            sheet.insert("ROWS", at_row - 1, count)
            for i, row in enumerate(values or []):
                for j, value in enumerate(row):
                    sheet.put(at_row - 1 + i, j, python_cell(value))

    def delete_rows(self, spreadsheet_id: str, title: str, at_row: int, count: int = 1) -> None:
        """Delete ``count`` rows starting at sheet row ``at_row`` (1-based), as a person would."""
        with self._lock:
            self.sheet(spreadsheet_id, title).delete("ROWS", at_row - 1, at_row - 1 + count)

    def sort_rows(
        self, spreadsheet_id: str, title: str, column: int, *, descending: bool = False
    ) -> None:
        """Sort the rows below the header by 1-based ``column``, as a person would."""
        with self._lock:
            ss = self._spreadsheets[spreadsheet_id]
            sheet = self.sheet(spreadsheet_id, title)
            order = "DESCENDING" if descending else "ASCENDING"
            _sort_range(
                ss,
                {
                    "range": {"sheetId": sheet.sheet_id, "startRowIndex": 1},
                    "sortSpecs": [{"dimensionIndex": column - 1, "sortOrder": order}],
                },
            )

    def set_values(
        self, spreadsheet_id: str, title: str, a1: str, rows: Sequence[Sequence[Any]]
    ) -> None:
        """Type ``rows`` into the sheet from cell ``a1`` on, as a person would."""
        bounds = parse_cells(a1)
        if bounds is None or bounds.r0 is None or bounds.c0 is None:
            raise ValueError(a1)
        with self._lock:
            sheet = self.sheet(spreadsheet_id, title)
            for i, row in enumerate(rows):
                for j, value in enumerate(row):
                    sheet.put(bounds.r0 + i, bounds.c0 + j, python_cell(value))

    # faults and hooks

    def fail_next(
        self,
        status: int,
        *,
        count: int = 1,
        retry_after: float | None = None,
        message: str | None = None,
    ) -> None:
        """Answer the next ``count`` API requests with ``status`` (e.g. 429, 500, 503, 403).

        :param retry_after: seconds sent in a ``Retry-After`` header.
        """
        fault = _Fault(status, message or FAULT_MESSAGES.get(status, "Error"), retry_after)
        with self._lock:
            self._faults.extend([fault] * count)

    def pending_faults(self) -> int:
        return len(self._faults)

    def before_next_request(self, hook: Callable[[Emulator], None]) -> None:
        """Run ``hook(emulator)`` just before the next API request is served."""
        with self._lock:
            self._hooks.append(hook)

    def insert_rows_before_next_request(
        self,
        spreadsheet_id: str,
        title: str,
        at_row: int,
        count: int = 1,
        values: Sequence[Sequence[Any]] | None = None,
    ) -> None:
        """Simulate another user inserting rows between two requests of a client."""
        self.before_next_request(
            lambda emu: emu.insert_rows(spreadsheet_id, title, at_row, count, values)
        )

    # the log

    @property
    def requests(self) -> list[LoggedRequest]:
        """Every request answered so far, oldest first."""
        with self._lock:
            return list(self._log)

    def api_calls(self) -> list[LoggedRequest]:
        """The Sheets API requests only (not ``/token`` nor the HTML view)."""
        return [r for r in self.requests if r.api is not None]

    def clear_log(self) -> None:
        with self._lock:
            self._log.clear()

    # serving

    def _handle(self, h: _Handler, method: str) -> None:
        parts = urlsplit(h.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        api: str | None = None
        caller: str | None = None
        body: Any = None
        status = 200
        headers: dict[str, str] = {}
        content_type = "application/json; charset=UTF-8"
        try:
            if parts.path == "/token" and method == "POST":
                payload = self._token(raw)
            elif re.match(r"^/spreadsheets/d/[^/]+(/edit)?$", parts.path) and method == "GET":
                content_type = "text/html; charset=utf-8"
                payload = self._html(parts.path.split("/")[3])
            else:
                route = self._route(method, parts.path)
                if route is None:
                    raise ApiError(404, "Method not found.", "NOT_FOUND")
                api, args = route
                caller = self._caller(h)
                body = self._json_body(raw) if raw else None
                payload = self._call(api, args, query, body, caller)
        except ApiError as e:
            status = e.code
            headers.update(e.headers)
            payload = e.body()
        if isinstance(payload, str):
            data = payload.encode("utf-8")
        else:
            pretty = not query.get("prettyPrint") or query["prettyPrint"][0].lower() != "false"
            data = (
                json.dumps(payload, indent=2 if pretty else None, ensure_ascii=False) + "\n"
            ).encode("utf-8")
        # Logged before answering, so that a client that has its answer sees it logged.
        with self._lock:
            self._log.append(
                LoggedRequest(
                    method=method,
                    path=parts.path,
                    query=query,
                    body=body if body is not None else (raw.decode("utf-8", "replace") or None),
                    status=status,
                    api=api,
                    caller=caller,
                    bytes_in=len(raw),
                    bytes_out=len(data),
                )
            )
        h.send_response(status)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            h.send_header(name, value)
        h.end_headers()
        h.wfile.write(data)

    def _route(self, method: str, path: str) -> tuple[str, list[str]] | None:
        for verb, pattern, api in _ROUTES:
            m = pattern.match(path)
            if m and verb == method:
                return api, [unquote(g) for g in m.groups()]
        if path.startswith("/v4/spreadsheets"):
            raise ApiError(
                501,
                f"okrsync's Sheets emulator does not implement {method} {path}.",
                "UNIMPLEMENTED",
            )
        return None

    def _caller(self, h: _Handler) -> str | None:
        auth = h.headers.get("Authorization")
        if not auth:
            return None
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or token not in self.tokens:
            raise ApiError(
                401,
                "Request had invalid authentication credentials. Expected OAuth 2 access token, "
                "login cookie or other valid authentication credential. See "
                "https://developers.google.com/identity/sign-in/web/devconsole-project.",
                "UNAUTHENTICATED",
            )
        return self.tokens[token]

    @staticmethod
    def _json_body(raw: bytes) -> Any:
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise bad_request(
                "Invalid JSON payload received. Unexpected token.\n"
                + raw[:40].decode("utf-8", "replace")
            ) from None

    def _call(
        self,
        api: str,
        args: list[str],
        query: Mapping[str, list[str]],
        body: Any,
        caller: str | None,
    ) -> Any:
        with self._lock:
            hooks, self._hooks = self._hooks, []
        for hook in hooks:
            hook(self)
        with self._lock:
            fault = self._faults.pop(0) if self._faults else None
        if fault is not None:
            headers = {}
            if fault.retry_after is not None:
                ra = fault.retry_after
                headers["Retry-After"] = str(int(ra)) if float(ra).is_integer() else str(ra)
            raise ApiError(fault.status, fault.message, headers=headers)
        method = self.discovery.methods["sheets." + api]
        params = self.discovery.query("sheets." + api, query)
        if "request" in method:
            body = self.discovery.body(method["request"]["$ref"], body if body is not None else {})
        elif body not in (None, {}):
            raise bad_request(
                "Invalid JSON payload received. Unknown name: request body must be empty."
            )
        mask: Mask | None = None
        if params.get("fields"):
            try:
                mask = parse_mask(params["fields"])
            except ValueError:
                raise _bad_mask(params["fields"]) from None
            response_ref = method["response"]["$ref"]
            for path in mask_paths(mask):
                if not self.discovery.schema_has_path(response_ref, path):
                    raise _bad_mask(".".join(path))
        with self._lock:
            if api == "spreadsheets.create":
                result = self._create(body)
            else:
                key = args[0]
                ss = self._spreadsheets.get(key)
                if ss is None:
                    raise ApiError(404, "Requested entity was not found.", "NOT_FOUND")
                if ss.shared_with is not None and caller not in ss.shared_with:
                    raise ApiError(403, "The caller does not have permission", "PERMISSION_DENIED")
                result = self._dispatch(api, ss, args[1:], params, body, mask)
        return apply_mask(result, mask)

    def _dispatch(
        self,
        api: str,
        ss: Spreadsheet,
        args: list[str],
        params: Mapping[str, Any],
        body: Any,
        mask: Mask | None,
    ) -> Any:
        if api == "spreadsheets.get":
            return self._get(ss, params, mask)
        if api == "spreadsheets.values.get":
            return self._values_get(ss, args[0], params)
        if api == "spreadsheets.values.batchGet":
            ranges = params.get("ranges") or []
            return {
                "spreadsheetId": ss.spreadsheet_id,
                **(
                    {"valueRanges": [self._values_get(ss, r, params) for r in ranges]}
                    if ranges
                    else {}
                ),
            }
        work = ss.clone()  # writes apply to a copy that replaces the original only on success
        if api == "spreadsheets.values.update":
            result = self._values_update(work, args[0], params, body)
        elif api == "spreadsheets.values.batchUpdate":
            result = self._values_batch_update(work, body)
        elif api == "spreadsheets.values.append":
            result = self._values_append(work, args[0], params, body)
        elif api == "spreadsheets.values.clear":
            result = {
                "spreadsheetId": ss.spreadsheet_id,
                "clearedRange": self._clear(work, args[0]),
            }
        elif api == "spreadsheets.values.batchClear":
            cleared = [self._clear(work, r) for r in body.get("ranges", [])]
            result = {"spreadsheetId": ss.spreadsheet_id, "clearedRanges": cleared}
        elif api == "spreadsheets.batchUpdate":
            result = self._batch_update(work, body)
        else:  # pragma: no cover - every routed method is handled above
            raise ApiError(501, f"{api} is not implemented.", "UNIMPLEMENTED")
        self._spreadsheets[ss.spreadsheet_id] = work
        return result

    # OAuth

    def _token(self, raw: bytes) -> dict[str, Any]:
        form = parse_qs(raw.decode("utf-8", "replace"))
        grant = (form.get("grant_type") or [""])[0]
        assertion = (form.get("assertion") or [""])[0]
        if grant != "urn:ietf:params:oauth:grant-type:jwt-bearer" or assertion.count(".") != 2:
            raise _oauth_error("unsupported_grant_type", "Expected a JWT bearer assertion.")
        if self.token_error:
            raise _oauth_error("invalid_grant", self.token_error)
        payload = assertion.split(".")[1]
        try:
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except ValueError:
            raise _oauth_error("invalid_grant", "Malformed assertion.") from None
        token = "emu-" + secrets.token_urlsafe(16)
        with self._lock:
            self.tokens[token] = str(claims.get("iss", ""))
        return {"access_token": token, "expires_in": 3600, "token_type": "Bearer"}

    # spreadsheets.*

    def _create(self, body: Mapping[str, Any]) -> dict[str, Any]:
        props = body.get("properties", {})
        key = self.add_spreadsheet(props.get("title", "Untitled spreadsheet"), {})
        ss = self._spreadsheets[key]
        ss.sheets.clear()
        for sheet in body.get("sheets") or [{"properties": {}}]:
            ss.add_sheet(sheet.get("properties", {}))
        return ss.to_json(self.url)

    def _get(self, ss: Spreadsheet, params: Mapping[str, Any], mask: Mask | None) -> dict[str, Any]:
        result = ss.to_json(self.url)
        if mask is not None:
            sheets_mask = mask.get("sheets", {}) if "*" not in mask else None
            want_data = (
                "sheets" in mask and (sheets_mask is None or "data" in sheets_mask)
            ) or "*" in mask
        else:
            want_data = bool(params.get("includeGridData"))
        ranges = params.get("ranges") or []
        if ranges:
            picked: dict[int, list[Bounds]] = {}
            for text in ranges:
                sheet, bounds = ss.locate(text)
                picked.setdefault(sheet.sheet_id, []).append(check_read(sheet, bounds))
            result["sheets"] = [
                s.to_json()
                | ({"data": [s.grid_data(b) for b in picked[s.sheet_id]]} if want_data else {})
                for s in ss.sheets
                if s.sheet_id in picked
            ]
        elif want_data:
            for sheet, out in zip(ss.sheets, result["sheets"], strict=True):
                out["data"] = [sheet.grid_data(Bounds(0, sheet.row_count, 0, sheet.col_count))]
        return result

    # spreadsheets.values.*

    def _values_get(self, ss: Spreadsheet, text: str, params: Mapping[str, Any]) -> dict[str, Any]:
        sheet, bounds = ss.locate(text)
        clamped = check_read(sheet, bounds)
        major = params.get("majorDimension") or "ROWS"
        if major == "DIMENSION_UNSPECIFIED":
            major = "ROWS"
        values = read_values(
            sheet,
            clamped,
            params.get("valueRenderOption") or "FORMATTED_VALUE",
            params.get("dateTimeRenderOption") or "SERIAL_NUMBER",
            major,
        )
        out: dict[str, Any] = {"range": range_text(sheet, clamped), "majorDimension": major}
        if values:
            out["values"] = values
        return out

    def _require_input_option(self, option: str | None) -> str:
        if not option:
            raise bad_request("'valueInputOption' is required but not specified")
        if option == "INPUT_VALUE_OPTION_UNSPECIFIED":
            raise bad_request("Invalid valueInputOption: INPUT_VALUE_OPTION_UNSPECIFIED")
        return option

    def _write_range(
        self, ss: Spreadsheet, text: str, body: Mapping[str, Any], option: str
    ) -> dict[str, Any]:
        sheet, bounds = ss.locate(text)
        if body.get("range"):
            other_sheet, other = ss.locate(body["range"])
            if other_sheet is not sheet or other != bounds:
                raise bad_request(
                    f"Requested range [{text}] and the range in the body [{body['range']}] "
                    "do not match."
                )
        major = body.get("majorDimension") or "ROWS"
        requested = range_text(sheet, bounds) if bounds.a1() != ":" else quote_title(sheet.title)
        counts = write_values(sheet, bounds, body.get("values") or [], major, option, requested)
        return {"spreadsheetId": ss.spreadsheet_id, **counts}

    def _values_update(
        self, ss: Spreadsheet, text: str, params: Mapping[str, Any], body: Mapping[str, Any]
    ) -> dict[str, Any]:
        option = self._require_input_option(params.get("valueInputOption"))
        result = self._write_range(ss, text, body, option)
        if params.get("includeValuesInResponse"):
            result["updatedData"] = self._values_get(
                ss,
                result["updatedRange"],
                {
                    "valueRenderOption": params.get("responseValueRenderOption"),
                    "dateTimeRenderOption": params.get("responseDateTimeRenderOption"),
                },
            )
        return result

    def _values_batch_update(self, ss: Spreadsheet, body: Mapping[str, Any]) -> dict[str, Any]:
        option = self._require_input_option(body.get("valueInputOption"))
        responses = [
            self._write_range(ss, vr.get("range", ""), vr, option) for vr in body.get("data", [])
        ]
        out: dict[str, Any] = {"spreadsheetId": ss.spreadsheet_id}
        if responses:
            out.update(
                totalUpdatedRows=sum(r["updatedRows"] for r in responses),
                totalUpdatedColumns=sum(r["updatedColumns"] for r in responses),
                totalUpdatedCells=sum(r["updatedCells"] for r in responses),
                totalUpdatedSheets=len({r["updatedRange"].rpartition("!")[0] for r in responses}),
                responses=responses,
            )
        return out

    def _values_append(
        self, ss: Spreadsheet, text: str, params: Mapping[str, Any], body: Mapping[str, Any]
    ) -> dict[str, Any]:
        option = self._require_input_option(params.get("valueInputOption"))
        sheet, bounds = ss.locate(text)
        values = body.get("values") or []
        major = body.get("majorDimension") or "ROWS"
        rows = values if major != "COLUMNS" else [list(r) for r in zip(*values, strict=False)]
        c0 = bounds.c0 or 0
        c1 = bounds.c1 if bounds.c1 is not None else sheet.col_count
        r0 = bounds.r0 or 0
        # The "table": the last row holding a value in the range's columns, from its top down.
        last = r0 - 1
        for r in range(r0, len(sheet.cells)):
            if any(not is_blank(sheet.get(r, c)) for c in range(c0, c1)):
                last = r
        table = Bounds(r0, last + 1, c0, c1) if last >= r0 else None
        start = last + 1
        height = len(rows)
        if params.get("insertDataOption") == "INSERT_ROWS":
            sheet.insert("ROWS", start, height)
        elif start + height > sheet.row_count:
            sheet.grid["rowCount"] = start + height  # append grows the grid
        width = max((len(r) for r in rows), default=0)
        target = Bounds(start, start + height, c0, c0 + width)
        if c0 + width > sheet.col_count:
            raise grid_limits(sheet, target)
        counts = write_values(sheet, target, rows, "ROWS", option, range_text(sheet, target))
        out: dict[str, Any] = {
            "spreadsheetId": ss.spreadsheet_id,
            "updates": {"spreadsheetId": ss.spreadsheet_id, **counts},
        }
        if table is not None:
            out["tableRange"] = range_text(sheet, table.clamp(sheet.row_count, sheet.col_count))
        return out

    def _clear(self, ss: Spreadsheet, text: str) -> str:
        sheet, bounds = ss.locate(text)
        clamped = check_read(sheet, bounds)
        r0, r1, c0, c1 = clamped.box()
        for r in range(r0, min(r1, len(sheet.cells))):
            for c in range(c0, c1):
                old = sheet.get(r, c)
                if old:
                    rest = {
                        k: v for k, v in old.items() if k not in ("userEnteredValue", "_cached")
                    }
                    sheet.put(r, c, rest or None)
        return range_text(sheet, clamped)

    # spreadsheets.batchUpdate

    def _batch_update(self, ss: Spreadsheet, body: Mapping[str, Any]) -> dict[str, Any]:
        requests = body.get("requests") or []
        if not requests:
            raise bad_request("Must specify at least one request.")
        replies = []
        for i, request in enumerate(requests):
            kinds = list(request)
            if len(kinds) != 1:
                raise bad_request(
                    f"Invalid requests[{i}]: exactly one kind of request must be set, "
                    f"found {len(kinds)}."
                )
            kind = kinds[0]
            handler = _REQUESTS.get(kind)
            if handler is None:
                raise ApiError(
                    501,
                    f"Invalid requests[{i}].{kind}: okrsync's Sheets emulator does not implement "
                    "this request.",
                    "UNIMPLEMENTED",
                )
            try:
                reply = handler(ss, request[kind])
            except ApiError as e:
                raise ApiError(
                    e.code, f"Invalid requests[{i}].{kind}: {e.message}", e.status
                ) from None
            replies.append(reply or {})
        if ss.cell_count() > CELL_LIMIT:
            raise bad_request(
                "This action would increase the number of cells in the workbook above the limit "
                f"of {CELL_LIMIT} cells."
            )
        out: dict[str, Any] = {"spreadsheetId": ss.spreadsheet_id, "replies": replies}
        if body.get("includeSpreadsheetInResponse"):
            out["updatedSpreadsheet"] = ss.to_json(self.url)
        return out

    # the HTML view a person opens from spreadsheetUrl

    def _html(self, key: str) -> str:
        with self._lock:
            ss = self._spreadsheets.get(key)
            if ss is None:
                raise ApiError(404, "Requested entity was not found.", "NOT_FOUND")
            parts = [f"<!doctype html><meta charset=utf-8><title>{html.escape(ss.title)}</title>"]
            parts.append(
                "<style>td,th{border:1px solid #ccc;padding:2px 6px;font:13px sans-serif}</style>"
            )
            for sheet in ss.sheets:
                parts.append(f"<h2>{html.escape(sheet.title)}</h2><table>")
                for r, row in enumerate(sheet.cells[: sheet.last_data_row() + 1], start=1):
                    cells = "".join(f"<td>{html.escape(formatted(c))}</td>" for c in row)
                    parts.append(f"<tr><th>{r}</th>{cells}</tr>")
                parts.append("</table>")
            return "".join(parts)


def _oauth_error(error: str, description: str) -> ApiError:
    """The token endpoint's error shape (RFC 6749), not the API's."""
    return ApiError(400, description, payload={"error": error, "error_description": description})


def _bad_mask(path: str) -> ApiError:
    return ApiError(
        400,
        "Request contains an invalid argument.",
        details=[
            {
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [
                    {
                        "field": path,
                        "description": "Error expanding 'fields' parameter. Cannot find matching "
                        f"fields for path '{path}'.",
                    }
                ],
            }
        ],
    )


def _new_key() -> str:
    # Real keys are 44 characters of [A-Za-z0-9_-].
    return "emu" + secrets.token_urlsafe(31)[:41]


def _xlsx_cell(xl: Any, cached: Any) -> dict[str, Any] | None:
    value = xl.value
    if value is None:
        return None
    fmt = xl.number_format or "General"
    if xl.data_type == "f" or (
        isinstance(value, str) and value.startswith("=") and xl.data_type != "s"
    ):
        cell: dict[str, Any] = {"userEnteredValue": {"formulaValue": str(value)}}
        if cached is not None:
            cell["_cached"] = serial_of(cached) if isinstance(cached, dt.date) else cached
    elif isinstance(value, dt.time):
        seconds = value.hour * 3600 + value.minute * 60 + value.second
        cell = {
            "userEnteredValue": {"numberValue": seconds / 86400},
            "userEnteredFormat": {"numberFormat": {"type": "TIME", "pattern": "hh:mm:ss"}},
        }
        return cell
    elif isinstance(value, str):
        return {"userEnteredValue": {"stringValue": value}}
    elif isinstance(value, dt.datetime | dt.date):
        # openpyxl reads every date cell as a datetime; the cell's format says which it is.
        timed = isinstance(value, dt.datetime) and re.search(r"[hs]", fmt.lower()) is not None
        number_format = (
            {"type": "DATE_TIME", "pattern": "yyyy-mm-dd hh:mm:ss"}
            if timed
            else {"type": "DATE", "pattern": "yyyy-mm-dd"}
        )
        return {
            "userEnteredValue": {"numberValue": serial_of(value)},
            "userEnteredFormat": {"numberFormat": number_format},
        }
    else:
        cell = python_cell(value) or {}
    if "%" in fmt:
        cell["userEnteredFormat"] = {"numberFormat": {"type": "PERCENT", "pattern": fmt}}
    elif xl.is_date and not isinstance(value, dt.date):
        cell["userEnteredFormat"] = {"numberFormat": {"type": "DATE", "pattern": "yyyy-mm-dd"}}
    return cell


# --- batchUpdate requests -------------------------------------------------------------------


def _sheet(ss: Spreadsheet, sheet_id: int | None) -> Sheet:
    sheet = ss.by_id(sheet_id or 0)
    if sheet is None:
        raise bad_request(f"No grid with id: {sheet_id or 0}")
    return sheet


def _cell_mask(text: str | None) -> Mask:
    if not text:
        raise bad_request("At least one field must be specified.")
    try:
        return parse_mask(text)
    except ValueError:
        raise bad_request(f"Invalid field mask: {text}") from None


_READ_ONLY = ("effectiveValue", "formattedValue", "effectiveFormat", "hyperlink", "textFormatRuns")


def _merge_cell(
    old: Mapping[str, Any] | None, new: Mapping[str, Any], mask: Mask
) -> dict[str, Any] | None:
    new = {k: v for k, v in new.items() if k not in _READ_ONLY}
    merged = merge_masked(old, new, mask)
    if "userEnteredValue" in mask or "*" in mask:
        merged.pop("_cached", None)
    return merged or None


def _check_block(sheet: Sheet, b: Bounds) -> None:
    if (b.r1 or 0) > sheet.row_count or (b.c1 or 0) > sheet.col_count:
        raise grid_limits(sheet, b)


def _update_cells(ss: Spreadsheet, req: Mapping[str, Any]) -> None:
    mask = _cell_mask(req.get("fields"))
    rows = req.get("rows") or []
    if ("start" in req) == ("range" in req):
        raise bad_request("Exactly one of start or range must be set.")
    if "start" in req:
        start = req["start"]
        sheet = _sheet(ss, start.get("sheetId"))
        r0, c0 = start.get("rowIndex", 0), start.get("columnIndex", 0)
        width = max((len(row.get("values") or []) for row in rows), default=0)
        _check_block(sheet, Bounds(r0, r0 + len(rows), c0, c0 + width))
        for i, row in enumerate(rows):
            for j, cell in enumerate(row.get("values") or []):
                sheet.put(r0 + i, c0 + j, _merge_cell(sheet.get(r0 + i, c0 + j), cell, mask))
        return
    gr = req["range"]
    sheet = _sheet(ss, gr.get("sheetId"))
    b = Bounds.from_grid_range(gr)
    _check_block(sheet, b)
    b = b.clamp(sheet.row_count, sheet.col_count)
    r0, r1, c0, c1 = b.box()
    for r in range(r0, r1):
        values = (rows[r - r0].get("values") or []) if r - r0 < len(rows) else []
        for c in range(c0, c1):
            cell = values[c - c0] if c - c0 < len(values) else {}
            if cell or sheet.get(r, c):
                sheet.put(r, c, _merge_cell(sheet.get(r, c), cell, mask))


def _repeat_cell(ss: Spreadsheet, req: Mapping[str, Any]) -> None:
    mask = _cell_mask(req.get("fields"))
    gr = req.get("range") or {}
    sheet = _sheet(ss, gr.get("sheetId"))
    b = Bounds.from_grid_range(gr)
    _check_block(sheet, b)
    b = b.clamp(sheet.row_count, sheet.col_count)
    r0, r1, c0, c1 = b.box()
    cell = req.get("cell") or {}
    for r in range(r0, r1):
        for c in range(c0, c1):
            sheet.put(r, c, _merge_cell(sheet.get(r, c), cell, mask))


def _append_cells(ss: Spreadsheet, req: Mapping[str, Any]) -> None:
    mask = _cell_mask(req.get("fields"))
    sheet = _sheet(ss, req.get("sheetId"))
    rows = req.get("rows") or []
    start = sheet.last_data_row() + 1
    width = max((len(row.get("values") or []) for row in rows), default=0)
    if width > sheet.col_count:
        raise bad_request(
            f"GridCoordinate.columnIndex[{width - 1}] is after last column in grid"
            f"[{sheet.col_count - 1}]"
        )
    if start + len(rows) > sheet.row_count:
        sheet.grid["rowCount"] = start + len(rows)  # "inserting new rows if necessary"
    for i, row in enumerate(rows):
        for j, cell in enumerate(row.get("values") or []):
            sheet.put(start + i, j, _merge_cell(sheet.get(start + i, j), cell, mask))


def _dimension(req: Mapping[str, Any]) -> str:
    dim = req.get("dimension")
    if dim not in ("ROWS", "COLUMNS"):
        raise bad_request("dimension must be ROWS or COLUMNS.")
    return dim


def _append_dimension(ss: Spreadsheet, req: Mapping[str, Any]) -> None:
    sheet = _sheet(ss, req.get("sheetId"))
    length = req.get("length", 0)
    if length <= 0:
        raise bad_request("length must be greater than 0.")
    key = "rowCount" if _dimension(req) == "ROWS" else "columnCount"
    sheet.grid[key] = sheet.grid.get(key, 0) + length


def _insert_dimension(ss: Spreadsheet, req: Mapping[str, Any]) -> None:
    dr = req.get("range") or {}
    sheet = _sheet(ss, dr.get("sheetId"))
    dim = _dimension(dr)
    start, end = dr.get("startIndex", 0), dr.get("endIndex", 0)
    limit = sheet.row_count if dim == "ROWS" else sheet.col_count
    if not 0 <= start < end or start > limit:
        raise bad_request(f"Invalid dimension range: [{start}, {end}) on a grid of {limit}.")
    if req.get("inheritFromBefore") and start == 0:
        raise bad_request("Cannot inherit properties from before if inserting at the start.")
    sheet.insert(dim, start, end - start)


def _delete_dimension(ss: Spreadsheet, req: Mapping[str, Any]) -> None:
    dr = req.get("range") or {}
    sheet = _sheet(ss, dr.get("sheetId"))
    dim = _dimension(dr)
    limit = sheet.row_count if dim == "ROWS" else sheet.col_count
    start, end = dr.get("startIndex", 0), dr.get("endIndex", limit)
    if not 0 <= start < end <= limit:
        raise bad_request(f"Invalid dimension range: [{start}, {end}) on a grid of {limit}.")
    if end - start == limit:
        raise bad_request(f"You can't delete all the {dim.lower()} on the sheet.")
    sheet.delete(dim, start, end)


def _add_sheet(ss: Spreadsheet, req: Mapping[str, Any]) -> dict[str, Any]:
    sheet = ss.add_sheet(req.get("properties") or {})
    return {"addSheet": {"properties": copy.deepcopy(sheet.properties)}}


def _delete_sheet(ss: Spreadsheet, req: Mapping[str, Any]) -> None:
    sheet = _sheet(ss, req.get("sheetId"))
    if len(ss.sheets) == 1:
        raise bad_request("You can't remove all the sheets in a document.")
    ss.sheets.remove(sheet)
    ss.reindex()


def _update_sheet_properties(ss: Spreadsheet, req: Mapping[str, Any]) -> None:
    props = req.get("properties") or {}
    sheet = _sheet(ss, props.get("sheetId"))
    try:
        mask = parse_mask(req.get("fields") or "")
    except ValueError:
        raise bad_request("At least one field must be specified.") from None
    merged = merge_masked(sheet.properties, props, mask)
    merged["sheetId"] = sheet.sheet_id
    title = merged.get("title", sheet.title)
    if any(s is not sheet and s.title.casefold() == title.casefold() for s in ss.sheets):
        raise bad_request(
            f'A sheet with the name "{title}" already exists. Please enter another name.'
        )
    old_rows, old_cols = sheet.row_count, sheet.col_count
    sheet.properties = merged
    rows, cols = sheet.row_count, sheet.col_count
    if rows < old_rows:
        del sheet.cells[rows:]
    if cols < old_cols:
        for row in sheet.cells:
            del row[cols:]


def _update_spreadsheet_properties(ss: Spreadsheet, req: Mapping[str, Any]) -> None:
    mask = _cell_mask(req.get("fields"))
    merged = merge_masked({"title": ss.title, **ss.properties}, req.get("properties") or {}, mask)
    ss.title = merged.pop("title", ss.title)
    ss.properties = merged


def _set_data_validation(ss: Spreadsheet, req: Mapping[str, Any]) -> None:
    gr = req.get("range") or {}
    sheet = _sheet(ss, gr.get("sheetId"))
    b = Bounds.from_grid_range(gr)
    _check_block(sheet, b)
    b = b.clamp(sheet.row_count, sheet.col_count)
    r0, r1, c0, c1 = b.box()
    rule = req.get("rule")
    if rule:
        check_condition(rule.get("condition"), "data validation")
    for r in range(r0, r1):
        for c in range(c0, c1):
            old = dict(sheet.get(r, c) or {})
            if rule:
                old["dataValidation"] = copy.deepcopy(rule)
            else:
                old.pop("dataValidation", None)
            sheet.put(r, c, old or None)


def _add_conditional_format_rule(ss: Spreadsheet, req: Mapping[str, Any]) -> None:
    rule = req.get("rule") or {}
    ranges = rule.get("ranges") or []
    if not ranges:
        raise bad_request("rule.ranges must not be empty.")
    if ("booleanRule" in rule) == ("gradientRule" in rule):
        raise bad_request("Exactly one of booleanRule or gradientRule must be set.")
    boolean = rule.get("booleanRule")
    if boolean is not None:
        check_condition(boolean.get("condition"), "conditional formatting")
        check_conditional_format(boolean.get("format") or {})
    sheet = _sheet(ss, ranges[0].get("sheetId"))
    index = req.get("index", 0)
    if not 0 <= index <= len(sheet.conditional_formats):
        raise bad_request(f"index {index} is out of range.")
    sheet.conditional_formats.insert(index, copy.deepcopy(rule))


@functools.cache
def condition_types() -> dict[str, tuple[frozenset[str], int, int | None]]:
    """Each BooleanCondition type: where it may be used, and how many values it takes.

    Read from the enum's descriptions in the discovery document ("Supported by data
    validation, conditional formatting and filters. Requires a single ConditionValue."),
    so the emulator follows the document rather than a copy of it.
    """
    doc = json.loads(discovery_path().read_text(encoding="utf-8"))
    spec = doc["schemas"]["BooleanCondition"]["properties"]["type"]
    table: dict[str, tuple[frozenset[str], int, int | None]] = {}
    for name, text in zip(spec["enum"], spec["enumDescriptions"], strict=True):
        supported = re.search(r"Supported by ([^.]*)\.", text)
        uses = frozenset(
            use
            for use in ("data validation", "conditional formatting", "filters")
            if supported and use in supported.group(1)
        )
        counts: tuple[int, int | None] = (0, None)
        for pattern, found in (
            (r"Requires no ConditionValues", (0, 0)),
            (r"Requires a single ConditionValue", (1, 1)),
            (r"Requires exactly two ConditionValues", (2, 2)),
            (r"Requires at least one ConditionValue", (1, None)),
            (r"Supports zero, one or two ConditionValues", (0, 2)),
        ):
            if re.search(pattern, text):
                counts = found
                break
        table[name] = (uses, *counts)
    return table


def check_condition(condition: Mapping[str, Any] | None, use: str) -> None:
    """Refuse a BooleanCondition the discovery document says ``use`` cannot take."""
    kind = (condition or {}).get("type")
    if not kind or kind == "CONDITION_TYPE_UNSPECIFIED":
        raise bad_request("A condition type must be set.")
    uses, least, most = condition_types()[kind]
    if use not in uses:
        raise bad_request(f"Condition type {kind} is not supported for {use}.")
    values = (condition or {}).get("values") or []
    if len(values) < least or (most is not None and len(values) > most):
        wanted = (
            str(least)
            if least == most
            else f"{least} or more"
            if most is None
            else (f"{least} to {most}")
        )
        raise bad_request(
            f"Condition type {kind} requires {wanted} ConditionValue(s), got {len(values)}."
        )
    if kind == "ONE_OF_LIST" and any(
        str(v.get("userEnteredValue", "")).startswith("=") for v in values
    ):
        raise bad_request("Formulas are not supported in the values of ONE_OF_LIST.")


#: What a conditional format may set (BooleanRule.format in the discovery document).
_CONDITIONAL_FORMAT = {"backgroundColor", "backgroundColorStyle", "textFormat"}
_CONDITIONAL_TEXT = {"bold", "italic", "strikethrough", "foregroundColor", "foregroundColorStyle"}


def check_conditional_format(fmt: Mapping[str, Any]) -> None:
    text = fmt.get("textFormat") or {}
    if set(fmt) - _CONDITIONAL_FORMAT or set(text) - _CONDITIONAL_TEXT:
        raise bad_request(
            "Conditional formatting can only apply a subset of formatting: bold, italic, "
            "strikethrough, foreground color and, background color."
        )


def _delete_conditional_format_rule(ss: Spreadsheet, req: Mapping[str, Any]) -> dict[str, Any]:
    sheet = _sheet(ss, req.get("sheetId"))
    index = req.get("index", 0)
    if not 0 <= index < len(sheet.conditional_formats):
        raise bad_request(f"No conditional format on sheet {sheet.sheet_id} at index {index}.")
    rule = sheet.conditional_formats.pop(index)
    return {"deleteConditionalFormatRule": {"rule": rule}}


def _add_protected_range(ss: Spreadsheet, req: Mapping[str, Any]) -> dict[str, Any]:
    pr = copy.deepcopy(req.get("protectedRange") or {})
    _sheet(ss, (pr.get("range") or {}).get("sheetId"))
    pr["protectedRangeId"] = ss.next_protected_id
    ss.next_protected_id += 1
    sheet = _sheet(ss, (pr.get("range") or {}).get("sheetId"))
    sheet.protected_ranges.append(pr)
    return {"addProtectedRange": {"protectedRange": copy.deepcopy(pr)}}


def _find_protected(ss: Spreadsheet, pid: int | None) -> tuple[Sheet, int]:
    for sheet in ss.sheets:
        for i, pr in enumerate(sheet.protected_ranges):
            if pr.get("protectedRangeId") == pid:
                return sheet, i
    raise bad_request(f"No protected range with id: {pid}")


def _delete_protected_range(ss: Spreadsheet, req: Mapping[str, Any]) -> None:
    sheet, i = _find_protected(ss, req.get("protectedRangeId"))
    del sheet.protected_ranges[i]


def _update_protected_range(ss: Spreadsheet, req: Mapping[str, Any]) -> None:
    pr = req.get("protectedRange") or {}
    sheet, i = _find_protected(ss, pr.get("protectedRangeId"))
    mask = _cell_mask(req.get("fields"))
    sheet.protected_ranges[i] = merge_masked(sheet.protected_ranges[i], pr, mask)


def _update_dimension_properties(ss: Spreadsheet, req: Mapping[str, Any]) -> None:
    if "range" not in req:
        raise bad_request("range must be set (data source sheets are not emulated).")
    dr = req["range"]
    sheet = _sheet(ss, dr.get("sheetId"))
    dim = _dimension(dr)
    mask = _cell_mask(req.get("fields"))
    limit = sheet.row_count if dim == "ROWS" else sheet.col_count
    start, end = dr.get("startIndex", 0), dr.get("endIndex", limit)
    if not 0 <= start < end <= limit:
        raise bad_request(f"Invalid dimension range: [{start}, {end}) on a grid of {limit}.")
    meta = sheet.row_meta if dim == "ROWS" else sheet.col_meta
    for i in range(start, end):
        merged = merge_masked(meta.get(i), req.get("properties") or {}, mask)
        if merged:
            meta[i] = merged
        else:
            meta.pop(i, None)


def _sort_range(ss: Spreadsheet, req: Mapping[str, Any]) -> None:
    gr = req.get("range") or {}
    sheet = _sheet(ss, gr.get("sheetId"))
    b = Bounds.from_grid_range(gr).clamp(sheet.row_count, sheet.col_count)
    r0, r1, c0, c1 = b.box()
    block = [[sheet.get(r, c) for c in range(c0, c1)] for r in range(r0, r1)]

    def key(row: list[dict[str, Any] | None], col: int) -> tuple[int, Any]:
        value = effective(row[col - c0]) if c0 <= col < c1 else None
        if value is None or value == "":
            return (3, "")  # blanks sort last either way
        if isinstance(value, bool):
            return (2, value)
        if isinstance(value, int | float):
            return (0, value)
        return (1, str(value).casefold())

    for spec in reversed(req.get("sortSpecs") or []):
        col = spec.get("dimensionIndex", 0)
        descending = spec.get("sortOrder") == "DESCENDING"
        filled = [r for r in block if key(r, col)[0] != 3]
        blanks = [r for r in block if key(r, col)[0] == 3]
        filled.sort(key=lambda r, col=col: key(r, col), reverse=descending)
        block = filled + blanks
    for i, row in enumerate(block):
        for j, cell in enumerate(row):
            sheet.put(r0 + i, c0 + j, cell)


def _auto_resize(ss: Spreadsheet, req: Mapping[str, Any]) -> None:
    dims = req.get("dimensions") or {}
    _sheet(ss, dims.get("sheetId"))  # checked, then nothing: there are no pixels here


_REQUESTS: dict[str, Callable[[Spreadsheet, Mapping[str, Any]], dict[str, Any] | None]] = {
    "updateCells": _update_cells,
    "repeatCell": _repeat_cell,
    "appendCells": _append_cells,
    "appendDimension": _append_dimension,
    "insertDimension": _insert_dimension,
    "deleteDimension": _delete_dimension,
    "addSheet": _add_sheet,
    "deleteSheet": _delete_sheet,
    "updateSheetProperties": _update_sheet_properties,
    "updateSpreadsheetProperties": _update_spreadsheet_properties,
    "setDataValidation": _set_data_validation,
    "addConditionalFormatRule": _add_conditional_format_rule,
    "deleteConditionalFormatRule": _delete_conditional_format_rule,
    "addProtectedRange": _add_protected_range,
    "deleteProtectedRange": _delete_protected_range,
    "updateProtectedRange": _update_protected_range,
    "updateDimensionProperties": _update_dimension_properties,
    "sortRange": _sort_range,
    "autoResizeDimensions": _auto_resize,
}


# --- command line ---------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="A local Google Sheets API v4 emulator for trying okrsync's gsheets backend."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8085, help="port (0 picks a free one)")
    parser.add_argument("--load", type=Path, action="append", default=[], help="an .xlsx to serve")
    parser.add_argument(
        "--id", dest="key", help="the spreadsheet id of the first --load (default: its file name)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    emu = Emulator(args.host, args.port, verbose=args.verbose)
    keys = []
    for i, path in enumerate(args.load):
        # A stable id (from the file name) lets a config written once work on every restart.
        stable = re.sub(r"[^A-Za-z0-9_-]+", "-", path.stem) or "okrs"
        key = args.key if i == 0 and args.key else stable
        keys.append((path, emu.load_xlsx(path, spreadsheet_id=key)))
    if not keys:
        keys.append((None, emu.add_spreadsheet("OKRs", {"Check-ins": []}, spreadsheet_id=args.key)))
    emu.bind()
    print(f"Sheets API v4 emulator listening on {emu.url}")
    for path, key in keys:
        print(f"\n  {path or 'empty spreadsheet'}: id {key}")
        print(f"  view it at {emu.url}/spreadsheets/d/{key}/edit")
        print('  config:\n    [sheet]\n    backend = "gsheets"')
        print(f'    spreadsheet = "{key}"\n    api_endpoint = "{emu.url}"')
    print("\nCtrl-C stops it; nothing is saved.", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        emu.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
