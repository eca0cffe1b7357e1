"""``okrsync setup`` on both backends: what a set-up sheet has, and that it is safe to repeat.

Each test runs on a real workbook in tmp_path and on the Sheets API emulator over real
HTTP, and reads the result back through :mod:`tests.setup_views`.
"""

from __future__ import annotations

import datetime as dt
import itertools
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from lxml import etree
from sheets_emulator import Emulator

from okrsync.backends.xlsx_package import MAIN
from okrsync.backends.xlsx_setup import _freeze
from okrsync.columns import COMPUTED_COLUMNS, Col, Health, KrType
from okrsync.config import load_config
from okrsync.errors import SheetLayoutError
from okrsync.pipeline import sync
from okrsync.setup import HEALTH_COLOURS, OVERDUE_COLOUR, plan_setup, setup
from tests.helpers import base_row, write_workbook
from tests.setup_views import GSheetView, SheetView, XlsxView

TODAY = dt.date(2026, 11, 16)
# A team's sheet: some contract columns, one of its own (Notes), no computed ones yet.
HEADER = [
    "ID", "Objective", "Key Result", "Owner", "Owner Email", "Type", "Start", "Target",
    "Current", "Owner Health", "Notes", "Check-in Date", "Cadence",
]  # fmt: skip
ADDED = [
    "Team", "Comment", "Blockers", "Next Steps", "Due Date", "Progress", "Expected", "Health",
    "Overdue", "Days Since Check-in", "Next Check-in", "Trend", "Sync Notes",
]  # fmt: skip
ROWS = [
    base_row(ID="KR-0001", Type="increase", Owner_Health="on track", Notes="keep me"),
    base_row(ID="KR-0002", Key_Result="Ship the app", Type="boolean", Current="no", Target=None),
]


def column(name: str) -> int:
    return [*HEADER, *ADDED].index(name) + 1


SheetMaker = Callable[..., SheetView]


@pytest.fixture
def xlsx_sheet(tmp_path: Path, make_config: Callable[..., Path]) -> SheetMaker:
    """``xlsx_sheet(rows, header, **sheet)``: a workbook in tmp_path and its config."""

    def make(
        rows: Sequence[dict[str, Any]] = ROWS, header: Sequence[str] = HEADER, **sheet: Any
    ) -> XlsxView:
        path = write_workbook(tmp_path / "okrs.xlsx", rows, header)
        return XlsxView(path, make_config(sheet=sheet))

    return make


@pytest.fixture
def gsheet(
    sheets_emulator: Emulator, make_config: Callable[..., Path], fast_sheets_retries: None
) -> SheetMaker:
    """``gsheet(rows, header, **sheet)``: a spreadsheet on the emulator and its config.
    The grid is 40 x 14, so that the new columns must be added to it."""

    def make(
        rows: Sequence[dict[str, Any]] = ROWS, header: Sequence[str] = HEADER, **sheet: Any
    ) -> GSheetView:
        grid = [list(header), *([r.get(h) for h in header] for r in rows)]
        key = sheets_emulator.add_spreadsheet("Team OKRs", {"Check-ins": grid}, rows=40, cols=14)
        config = make_config(
            sheet={
                "backend": "gsheets",
                "spreadsheet": key,
                "api_endpoint": sheets_emulator.url,
                **sheet,
            }
        )
        return GSheetView(sheets_emulator, key, config)

    return make


@pytest.fixture(params=["xlsx", "gsheets"])
def make_sheet(request: pytest.FixtureRequest) -> SheetMaker:
    """The same check-in sheet on each backend in turn."""
    return request.getfixturevalue("xlsx_sheet" if request.param == "xlsx" else "gsheet")


