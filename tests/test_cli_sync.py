"""`okrsync sync` and `okrsync validate` through click's CliRunner on real workbooks."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from okrsync.cli import cli
from tests.helpers import HEADER, base_row, read_workbook

TODAY = "2026-11-16"


def rich_workbook(path: Path) -> Path:
    """A workbook as a team keeps it: formats, a formula, an unknown column, a second sheet."""
    header = [*HEADER[:6], "Notes", *HEADER[6:]]
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Check-ins"
    ws.append(header)
    rows = [
        base_row(ID="KR-0001", Current=40, Notes="keep me"),
        base_row(Current="abc", Notes=None),
        base_row(ID="KR-0005", Target=200, Current=None, Notes="=1+1"),
    ]
    for row in rows:
        ws.append([row.get(h) for h in header])
    ws["A1"].font = Font(bold=True)
    ws["C2"].fill = PatternFill("solid", start_color="FFFF00")
    ws.column_dimensions["C"].width = 42
    ws["K4"] = "=40*2"  # a formula in an owner column (Current)
    dv = DataValidation(type="list", formula1='"on track,at risk,off track"', allow_blank=True)
    ws.add_data_validation(dv)
    dv.add("L2:L100")
    other = wb.create_sheet("Read me")
    other["A1"] = "Owners: update your row every Monday."
    wb.save(path)
    return path


@pytest.fixture
def setup(tmp_path: Path, make_config: Callable[..., Path]) -> tuple[Path, Path]:
    workbook = rich_workbook(tmp_path / "okrs.xlsx")
    return workbook, make_config()


def invoke(runner: CliRunner, config: Path, *args: str) -> object:
    return runner.invoke(cli, ["--config", str(config), *args], catch_exceptions=False)


def test_sync_writes_computed_columns_and_leaves_owner_cells_alone(
    runner: CliRunner, setup: tuple[Path, Path]
) -> None:
    """Owner cells, formulas, formats, widths, validation, unknown columns and other sheets stay."""
    workbook, config = setup
    before = read_workbook(workbook)
    result = invoke(runner, config, "sync", "--today", TODAY)
    assert result.exit_code == 0, result.output
    after = read_workbook(workbook)
    owner_headers = [h for h in before[0] if h != "ID"]
    for old, new in zip(before, after, strict=True):
        assert {h: new[h] for h in owner_headers} == {h: old[h] for h in owner_headers}
    # Computed: row 2 is on track (0.4 vs 0.5055 expected is a 0.1055 gap -> at risk).
    assert after[0]["Progress"] == 0.4
    assert after[0]["Expected"] == 0.5055
    assert after[0]["Health"] == "at risk"
    assert after[0]["Next Check-in"] == dt.datetime(2026, 11, 17)
    assert after[0]["Days Since Check-in"] == 6
    assert after[1]["Sync Notes"] == 'Current: "abc" is not a number'
    assert after[1]["Health"] is None
    assert after[1]["Progress"] is None
    # Blank ID filled above the highest; existing IDs untouched.
    assert [r["ID"] for r in after] == ["KR-0001", "KR-0006", "KR-0005"]
    wb = openpyxl.load_workbook(workbook)
    ws = wb["Check-ins"]
    assert ws["K4"].value == "=40*2"
    assert ws["C2"].fill.start_color.rgb == "00FFFF00"
    assert ws.column_dimensions["C"].width == 42
    assert len(ws.data_validations.dataValidation) == 1
    assert wb["Read me"]["A1"].value == "Owners: update your row every Monday."
    headers = [c.value for c in ws[1]]
    assert headers[-8:] == [
        "Progress", "Expected", "Health", "Overdue", "Days Since Check-in",
        "Next Check-in", "Trend", "Sync Notes",
    ]  # fmt: skip
    progress = ws.cell(row=2, column=headers.index("Progress") + 1)
    assert progress.number_format == "0%"
    assert ws.cell(row=2, column=headers.index("Next Check-in") + 1).is_date


def test_second_sync_writes_nothing(runner: CliRunner, setup: tuple[Path, Path]) -> None:
    """With no edits, the second sync changes no cell and does not rewrite the file."""
    workbook, config = setup
    assert invoke(runner, config, "sync", "--today", TODAY).exit_code == 0
    stamp = workbook.stat().st_mtime_ns
    content = workbook.read_bytes()
    result = invoke(runner, config, "sync", "--today", TODAY, "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["cells_changed"] == 0
    assert workbook.stat().st_mtime_ns == stamp
    assert workbook.read_bytes() == content


def test_dry_run_changes_nothing_and_lists_the_cells(
    runner: CliRunner, setup: tuple[Path, Path]
) -> None:
    workbook, config = setup
    content = workbook.read_bytes()
    result = invoke(runner, config, "sync", "--today", TODAY, "--dry-run")
    assert result.exit_code == 0
    assert workbook.read_bytes() == content
    assert "Dry run: would write" in result.output
    assert "row 2, Progress: None -> 0.4" in result.output


def test_json_summary(runner: CliRunner, setup: tuple[Path, Path]) -> None:
    """--json prints one JSON document with the counts and the problems by row."""
    _, config = setup
    result = invoke(runner, config, "sync", "--today", TODAY, "--json")
    summary = json.loads(result.stdout)
    assert summary["rows"] == 3
    assert summary["rows_with_errors"] == 1
    # Row 2: 0.4 against 0.5055 expected is at risk; row 4 has no Current yet: off track.
    assert summary["health"] == {"done": 0, "on track": 0, "at risk": 1, "off track": 1}
    assert summary["ids_filled"] == ["KR-0006"]
    assert summary["problems"] == [
        {
            "row": 3,
            "column": "Current",
            "value": "abc",
            "message": 'Current: "abc" is not a number',
            "severity": "error",
        }
    ]


def test_validate_writes_nothing_and_reports_problems(
    runner: CliRunner, setup: tuple[Path, Path]
) -> None:
    workbook, config = setup
    content = workbook.read_bytes()
    result = invoke(runner, config, "validate", "--today", TODAY)
    assert result.exit_code == 0
    assert workbook.read_bytes() == content
    assert 'row 3, Current: "abc" is not a number' in result.output


def test_today_from_environment(runner: CliRunner, setup: tuple[Path, Path]) -> None:
    """OKRSYNC_TODAY fixes today like --today does."""
    _, config = setup
    result = runner.invoke(
        cli, ["--config", str(config), "validate", "--json"], env={"OKRSYNC_TODAY": "2026-10-05"}
    )
    assert json.loads(result.stdout)["today"] == "2026-10-05"


def test_config_from_environment(runner: CliRunner, setup: tuple[Path, Path]) -> None:
    _, config = setup
    result = runner.invoke(
        cli, ["validate", "--today", TODAY, "--json"], env={"OKRSYNC_CONFIG": str(config)}
    )
    assert result.exit_code == 0
    assert json.loads(result.stdout)["rows"] == 3


def test_text_that_looks_like_a_formula_is_written_as_text(
    tmp_path: Path, make_config: Callable[..., Path], runner: CliRunner
) -> None:
    """An ID typed as '=cmd' stays text; okrsync never writes a formula."""
    from okrsync.backends.base import CellChange
    from okrsync.backends.xlsx import XlsxBackend
    from okrsync.config import load_config

    workbook = rich_workbook(tmp_path / "okrs.xlsx")
    backend = XlsxBackend(load_config(make_config()).sheet)
    backend.write([CellChange(2, 30, "Sync Notes", '=HYPERLINK("http://x","y")')])
    cell = openpyxl.load_workbook(workbook)["Check-ins"].cell(row=2, column=30)
    assert cell.data_type == "s"
    assert cell.value == '=HYPERLINK("http://x","y")'


# --- failures: one sentence, the documented exit code -------------------------------


def test_missing_config(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["--config", str(tmp_path / "nope.toml"), "sync"])
    assert result.exit_code == 2
    assert "Config file" in result.stderr
    assert "not found" in result.stderr
    assert "okrsync init" in result.stderr
    assert "Traceback" not in result.output


def test_bad_config_names_the_key(
    runner: CliRunner, setup: tuple[Path, Path], make_config: Callable[..., Path]
) -> None:
    config = make_config(cycle={"strat": dt.date(2026, 10, 1)})
    result = runner.invoke(cli, ["--config", str(config), "sync"])
    assert result.exit_code == 2
    assert "[cycle] unknown key 'strat' (did you mean 'start'?)" in result.stderr


def test_invalid_toml(runner: CliRunner, tmp_path: Path) -> None:
    config = tmp_path / "okrsync.toml"
    config.write_text("[sheet\n")
    result = runner.invoke(cli, ["--config", str(config), "sync"])
    assert result.exit_code == 2
    assert "is not valid TOML" in result.stderr


def test_missing_workbook(runner: CliRunner, make_config: Callable[..., Path]) -> None:
    result = runner.invoke(cli, ["--config", str(make_config()), "sync", "--today", TODAY])
    assert result.exit_code == 2
    assert "okrs.xlsx not found" in result.stderr
    assert "[sheet] path" in result.stderr


def test_corrupt_workbook(
    runner: CliRunner, tmp_path: Path, make_config: Callable[..., Path]
) -> None:
    (tmp_path / "okrs.xlsx").write_bytes(b"PK\x03\x04 this is not a zip")
    result = runner.invoke(cli, ["--config", str(make_config()), "sync", "--today", TODAY])
    assert result.exit_code == 1
    assert "is not a readable .xlsx file" in result.stderr
    assert (tmp_path / "okrs.xlsx").read_bytes() == b"PK\x03\x04 this is not a zip"


def test_missing_worksheet_lists_the_ones_that_exist(
    runner: CliRunner, setup: tuple[Path, Path], make_config: Callable[..., Path]
) -> None:
    config = make_config(sheet={"worksheet": "Checkins"})
    result = runner.invoke(cli, ["--config", str(config), "sync", "--today", TODAY])
    assert result.exit_code == 2
    assert 'no worksheet "Checkins"' in result.stderr
    assert '"Check-ins", "Read me"' in result.stderr


@pytest.mark.parametrize("value", ["2026-13-01", "yesterday", "16/11/2026"])
def test_bad_today(runner: CliRunner, setup: tuple[Path, Path], value: str) -> None:
    _, config = setup
    result = runner.invoke(cli, ["--config", str(config), "sync", "--today", value])
    assert result.exit_code == 2
    assert "is not a date; use YYYY-MM-DD" in result.stderr


def test_workbook_open_in_another_program_is_left_alone(
    runner: CliRunner, setup: tuple[Path, Path]
) -> None:
    """A LibreOffice lock file means someone is editing: exit 1, file unchanged."""
    workbook, config = setup
    lock = workbook.with_name(f".~lock.{workbook.name}#")
    lock.write_text("someone,host,2026-11-16")
    content = workbook.read_bytes()
    result = invoke(runner, config, "sync", "--today", TODAY)
    assert result.exit_code == 1
    assert "is open in another program" in result.stderr
    assert workbook.read_bytes() == content


def test_failed_save_leaves_the_workbook_as_it_was(
    runner: CliRunner, setup: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk at the moment of saving: exit 1, original whole, no temporary file left."""
    workbook, config = setup
    content = workbook.read_bytes()

    def disk_full(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    # A full disk cannot be made here; everything up to the final rename is real.
    monkeypatch.setattr("okrsync.backends.xlsx.os.replace", disk_full)
    result = invoke(runner, config, "sync", "--today", TODAY)
    assert result.exit_code == 1
    assert "could not be saved (No space left on device); it is unchanged" in result.stderr
    assert workbook.read_bytes() == content
    leftover = sorted(p.name for p in workbook.parent.iterdir())
    assert leftover == [".okrsync", "okrs.xlsx", "okrsync.toml"]  # the state dir, no temp file


def test_json_log_lines_on_stderr(runner: CliRunner, setup: tuple[Path, Path]) -> None:
    """--log-format json writes one JSON object per log line to stderr; stdout stays clean."""
    _, config = setup
    result = runner.invoke(
        cli, ["--config", str(config), "--log-format", "json", "sync", "--today", TODAY, "--json"]
    )
    assert result.exit_code == 0
    records = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    assert any("read 3 KRs" in r["message"] for r in records)
    assert json.loads(result.stdout)["rows"] == 3


def test_quiet_prints_nothing_on_success(runner: CliRunner, setup: tuple[Path, Path]) -> None:
    _, config = setup
    result = runner.invoke(cli, ["--config", str(config), "-q", "sync", "--today", TODAY])
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == ""


def test_damaged_worksheet_is_one_sentence(runner: CliRunner, setup: tuple[Path, Path]) -> None:
    """A worksheet part that is not XML: exit 1 and what to do, not a parser traceback."""
    import zipfile

    workbook, config = setup
    with zipfile.ZipFile(workbook) as zf:
        parts = {i.filename: zf.read(i) for i in zf.infolist()}
    parts["xl/worksheets/sheet1.xml"] = parts["xl/worksheets/sheet1.xml"][:300]
    with zipfile.ZipFile(workbook, "w") as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    result = invoke(runner, config, "sync", "--today", TODAY)
    assert result.exit_code == 1
    assert "has a damaged worksheet" in result.stderr
    assert "unexpectedly" not in result.stderr


def test_validate_json_is_not_a_dry_run(runner: CliRunner, setup: tuple[Path, Path]) -> None:
    _, config = setup
    result = invoke(runner, config, "validate", "--today", TODAY, "--json")
    summary = json.loads(result.stdout)
    assert summary["dry_run"] is False
    assert "would_write" not in summary
    assert summary["cells_changed"] == 0


def test_percent_cell_is_quoted_as_the_sheet_shows_it(tmp_path: Path) -> None:
    """Sync Notes quote a percent-formatted cell as 50%, never as Percent(0.5)."""
    from okrsync.backends.base import Percent
    from tests.helpers import run_rows

    row = base_row(Start=Percent(0.5), Target=Percent(0.5))
    _, checked = run_rows([row], dt.date(2026, 11, 16))
    assert checked.notes.iloc[0] == (
        'Target: "50%" equals Start; there is nothing to progress toward'
    )
