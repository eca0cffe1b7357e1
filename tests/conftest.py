"""Fixtures shared by the whole suite. Everything runs on real files under tmp_path."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.helpers import HEADER, config_dict, dump_toml, write_workbook

# Fixture modules, one per kind of real server the tests start.
pytest_plugins = ["tests.fixtures_sheets", "tests.fixtures_smtp", "tests.fixtures_backends"]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def make_workbook(tmp_path: Path) -> Callable[..., Path]:
    """Write a check-in workbook: ``make_workbook(rows, header=..., name="okrs.xlsx")``."""

    def make(
        rows: Sequence[Mapping[str, Any]],
        header: Sequence[str] = HEADER,
        name: str = "okrs.xlsx",
    ) -> Path:
        return write_workbook(tmp_path / name, rows, header)

    return make


@pytest.fixture
def make_config(tmp_path: Path) -> Callable[..., Path]:
    """Write ``okrsync.toml`` beside the workbook: ``make_config(sheet={...}, ...)``."""

    def make(name: str = "okrsync.toml", **sections: Any) -> Path:
        path = tmp_path / name
        path.write_text(dump_toml(config_dict(**sections)), encoding="utf-8")
        return path

    return make


@pytest.fixture
def monday() -> dt.date:
    """A Monday inside the test cycle (2026-10-01 .. 2026-12-31)."""
    return dt.date(2026, 11, 16)
