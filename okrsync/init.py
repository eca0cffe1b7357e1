"""``okrsync init``: a working set-up for a new team, without overwriting anything.

It writes a commented ``okrsync.toml`` (from the template ``okrsync/data/init.toml``:
this calendar quarter as the cycle, the contract's defaults) and, for the local-workbook
backend, a check-in workbook ``okrs.xlsx`` with the headers (owner columns, then
okrsync's columns, in the contract's order) and two example rows, already prepared by
``okrsync setup``. ``--backend gsheets`` writes a config stub for Google Sheets instead.

A file that exists is never touched: it is reported as kept. That is what makes
``okrsync init config`` safe in a checkout whose ``config/okrsync.toml`` is already
there; the workbook is then made where that config's ``[sheet] path`` points.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import string
import tempfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from okrsync.columns import COMPUTED_COLUMNS, OWNER_COLUMNS, Col
from okrsync.config import DEFAULT_CONFIG_PATH, BackendKind, Config, load_config
from okrsync.errors import ConfigError

__all__ = ["InitResult", "init", "quarter_of", "render_config", "shown_path"]

WORKBOOK_NAME = "okrs.xlsx"
CREATED = "created"
KEPT = "kept"

# Header fills: owners' columns light blue, okrsync's light grey, as in the bundled example.
OWNER_FILL = "DDEBF7"
COMPUTED_FILL = "E7E6E6"


@dataclass
class InitResult:
    """What ``okrsync init`` found and made.

    :param files: each file of the set-up and whether it was ``created`` or ``kept``.
    :param next_steps: what to do now, in order, as sentences.
    :param notes: anything worth saying about a kept file (e.g. a config with problems).
    """

    directory: Path
    backend: BackendKind
    config: Path
    workbook: Path | None
    files: list[tuple[Path, str]]
    next_steps: list[str]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (what ``--json`` prints)."""
        return {
            "directory": str(self.directory),
            "backend": self.backend.value,
            "config": str(self.config),
            "workbook": str(self.workbook) if self.workbook else None,
            "files": [{"path": str(p), "status": s} for p, s in self.files],
            "notes": list(self.notes),
            "next_steps": list(self.next_steps),
        }


