"""Loading and checking ``okrsync.toml``.

A config problem is the first thing a new team hits, so each kind of mistake must come
back as a :class:`ConfigError` (exit code 2) that names the key and says what to write
instead, and all problems in a file come back together.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from okrsync.columns import Col
from okrsync.config import BackendKind, Config, load_config, parse_config
from okrsync.errors import ConfigError

DELETE = object()

BASE: dict[str, Any] = {
    "sheet": {"backend": "xlsx", "path": "okrs.xlsx", "worksheet": "Check-ins"},
    "cycle": {"start": dt.date(2026, 10, 1), "end": dt.date(2026, 12, 31)},
    "email": {
        "outbox": "outbox",
        "managers": ["lead@example.com"],
        "allowed_domains": ["example.com"],
        "team_managers": {"Growth": ["growth-lead@example.com"]},
    },
    "schedule": {"at": ["monday 09:00"], "timezone": "Europe/Berlin"},
    "state": {"dir": ".okrsync"},
}


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date | int | float):
        return value.isoformat() if isinstance(value, dt.date) else repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(value)  # a TOML basic string uses the same escapes


def to_toml(data: dict[str, Any], prefix: str = "") -> str:
    """A small TOML writer: enough for configs (tables, strings, numbers, dates, lists)."""
    lines = [
        f"{json.dumps(k)} = {toml_value(v)}" for k, v in data.items() if not isinstance(v, dict)
    ]
    for name, table in data.items():
        if isinstance(table, dict):
            lines += [
                "",
                f"[{prefix}{json.dumps(name)}]",
                to_toml(table, f"{prefix}{json.dumps(name)}."),
            ]
    return "\n".join(lines)


def merged(changes: dict[str, Any]) -> dict[str, Any]:
    """BASE with ``changes`` merged in per table; ``DELETE`` removes a key."""
    data = copy.deepcopy(BASE)
    for section, value in changes.items():
        if value is DELETE:
            data.pop(section, None)
        elif isinstance(value, dict) and isinstance(data.get(section), dict):
            for key, v in value.items():
                if v is DELETE:
                    data[section].pop(key, None)
                else:
                    data[section][key] = v
        else:
            data[section] = value
    return data


@pytest.fixture
def config_file(tmp_path: Path):
    """Write a config built from BASE plus changes; return its path."""

    def make(changes: dict[str, Any] | None = None, *, text: str | None = None) -> Path:
        folder = tmp_path / "conf"
        folder.mkdir(exist_ok=True)
        path = folder / "okrsync.toml"
        path.write_text(text if text is not None else to_toml(merged(changes or {})), "utf-8")
        return path

    return make


def test_valid_config_loads_with_paths_relative_to_the_file(
    config_file, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Relative paths are taken from the config's folder, whatever the working folder."""
    path = config_file(
        {
            "sheet": {"credentials": "sa.json"},
            "email": {"templates": "mail"},
            "state": {"dir": str(tmp_path / "abs-state")},
        }
    )
    (path.parent / "mail").mkdir()  # a templates folder must exist
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    config = load_config(path)
    conf = path.parent
    assert isinstance(config, Config)
    assert config.source == path
    assert config.sheet.backend is BackendKind.XLSX
    assert config.sheet.path == conf / "okrs.xlsx"
    assert config.sheet.credentials == conf / "sa.json"
    assert config.email.outbox == conf / "outbox"
    assert config.email.templates == conf / "mail"
    assert config.state.dir == tmp_path / "abs-state"
    assert config.cycle.start == dt.date(2026, 10, 1)
    assert config.cycle.end == dt.date(2026, 12, 31)
    assert config.email.team_managers == {"Growth": ("growth-lead@example.com",)}
    assert config.schedule.timezone == "Europe/Berlin"