def expected_state(view: SheetView) -> dict[str, Any]:
    """What every set-up sheet of this layout has, in the views' terms."""
    plan = plan_setup(load_config(view.config))
    helps = {spec.column: spec.validation.help for spec in plan.columns if spec.validation}
    return {
        "header": [*HEADER, *ADDED],
        "frozen": 1,
        "validations": {
            column("Type"): ("list", tuple(KrType), True, helps[Col.TYPE]),
            column("Owner Health"): (
                "list",
                ("on track", "at risk", "off track"),
                True,
                helps[Col.OWNER_HEALTH],
            ),
            column("Check-in Date"): ("date", (), False, helps[Col.CHECKIN_DATE]),
            column("Cadence"): (
                "list",
                ("weekly", "biweekly", "monthly"),
                False,
                helps[Col.CADENCE],
            ),
            column("Due Date"): ("date", (), False, helps[Col.DUE_DATE]),
        },
        "notes": {column(c.value): plan.spec(c).note for c in COMPUTED_COLUMNS},
        "formats": {
            column("Check-in Date"): "date",
            column("Due Date"): "date",
            column("Progress"): "percent",
            column("Expected"): "percent",
            column("Days Since Check-in"): "integer",
            column("Next Check-in"): "date",
        },
        "colours": {
            column("Health"): sorted(h.value for h in Health),
            column("Overdue"): ["yes"],
        },
        "protected": [(column("Progress"), column("Sync Notes"))],
    }


def state_of(view: SheetView) -> dict[str, Any]:
    return {
        "header": view.values()[0],
        "frozen": view.frozen_rows(),
        "validations": view.validations(),
        "notes": view.notes(),
        "formats": view.formats(),
        "colours": view.colours(),
        "protected": view.protected(),
    }


# --- what setup gives a sheet -------------------------------------------------------------


def test_setup_gives_the_sheet_what_owners_need(make_sheet: SheetMaker) -> None:
    """Headers in contract order at the right, a frozen header, dropdowns and date checks
    with help text, number formats, colours, protected computed columns, header notes."""
    view = make_sheet()
    result = setup(load_config(view.config))
    assert not result.dry_run
    assert state_of(view) == expected_state(view)
    widths = view.widths()
    for spec in plan_setup(load_config(view.config)).columns:
        want = spec.width if view.kind == "xlsx" else spec.pixels
        assert widths[column(spec.column.value)] == want, spec.column


def test_a_second_setup_changes_nothing(make_sheet: SheetMaker, sheets_emulator: Emulator) -> None:
    """No duplicated rules, validations or protected ranges; gsheets sends no write at all."""
    view = make_sheet()
    config = load_config(view.config)
    first = setup(config).changes
    counts = view.counts()
    before = view.fingerprint()
    sheets_emulator.clear_log()
    assert setup(config).changes == []
    assert view.counts() == counts
    assert view.fingerprint() == before
    assert "spreadsheets.batchUpdate" not in [c.api for c in sheets_emulator.api_calls()]
    assert len(first) > 10


def test_owner_cells_are_untouched(make_sheet: SheetMaker) -> None:
    """Every value an owner typed (the team's own Notes column too) reads the same."""
    view = make_sheet()
    before = _owner_part(view.values())
    setup(load_config(view.config))
    assert _owner_part(view.values()) == before
    assert before[1][HEADER.index("Notes")] == "keep me"


def _owner_part(rows: list[list[Any]]) -> list[list[Any]]:
    """The rows cut (or padded) to the owners' original columns."""
    width = len(HEADER)
    return [([*r, *[None] * width])[:width] for r in rows]


def test_both_backends_report_the_same_changes(
    tmp_path: Path, make_config: Callable[..., Path], sheets_emulator: Emulator
) -> None:
    """The list of changes is the plan's, not the backend's: the same sheet, the same list."""
    write_workbook(tmp_path / "okrs.xlsx", ROWS, HEADER)
    on_xlsx = setup(load_config(make_config())).changes
    grid = [HEADER, *([r.get(h) for h in HEADER] for r in ROWS)]
    key = sheets_emulator.add_spreadsheet("T", {"Check-ins": grid}, rows=40, cols=14)
    config = make_config(
        "g.toml",
        sheet={"backend": "gsheets", "spreadsheet": key, "api_endpoint": sheets_emulator.url},
    )
    assert setup(load_config(config)).changes == on_xlsx
    assert on_xlsx[:2] == ['add header "Team" in column N', 'add header "Comment" in column O']
    assert "freeze the header row" in on_xlsx
    assert "protect the computed columns S–Z (a warning, no password)" in on_xlsx


def test_dry_run_lists_the_changes_and_changes_nothing(
    make_sheet: SheetMaker, sheets_emulator: Emulator
) -> None:
    view = make_sheet()
    config = load_config(view.config)
    before = view.fingerprint()
    sheets_emulator.clear_log()
    planned = setup(config, dry_run=True)
    assert planned.dry_run
    assert view.fingerprint() == before
    assert "spreadsheets.batchUpdate" not in [c.api for c in sheets_emulator.api_calls()]
    assert setup(config).changes == planned.changes


