"""Builders shared by the tests: workbooks, configs and a tiny TOML writer."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd

from okrsync.backends.base import SheetTable
from okrsync.columns import OWNER_COLUMNS
from okrsync.compute import compute
from okrsync.config import Config, parse_config
from okrsync.read import read_table
from okrsync.validate import Checked, validate

HEADER = [c.value for c in OWNER_COLUMNS]
CYCLE = {"start": dt.date(2026, 10, 1), "end": dt.date(2026, 12, 31)}


def base_row(**cells: Any) -> dict[str, Any]:
    """A valid increase KR with a check-in; keywords name columns loosely (Check_in_Date)."""
    row: dict[str, Any] = {
        "Objective": "Grow the business",
        "Key Result": "Reach 100 signups",
        "Owner": "Ann",
        "Owner Email": "ann@example.com",
        "Start": 0,
        "Target": 100,
        "Current": 50,
        "Check-in Date": dt.date(2026, 11, 10),
    }
    for key, value in cells.items():
        row[_HEADER_BY_KEY.get(_key(key), key)] = value
    return row


def _key(name: str) -> str:
    return re.sub(r"[\W_]", "", name).casefold()


_HEADER_BY_KEY = {_key(h): h for h in HEADER}


def config_dict(**sections: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "sheet": {"backend": "xlsx", "path": "okrs.xlsx"},
        "cycle": dict(CYCLE),
        "email": {"transport": "file", "managers": [], "allowed_domains": ["example.com"]},
        "history": {"worksheet": ""},
    }
    for name, value in sections.items():
        if isinstance(value, dict) and isinstance(data.get(name), dict):
            data[name] = {**data[name], **value}
        else:
            data[name] = value
    return data


def make_config_obj(tmp: Path | None = None, **sections: Any) -> Config:
    return parse_config(config_dict(**sections), base=tmp or Path.cwd())


def to_table(rows: Sequence[Mapping[str, Any]], header: Sequence[str] = HEADER) -> SheetTable:
    return SheetTable(
        title="Check-ins",
        header=list(header),
        rows=[[row.get(h) for h in header] for row in rows],
    )


def run_rows(
    rows: Sequence[Mapping[str, Any]],
    today: dt.date,
    config: Config | None = None,
    header: Sequence[str] = HEADER,
) -> tuple[pd.DataFrame, Checked]:
    """Validate and compute ``rows`` in memory; returns (computed, checked) indexed by row."""
    config = config or make_config_obj()
    frame = read_table(to_table(rows, header), config)
    checked = validate(frame, config, today)
    return compute(checked, config, today), checked


def write_workbook(
    path: Path,
    rows: Sequence[Mapping[str, Any]],
    header: Sequence[str] = HEADER,
    title: str = "Check-ins",
) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = title
    ws.append(list(header))
    for row in rows:
        ws.append([row.get(h) for h in header])
    wb.save(path)
    return path


def read_workbook(path: Path, title: str = "Check-ins") -> list[dict[str, Any]]:
    """The sheet as dicts keyed by header, values as openpyxl loads them (formulas as text)."""
    wb = openpyxl.load_workbook(path)
    ws = wb[title]
    rows = list(ws.iter_rows(values_only=True))
    header = [str(h) if h is not None else "" for h in rows[0]]
    return [dict(zip(header, r, strict=False)) for r in rows[1:]]


def dump_toml(data: Mapping[str, Any]) -> str:
    """Enough TOML for test configs: scalars, dates, lists of strings and nested tables."""
    lines: list[str] = []

    def scalar(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float):
            return repr(v)
        if isinstance(v, dt.date):
            return v.isoformat()
        if isinstance(v, list | tuple):
            return "[" + ", ".join(scalar(x) for x in v) + "]"
        return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'

    def table(prefix: str, t: Mapping[str, Any]) -> None:
        simple = {k: v for k, v in t.items() if not isinstance(v, Mapping)}
        nested = {k: v for k, v in t.items() if isinstance(v, Mapping)}
        if prefix:
            lines.append(f"[{prefix}]")
        for k, v in simple.items():
            lines.append(f'"{k}" = {scalar(v)}')
        for k, v in nested.items():
            table(f'{prefix}."{k}"' if prefix else f'"{k}"', v)

    table("", data)
    return "\n".join(lines) + "\n"
