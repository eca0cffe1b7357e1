"""Load and check ``okrsync.toml``.

Everything is checked up front and reported together: unknown keys (with a suggestion),
wrong types and impossible values each name their key, in one :class:`ConfigError`.
Paths are relative to the config file, so a config works from any working directory.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from okrsync.columns import CANONICAL_BY_KEY, Col, normalize_header
from okrsync.errors import ConfigError
from okrsync.parse import EMAIL_RE as PARSE_EMAIL_RE

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "BackendKind",
    "Config",
    "CycleConfig",
    "EmailConfig",
    "HealthConfig",
    "HistoryConfig",
    "ScheduleConfig",
    "SheetConfig",
    "StateConfig",
    "load_config",
    "parse_config",
]

DEFAULT_CONFIG_PATH = Path("config/okrsync.toml")
#: Weekday names as config values spell them, Monday first like ``date.weekday()``
#: (``digest_day``, ``[schedule] at``).
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# The same rule as Owner Email and the mail boundary, so a config address is never
# accepted here and refused at send time.
EMAIL_RE = re.compile(PARSE_EMAIL_RE)
XLSX_TITLE_FORBIDDEN = set("[]:*?/\\")


class BackendKind(StrEnum):
    XLSX = "xlsx"
    GSHEETS = "gsheets"


class Transport(StrEnum):
    FILE = "file"
    SMTP = "smtp"


@dataclass(frozen=True)
class SheetConfig:
    backend: BackendKind = BackendKind.XLSX
    path: Path | None = None
    spreadsheet: str | None = None
    credentials: Path | None = None
    api_endpoint: str | None = None
    worksheet: str = "Check-ins"


@dataclass(frozen=True)
class CycleConfig:
    start: dt.date
    end: dt.date
    default_cadence: str = "weekly"


@dataclass(frozen=True)
class HealthConfig:
    at_risk_gap: float = 0.10
    off_track_gap: float = 0.25


@dataclass(frozen=True)
class EmailConfig:
    transport: Transport = Transport.FILE
    outbox: Path = Path("outbox")
    sender: str = "okrsync@example.com"
    managers: tuple[str, ...] = ()
    allowed_domains: tuple[str, ...] = ()
    digest_day: str = "monday"
    team_managers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    templates: Path | None = None
    smtp_host: str = "localhost"
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_starttls: bool = True
    smtp_ssl: bool = False
    smtp_timeout: float = 30.0
    enabled: bool = True

    def smtp_password(self) -> str | None:
        """The SMTP password, read from ``OKRSYNC_SMTP_PASSWORD`` only when needed."""
        return os.environ.get("OKRSYNC_SMTP_PASSWORD")

    def domain_allowed(self, address: str) -> bool:
        """Whether mail may go to ``address`` (its domain is in ``allowed_domains``)."""
        domain = address.rpartition("@")[2].casefold()
        return any(domain == d.casefold() for d in self.allowed_domains)


@dataclass(frozen=True)
class HistoryConfig:
    worksheet: str = "History"
    revisit_after: int = 3

    @property
    def enabled(self) -> bool:
        return bool(self.worksheet)


@dataclass(frozen=True)
class ScheduleConfig:
    at: tuple[str, ...] = ("monday 09:00",)
    timezone: str = "UTC"


@dataclass(frozen=True)
class StateConfig:
    dir: Path = Path(".okrsync")


@dataclass(frozen=True)
class Config:
    """A checked config. Build one with :func:`load_config` or :func:`parse_config`."""

    sheet: SheetConfig
    cycle: CycleConfig
    health: HealthConfig = field(default_factory=HealthConfig)
    email: EmailConfig = field(default_factory=EmailConfig)
    history: HistoryConfig = field(default_factory=HistoryConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    state: StateConfig = field(default_factory=StateConfig)
    #: Sheet header (normalised) -> canonical column, from ``[columns]``.
    columns: Mapping[str, Col] = field(default_factory=dict)
    #: Extra ``strptime`` formats for dates typed as text.
    date_formats: tuple[str, ...] = ()
    #: The file this was loaded from (``None`` when built in code).
    source: Path | None = None


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Read and check a config file.

    :param path: the file; default ``$OKRSYNC_CONFIG`` or ``config/okrsync.toml``.
    :raises ConfigError: the file is missing, not TOML, or has bad keys or values.
    """
    if path is None:
        path = os.environ.get("OKRSYNC_CONFIG") or DEFAULT_CONFIG_PATH
    file = Path(path)
    try:
        # utf-8-sig: Notepad and some editors start the file with a byte-order mark.
        text = file.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(
            f"Config file {file} not found; pass --config PATH, set OKRSYNC_CONFIG, "
            "or create one with `okrsync init`."
        ) from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"Config file {file} is not UTF-8 text; save it as UTF-8.") from e
    except OSError as e:
        raise ConfigError(f"Config file {file} cannot be read ({e}); check its permissions.") from e
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"Config file {file} is not valid TOML ({e}); fix that line.") from e
    return parse_config(data, base=file.resolve().parent, source=file)


