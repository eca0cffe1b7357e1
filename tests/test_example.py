"""The bundled example workbook and the shipped configs.

The example is what a newcomer sees first (``okrsync demo``), so these tests pin down
that it really holds what the demo promises: three teams, every KR type, every kind of
cell, a few overdue check-ins and the owner mistakes okrsync should catch.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import zipfile
from pathlib import Path
from types import ModuleType
from xml.etree import ElementTree as ET

import openpyxl
import pandas as pd
import pytest

from okrsync.backends.base import Percent
from okrsync.columns import OWNER_COLUMNS, KrType
from okrsync.config import BackendKind, load_config
from okrsync.parse import (
    is_blank,
    parse_cadences,
    parse_dates,
    parse_emails,
    parse_health,
    parse_numbers,
    parse_types,
)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "okrsync" / "data" / "example.xlsx"
DEMO_TODAY = pd.Timestamp("2026-11-16")


def load_script(name: str) -> ModuleType:
    """Import ``scripts/<name>.py`` (scripts are not a package)."""
    spec = importlib.util.spec_from_file_location(
        f"_scripts_{name}", ROOT / "scripts" / f"{name}.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def maker() -> ModuleType:
    return load_script("make_example_workbook")


@pytest.fixture(scope="module")
def sheet() -> pd.DataFrame:
    """The Check-ins worksheet as typed cells, percent-formatted numbers as Percent."""
    wb = openpyxl.load_workbook(EXAMPLE)
    ws = wb["Check-ins"]
    rows = list(ws.iter_rows())
    header = [c.value for c in rows[0]]
    data = [
        [
            Percent(c.value)
            if isinstance(c.value, int | float) and "%" in c.number_format
            else c.value
            for c in row
        ]
        for row in rows[1:]
    ]
    return pd.DataFrame(data, columns=header, dtype=object)


def members(path: Path) -> dict[str, str]:
    """The workbook's XML parts in canonical form.

    openpyxl serialises with lxml when it is installed and with ElementTree otherwise,
    which places namespace declarations differently; C14N makes both compare equal.
    """
    with zipfile.ZipFile(path) as z:
        return {name: ET.canonicalize(z.read(name).decode("utf-8")) for name in z.namelist()}


def test_committed_example_is_up_to_date(maker: ModuleType, tmp_path: Path) -> None:
    """The committed workbook is what the script makes now: regenerate it after edits."""
    fresh = maker.write_example(tmp_path / "example.xlsx")
    assert members(fresh) == members(EXAMPLE)


def test_generation_is_deterministic(maker: ModuleType, tmp_path: Path) -> None:
    """Two runs give the same bytes, so a regenerated file only differs when data does."""
    a = maker.write_example(tmp_path / "a.xlsx").read_bytes()
    b = maker.write_example(tmp_path / "b.xlsx").read_bytes()
    assert a == b


def test_layout() -> None:
    """Check-ins first with the contract's headers plus an unknown Notes column in the
    middle, a bold frozen header and set widths; a Read me sheet second."""
    wb = openpyxl.load_workbook(EXAMPLE)
    assert wb.sheetnames == ["Check-ins", "Read me"]
    ws = wb["Check-ins"]
    header = [c.value for c in ws[1]]
    assert [h for h in header if h != "Notes"] == [c.value for c in OWNER_COLUMNS]
    assert 0 < header.index("Notes") < len(header) - 1
    assert ws.freeze_panes == "A2"
    assert all(c.font.bold for c in ws[1])
    assert all(ws.column_dimensions[c.column_letter].width > 8 for c in ws[1])
    assert wb["Read me"].max_row >= 5


def test_teams_objectives_and_types(sheet: pd.DataFrame) -> None:
    """Three teams (and one row without), seven objectives, two dozen KRs of every type."""
    assert set(sheet["Team"].dropna()) == {"Growth", "Platform", "Customer Success"}
    assert sheet["Team"].isna().sum() >= 1
    assert sheet["Objective"].nunique() == 7
    assert len(sheet) >= 24
    types = parse_types(sheet["Type"])
    assert not types.bad.any()
    assert set(types.values.dropna()) == set(KrType)
    assert types.values.isna().sum() >= 2  # blank Types, inferred by okrsync


def test_cell_kinds(sheet: pd.DataFrame) -> None:
    """Numbers come as cells, as text with commas, currency and percent, and as percent
    cells; dates as date cells and as ISO text."""
    cells = pd.concat([sheet["Start"], sheet["Target"], sheet["Current"]])
    assert any(isinstance(v, int | float) and not isinstance(v, Percent) for v in cells)
    assert any(isinstance(v, Percent) for v in cells)
    for text in ("1,200", "$45,000", "75%"):
        assert text in set(cells)
    checkins = sheet["Check-in Date"].dropna()
    assert any(isinstance(v, dt.datetime) for v in checkins)
    assert any(isinstance(v, str) for v in checkins)
    assert not parse_dates(sheet["Due Date"]).bad.any()
    assert sheet["Due Date"].notna().sum() >= 2
    cadences = parse_cadences(sheet["Cadence"])
    assert not cadences.bad.any()
    kinds = {(c.days, c.months) for c in cadences.values.dropna()}
    assert {(7, 0), (14, 0), (0, 1), (10, 0)} <= kinds


def test_owner_mistakes(sheet: pd.DataFrame) -> None:
    """Exactly the planted mistakes are there, each caught by the parsers."""
    numeric = ~parse_types(sheet["Type"]).values.isin([KrType.BOOLEAN, KrType.PERCENT])
    bad_current = parse_numbers(sheet["Current"]).bad & numeric
    assert sheet["Current"][bad_current].tolist() == ["abc"]
    assert sheet["Owner Health"][parse_health(sheet["Owner Health"]).bad].tolist() == ["on trak"]
    bad_email = sheet["Owner Email"][parse_emails(sheet["Owner Email"]).bad].tolist()
    assert len(bad_email) == 1
    assert "," in bad_email[0]
    assert (is_blank(sheet["Target"]) & numeric).sum() == 1
    ids = sheet["ID"].dropna()
    assert ids.duplicated().sum() == 1
    assert sheet["ID"].isna().sum() >= 2
    checkin = parse_dates(sheet["Check-in Date"])
    assert not checkin.bad.any()
    assert (checkin.values > DEMO_TODAY).sum() == 1


def test_some_checkins_overdue_on_demo_day(sheet: pd.DataFrame) -> None:
    """A few weekly KRs were last checked in more than a week before the demo date."""
    weekly = parse_cadences(sheet["Cadence"]).values.map(lambda c: c is not None and c.days == 7)
    checkin = parse_dates(sheet["Check-in Date"]).values
    late = weekly & (checkin + pd.Timedelta(days=7) < DEMO_TODAY)
    assert late.sum() >= 3


@pytest.mark.parametrize(
    ("path", "workbook"),
    [
        (ROOT / "config" / "okrsync.toml", ROOT / "config" / "okrs.xlsx"),
        (ROOT / "okrsync" / "data" / "example.toml", ROOT / "okrsync" / "data" / "okrs.xlsx"),
    ],
    ids=["repo-config", "demo-config"],
)
def test_shipped_configs_load(path: Path, workbook: Path) -> None:
    """Both shipped configs load and resolve the workbook next to themselves."""
    config = load_config(path)
    assert config.sheet.backend is BackendKind.XLSX
    assert config.sheet.path == workbook
    assert config.sheet.worksheet == "Check-ins"
    assert (config.cycle.start, config.cycle.end) == (dt.date(2026, 10, 1), dt.date(2026, 12, 31))
    assert config.email.transport == "file"
    assert config.email.managers == ("lead@example.com",)
    assert config.email.allowed_domains == ("example.com",)
    assert config.email.team_managers == {"Growth": ("growth-lead@example.com",)}
    assert config.history.worksheet == "History"
    assert config.history.revisit_after == 3
    assert config.schedule.at == ("monday 09:00",)
    assert config.state.dir == path.parent / ".okrsync"