def test_relative_config_path(config_file, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A config given as a relative path still resolves the workbook beside it."""
    config_file()
    monkeypatch.chdir(tmp_path)
    config = load_config(Path("conf/okrsync.toml"))
    assert config.sheet.path == tmp_path / "conf" / "okrs.xlsx"


def test_minimal_config_gets_the_defaults(config_file) -> None:
    """Only [sheet] path and the [cycle] dates are needed; the rest has defaults."""
    path = config_file(
        text='[sheet]\npath = "okrs.xlsx"\n\n[cycle]\nstart = 2026-10-01\nend = 2026-12-31\n'
    )
    config = load_config(path)
    assert config.sheet.worksheet == "Check-ins"
    assert config.cycle.default_cadence == "weekly"
    assert (config.health.at_risk_gap, config.health.off_track_gap) == (0.10, 0.25)
    assert config.email.transport == "file"
    assert config.email.outbox == path.parent / "outbox"
    assert config.email.digest_day == "monday"
    assert config.history.worksheet == "History"
    assert config.history.enabled
    assert config.history.revisit_after == 3
    assert config.schedule.at == ("monday 09:00",)
    assert config.schedule.timezone == "UTC"
    assert config.state.dir == path.parent / ".okrsync"
    assert config.columns == {}
    assert config.date_formats == ()


def test_config_path_from_environment(config_file, monkeypatch: pytest.MonkeyPatch) -> None:
    path = config_file()
    monkeypatch.setenv("OKRSYNC_CONFIG", str(path))
    assert load_config().source == path


def test_cycle_datetime_is_a_day() -> None:
    """A TOML datetime for the cycle start counts as its day."""
    config = parse_config(merged({"cycle": {"start": dt.datetime(2026, 10, 1, 8, 0)}}))
    assert config.cycle.start == dt.date(2026, 10, 1)


def test_columns_mapping_and_date_formats() -> None:
    """[columns] maps the team's own headers (folded like headers) onto the contract's."""
    config = parse_config(
        merged(
            {
                "columns": {"  KR  statement": "key result", "Lead": "Owner"},
                "date_formats": ["%d/%m/%Y"],
            }
        )
    )
    assert config.columns == {"kr statement": Col.KEY_RESULT, "lead": Col.OWNER}
    assert config.date_formats == ("%d/%m/%Y",)


def test_history_off_and_gsheets() -> None:
    config = parse_config(
        merged(
            {
                "history": {"worksheet": ""},
                "sheet": {
                    "backend": "gsheets",
                    "path": DELETE,
                    "spreadsheet": "1AbC",
                    "api_endpoint": "http://127.0.0.1:8085/",
                },
            }
        )
    )
    assert not config.history.enabled
    assert config.sheet.backend is BackendKind.GSHEETS
    assert config.sheet.spreadsheet == "1AbC"
    assert config.sheet.api_endpoint == "http://127.0.0.1:8085"


def test_email_helpers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Domains compare case-insensitively; the SMTP password is only in the environment."""
    email = parse_config(merged({"email": {"allowed_domains": ["@Example.COM"]}})).email
    assert email.allowed_domains == ("example.com",)
    assert email.domain_allowed("Maya@EXAMPLE.com")
    assert not email.domain_allowed("maya@example.com.evil.test")
    monkeypatch.delenv("OKRSYNC_SMTP_PASSWORD", raising=False)
    assert email.smtp_password() is None
    monkeypatch.setenv("OKRSYNC_SMTP_PASSWORD", "s3cret")
    assert email.smtp_password() == "s3cret"


PROBLEMS: dict[str, tuple[dict[str, Any], list[str]]] = {
    "unknown-table": ({"shet": {"path": "x"}}, ["unknown key 'shet'", "did you mean 'sheet'"]),
    "unknown-key": (
        {"email": {"manager": ["lead@example.com"]}},
        ["[email] unknown key 'manager'", "did you mean 'managers'"],
    ),
    "unknown-key-no-hint": ({"sheet": {"colour": "red"}}, ["[sheet] unknown key 'colour'"]),
    "number-as-text": (
        {"health": {"at_risk_gap": "0.1"}},
        ["[health] at_risk_gap must be a number like 0.10, not '0.1'"],
    ),
    "bool-for-int": (
        {"history": {"revisit_after": True}},
        ["[history] revisit_after must be a whole number, not True"],
    ),
    "int-for-bool": ({"email": {"enabled": 1}}, ["[email] enabled must be true or false"]),
    "list-of-numbers": (
        {"email": {"managers": [1, 2]}},
        ["[email] managers must be a list of strings"],
    ),
    "table-as-value": ({"sheet": "okrs.xlsx"}, ["[sheet] must be a table"]),
    "missing-start": ({"cycle": {"start": DELETE}}, ["[cycle] start is required"]),
    "missing-cycle": ({"cycle": DELETE}, ["[cycle] start is required", "[cycle] end is required"]),
    "end-before-start": (
        {"cycle": {"end": dt.date(2026, 9, 30)}},
        ["[cycle] end (2026-09-30) must be after start (2026-10-01)"],
    ),
    "end-equals-start": (
        {"cycle": {"end": dt.date(2026, 10, 1)}},
        ["[cycle] end (2026-10-01) must be after start"],
    ),
    "bad-default-cadence": (
        {"cycle": {"default_cadence": "sometimes"}},
        ["[cycle] default_cadence must be weekly, biweekly, monthly or a number of days"],
    ),
    "bad-backend": (
        {"sheet": {"backend": "excel"}},
        ['[sheet] backend must be "xlsx" or "gsheets", not \'excel\''],
    ),
    "xlsx-without-path": (
        {"sheet": {"path": DELETE}},
        ['[sheet] path is required with backend = "xlsx"'],
    ),
    "gsheets-without-spreadsheet": (
        {"sheet": {"backend": "gsheets"}},
        ['[sheet] spreadsheet is required with backend = "gsheets"'],
    ),
    "endpoint-not-url": (
        {"sheet": {"api_endpoint": "127.0.0.1:8085"}},
        ["[sheet] api_endpoint must be an http(s) URL"],
    ),
    "empty-worksheet": ({"sheet": {"worksheet": "  "}}, ["[sheet] worksheet must not be empty"]),
    "gaps-out-of-order": (
        {"health": {"at_risk_gap": 0.3, "off_track_gap": 0.2}},
        ["[health] off_track_gap must be between at_risk_gap (0.3) and 1, not 0.2"],
    ),
    "gap-over-one": (
        {"health": {"at_risk_gap": 1.5}},
        ["[health] at_risk_gap must be between 0 and 1"],
    ),
    "bad-digest-day": (
        {"email": {"digest_day": "mondays"}},
        ['[email] digest_day must be a weekday like "monday" or "daily", not \'mondays\''],
    ),
    "bad-transport": (
        {"email": {"transport": "pigeon"}},
        ['[email] transport must be "file" or "smtp"'],
    ),
    "bad-from": ({"email": {"from": "okrsync"}}, ["[email] from must be an email address"]),
    "bad-port": (
        {"email": {"smtp_port": 70000}},
        ["[email] smtp_port must be between 1 and 65535"],
    ),
    "ssl-and-starttls": (
        {"email": {"smtp_ssl": True, "smtp_starttls": True}},
        ["[email] use smtp_ssl or smtp_starttls, not both"],
    ),
    "manager-outside-domains": (
        {"email": {"managers": ["boss@elsewhere.test"]}},
        ["[email] 'boss@elsewhere.test' is outside allowed_domains ['example.com']"],
    ),
    "team-manager-outside-domains": (
        {"email": {"team_managers": {"Growth": ["g@elsewhere.test"]}}},
        ["'g@elsewhere.test' is outside allowed_domains"],
    ),
    "manager-not-an-address": (
        {"email": {"managers": ["lead@example.com, boss@example.com"]}},
        ["[email] 'lead@example.com, boss@example.com' is not an email address"],
    ),
    "managers-without-domains": (
        {"email": {"allowed_domains": []}},
        ["[email] allowed_domains must list the domains mail may go to"],
    ),
    "bad-timezone": (
        {"schedule": {"timezone": "Mars/Olympus"}},
        ["[schedule] timezone 'Mars/Olympus' is not a known time zone"],
    ),
    "timezone-is-a-region": (
        {"schedule": {"timezone": "America"}},
        ["[schedule] timezone 'America' is not a known time zone"],
    ),
    "bad-at": (
        {"schedule": {"at": ["mondays 9am"]}},
        ["[schedule] at: 'mondays 9am' is not a schedule", '"monday 09:00"'],
    ),
    "bad-at-time": ({"schedule": {"at": ["monday 25:00"]}}, ["[schedule] at: 'monday 25:00'"]),
    "zero-interval": ({"schedule": {"at": ["every 0h"]}}, ["[schedule] at: 'every 0h'"]),
    "revisit-zero": (
        {"history": {"revisit_after": 0}},
        ["[history] revisit_after must be 1 or more"],
    ),
    "columns-unknown": (
        {"columns": {"KR": "Key Reslt"}},
        ["[columns] 'KR' maps to unknown column 'Key Reslt'", "did you mean 'Key Result'"],
    ),
    "columns-not-a-table": ({"columns": "KR"}, ["[columns] must be a table"]),
    "date-format-without-codes": (
        {"date_formats": ["dd/mm/yyyy"]},
        ["date_formats: 'dd/mm/yyyy' has no strftime codes"],
    ),
}


@pytest.mark.parametrize(("changes", "expected"), list(PROBLEMS.values()), ids=list(PROBLEMS))
def test_problem_is_a_config_error_naming_the_key(
    config_file, changes: dict[str, Any], expected: list[str]
) -> None:
    """Each mistake is one ConfigError (exit code 2) whose message names the key."""
    path = config_file(changes)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert caught.value.exit_code == 2
    assert str(path) in message
    for part in expected:
        assert part in message


def test_quoted_date_is_one_problem() -> None:
    """start = "2026-10-01" says to unquote it, and does not also claim it is missing."""
    with pytest.raises(ConfigError) as caught:
        parse_config(merged({"cycle": {"start": "2026-10-01"}}))
    message = str(caught.value)
    assert "Fix 1 problem(s)" in message
    assert "[cycle] start must be a date like 2026-10-01 (unquoted), not '2026-10-01'" in message
    assert "required" not in message


def test_all_problems_reported_together() -> None:
    """One run of the check lists every problem, so the file is fixed in one go."""
    with pytest.raises(ConfigError) as caught:
        parse_config(
            merged(
                {
                    "sheet": {"backend": "excel"},
                    "email": {"digest_day": "someday"},
                    "schedule": {"timezone": "Nowhere/Town"},
                }
            )
        )
    message = str(caught.value)
    assert message.startswith("Fix 3 problem(s) in the config: ")
    assert "backend" in message
    assert "digest_day" in message
    assert "timezone" in message


def test_missing_file_says_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert caught.value.exit_code == 2
    assert str(path) in message
    assert "not found" in message
    assert "--config" in message
    assert "okrsync init" in message


def test_invalid_toml_names_the_line(config_file) -> None:
    path = config_file(text='[sheet]\npath = "okrs.xlsx"\n\n[cycle]\nstart = \n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert caught.value.exit_code == 2
    assert "is not valid TOML" in message
    assert "line 5" in message
    assert "fix that line" in message


def test_not_utf8_says_to_save_as_utf8(tmp_path: Path) -> None:
    """A config saved as UTF-16 (as some Windows editors do) is not blamed on permissions."""
    path = tmp_path / "okrsync.toml"
    path.write_text('[sheet]\npath = "okrs.xlsx"\n', encoding="utf-16")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert "not UTF-8" in str(caught.value)
    assert "save it as UTF-8" in str(caught.value)


def test_unreadable_path(tmp_path: Path) -> None:
    """A folder given as the config is a ConfigError, not a traceback."""
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert "cannot be read" in str(caught.value)


@pytest.mark.parametrize(
    ("sections", "message"),
    [
        ({"email": {"outbox": ""}}, "[email] outbox must not be empty"),
        ({"state": {"dir": " "}}, "[state] dir must not be empty"),
        ({"email": {"templates": "nope"}}, "[email] templates folder"),
        ({"history": {"worksheet": "check-ins"}}, "[history] worksheet must differ"),
        ({"history": {"worksheet": "History: Q4/2026"}}, "cannot name an Excel worksheet"),
        ({"sheet": {"worksheet": "x" * 32}}, "cannot name an Excel worksheet"),
        ({"email": {"from": "ok'rsync@example.com"}}, "from must be an email address"),
        ({"email": {"managers": ["o'neil@example.com"]}}, "is not an email address"),
    ],
    ids=["empty-outbox", "blank-state-dir", "missing-templates", "history-is-the-sheet",
         "history-title-colon", "title-too-long", "sender-quote", "manager-quote"],
)  # fmt: skip
def test_config_refuses_what_would_fail_later(config_file, sections: dict, message: str) -> None:
    """Values that would only fail mid-run (an empty path meaning the config's folder, an
    address the mail code refuses, a title Excel cannot hold) are config errors up front."""
    with pytest.raises(ConfigError) as e:
        load_config(config_file(sections))
    assert message in str(e.value)
    assert e.value.exit_code == 2


def test_config_with_a_byte_order_mark_loads(config_file) -> None:
    """Notepad saves UTF-8 with a BOM; that is still a valid config."""
    path = config_file({})
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert load_config(path).cycle.start == dt.date(2026, 10, 1)
