"""The synthetic sheets the benchmarks run on: realistic, mixed, and reproducible.

A benchmark on rows okrsync reads too easily (all number cells, no mistakes) would
measure the wrong thing, so these tests hold ``scripts/synthetic.py`` to its promise.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import openpyxl
import pandas as pd
import pytest

from okrsync.backends.base import Percent
from okrsync.columns import OWNER_COLUMNS, Col, KrType
from okrsync.parse import (
    Parsed,
    is_blank,
    parse_cadences,
    parse_dates,
    parse_done,
    parse_emails,
    parse_health,
    parse_numbers,
    parse_types,
)

ROOT = Path(__file__).resolve().parent.parent
N = 5000


@pytest.fixture(scope="module")
def synthetic() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "_scripts_synthetic", ROOT / "scripts" / "synthetic.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def frame(synthetic: ModuleType) -> pd.DataFrame:
    rows = synthetic.make_rows(N, seed=7)
    return pd.DataFrame(rows[1:], columns=rows[0], dtype=object)


def test_shape_and_header(synthetic: ModuleType) -> None:
    """The header on top of exactly n rows, each as wide as the header."""
    rows = synthetic.make_rows(50, seed=1)
    assert rows[0] == [c.value for c in OWNER_COLUMNS]
    assert len(rows) == 51
    assert {len(r) for r in rows} == {len(OWNER_COLUMNS)}
    assert synthetic.make_rows(0) == [rows[0]]


def test_reproducible(synthetic: ModuleType) -> None:
    """The same seed gives the same rows; another seed other rows."""
    assert synthetic.make_rows(300, seed=3) == synthetic.make_rows(300, seed=3)
    assert synthetic.make_rows(300, seed=3) != synthetic.make_rows(300, seed=4)


def test_mixed_types_and_cells(frame: pd.DataFrame) -> None:
    """Every KR type and blank types; numbers as cells, text and percent cells; dates as
    cells and ISO text; several cadence spellings."""
    types = parse_types(frame[Col.TYPE]).values
    assert set(types.dropna()) == set(KrType)
    assert types.isna().mean() > 0.1
    kinds = {type(v) for v in pd.concat([frame[Col.START], frame[Col.TARGET], frame[Col.CURRENT]])}
    assert {int, float, str, Percent, type(None)} <= kinds
    texts = [v for v in frame[Col.TARGET] if isinstance(v, str)]
    assert any("," in t for t in texts)
    assert any(t.startswith("$") for t in texts)
    assert any(t.endswith("%") for t in texts)
    checkin_kinds = {type(v) for v in frame[Col.CHECKIN_DATE]}
    assert {dt.datetime, str, type(None)} <= checkin_kinds
    assert frame[Col.CADENCE].nunique() >= 5
    assert frame[Col.ID].isna().any()
    assert frame[Col.ID].dropna().is_unique


def test_about_two_percent_of_rows_have_one_bad_cell(frame: pd.DataFrame) -> None:
    """Planted mistakes land on ~2% of rows, and nothing else is unreadable."""
    parsers: dict[str, Callable[[pd.Series], Parsed]] = {
        Col.START: parse_numbers,
        Col.TARGET: parse_numbers,
        Col.OWNER_HEALTH: parse_health,
        Col.CHECKIN_DATE: parse_dates,
        Col.DUE_DATE: parse_dates,
        Col.CADENCE: parse_cadences,
        Col.TYPE: parse_types,
        Col.OWNER_EMAIL: parse_emails,
    }
    bad = pd.DataFrame({name: parse(frame[name]).bad for name, parse in parsers.items()})
    # Unreadable as a number and as a boolean word: bad whatever the row's Type says.
    current = frame[Col.CURRENT]
    bad[Col.CURRENT] = parse_numbers(current).bad & parse_done(current).bad
    per_row = bad.sum(axis=1)
    assert per_row.max() == 1
    assert 0.01 < (per_row == 1).mean() < 0.035
    assert not bad[Col.OWNER_HEALTH].any()


def test_check_ins_are_in_the_cycle_up_to_today(synthetic: ModuleType, frame: pd.DataFrame) -> None:
    dates = parse_dates(frame[Col.CHECKIN_DATE]).values.dropna()
    assert dates.min() >= pd.Timestamp(synthetic.CYCLE_START)
    assert dates.max() <= pd.Timestamp(synthetic.TODAY)
    assert not is_blank(frame[Col.OBJECTIVE]).any()
    assert frame[Col.OBJECTIVE].nunique() > N // 10


def test_write_workbook_reads_back(synthetic: ModuleType, tmp_path: Path) -> None:
    """The workbook holds the same typed cells: percent cells formatted as percent."""
    path = synthetic.write_workbook(tmp_path / "deep" / "s.xlsx", 200, seed=2)
    expected = synthetic.make_rows(200, seed=2)
    wb = openpyxl.load_workbook(path, read_only=True)
    got: list[list[Any]] = []
    width = len(expected[0])
    for row in wb["Check-ins"].iter_rows():
        cells = [
            Percent(c.value) if c.value is not None and "%" in c.number_format else c.value
            for c in row
        ]
        got.append(cells + [None] * (width - len(cells)))  # read-only mode drops trailing blanks
    wb.close()  # read-only mode keeps the file open until closed
    assert got[0] == expected[0]
    assert len(got) == len(expected)
    for mine, theirs in zip(got[1:], expected[1:], strict=True):
        assert mine == theirs
        pct = [isinstance(v, Percent) for v in mine]
        assert pct == [isinstance(v, Percent) for v in theirs]
