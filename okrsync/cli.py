"""The ``okrsync`` command line: a thin layer over the library in :mod:`okrsync.pipeline`.

Every library error is an :class:`~okrsync.errors.OkrsyncError` carrying its exit code;
this module is the one place that turns them into ``Error: ...`` and an exit status.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import click
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from okrsync import __version__
from okrsync.cli_options import common, dry_run_option, json_option
from okrsync.config import DEFAULT_CONFIG_PATH, BackendKind, Config, load_config
from okrsync.errors import NotifyError, OkrsyncError
from okrsync.history import KrHistory, kr_history
from okrsync.logs import redact, setup_logging
from okrsync.pipeline import SyncResult, check, sync
from okrsync.schedule import run_forever

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger("okrsync")
#: -v count of this invocation, for main()'s last-resort handler outside click's context.
_VERBOSITY = [0]


class Failure(click.ClickException):
    """An OkrsyncError on its way out: ``Error: <sentence>`` and its exit code."""

    def __init__(self, error: OkrsyncError) -> None:
        # Messages never carry secrets by design; redact anyway, as the logs do.
        super().__init__(redact(str(error)))
        self.exit_code = error.exit_code


def fail_on_unsent(result: SyncResult) -> None:
    """Exit 1 (after the summary was printed) when email could not be sent.

    The sheet is synced and the ledger keeps the messages, so the next run tries them
    again; cron still has to hear that this run did not finish its job.
    """
    emails = result.extras.get("emails")
    failed = getattr(emails, "failed", [])
    if failed:
        reasons = sorted({m.reason for m in failed if m.reason})
        raise NotifyError(
            f"{len(failed)} email(s) could not be sent ({'; '.join(reasons) or 'see above'}); "
            "the sheet was synced and they will be tried again on the next run."
        )


def reports_errors(f: F) -> F:
    """Turn library errors into one clear sentence and the documented exit code."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return f(*args, **kwargs)
        except OkrsyncError as e:
            raise Failure(e) from e

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="OKRSYNC_CONFIG",
    help="The config file (also OKRSYNC_CONFIG). Default: config/okrsync.toml.",
)
@click.option("-v", "--verbose", count=True, help="Say more (-vv for library detail too).")
@click.option("-q", "--quiet", is_flag=True, help="Print only warnings and errors.")
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Log lines on stderr as text, or as JSON for a log collector.",
)
@click.version_option(__version__, prog_name="okrsync")
@click.pass_context
def cli(
    ctx: click.Context, config_path: Path | None, verbose: int, quiet: bool, log_format: str
) -> None:
    """Sync an OKR check-in sheet: validate rows, compute health, write status, email notes.

    Exit codes: 0 done (rows with problems are reported, not fatal); 1 the run failed;
    2 usage or config error; 75 another okrsync run holds the lock (try again later).
    """
    setup_logging(-1 if quiet else verbose, "json" if log_format == "json" else "text")
    _VERBOSITY[0] = verbose
    ctx.obj = {"config_path": config_path, "quiet": quiet, "verbose": verbose}


def _config(ctx: click.Context) -> Config:
    return load_config(ctx.obj["config_path"])


def _resolve_today(config: Config, today: dt.date | None) -> dt.date:
    if today is not None:
        return today
    return dt.datetime.now(ZoneInfo(config.schedule.timezone)).date()


@cli.command("sync")
@common()
@click.pass_context
@reports_errors
def sync_command(
    ctx: click.Context, today: dt.date | None, dry_run: bool, json_output: bool
) -> None:
    """Read, validate, compute, write okrsync's columns, and send the emails that are due."""
    config = _config(ctx)
    result = sync(config, today=_resolve_today(config, today), dry_run=dry_run)
    _report(ctx, result, json_output, verb="sync")
    fail_on_unsent(result)


@cli.command("validate")
@common(dry_run=False)
@click.pass_context
@reports_errors
def validate_command(ctx: click.Context, today: dt.date | None, json_output: bool) -> None:
    """Read and validate the sheet only; write and send nothing."""
    config = _config(ctx)
    result = check(config, today=_resolve_today(config, today))
    _report(ctx, result, json_output, verb="validate")


