"""Sheet backends: where the check-in table lives. See :mod:`okrsync.backends.base`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from okrsync.backends.base import CellChange, Percent, SheetBackend, SheetTable

if TYPE_CHECKING:
    from okrsync.config import Config

__all__ = ["CellChange", "Percent", "SheetBackend", "SheetTable", "open_backend"]


def open_backend(config: Config) -> SheetBackend:
    """Return the backend the config names; the Google one is imported only when used."""
    if config.sheet.backend == "gsheets":
        from okrsync.backends.gsheets import GSheetsBackend

        return GSheetsBackend(config.sheet)
    from okrsync.backends.xlsx import XlsxBackend

    return XlsxBackend(config.sheet)
