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
from okrsync.columns import OWNER_COLUMNS, Col, KrType
from okrsync.config import BackendKind, load_config
from okrsync.demo import prepare_demo
from okrsync.history import HISTORY_HEADER
from okrsync.parse import (
    is_blank,
    parse_cadences,
    parse_dates,
    parse_emails,
    parse_health,
    parse_numbers,
    parse_types,
)
from okrsync.pipeline import SyncResult, sync
from tests.notify_helpers import kr_ids, parse_html, parts, read_eml, section, text_of

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
    middle, a bold frozen header and set widths; History (okrsync's header) second; a
    Read me sheet last."""
    wb = openpyxl.load_workbook(EXAMPLE)
    assert wb.sheetnames == ["Check-ins", "History", "Read me"]
    assert tuple(c.value for c in wb["History"][1]) == HISTORY_HEADER
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


# --- History, and what the demo shows from it ------------------------------------------


@pytest.fixture(scope="module")
def history() -> pd.DataFrame:
    """The History worksheet's rows, keyed by its header."""
    ws = openpyxl.load_workbook(EXAMPLE)["History"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    return pd.DataFrame(rows, columns=list(HISTORY_HEADER), dtype=object)


def test_history_holds_earlier_checkins(sheet: pd.DataFrame, history: pd.DataFrame) -> None:
    """Most KRs have earlier check-ins in History, from early October, in date order, each
    before the KR's latest check-in on the sheet (which the demo's sync records)."""
    ids = set(sheet["ID"].dropna())
    assert set(history["ID"]) <= ids
    assert history["ID"].nunique() >= len(ids) * 2 // 3
    dates = pd.to_datetime(history["Check-in Date"])
    assert dates.is_monotonic_increasing  # appended sync by sync
    assert dates.min() == pd.Timestamp("2026-10-01")
    latest = parse_dates(sheet["Check-in Date"]).values.groupby(sheet["ID"]).min()
    assert (dates < history["ID"].map(latest)).all()
    assert not history[["ID", "Check-in Date"]].duplicated().any()
    assert history[["Current", "Progress", "Expected", "Health", "Synced At"]].notna().all().all()


def test_history_revisit_story(history: pd.DataFrame) -> None:
    """KR-0007 (discount at most 12%) was met on 7 and 14 Oct, then not: computed off track
    at its last three check-ins, whatever the owner said."""
    kr7 = history[history["ID"] == "KR-0007"]
    assert kr7["Current"].tolist() == [0.11, 0.12, 0.13, 0.14, 0.16]
    assert kr7["Health"].tolist() == ["on track"] * 2 + ["off track"] * 3
    assert kr7["Owner Health"].tolist() == ["on track"] * 2 + ["at risk"] * 3


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SyncResult]:
    """The demo's sync of the bundled example, on its date (what `okrsync demo` runs)."""
    folder = tmp_path_factory.mktemp("demo")
    config = prepare_demo(folder)
    return folder, sync(config, today=DEMO_TODAY.date())


def by_id(result: SyncResult, column: str) -> dict[str, object]:
    """``column`` per error-free KR, by ID."""
    ok = result.table[~result.table["error"]]
    return dict(zip(ok[Col.ID], ok[column], strict=True))


#: Trend on the demo date, worked out by hand from History's last row of each KR against
#: the sheet's Current (Progress, rounded to 4 places, before -> now).
DEMO_TRENDS = {
    "KR-0001": "↑",  # 927 -> 1010 of 800..1200: 0.3175 -> 0.525
    "KR-0002": "↑",  # 2.7% -> 3.1% of 2.5%..4%: 0.1333 -> 0.4
    "KR-0003": "→",  # boolean, not done both times: 0 -> 0
    "KR-0027": None,  # a new row (blank ID): no earlier check-in
    "KR-0006": "→",  # at least 30%, met at 34% both times: 1 -> 1
    "KR-0007": "→",  # at most 12%, 16% then 15%, not met: 0 -> 0
    "KR-0008": "→",  # at least 99.9%, met: 1 -> 1
    "KR-0009": "↑",  # 2.5 s -> 2.4 s of 3.2..1.5: 0.4118 -> 0.4706
    "KR-0010": "↑",  # 6 -> 4 Sev-1s of 6..1: 0 -> 0.4
    "KR-0028": None,  # a new row (blank ID)
    "KR-0012": "↓",  # 19 -> 18 deploys of 10..25: 0.6 -> 0.5333
    "KR-0013": "→",  # 21 min both times: 0.0833 -> 0.0833
    "KR-0014": "↑",  # boolean, no -> done: 0 -> 1
    "KR-0015": "↑",  # percent 40% -> 45%
    "KR-0016": "→",  # 75% both times: 0.8 -> 0.8
    "KR-0017": "↓",  # 7.5 -> 8 days of 9..4: 0.3 -> 0.2
    "KR-0020": "→",  # at most 1.5%, met at 1.4% and 1.2%: 1 -> 1
    "KR-0021": None,  # never checked in
    "KR-0025": "↑",  # boolean, no -> ✓: 0 -> 1
    "KR-0026": "↓",  # 25 -> 24 of 20..35: 0.3333 -> 0.2667
}


def test_demo_trends(demo: tuple[Path, SyncResult]) -> None:
    """Every error-free KR gets the Trend worked out by hand; rows with errors get none."""
    _, result = demo
    assert by_id(result, Col.TREND) == DEMO_TRENDS
    assert result.table.loc[result.table["error"], Col.TREND].isna().all()


def test_demo_revisits_kr_0007_only(demo: tuple[Path, SyncResult]) -> None:
    """KR-0007 was off track at its last 3 check-ins and still is (15% > 12%): 4 in a row.
    The other KRs off track now were not at their previous check-in: KR-0003 at risk on
    12 Oct (0% of an expected 19%), KR-0013 on track on 16 Oct (8% of 16%), KR-0017 on
    track on 27 Oct (30% of 29%); KR-0021 has never checked in."""
    _, result = demo
    assert by_id(result, Col.HEALTH)["KR-0007"] == "off track"
    assert result.table.loc[result.table["revisit"], Col.ID].tolist() == ["KR-0007"]
    notes = result.table.set_index(Col.ID).loc["KR-0007", Col.SYNC_NOTES]
    assert notes.endswith(
        "; Health: off track for 4 check-ins in a row; consider revisiting this KR"
    )
    report = result.extras["history"]
    assert (report.appended, report.revisit) == (19, ["KR-0007"])


def test_demo_digest_shows_history(demo: tuple[Path, SyncResult]) -> None:
    """The manager digest lists KR-0007 to revisit (not as a row problem) and celebrates
    the KRs moving up, at risk or not, but not KR-0012, on track yet down this week."""
    folder, _ = demo
    (path,) = (folder / "outbox").glob("digest_all_*.eml")
    text, html = parts(read_eml(path))
    tree = parse_html(html)
    assert kr_ids(section(tree, "revisit")) == ["KR-0007"]
    assert "Off track for 4 check-ins in a row" in text_of(section(tree, "revisit"))
    problems = text_of(section(tree, "problems"))
    assert '"on trak"' in problems
    assert "revisiting" not in problems
    wins = section(tree, "wins")
    for kr in ("KR-0002", "KR-0010"):  # at risk, but moving up
        cell = next(e for e in wins.iter("td") if e.get("data-kr") == kr)
        assert "moving up since the previous check-in" in text_of(cell)
    assert "KR-0012" not in kr_ids(wins)
    assert "KR-0007 · Tom Okafor · target not met · trend →" in text
    assert "Off track for 4 check-ins in a row" in text


def test_demo_second_sync_changes_nothing(demo: tuple[Path, SyncResult]) -> None:
    """Synced again on the same day: no cell written, nothing appended, the same Trends."""
    folder, _ = demo
    workbook = folder / "okrs.xlsx"
    before = workbook.read_bytes()
    again = sync(load_config(folder / "okrsync.toml"), today=DEMO_TODAY.date())
    assert again.changes == []
    assert again.extras["history"].appended == 0
    assert by_id(again, Col.TREND) == DEMO_TRENDS
    assert workbook.read_bytes() == before
