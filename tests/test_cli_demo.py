"""`okrsync demo`: the bundled example, synced in a scratch folder, offline."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from okrsync.cli import cli
from tests.helpers import read_workbook


def test_demo_syncs_the_example_and_says_where_to_look(runner: CliRunner, tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    result = runner.invoke(cli, ["demo", "--dir", str(folder)])
    assert result.exit_code == 0, result.output
    assert f"Demo folder: {folder}" in result.stdout
    assert "okrs.xlsx" in result.stdout
    assert "outbox" in result.stdout
    rows = read_workbook(folder / "okrs.xlsx")
    assert all(r["ID"] for r in rows)  # blank IDs were filled
    assert {r["Health"] for r in rows} >= {"on track", "at risk", "off track", "done"}
    assert any(r["Sync Notes"] for r in rows)
    assert list((folder / "outbox").glob("digest_*.eml"))


def test_demo_refuses_a_folder_with_files(runner: CliRunner, tmp_path: Path) -> None:
    """The demo never overwrites: a non-empty folder is a usage error."""
    (tmp_path / "keep.txt").write_text("mine")
    result = runner.invoke(cli, ["demo", "--dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "is not empty" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


def test_demo_json(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["demo", "--dir", str(tmp_path / "d"), "--json"])
    summary = json.loads(result.stdout)
    assert summary["today"] == "2026-11-16"
    assert summary["rows"] == 26