@cli.command("demo")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    help="Scratch folder for the demo (must be empty or new). Default: a new temporary folder.",
)
@common(dry_run=False)
@click.pass_context
@reports_errors
def demo_command(
    ctx: click.Context, directory: Path | None, today: dt.date | None, json_output: bool
) -> None:
    """Run the main job on a bundled example workbook in a scratch folder."""
    from okrsync.demo import DEMO_TODAY, prepare_demo

    config = prepare_demo(directory)
    result = sync(config, today=today or DEMO_TODAY)
    _report(ctx, result, json_output, verb="sync")
    fail_on_unsent(result)
    if not json_output and not ctx.obj["quiet"]:
        assert config.source is not None
        folder = config.source.parent
        click.echo(
            f"\nDemo folder: {folder}\n"
            f"  workbook:  {result.location}\n"
            "             (sheet Check-ins: okrsync's columns are on the right)\n"
            f"  config:    {config.source}\n"
            f"  emails:    {config.email.outbox}/  (.eml files; open them in a mail program)\n"
            f"Run it again with: okrsync --config {config.source} sync --today {result.today}"
        )


@cli.command("setup")
@dry_run_option
@json_option
@click.pass_context
@reports_errors
def setup_command(ctx: click.Context, dry_run: bool, json_output: bool) -> None:
    """Prepare the sheet for owners: headers, dropdowns, formats, colours, protection.

    Adds every missing header (in the contract's order), freezes the header row, sets
    column widths, adds dropdowns for Type, Owner Health and Cadence and date checks with
    help text, formats numbers and dates, colours Health and Overdue, protects okrsync's
    columns with a warning and notes how each is computed. Safe to run again: it adds
    only what is missing, and says so.
    """
    from okrsync.setup import setup

    result = setup(_config(ctx), dry_run=dry_run)
    if json_output:
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
        return
    if ctx.obj["quiet"]:
        return
    click.echo(f'okrsync setup — worksheet "{result.worksheet}" — {result.location}')
    for change in result.changes:
        click.echo(f"  {change}")
    n = len(result.changes)
    if not n:
        click.echo("Already set up: nothing to change.")
    elif dry_run:
        click.echo(f"Dry run: would make {n} change(s); nothing was changed.")
    else:
        click.echo(
            f"Set up: {n} change(s) made. Run it again any time; it adds only what is missing."
        )


@cli.command("init")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--backend",
    type=click.Choice([b.value for b in BackendKind]),
    default=BackendKind.XLSX.value,
    show_default=True,
    help="Where the check-in sheet lives: a local workbook, or a Google sheet (a config stub).",
)
@common(dry_run=False)
@click.pass_context
@reports_errors
def init_command(
    ctx: click.Context,
    directory: Path | None,
    backend: str,
    today: dt.date | None,
    json_output: bool,
) -> None:
    """Scaffold a config (and, for xlsx, a check-in workbook) for a new team.

    Writes DIRECTORY/okrsync.toml (this quarter as the cycle) and, for xlsx,
    DIRECTORY/okrs.xlsx with the headers and two example rows, already set up. Never
    overwrites: a file that exists is kept. DIRECTORY defaults to the folder of --config,
    i.e. config/, so that the other commands find the config without --config.
    """
    from okrsync.init import init, shown_path

    config_file = ctx.obj["config_path"] or DEFAULT_CONFIG_PATH
    if directory is not None:
        config_file = directory / "okrsync.toml"
    result = init(
        config_file.parent,
        today=today or dt.date.today(),
        backend=BackendKind(backend),
        config_name=config_file.name,
    )
    if json_output:
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
        return
    for note in result.notes:
        click.echo(f"Note: {note}", err=True)
    if ctx.obj["quiet"]:
        return
    click.echo(f"okrsync init — {shown_path(result.directory)}")
    for path, status in result.files:
        why = "  (already there; init never overwrites)" if status == "kept" else ""
        click.echo(f"  {status:<8} {shown_path(path)}{why}")
    click.echo("Next steps:")
    for i, step in enumerate(result.next_steps, start=1):
        click.echo(f"  {i}. {step}")


@cli.command("run")
@click.option("--once", is_flag=True, help="Run one sync now and exit (for cron and timers).")
@click.pass_context
@reports_errors
def run_command(ctx: click.Context, once: bool) -> None:
    """Stay up and sync at the times in [schedule] until stopped (SIGTERM or Ctrl-C).

    A failed run is logged and tried again at the next time. Stopping lets the run in
    progress finish first.
    """
    config = _config(ctx)

    def job() -> dict[str, object]:
        result = sync(config, today=_resolve_today(config, None))
        fail_on_unsent(result)  # logged as a failed run, tried again at the next time
        summary = result.to_dict()
        out = {
            key: summary[key]
            for key in ("rows", "rows_with_errors", "warnings", "overdue", "cells_changed")
        }
        if "emails" in summary:
            out["emails"] = {k: n for k, n in summary["emails"]["counts"].items() if n}
        if "history" in summary:
            out["history_appended"] = summary["history"]["appended"]
        return out

    ctx.exit(run_forever(config.schedule, job, once=once, log=log))


