"""``okrsync demo``: the bundled example team, copied into a scratch folder and synced.

Needs no account and no network: a local workbook, emails written as files.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from importlib import resources
from pathlib import Path

from okrsync.config import Config, load_config
from okrsync.errors import ConfigError

__all__ = ["DEMO_TODAY", "prepare_demo"]

#: A Monday inside the example's cycle, so the digest is due and a few check-ins are late.
DEMO_TODAY = dt.date(2026, 11, 16)


def prepare_demo(directory: Path | None = None) -> Config:
    """Copy the example workbook and config into ``directory`` and load that config.

    :param directory: an empty or new folder; default a new temporary folder.
    :raises ConfigError: ``directory`` exists and is not empty (nothing is overwritten).
    """
    if directory is None:
        directory = Path(tempfile.mkdtemp(prefix="okrsync-demo-"))
    elif directory.exists() and any(directory.iterdir()):
        raise ConfigError(
            f"Demo folder {directory} is not empty; pass --dir with a new folder "
            "(the demo never overwrites files)."
        )
    directory.mkdir(parents=True, exist_ok=True)
    data = resources.files("okrsync") / "data"
    (directory / "okrs.xlsx").write_bytes((data / "example.xlsx").read_bytes())
    config_file = directory / "okrsync.toml"
    config_file.write_text((data / "example.toml").read_text(encoding="utf-8"), encoding="utf-8")
    return load_config(config_file)