# --- a set-up sheet still syncs -------------------------------------------------------------


def test_sync_writes_the_protected_columns_and_stays_idempotent(
    make_sheet: SheetMaker,
) -> None:
    """Protection warns people; okrsync's own writes go through, and nothing repeats."""
    view = make_sheet()
    config = load_config(view.config)
    setup(config)
    first = sync(config, today=TODAY)
    assert first.changes
    assert not first.dry_run
    rows = view.values()
    header = rows[0]
    health = [r[header.index("Health")] for r in rows[1:3]]
    progress = [r[header.index("Progress")] for r in rows[1:3]]
    assert health == ["on track", "off track"]
    assert progress == [0.5, 0]
    assert sync(config, today=TODAY).changes == []
    assert setup(config).changes == []
    assert state_of(view) == expected_state(view)


def test_xlsx_cells_written_by_a_sync_stay_locked_and_owner_cells_stay_editable(
    xlsx_sheet: SheetMaker,
) -> None:
    """Cell locks are the workbook's way to protect (Google Sheets protects a range)."""
    view = xlsx_sheet()
    assert isinstance(view, XlsxView)
    config = load_config(view.config)
    setup(config)
    sync(config, today=TODAY)
    ws = openpyxl.load_workbook(view.path)["Check-ins"]
    assert ws.protection.sheet
    computed = range(column("Progress"), column("Sync Notes") + 1)
    for row in ws.iter_rows(min_row=1, max_row=3):
        for cell in row:
            if cell.has_style or cell.value is not None:
                assert cell.protection.locked == (cell.column in computed), cell.coordinate
    assert ws.cell(2, column("Progress")).number_format == "0%"
    assert ws.cell(2, column("Next Check-in")).number_format == "yyyy-mm-dd"


# --- what is already there is respected -------------------------------------------------------


def test_an_existing_validation_is_replaced_not_doubled(
    tmp_path: Path, make_config: Callable[..., Path]
) -> None:
    """Excel refuses overlapping validations: the bundled example's own Type dropdown on
    G2:G500 gives way to setup's, and nothing else overlaps."""
    import shutil
    from importlib import resources

    shutil.copyfile(resources.files("okrsync") / "data" / "example.xlsx", tmp_path / "okrs.xlsx")
    setup(load_config(make_config()))
    ws = openpyxl.load_workbook(tmp_path / "okrs.xlsx")["Check-ins"]
    cells: dict[tuple[int, int], int] = {}
    for dv in ws.data_validations.dataValidation:
        for r in dv.sqref:
            for col in range(r.min_col, r.max_col + 1):
                for row in (1, 2, 500, 501):
                    if r.min_row <= row <= r.max_row:
                        cells[col, row] = cells.get((col, row), 0) + 1
    assert max(cells.values()) == 1
    assert cells[7, 2] == cells[7, 501] == 1  # Type, now to the sheet's last row


def test_a_changed_config_rewrites_its_notes_in_place(make_sheet: SheetMaker) -> None:
    """The notes quote the health gaps: after a config change the next setup replaces the
    Health note, and adds nothing beside it."""
    view = make_sheet()
    setup(load_config(view.config))
    counts = view.counts()
    text = view.config.read_text(encoding="utf-8")
    text = text.replace('["cycle"]', '["health"]\n"at_risk_gap" = 0.05\n["cycle"]', 1)
    view.config.write_text(text, encoding="utf-8")
    assert setup(load_config(view.config)).changes == [
        "add a note on how it is computed to the headers of Health (U)"
    ]
    assert "up to 0.05 on track" in view.notes()[column("Health")]
    assert view.counts() == counts


def test_widths_someone_chose_are_kept(make_sheet: SheetMaker) -> None:
    view = make_sheet()
    if isinstance(view, XlsxView):
        wb = openpyxl.load_workbook(view.path)
        wb["Check-ins"].column_dimensions["B"].width = 61
        wb.save(view.path)
        chosen: float = 61
    else:
        assert isinstance(view, GSheetView)
        view.sheet.col_meta[1] = {"pixelSize": 333}
        chosen = 333
    setup(load_config(view.config))
    assert view.widths()[2] == chosen