def quarter_of(day: dt.date) -> tuple[dt.date, dt.date]:
    """The calendar quarter ``day`` falls in: ``(first day, last day)``.

    >>> quarter_of(dt.date(2026, 11, 16))
    (datetime.date(2026, 10, 1), datetime.date(2026, 12, 31))
    """
    first = dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    after = dt.date(first.year + first.month // 10, (first.month + 2) % 12 + 1, 1)
    return first, after - dt.timedelta(days=1)


def render_config(backend: BackendKind, today: dt.date) -> str:
    """The text of a new ``okrsync.toml`` for ``backend``, with the quarter of ``today``."""
    data = resources.files("okrsync") / "data"
    template = string.Template((data / "init.toml").read_text(encoding="utf-8"))
    sheet = (data / f"init-sheet-{backend.value}.toml").read_text(encoding="utf-8")
    start, end = quarter_of(today)
    return template.substitute(made=today.isoformat(), sheet=sheet, start=start, end=end)


def init(
    directory: Path,
    *,
    today: dt.date,
    backend: BackendKind = BackendKind.XLSX,
    config_name: str = "okrsync.toml",
) -> InitResult:
    """Scaffold ``directory/config_name`` and, for xlsx, the workbook it names.

    :param today: picks the cycle (this calendar quarter) and the example check-in date.
    :param backend: used for a new config only; a kept config decides for itself.
    :raises ConfigError: the folder or a file cannot be created.
    """
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ConfigError(
            f"Folder {directory} cannot be created ({e.strerror}); pick another folder."
        ) from e
    config_file = directory / config_name
    files: list[tuple[Path, str]] = []
    notes: list[str] = []
    if _create(config_file, render_config(backend, today).encode("utf-8")):
        files.append((config_file, CREATED))
    else:
        files.append((config_file, KEPT))
    config: Config | None
    try:
        config = load_config(config_file)
    except ConfigError as e:
        config = None
        notes.append(f"{config_file} was kept as it is, but has problems: {e}")
    workbook = None
    if config is not None and config.sheet.backend == BackendKind.XLSX:
        assert config.sheet.path is not None
        workbook = config.sheet.path
        if _create(workbook, _workbook_bytes(config, today)):
            files.append((workbook, CREATED))
            _prepare(config)
        else:
            files.append((workbook, KEPT))
    kind = config.sheet.backend if config is not None else backend
    return InitResult(
        directory=directory,
        backend=kind,
        config=config_file,
        workbook=workbook,
        files=files,
        next_steps=_next_steps(kind, config_file, workbook),
        notes=notes,
    )


def _create(path: Path, content: bytes) -> bool:
    """Write ``path`` only if it does not exist (atomically: no half file, no overwrite)."""
    if path.exists():
        return False
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(content)
            try:
                os.link(tmp, path)  # fails if someone made the file meanwhile: theirs stays
            except FileExistsError:
                raise
            except OSError:  # a file system without hard links: exclusive create instead
                with open(path, "xb") as f:
                    f.write(content)
        finally:
            os.unlink(tmp)
    except FileExistsError:
        return False
    except OSError as e:
        raise ConfigError(f"{path} cannot be created ({e.strerror}); check the folder.") from e
    return True


def _workbook_bytes(config: Config, today: dt.date) -> bytes:
    """A new check-in workbook: the headers and two example rows (openpyxl is fine here:
    a new file has no formulas whose results could be lost)."""
    import io

    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    start, end = config.cycle.start, config.cycle.end
    checked_in = today if start <= today <= end else None
    # The first example is on pace, so that it reads "on track" whenever init runs.
    pace = (today - start).days / max((end - start).days, 1)
    current = round(20 + 80 * min(max(pace, 0.0), 1.0)) if checked_in else None
    examples: list[dict[Col, object]] = [
        {
            Col.ID: "KR-0001",
            Col.OBJECTIVE: "Example: win more customers",
            Col.KEY_RESULT: "Grow paying customers from 20 to 100",
            Col.OWNER: "Ann Example",
            Col.OWNER_EMAIL: "ann@example.com",
            Col.TEAM: "Sales",
            Col.TYPE: "increase",
            Col.START: 20,
            Col.TARGET: 100,
            Col.CURRENT: current,
            Col.OWNER_HEALTH: "on track",
            Col.CHECKIN_DATE: checked_in,
            Col.COMMENT: "Replace these two rows with your team's Key Results.",
            Col.NEXT_STEPS: "Follow up with the three trial customers.",
            Col.CADENCE: "weekly",
        },
        {
            Col.ID: "KR-0002",
            Col.OBJECTIVE: "Example: win more customers",
            Col.KEY_RESULT: "Launch the self-serve plan",
            Col.OWNER: "Bo Example",
            Col.OWNER_EMAIL: "bo@example.com",
            Col.TEAM: "Sales",
            Col.TYPE: "boolean",
            Col.CURRENT: "no",
            Col.OWNER_HEALTH: "at risk",
            Col.BLOCKERS: "Waiting for the pricing decision.",
            Col.NEXT_STEPS: "Agree the prices with finance.",
            Col.CADENCE: "biweekly",
        },
    ]
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = config.sheet.worksheet
    columns = [*OWNER_COLUMNS, *COMPUTED_COLUMNS]
    ws.append([c.value for c in columns])
    bold = Font(name="Calibri", bold=True)  # Excel's default face, as the cells below
    for cell, col in zip(ws[1], columns, strict=True):
        cell.font = bold
        fill = COMPUTED_FILL if col in COMPUTED_COLUMNS else OWNER_FILL
        cell.fill = PatternFill("solid", fgColor=fill)
        cell.alignment = Alignment(vertical="center")
    for example in examples:
        ws.append([example.get(c) for c in columns])
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, dt.date):
                cell.number_format = "yyyy-mm-dd"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _prepare(config: Config) -> None:
    """Give the new workbook what ``okrsync setup`` gives a sheet."""
    from okrsync.backends.xlsx import XlsxBackend
    from okrsync.setup import plan_setup

    XlsxBackend(config.sheet).setup(plan_setup(config))


def _command(config_file: Path) -> str:
    """How to call okrsync with this config: no ``--config`` when it is the default one."""
    with contextlib.suppress(OSError):
        if config_file.resolve() == DEFAULT_CONFIG_PATH.resolve():
            return "okrsync"
    return f"okrsync --config {shown_path(config_file)}"


def shown_path(path: Path) -> str:
    """A path relative to the current folder when it is inside it (shorter to read)."""
    with contextlib.suppress(ValueError, OSError):
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    return str(path)


def _next_steps(kind: BackendKind, config_file: Path, workbook: Path | None) -> list[str]:
    cmd = _command(config_file)
    workbook_text = shown_path(workbook) if workbook else ""
    if kind == BackendKind.GSHEETS:
        return [
            "Create a Google service account with the Sheets API enabled and save its JSON "
            f"key as {config_file.parent / 'service-account.json'} (never commit it).",
            "Share the Google sheet with the service account's email as an editor, name "
            f'its tab "Check-ins", and paste the sheet\'s URL into [sheet] spreadsheet in '
            f"{config_file}.",
            f"Set [cycle] and [email] in {config_file}.",
            f"Run `{cmd} setup`: it adds the headers, dropdowns, colours and protection.",
            f"Run `{cmd} validate`, then `{cmd} sync`.",
        ]
    return [
        f"Edit {config_file}: the [cycle] dates and, in [email], from, managers and "
        "allowed_domains.",
        f"Open {workbook_text} and replace the two example rows with your team's Key Results "
        "(one row each; okrsync fills the grey columns). Or point [sheet] path at your "
        f"team's own workbook and run `{cmd} setup` to prepare it.",
        f"Run `{cmd} validate` to check every row.",
        f"Run `{cmd} sync` to write the status columns and send the emails that are due "
        "(`okrsync run` keeps syncing on the [schedule]).",
    ]