@cli.command("history")
@click.argument("kr_id", metavar="ID")
@json_option
@click.pass_context
@reports_errors
def history_command(ctx: click.Context, kr_id: str, json_output: bool) -> None:
    """Print one KR's check-ins from History, with progress against expected.

    ID is the KR's ID as in the sheet (KR-0007; case does not matter, 7 also works).
    """
    found = kr_history(_config(ctx), kr_id)
    if json_output:
        click.echo(json.dumps(found.to_dict(), indent=2, ensure_ascii=False))
        return
    _print_history(found)


# --- output -------------------------------------------------------------------------


def _print_history(found: KrHistory) -> None:
    console = Console(file=sys.stdout, highlight=False, soft_wrap=True)
    name = found.id
    if found.key_result:
        name += f" — {found.key_result}" + (f" ({found.owner})" if found.owner else "")
    rows = found.checkins
    if rows.empty:
        console.print(
            f'{name} has no check-ins in "{found.worksheet}" yet; each `okrsync sync` records '
            "one when its Check-in Date or Current changes.",
            markup=False,
        )
        return
    table = Table(
        title=Text(f'{name}: {len(rows)} check-in(s) in "{found.worksheet}"'),
        title_justify="left",
        box=box.SIMPLE,
    )
    for header in ("Check-in Date", "Current", "Progress", "Expected", "Health", "Owner Health"):
        justify = "right" if header in ("Current", "Progress", "Expected") else "left"
        table.add_column(header, justify=justify)  # type: ignore[arg-type]
    for r in found.to_dict()["checkins"]:
        # Sheet text is untrusted: cells are Text, never rich markup.
        table.add_row(
            *(
                Text(cell)
                for cell in (
                    r["date"] or "—",
                    _figure(r["current"]),
                    _percent(r["progress"]),
                    _percent(r["expected"]),
                    r["health"] or "",
                    r["owner_health"] or "",
                )
            )
        )
    console.print(table)
    progress, expected = found.sparklines()
    console.print(f"  progress  {progress}", markup=False)
    console.print(f"  expected  {expected}", markup=False)


def _figure(value: float | None) -> str:
    return "" if value is None else format(value, ",.10g")


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:.0%}"


def _report(ctx: click.Context, result: SyncResult, json_output: bool, *, verb: str) -> None:
    if json_output:
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
        return
    if ctx.obj["quiet"]:
        return
    console = Console(file=sys.stdout, highlight=False, soft_wrap=True)
    counts = result.health_counts()
    cells = len(result.cell_changes)
    table = Table(
        title=f"okrsync {verb} — {result.today.isoformat()} — {result.location}",
        title_justify="left",
        show_header=False,
        box=box.SIMPLE,
    )
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("KRs", str(len(result.table)))
    table.add_row("rows with errors", str(result.error_rows))
    table.add_row("warnings", str(result.warning_count))
    for health, n in counts.items():
        table.add_row(health, str(n))
    table.add_row("overdue check-ins", str(result.overdue))
    if verb == "sync":
        table.add_row("cells written" if not result.dry_run else "cells to write", str(cells))
    console.print(table)
    if result.issues:
        console.print(f"Problems ({len(result.issues)}), also in each row's Sync Notes:")
        for issue in result.issues:
            kind = "error  " if issue.error else "warning"
            # Sheet text is untrusted: print it as is, never as rich markup.
            console.print(f"  {kind} {issue}", markup=False)
    if result.dry_run and verb == "sync":
        console.print(f"Dry run: would write {cells} cell(s); nothing was changed.")
        for c in result.changes:
            console.print(f"  row {c.row}, {c.column}: {c.old!r} -> {c.value!r}", markup=False)
    for value in result.extras.values():
        lines = value.lines() if hasattr(value, "lines") else []
        for line in lines:
            console.print(line, markup=False)


def main() -> None:
    """Console-script entry point: never a bare traceback (unless asked for with -vv)."""
    try:
        cli.main(prog_name="okrsync", standalone_mode=True)
    except Exception as e:
        if _VERBOSITY[0] >= 2:
            raise
        click.echo(
            redact(
                f"Error: okrsync failed unexpectedly ({type(e).__name__}: {e}); re-run with "
                "-vv for details and report it."
            ),
            err=True,
        )
        sys.exit(1)


if __name__ == "__main__":
    main()