def test_a_teams_own_date_format_is_kept(tmp_path: Path, make_config: Callable[..., Path]) -> None:
    path = write_workbook(tmp_path / "okrs.xlsx", ROWS, HEADER)
    wb = openpyxl.load_workbook(path)
    wb["Check-ins"].cell(2, column("Check-in Date")).number_format = "dd/mm/yyyy"
    wb["Check-ins"].cell(3, column("Check-in Date")).value = 46300  # a date typed as a number
    wb.save(path)
    setup(load_config(make_config()))
    ws = openpyxl.load_workbook(path)["Check-ins"]
    assert ws.cell(2, column("Check-in Date")).number_format == "dd/mm/yyyy"
    assert ws.cell(3, column("Check-in Date")).number_format == "yyyy-mm-dd"


def test_an_owner_formula_keeps_its_saved_result(
    tmp_path: Path, make_config: Callable[..., Path]
) -> None:
    """Setup writes XML, never re-saves with openpyxl: a formula's cached result survives."""
    path = write_workbook(tmp_path / "okrs.xlsx", ROWS, HEADER)
    with zipfile.ZipFile(path) as zf:
        parts = {i.filename: zf.read(i) for i in zf.infolist()}
    sheet = parts["xl/worksheets/sheet1.xml"].replace(
        b'<c r="I2" t="n"><v>50</v></c>', b'<c r="I2"><f>20+30</f><v>50</v></c>'
    )
    assert sheet != parts["xl/worksheets/sheet1.xml"]
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in parts.items():
            zf.writestr(name, sheet if name == "xl/worksheets/sheet1.xml" else data)
    setup(load_config(make_config()))
    assert openpyxl.load_workbook(path, data_only=True)["Check-ins"]["I2"].value == 50
    assert openpyxl.load_workbook(path)["Check-ins"]["I2"].value == "=20+30"
    with zipfile.ZipFile(path) as zf:
        changed = {i.filename for i in zf.infolist() if zf.read(i) != parts[i.filename]}
    assert changed == {"xl/worksheets/sheet1.xml", "xl/styles.xml"}


def test_gsheets_setup_is_three_reads_and_one_batch(gsheet: SheetMaker) -> None:
    view = gsheet()
    assert isinstance(view, GSheetView)
    view.emu.clear_log()
    setup(load_config(view.config))
    assert [c.api for c in view.emu.api_calls()] == [
        "spreadsheets.get",
        "spreadsheets.get",
        "spreadsheets.get",
        "spreadsheets.batchUpdate",
    ]
    # The whole set-up, new columns included, went in one batch that Google would accept.
    assert all(c.status == 200 for c in view.emu.api_calls())


def test_gsheets_keeps_one_protected_range_per_run_of_computed_columns(
    gsheet: SheetMaker,
) -> None:
    """A copy of okrsync's protected range (or one left by an older layout) is cleaned up."""
    view = gsheet()
    assert isinstance(view, GSheetView)
    config = load_config(view.config)
    setup(config)
    copy = dict(view.sheet.protected_ranges[0])
    view.sheet.protected_ranges.append(copy | {"protectedRangeId": 99, "range": {"sheetId": 0}})
    assert setup(config).changes == [
        "move the protection to the computed columns S–Z (a warning, no password)"
    ]
    assert view.protected() == [(column("Progress"), column("Sync Notes"))]
    assert view.counts()["protections"] == 1


def test_gsheets_puts_back_a_rule_lost_by_a_paste(gsheet: SheetMaker) -> None:
    """Pasting over cells drops their validation in Google Sheets; setup notices it in any
    row, not only the first, and sets the column's rule again (replacing, not adding)."""
    view = gsheet()
    assert isinstance(view, GSheetView)
    config = load_config(view.config)
    setup(config)
    sheet = view.sheet
    row, col = 30, column("Type") - 1
    cell = dict(sheet.get(row, col) or {})
    del cell["dataValidation"]
    sheet.put(row, col, cell or None)
    assert setup(config).changes == [
        "add a dropdown with help text to Type (column F): "
        "increase, decrease, at least, at most, boolean, percent"
    ]
    assert view.validations()[column("Type")][0] == "list"
    assert setup(config).changes == []


