"""Options shared by several commands, defined once (as pip-tools does)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def _today(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None or value == "":
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date; use YYYY-MM-DD, e.g. 2026-11-16.", ctx=ctx, param=param
        ) from None


today_option = click.option(
    "--today",
    metavar="YYYY-MM-DD",
    envvar="OKRSYNC_TODAY",
    callback=_today,
    help="Treat this date as today (also OKRSYNC_TODAY). Default: today in [schedule] timezone.",
)
dry_run_option = click.option(
    "--dry-run", is_flag=True, help="Show what would be written and sent; change nothing."
)
json_option = click.option(
    "json_output", "--json", is_flag=True, help="Print a machine-readable summary on stdout."
)


def common(*, dry_run: bool = True) -> Callable[[F], F]:
    """Attach ``--today``, ``--json`` and (optionally) ``--dry-run`` to a command."""

    def decorate(f: F) -> F:
        f = json_option(f)
        if dry_run:
            f = dry_run_option(f)
        return today_option(f)

    return decorate
