"""Logging for people (text lines) and for log collectors (JSON lines), secrets removed.

``cli.py`` calls :func:`setup_logging` once from ``-v``/``-q`` and ``--log-format``;
library modules just use ``logging.getLogger(__name__)``. Every record that reaches the
handler, okrsync's or a library's, goes through :class:`RedactSecrets` first, so a
password cannot reach a log file through an exception message or a traceback.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

__all__ = [
    "REDACTED",
    "JsonFormatter",
    "RedactSecrets",
    "TextFormatter",
    "redact",
    "register_secret",
    "setup_logging",
]

REDACTED = "[REDACTED]"

#: Environment variables whose values are secrets wherever they turn up.
SECRET_ENV_VARS = ("OKRSYNC_SMTP_PASSWORD",)

#: Shorter values are not hunted for inside text: replacing every "ab" would mangle
#: logs without protecting anything worth the name.
_MIN_SECRET_LEN = 4

_PRIVATE_KEY_RE = re.compile(
    r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END[A-Z0-9 ]*PRIVATE KEY-----|\Z)",
    re.DOTALL,
)
# `password=hunter2`, `smtp_password: "hunter2"`, `"password": "hunter2"`, `client_secret=...`.
_ASSIGNMENT_RE = re.compile(
    r"""(?ix)
    (\b\w*(?:password|passwd|pwd|secret|token|api[_-]?key|private_key)\b["']?\s*[=:]\s*)
    ("[^"]*"|'[^']*'|[^\s,;&"']+)
    """
)
# `smtp://user:hunter2@host` -> `smtp://user:[REDACTED]@host`.
_URL_PASSWORD_RE = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s:/@]+:)[^\s@/]+(@)", re.IGNORECASE)

_registered: set[str] = set()

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD_ATTRS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def register_secret(value: str | None) -> None:
    """Treat ``value`` as a secret in every later log record (e.g. a password read from a file)."""
    if value and len(value) >= _MIN_SECRET_LEN:
        _registered.add(value)


def _secret_values() -> Iterable[str]:
    for name in SECRET_ENV_VARS:
        value = os.environ.get(name, "")
        if len(value) >= _MIN_SECRET_LEN:
            yield value
    yield from _registered


def redact(text: str) -> str:
    """``text`` with private key blocks, ``password=...`` values, URL passwords and
    known secret values replaced by ``[REDACTED]``."""
    text = _PRIVATE_KEY_RE.sub(REDACTED, text)
    text = _ASSIGNMENT_RE.sub(lambda m: m[1] + REDACTED, text)
    text = _URL_PASSWORD_RE.sub(lambda m: m[1] + REDACTED + m[2], text)
    # Longest first, so a secret containing another is removed whole.
    for secret in sorted(set(_secret_values()), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value(v) for v in value]
    return value


class RedactSecrets(logging.Filter):
    """Rewrite each record so no secret survives: the message (with its arguments
    merged in), the traceback, the stack and the ``extra=`` fields. Never drops a record.

    Attach it to a handler (not a logger) so that it sees every library's records too.
    """

    _exc_formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._exc_formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for key, value in list(vars(record).items()):
            if key not in _STANDARD_ATTRS:
                setattr(record, key, _redact_value(value))
        return True


class TextFormatter(logging.Formatter):
    """``2026-10-05 09:00:02 INFO    sync run finished in 1.2s: rows 40, changes 6``."""

    def __init__(self, *, show_logger: bool = False) -> None:
        name = "%(name)s: " if show_logger else ""
        super().__init__(f"%(asctime)s %(levelname)-7s {name}%(message)s", "%Y-%m-%d %H:%M:%S")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``time`` (UTC, ISO 8601), ``level``, ``logger``,
    ``message``, every ``extra=`` field (``event``, ``duration_s``, ``summary``...),
    and ``exception`` with the traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and key not in entry:
                entry[key] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


def setup_logging(
    verbosity: int = 0,
    fmt: Literal["text", "json"] = "text",
    *,
    stream: TextIO | None = None,
) -> None:
    """Send log records to ``stream`` (default: stderr) as text or JSON lines, redacted.

    Safe to call again (tests, a CLI invoked twice in one process): it replaces the
    handler it installed before rather than adding another.

    :param verbosity: ``-q`` gives -1 (warnings and errors only), 0 is the default
        (okrsync's progress: runs, summaries), 1 (``-v``) adds okrsync's debug detail,
        2 or more (``-vv``) debug from libraries too.
    :param fmt: ``"text"`` for people, ``"json"`` (``--log-format json``) for log
        collectors.
    """
    if fmt not in ("text", "json"):
        raise ValueError(f"log format must be 'text' or 'json', not {fmt!r}")
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.set_name("okrsync")
    handler.addFilter(RedactSecrets())
    handler.setFormatter(
        JsonFormatter() if fmt == "json" else TextFormatter(show_logger=verbosity >= 1)
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "okrsync"]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbosity >= 2 else logging.WARNING)
    okrsync_level = (
        logging.WARNING if verbosity < 0 else logging.DEBUG if verbosity >= 1 else logging.INFO
    )
    logging.getLogger("okrsync").setLevel(okrsync_level)