# --- refusals -------------------------------------------------------------------------------


def test_a_missing_worksheet_is_named(make_sheet: SheetMaker) -> None:
    view = make_sheet(worksheet="KRs")
    with pytest.raises(SheetLayoutError, match=r'no worksheet "KRs" \(it has "Check-ins"\)'):
        setup(load_config(view.config))


def test_two_headers_for_one_column_are_refused(make_sheet: SheetMaker) -> None:
    view = make_sheet(header=[*HEADER, "current"])
    with pytest.raises(SheetLayoutError, match="two Current columns"):
        setup(load_config(view.config))


# --- the plan -------------------------------------------------------------------------------


def _luminance(hex_colour: str) -> float:
    def channel(v: int) -> float:
        c = v / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    h = hex_colour.lstrip("#")
    r, g, b = (channel(int(h[i : i + 2], 16)) for i in (0, 2, 4))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize(
    "colour",
    [*HEALTH_COLOURS.values(), OVERDUE_COLOUR],
    ids=[*(h.value for h in HEALTH_COLOURS), "overdue"],
)
def test_colours_are_readable(colour: Any) -> None:
    """Text on each fill meets WCAG AA (4.5:1); the words stay, colour is never the only cue."""
    assert _contrast(colour.text, colour.fill) >= 4.5


def test_health_fills_differ_in_lightness_not_only_in_hue() -> None:
    """Seen without colour (or with red-green colour blindness) the fills stay apart:
    every two differ in lightness, and off track is by far the darkest."""
    fills = {h: c.fill for h, c in HEALTH_COLOURS.items()}
    for a, b in itertools.combinations(fills.values(), 2):
        assert _contrast(a, b) >= 1.15, (a, b)
    darkest = min(fills, key=lambda h: _luminance(fills[h]))
    assert darkest == Health.OFF_TRACK
    assert all(_contrast(fills[darkest], f) >= 3 for h, f in fills.items() if h != darkest)


def test_texts_fit_the_spreadsheet_limits(make_config: Callable[..., Path]) -> None:
    """Excel cuts prompts at 255 characters and titles at 32."""
    plan = plan_setup(load_config(make_config()))
    for spec in plan.columns:
        assert len(spec.column.value) <= 32
        if spec.validation:
            assert 0 < len(spec.validation.help) <= 255
        if spec.note:
            assert len(spec.note) <= 255
    assert {s.column for s in plan.columns if s.note} == set(COMPUTED_COLUMNS)


def test_notes_quote_the_config(make_config: Callable[..., Path]) -> None:
    config = load_config(
        make_config(
            health={"at_risk_gap": 0.05, "off_track_gap": 0.2}, cycle={"default_cadence": "monthly"}
        )
    )
    plan = plan_setup(config)
    assert "up to 0.05 on track, up to 0.20 at risk" in (plan.spec(Col.HEALTH).note or "")
    assert "Blank: monthly." in plan.spec(Col.CADENCE).validation.help  # type: ignore[union-attr]


def test_freezing_keeps_frozen_columns() -> None:
    root = etree.fromstring(
        f'<worksheet xmlns="{MAIN}"><sheetViews><sheetView workbookViewId="0">'
        '<pane xSplit="2" topLeftCell="C1" activePane="topRight" state="frozen"/>'
        "</sheetView></sheetViews><sheetData/></worksheet>"
    )
    assert _freeze(root, 1)
    pane = root.find(f".//{{{MAIN}}}pane")
    assert pane is not None
    assert dict(pane.attrib) == {
        "xSplit": "2",
        "ySplit": "1",
        "topLeftCell": "C2",
        "activePane": "bottomRight",
        "state": "frozen",
    }
    assert not _freeze(root, 1)


def test_setup_adds_columns_right_of_an_owners_unheaded_column(make_sheet: SheetMaker) -> None:
    """A column of notes without a header keeps its cells; the new headers go after it."""
    view = make_sheet([{**ROWS[0], "": "my private note"}], [*HEADER, ""])
    setup(load_config(view.config))
    values = view.values()
    assert values[0][: len(HEADER)] == list(HEADER)
    assert values[0][len(HEADER)] in (None, "")
    assert values[1][len(HEADER)] == "my private note"
    assert values[0][len(HEADER) + 1 :][: len(ADDED)] == list(ADDED)
