"""Logging: text for people, JSON lines for collectors, and never a secret."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Literal

import pytest

from okrsync import logs
from okrsync.logs import REDACTED, redact, register_secret, setup_logging

PASSWORD = "correct-horse-battery"
PEM = (
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n"
    "-----END PRIVATE KEY-----\n"
)
# How a service-account key looks inside its JSON file (newlines escaped).
PEM_IN_JSON = (
    '"private_key": "-----BEGIN RSA PRIVATE KEY-----\\nMIIEpAIBAAKCAQEA'
    '\\n-----END RSA PRIVATE KEY-----\\n"'
)
KEY_MATERIAL = ("MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7", "MIIEpAIBAAKCAQEA")


@pytest.fixture
def stream(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """A stream for setup_logging, and the root logger put back as it was afterwards."""
    monkeypatch.setenv("OKRSYNC_SMTP_PASSWORD", PASSWORD)
    root, okr = logging.getLogger(), logging.getLogger("okrsync")
    saved = (root.handlers[:], root.level, okr.level)
    yield io.StringIO()
    for handler in root.handlers[:]:
        if handler not in saved[0]:
            root.removeHandler(handler)
    root.setLevel(saved[1])
    okr.setLevel(saved[2])


def test_json_lines_parse_with_fields_and_traceback(stream: io.StringIO) -> None:
    """``--log-format json``: one JSON object per line with time, level, logger, message,
    the ``extra=`` fields, and the traceback as ``exception``."""
    setup_logging(0, "json", stream=stream)
    log = logging.getLogger("okrsync.schedule")
    log.info(
        "sync run finished in %.1fs: %s",
        1.25,
        "rows 40",
        extra={"event": "run_done", "duration_s": 1.25, "summary": {"rows": 40, "ü": "✓"}},
    )
    try:
        1 / 0  # noqa: B018
    except ZeroDivisionError:
        log.exception("sync run failed")
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "sync run finished in 1.2s: rows 40"
    assert first["level"] == "info"
    assert first["logger"] == "okrsync.schedule"
    assert first["time"].endswith("+00:00")
    assert (first["event"], first["duration_s"], first["summary"]) == (
        "run_done",
        1.25,
        {"rows": 40, "ü": "✓"},
    )
    assert second["level"] == "error"
    assert second["exception"].startswith("Traceback (most recent call last):")
    assert second["exception"].endswith("ZeroDivisionError: division by zero")


def test_text_lines_for_people(stream: io.StringIO) -> None:
    """The default: ``time LEVEL message`` lines; ``-v`` adds the logger's name."""
    setup_logging(0, "text", stream=stream)
    logging.getLogger("okrsync.schedule").info("sync run started")
    setup_logging(1, "text", stream=stream)
    logging.getLogger("okrsync.schedule").info("sync run started")
    plain, verbose = stream.getvalue().splitlines()
    assert plain[19:] == " INFO    sync run started"
    assert verbose[19:] == " INFO    okrsync.schedule: sync run started"


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_secrets_never_reach_the_log(stream: io.StringIO, fmt: Literal["text", "json"]) -> None:
    """The SMTP password (in a message, an argument, an exception, a traceback, an extra
    field), private key blocks (PEM and JSON-escaped), ``password=...`` and URL
    passwords are all replaced, in both formats and from any logger."""
    setup_logging(0, fmt, stream=stream)
    log = logging.getLogger("okrsync.notify")
    log.warning("login as okrsync with %s refused", PASSWORD)
    log.warning("config says smtp_password=hunter2 and password: 'swordfish', token=abc123")
    log.warning("loaded %s", PEM_IN_JSON)
    log.warning("key file:\n%s", PEM)
    log.warning("connecting to smtp://okrsync:tr0ub4dor@mail.example.com:587")
    log.warning("sent", extra={"summary": {"auth": f"okrsync:{PASSWORD}", "to": ["a@example.com"]}})
    try:
        raise RuntimeError(f"535 authentication failed for {PASSWORD}")
    except RuntimeError:
        log.exception("sending failed")
    logging.getLogger("smtplib.fake").error("library says %s", PASSWORD)
    out = stream.getvalue()
    for secret in (PASSWORD, "hunter2", "swordfish", "abc123", "tr0ub4dor", *KEY_MATERIAL):
        assert secret not in out
    assert "PRIVATE KEY" not in out
    assert out.count(REDACTED) >= 9
    # What is not secret stays readable.
    for kept in (
        "login as okrsync with",
        "smtp://okrsync:",
        "@mail.example.com:587",
    ):
        assert kept in out
    if fmt == "json":
        lines = [json.loads(line) for line in out.splitlines()]
        assert lines[5]["summary"] == {"auth": f"okrsync:{REDACTED}", "to": ["a@example.com"]}
        assert lines[6]["exception"].endswith(
            f"RuntimeError: 535 authentication failed for {REDACTED}"
        )


def test_registered_secrets_and_short_values(monkeypatch: pytest.MonkeyPatch) -> None:
    """A secret read from a file can be registered; values under 4 characters are not
    hunted inside text (they would mangle every log line)."""
    monkeypatch.setattr(logs, "_registered", set())
    register_secret("s3cr3t-from-file")
    register_secret("ab")
    assert redact("got s3cr3t-from-file, ab, abc") == f"got {REDACTED}, ab, abc"


@pytest.mark.parametrize(
    ("verbosity", "shown"),
    [
        (-1, {"okrsync warning", "library warning"}),
        (0, {"okrsync info", "okrsync warning", "library warning"}),
        (1, {"okrsync debug", "okrsync info", "okrsync warning", "library warning"}),
        (
            2,
            {
                "okrsync debug",
                "okrsync info",
                "okrsync warning",
                "library debug",
                "library warning",
            },
        ),
    ],
    ids=["-q", "default", "-v", "-vv"],
)
def test_verbosity(stream: io.StringIO, verbosity: int, shown: set[str]) -> None:
    """``-q`` warnings only; default okrsync's progress; ``-v`` okrsync's debug; ``-vv``
    libraries' debug too (their warnings always)."""
    setup_logging(verbosity, "text", stream=stream)
    okr, lib = logging.getLogger("okrsync.pipeline"), logging.getLogger("gspread.fake")
    okr.debug("okrsync debug")
    okr.info("okrsync info")
    okr.warning("okrsync warning")
    lib.debug("library debug")
    lib.warning("library warning")
    lines = {line.split(maxsplit=3)[-1].split(": ")[-1] for line in stream.getvalue().splitlines()}
    assert lines == shown


def test_setting_up_twice_does_not_double_lines(stream: io.StringIO) -> None:
    """A second setup_logging (tests, a CLI invoked twice) replaces its handler."""
    setup_logging(0, "json", stream=stream)
    setup_logging(0, "json", stream=stream)
    logging.getLogger("okrsync").info("once")
    assert len(stream.getvalue().splitlines()) == 1
    with pytest.raises(ValueError, match="log format must be 'text' or 'json'"):
        setup_logging(0, "xml", stream=stream)  # type: ignore[arg-type]