# --- checking -------------------------------------------------------------------------


class _Checker:
    """Collects every problem so the user fixes the file in one go."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.problems: list[str] = []

    def table(self, data: Mapping[str, Any], name: str, known: set[str]) -> Mapping[str, Any]:
        value = data.get(name, {})
        if not isinstance(value, dict):
            self.problems.append(f"[{name}] must be a table")
            return {}
        self.unknown(value, known, f"[{name}] ")
        return value

    def unknown(self, data: Mapping[str, Any], known: set[str], where: str) -> None:
        for key in data:
            if key not in known:
                hint = difflib.get_close_matches(key, sorted(known), n=1)
                more = f" (did you mean '{hint[0]}'?)" if hint else ""
                self.problems.append(f"{where}unknown key '{key}'{more}")

    def get(
        self,
        data: Mapping[str, Any],
        key: str,
        where: str,
        kind: type | tuple[type, ...],
        default: Any,
        describe: str,
    ) -> Any:
        if key not in data:
            return default
        value = data[key]
        # bool is an int to Python, never to a config author.
        if isinstance(value, kind) and not (
            isinstance(value, bool) and bool not in _as_tuple(kind)
        ):
            return value
        self.problems.append(f"{where}{key} must be {describe}, not {value!r}")
        return default

    def check(self, ok: bool, message: str) -> None:
        if not ok:
            self.problems.append(message)

    def path(self, value: str | None, key: str = "") -> Path | None:
        if value is None:
            return None
        if not value.strip():
            # "" would quietly mean the config's own folder.
            self.problems.append(f"{key or 'a path'} must not be empty")
            return None
        p = Path(value).expanduser()
        return p if p.is_absolute() else self.base / p


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _string_list(c: _Checker, data: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = data.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        c.problems.append(f"{where}{key} must be a list of strings, not {value!r}")
        return ()
    return tuple(value)


def parse_config(
    data: Mapping[str, Any], *, base: Path | None = None, source: Path | None = None
) -> Config:
    """Check a config already parsed from TOML (or built in code) and return it.

    :param base: the folder relative paths are taken from (the config file's folder).
    :raises ConfigError: listing every problem found.
    """
    c = _Checker(base or Path.cwd())
    c.unknown(
        data,
        {"sheet", "cycle", "health", "email", "history", "schedule", "state", "columns"}
        | {"date_formats"},
        "",
    )
    sheet = _sheet(c, data)
    cycle = _cycle(c, data)
    health = _health(c, data)
    email = _email(c, data)
    history = _history(c, data)
    schedule = _schedule(c, data)
    state_t = c.table(data, "state", {"dir"})
    state_dir = c.path(c.get(state_t, "dir", "[state] ", str, ".okrsync", "a path"), "[state] dir")
    state = StateConfig(dir=state_dir or Path(".okrsync"))
    _check_titles(c, sheet, history)
    columns = _columns(c, data)
    date_formats = _string_list(c, data, "date_formats", "")
    for fmt in date_formats:
        c.check("%" in fmt, f"date_formats: {fmt!r} has no strftime codes like %d/%m/%Y")
    if c.problems:
        where = f"{source}" if source else "the config"
        raise ConfigError(
            f"Fix {len(c.problems)} problem(s) in {where}: " + "; ".join(c.problems) + "."
        )
    assert cycle is not None
    return Config(
        sheet=sheet,
        cycle=cycle,
        health=health,
        email=email,
        history=history,
        schedule=schedule,
        state=state,
        columns=columns,
        date_formats=date_formats,
        source=source,
    )


def _sheet(c: _Checker, data: Mapping[str, Any]) -> SheetConfig:
    known = {"backend", "path", "spreadsheet", "credentials", "api_endpoint", "worksheet"}
    t = c.table(data, "sheet", known)
    w = "[sheet] "
    backend = c.get(t, "backend", w, str, "xlsx", '"xlsx" or "gsheets"')
    if backend not in set(BackendKind):
        c.problems.append(f'{w}backend must be "xlsx" or "gsheets", not {backend!r}')
        backend = "xlsx"
    worksheet = c.get(t, "worksheet", w, str, "Check-ins", "a worksheet title")
    c.check(bool(worksheet.strip()), f"{w}worksheet must not be empty")
    path = c.get(t, "path", w, str, None, "a path to the .xlsx workbook")
    spreadsheet = c.get(t, "spreadsheet", w, str, None, "a spreadsheet key or URL")
    credentials = c.get(t, "credentials", w, str, None, "a path to a service-account JSON file")
    endpoint = c.get(t, "api_endpoint", w, str, None, "a URL like http://127.0.0.1:8085")
    if backend == BackendKind.XLSX:
        c.check(bool(path), f'{w}path is required with backend = "xlsx" (the workbook file)')
    else:
        c.check(bool(spreadsheet), f'{w}spreadsheet is required with backend = "gsheets"')
    if endpoint is not None:
        c.check(
            re.match(r"^https?://[^\s/]+", endpoint) is not None,
            f"{w}api_endpoint must be an http(s) URL, not {endpoint!r}",
        )
    return SheetConfig(
        backend=BackendKind(backend),
        path=c.path(path, f"{w}path"),
        spreadsheet=spreadsheet,
        credentials=c.path(credentials, f"{w}credentials"),
        api_endpoint=endpoint.rstrip("/") if endpoint else None,
        worksheet=worksheet,
    )


def _cycle(c: _Checker, data: Mapping[str, Any]) -> CycleConfig | None:
    t = c.table(data, "cycle", {"start", "end", "default_cadence"})
    w = "[cycle] "
    start = c.get(t, "start", w, dt.date, None, "a date like 2026-10-01 (unquoted)")
    end = c.get(t, "end", w, dt.date, None, "a date like 2026-12-31 (unquoted)")
    # tomllib gives datetime for "2026-10-01T00:00"; a cycle is whole days.
    start = start.date() if isinstance(start, dt.datetime) else start
    end = end.date() if isinstance(end, dt.datetime) else end
    # A present but wrong-typed value already has its own message; "required" would mislead.
    c.check("start" in t, f"{w}start is required (the first day of the OKR cycle)")
    c.check("end" in t, f"{w}end is required (the last day of the OKR cycle)")
    if start and end:
        c.check(end > start, f"{w}end ({end}) must be after start ({start})")
    cadence = c.get(t, "default_cadence", w, str, "weekly", 'a cadence like "weekly"')
    from okrsync.parse import parse_cadence  # parse imports nothing from config

    if parse_cadence(cadence) is None:
        c.problems.append(
            f"{w}default_cadence must be weekly, biweekly, monthly or a number of days, "
            f"not {cadence!r}"
        )
    if start is None or end is None:
        return None
    return CycleConfig(start=start, end=end, default_cadence=cadence)


def _health(c: _Checker, data: Mapping[str, Any]) -> HealthConfig:
    t = c.table(data, "health", {"at_risk_gap", "off_track_gap"})
    w = "[health] "
    at_risk = c.get(t, "at_risk_gap", w, (int, float), 0.10, "a number like 0.10")
    off_track = c.get(t, "off_track_gap", w, (int, float), 0.25, "a number like 0.25")
    c.check(0 <= at_risk <= 1, f"{w}at_risk_gap must be between 0 and 1, not {at_risk}")
    c.check(
        at_risk <= off_track <= 1,
        f"{w}off_track_gap must be between at_risk_gap ({at_risk}) and 1, not {off_track}",
    )
    return HealthConfig(at_risk_gap=float(at_risk), off_track_gap=float(off_track))


def _email(c: _Checker, data: Mapping[str, Any]) -> EmailConfig:
    known = {
        "transport", "outbox", "from", "managers", "allowed_domains", "digest_day",
        "team_managers", "templates", "smtp_host", "smtp_port", "smtp_user",
        "smtp_starttls", "smtp_ssl", "smtp_timeout", "enabled",
    }  # fmt: skip
    t = c.table(data, "email", known)
    w = "[email] "
    transport = c.get(t, "transport", w, str, "file", '"file" or "smtp"')
    if transport not in set(Transport):
        c.problems.append(f'{w}transport must be "file" or "smtp", not {transport!r}')
        transport = "file"
    sender = c.get(t, "from", w, str, "okrsync@example.com", "an email address")
    c.check(EMAIL_RE.match(sender) is not None, f"{w}from must be an email address, not {sender!r}")
    managers = _string_list(c, t, "managers", w)
    domains = tuple(
        d.strip().lstrip("@").casefold() for d in _string_list(c, t, "allowed_domains", w)
    )
    team_managers: dict[str, tuple[str, ...]] = {}
    tm = t.get("team_managers", {})
    if not isinstance(tm, dict):
        c.problems.append(f"{w}team_managers must be a table of team = [addresses]")
        tm = {}
    for team in tm:
        team_managers[team] = _string_list(c, tm, team, "[email.team_managers] ")
    for addr in (*managers, *(a for v in team_managers.values() for a in v)):
        if EMAIL_RE.match(addr) is None:
            c.problems.append(f"{w}{addr!r} is not an email address")
        elif domains and addr.rpartition("@")[2].casefold() not in domains:
            c.problems.append(f"{w}{addr!r} is outside allowed_domains {list(domains)}")
    if (managers or team_managers) and not domains:
        c.problems.append(f"{w}allowed_domains must list the domains mail may go to")
    digest_day = c.get(t, "digest_day", w, str, "monday", 'a weekday or "daily"').casefold()
    c.check(
        digest_day in (*WEEKDAYS, "daily"),
        f'{w}digest_day must be a weekday like "monday" or "daily", not {digest_day!r}',
    )
    port = c.get(t, "smtp_port", w, int, 587, "a port number")
    c.check(0 < port < 65536, f"{w}smtp_port must be between 1 and 65535, not {port}")
    starttls = c.get(t, "smtp_starttls", w, bool, True, "true or false")
    ssl = c.get(t, "smtp_ssl", w, bool, False, "true or false")
    c.check(
        not (starttls and ssl and "smtp_starttls" in t),
        f"{w}use smtp_ssl or smtp_starttls, not both",
    )
    templates = c.path(
        c.get(t, "templates", w, str, None, "a folder of templates"), f"{w}templates"
    )
    if templates is not None and not templates.is_dir():
        c.problems.append(f"{w}templates folder {templates} does not exist")
    return EmailConfig(
        transport=Transport(transport),
        outbox=c.path(c.get(t, "outbox", w, str, "outbox", "a folder path"), f"{w}outbox")
        or Path("outbox"),
        sender=sender,
        managers=managers,
        allowed_domains=domains,
        digest_day=digest_day,
        team_managers=team_managers,
        templates=templates,
        smtp_host=c.get(t, "smtp_host", w, str, "localhost", "a host name"),
        smtp_port=port,
        smtp_user=c.get(t, "smtp_user", w, str, None, "a user name"),
        smtp_starttls=starttls and not ssl,
        smtp_ssl=ssl,
        smtp_timeout=float(c.get(t, "smtp_timeout", w, (int, float), 30.0, "seconds")),
        enabled=c.get(t, "enabled", w, bool, True, "true or false"),
    )


def _check_titles(c: _Checker, sheet: SheetConfig, history: HistoryConfig) -> None:
    titles = [("[sheet] worksheet", sheet.worksheet)]
    if history.enabled:
        titles.append(("[history] worksheet", history.worksheet))
        if history.worksheet.strip().casefold() == sheet.worksheet.strip().casefold():
            c.problems.append(
                '[history] worksheet must differ from [sheet] worksheet (e.g. "History"), '
                'or be "" to turn history off'
            )
    if sheet.backend == BackendKind.XLSX:
        for key, title in titles:
            if len(title) > 31 or XLSX_TITLE_FORBIDDEN & set(title):
                c.problems.append(
                    f"{key} {title!r} cannot name an Excel worksheet: use at most 31 "
                    "characters and none of [ ] : * ? / \\"
                )


def _history(c: _Checker, data: Mapping[str, Any]) -> HistoryConfig:
    t = c.table(data, "history", {"worksheet", "revisit_after"})
    w = "[history] "
    revisit = c.get(t, "revisit_after", w, int, 3, "a whole number")
    c.check(revisit >= 1, f"{w}revisit_after must be 1 or more, not {revisit}")
    return HistoryConfig(
        worksheet=c.get(t, "worksheet", w, str, "History", 'a worksheet title, or "" for none'),
        revisit_after=revisit,
    )


def _schedule(c: _Checker, data: Mapping[str, Any]) -> ScheduleConfig:
    t = c.table(data, "schedule", {"at", "timezone"})
    w = "[schedule] "
    at = _string_list(c, t, "at", w) if "at" in t else ("monday 09:00",)
    from okrsync.schedule import parse_at

    for spec in at:
        try:
            parse_at(spec)
        except ValueError as e:
            c.problems.append(f"{w}at: {e}")
    tz = c.get(t, "timezone", w, str, "UTC", "an IANA time zone like Europe/Berlin")
    try:
        ZoneInfo(tz)
    # "America" is a folder of zones: ZoneInfo raises IsADirectoryError (an OSError) for it.
    except (ZoneInfoNotFoundError, ValueError, OSError):
        c.problems.append(f"{w}timezone {tz!r} is not a known time zone (e.g. Europe/Berlin)")
    return ScheduleConfig(at=at, timezone=tz)


def _columns(c: _Checker, data: Mapping[str, Any]) -> dict[str, Col]:
    t = data.get("columns", {})
    if not isinstance(t, dict):
        c.problems.append('[columns] must be a table of "Sheet header" = "Column"')
        return {}
    out: dict[str, Col] = {}
    for header, name in t.items():
        col = CANONICAL_BY_KEY.get(normalize_header(name)) if isinstance(name, str) else None
        if col is None:
            hint = difflib.get_close_matches(str(name), [x.value for x in Col], n=1)
            more = f" (did you mean '{hint[0]}'?)" if hint else ""
            c.problems.append(f"[columns] {header!r} maps to unknown column {name!r}{more}")
            continue
        out[normalize_header(header)] = col
    return out
