"""Email through `okrsync sync`: sent after the sheet is written, once, over real SMTP."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from okrsync.cli import cli
from tests.helpers import base_row

MONDAY = "2026-11-16"
EMAIL = {
    "transport": "file",
    "managers": ["lead@example.com"],
    "allowed_domains": ["example.com"],
    "digest_day": "monday",
}


def rows() -> list[dict]:
    # Ann's check-in of 2026-11-01 (weekly) is overdue on the 16th; Bob is on time.
    return [
        base_row(ID="KR-0001", Owner="Ann", Check_in_Date=dt.date(2026, 11, 1)),
        base_row(ID="KR-0002", Owner="Bob", Owner_Email="bob@example.com"),
    ]


def sync(runner: CliRunner, config: Path, *args: str) -> dict:
    result = runner.invoke(
        cli, ["--config", str(config), "sync", "--today", MONDAY, "--json", *args]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_digest_and_reminder_are_sent_once(
    runner: CliRunner,
    make_workbook: Callable[..., Path],
    make_config: Callable[..., Path],
    tmp_path: Path,
) -> None:
    """On the digest day: the digest to the manager, a reminder to the late owner; once."""
    make_workbook(rows())
    config = make_config(email=EMAIL)
    first = sync(runner, config)
    sent = sorted((m["kind"], tuple(m["recipients"])) for m in first["emails"]["messages"])
    assert sent == [("digest", ("lead@example.com",)), ("reminder", ("ann@example.com",))]
    assert {m["status"] for m in first["emails"]["messages"]} == {"sent"}
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 2
    second = sync(runner, config)
    assert second["emails"]["counts"]["sent"] == 0
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 2


def test_dry_run_and_validate_send_nothing(
    runner: CliRunner,
    make_workbook: Callable[..., Path],
    make_config: Callable[..., Path],
    tmp_path: Path,
) -> None:
    make_workbook(rows())
    config = make_config(email=EMAIL)
    dry = sync(runner, config, "--dry-run")
    assert dry["emails"]["counts"]["would-send"] == 2
    validate = runner.invoke(
        cli, ["--config", str(config), "validate", "--today", MONDAY, "--json"]
    )
    assert "emails" not in json.loads(validate.stdout)
    assert not (tmp_path / "outbox").exists()
    # Nothing was recorded either: the real sync still sends both.
    assert sync(runner, config)["emails"]["counts"]["sent"] == 2


def test_a_failed_sheet_write_sends_no_email(
    runner: CliRunner,
    make_workbook: Callable[..., Path],
    make_config: Callable[..., Path],
    tmp_path: Path,
) -> None:
    """If the sheet cannot be written the run fails first; the digest is not sent early."""
    workbook = make_workbook(rows())
    config = make_config(email=EMAIL)
    lock = workbook.with_name(f".~lock.{workbook.name}#")
    lock.write_text("someone")
    result = runner.invoke(cli, ["--config", str(config), "sync", "--today", MONDAY])
    assert result.exit_code == 1
    assert not (tmp_path / "outbox").exists()
    lock.unlink()
    assert sync(runner, config)["emails"]["counts"]["sent"] == 2


def test_sync_sends_over_smtp(
    runner: CliRunner,
    make_workbook: Callable[..., Path],
    make_config: Callable[..., Path],
    smtp_server: object,
) -> None:
    """With transport = "smtp" the messages reach a real SMTP server, text and HTML parts."""
    make_workbook(rows())
    config = make_config(
        email=EMAIL
        | {
            "transport": "smtp",
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_server.port,  # type: ignore[attr-defined]
            "smtp_starttls": False,
        }
    )
    summary = sync(runner, config)
    assert summary["emails"]["counts"]["sent"] == 2
    received = smtp_server.received  # type: ignore[attr-defined]
    assert sorted(r.rcpt_tos[0] for r in received) == ["ann@example.com", "lead@example.com"]
    digest = next(r.message for r in received if r.rcpt_tos == ["lead@example.com"])
    assert "week 47" in digest["Subject"]
    parts = [p.get_content_type() for p in digest.walk()]
    assert "text/plain" in parts
    assert "text/html" in parts


def test_unsent_email_fails_the_run_after_the_sheet_is_synced(
    runner: CliRunner,
    make_workbook: Callable[..., Path],
    make_config: Callable[..., Path],
    smtp_server: object,
) -> None:
    """A mail server that is down: the sheet is written, the run exits 1 saying the mail
    will be retried, and the next run (server up) sends it."""
    from tests.helpers import read_workbook

    workbook = make_workbook(rows())
    config = make_config(
        email=EMAIL
        | {
            "transport": "smtp",
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_server.port,  # type: ignore[attr-defined]
            "smtp_starttls": False,
            "smtp_timeout": 5,
        }
    )
    smtp_server.stop()  # type: ignore[attr-defined]
    result = runner.invoke(cli, ["--config", str(config), "sync", "--today", MONDAY])
    assert result.exit_code == 1
    assert "could not be sent" in result.stderr
    assert "tried again on the next run" in result.stderr
    assert read_workbook(workbook)[0]["Progress"] == 0.5
    smtp_server.start()  # type: ignore[attr-defined]
    assert sync(runner, config)["emails"]["counts"]["sent"] == 2
