"""okrsync: turn a shared OKR check-in spreadsheet into a working check-in system.

The library API behind the ``okrsync`` command::

    import datetime, okrsync
    config = okrsync.load_config("config/okrsync.toml")
    result = okrsync.sync(config, today=datetime.date.today())
"""

from __future__ import annotations

from okrsync.config import Config, load_config
from okrsync.errors import ConfigError, OkrsyncError, RowIssue, SheetError
from okrsync.pipeline import SyncResult, check, sync

__version__ = "0.1.0"

__all__ = [
    "Config",
    "ConfigError",
    "OkrsyncError",
    "RowIssue",
    "SheetError",
    "SyncResult",
    "check",
    "load_config",
    "sync",
]
