"""The emails over real SMTP: an aiosmtpd server on 127.0.0.1 receives them."""

from __future__ import annotations

import json
import logging

import pytest

from okrsync.ledger import Ledger, LedgerStatus
from okrsync.notify import Kind, Status, send_due
from tests.notify_helpers import (
    TODAY,
    kr_ids,
    make_config,
    make_table,
    overdue,
    parse_html,
    parts,
    realistic_table,
    section,
    text_of,
)

LOCATION = "https://docs.google.com/spreadsheets/d/1AbC/edit"


def smtp_config(tmp_path, server, **email):
    settings = {
        "transport": "smtp",
        "smtp_host": server.host,
        "smtp_port": server.port,
        "smtp_starttls": False,
        "smtp_timeout": 5,
    }
    return make_config(tmp_path, **(settings | email))


def run(config, table, issues=(), **kw):
    return send_due(config, table, list(issues), today=TODAY, location=LOCATION, **kw)


def two_owners():
    return make_table([
        overdue(),
        overdue(Owner="Bo Berg", **{"Owner Email": "bo@example.com", "Health": "at risk",
                                    "Comment": "<script>alert('x')</script>"}),
    ])  # fmt: skip


def test_digest_and_reminders_arrive(tmp_path, smtp_server):
    """The server receives the digest and one reminder per owner, each multipart."""
    report = run(smtp_config(tmp_path, smtp_server), two_owners())
    assert [m.status for m in report.messages] == [Status.SENT] * 3
    got = smtp_server.received
    assert [(r.mail_from, r.rcpt_tos) for r in got] == [
        ("okrsync@example.com", ["lead@example.com"]),
        ("okrsync@example.com", ["ann@example.com"]),
        ("okrsync@example.com", ["bo@example.com"]),
    ]
    subjects = [r.message["Subject"] for r in got]
    assert subjects == [
        "OKR check-in notes — All teams — week 47, 2026",
        "Time for your OKR check-in: 1 key result waiting",
        "Time for your OKR check-in: 1 key result waiting",
    ]
    assert [r.message["Message-ID"] for r in got] == [m.message_id for m in report.messages]
    for r in got:
        text, html = parts(r.message)
        assert text.strip()
        assert parse_html(html).find(".//body") is not None
    assert all(m.path is None for m in report.messages)


def test_digest_sections_over_smtp(tmp_path, smtp_server):
    """The received digest has each section's KRs (parsed, not substring-matched)."""
    table, issues = realistic_table()
    run(smtp_config(tmp_path, smtp_server), table, issues)
    digest = smtp_server.received[0].message
    _, html = parts(digest)
    tree = parse_html(html)
    assert kr_ids(section(tree, "risks")) == [
        "KR-0002", "KR-0004", "KR-0006", "KR-0009", "KR-0010", "KR-0011",
    ]  # fmt: skip
    assert kr_ids(section(tree, "rosier")) == ["KR-0002", "KR-0006", "KR-0010"]
    assert kr_ids(section(tree, "revisit")) == ["KR-0006"]
    assert "Row 14 (KR-0013)" in text_of(section(tree, "problems"))
    link = section(tree, "header").find(".//a")
    assert link.get("href") == LOCATION


def test_script_in_comment_is_escaped(tmp_path, smtp_server):
    """<script> in a Comment arrives as text in the HTML part, never as an element."""
    run(smtp_config(tmp_path, smtp_server), two_owners())
    _, html = parts(smtp_server.received[0].message)
    tree = parse_html(html)
    assert tree.findall(".//script") == []
    assert "<script>alert('x')</script>" in text_of(section(tree, "risks"))


def test_rerun_sends_nothing_twice(tmp_path, smtp_server):
    """A second run the same day sends nothing; every message is reported as skipped."""
    config = smtp_config(tmp_path, smtp_server)
    run(config, two_owners())
    second = run(config, two_owners())
    assert [m.status for m in second.messages] == [Status.SKIPPED] * 3
    assert len(smtp_server.received) == 3


def test_retry_after_server_was_down(tmp_path, smtp_server):
    """Server down: every message fails and is reported; next run sends each exactly once."""
    config = smtp_config(tmp_path, smtp_server)
    smtp_server.stop()
    down = run(config, two_owners())
    assert [m.status for m in down.messages] == [Status.FAILED] * 3
    assert all(f"cannot connect to SMTP server 127.0.0.1:{smtp_server.port}" in m.reason
               for m in down.messages)  # fmt: skip
    assert json.loads(json.dumps(down.to_dict()))["counts"]["failed"] == 3
    smtp_server.start()
    up = run(config, two_owners())
    assert [(m.status, m.attempts) for m in up.messages] == [(Status.SENT, 2)] * 3
    assert [m.message_id for m in up.messages] == [m.message_id for m in down.messages]
    assert len(smtp_server.received) == 3
    assert [m.status for m in run(config, two_owners()).messages] == [Status.SKIPPED] * 3
    assert len(smtp_server.received) == 3


def test_recipient_refused_by_server_is_retried(tmp_path, smtp_server):
    """A 550 for one recipient fails that message only; it is retried next run."""
    smtp_server.handler.reject.add("bo@example.com")
    config = smtp_config(tmp_path, smtp_server)
    first = run(config, two_owners())
    assert [m.status for m in first.messages] == [Status.SENT, Status.SENT, Status.FAILED]
    assert "refused recipient bo@example.com (550" in first.messages[2].reason
    smtp_server.handler.reject.clear()
    second = run(config, two_owners())
    assert [m.status for m in second.messages] == [Status.SKIPPED, Status.SKIPPED, Status.SENT]
    assert [r.rcpt_tos for r in smtp_server.received] == [
        ["lead@example.com"], ["ann@example.com"], ["bo@example.com"],
    ]  # fmt: skip


def test_domain_filter_and_header_injection(tmp_path, smtp_server):
    """Outside allowed_domains: refused, never sent. A CR/LF name adds no recipient."""
    table = make_table([
        overdue(**{"Owner Email": "ann@elsewhere.org"}),
        overdue(Owner="Bo\r\nBcc: eve@example.com", **{"Owner Email": "bo@example.com"}),
        overdue(Owner="Cy", **{"Owner Email": "cy@example.com\r\nBcc: eve@example.com"}),
    ])  # fmt: skip
    report = run(smtp_config(tmp_path, smtp_server, managers=[]), table)
    assert [(m.recipients[0], m.status) for m in report.messages] == [
        ("ann@elsewhere.org", Status.REFUSED),
        ("bo@example.com", Status.SENT),
        ("cy@example.com\r\nbcc: eve@example.com", Status.REFUSED),
    ]
    (got,) = smtp_server.received
    assert got.rcpt_tos == ["bo@example.com"]
    assert got.message["Bcc"] is None
    assert [a.addr_spec for a in got.message["To"].addresses] == ["bo@example.com"]


def test_crash_while_sending_is_not_resent(tmp_path, smtp_server):
    """A digest left 'sending' by a crashed run is not resent over SMTP (safe side)."""
    config = smtp_config(tmp_path, smtp_server)
    key = "digest:all:lead@example.com:2026-11-16"
    with Ledger.open(config.state.dir) as ledger:
        ledger.begin(key, kind="digest", recipient="lead@example.com", subject="s",
                     message_id="<crashed@example.com>")  # fmt: skip
    report = run(config, make_table([{}]))
    (m,) = report.messages
    assert (m.kind, m.status) == (Kind.DIGEST, Status.SKIPPED)
    assert "not resent, to avoid a duplicate" in m.reason
    assert smtp_server.received == []
    with Ledger.open(config.state.dir) as ledger:
        assert ledger.get(key).status == LedgerStatus.UNKNOWN


def test_starttls_with_login(
    tmp_path, smtp_factory, server_tls_context, client_tls_context, monkeypatch, caplog
):
    """STARTTLS, then AUTH with OKRSYNC_SMTP_PASSWORD; the password is never logged."""
    server = smtp_factory(
        tls_context=server_tls_context, require_starttls=True, users={"okrsync": "s3cret-pw"}
    )
    monkeypatch.setenv("OKRSYNC_SMTP_PASSWORD", "s3cret-pw")
    config = smtp_config(tmp_path, server, smtp_starttls=True, smtp_user="okrsync")
    with caplog.at_level(logging.DEBUG):
        report = run(config, two_owners(), tls_context=client_tls_context)
    assert [m.status for m in report.messages] == [Status.SENT] * 3
    assert [r.tls for r in server.received] == [True] * 3
    assert server.logins == [("okrsync", "PLAIN")]
    assert "s3cret-pw" not in caplog.text
    assert "s3cret-pw" not in json.dumps(report.to_dict())


def test_starttls_verifies_the_certificate(tmp_path, smtp_factory, server_tls_context):
    """Without trusting the test CA, the self-signed server is refused: verification is on."""
    server = smtp_factory(tls_context=server_tls_context, require_starttls=True)
    report = run(smtp_config(tmp_path, server, smtp_starttls=True), two_owners())
    assert [m.status for m in report.messages] == [Status.FAILED] * 3
    assert "TLS certificate of 127.0.0.1" in report.messages[0].reason
    assert "cannot be verified" in report.messages[0].reason
    assert server.received == []


def test_plain_client_cannot_skip_required_starttls(tmp_path, smtp_factory, server_tls_context):
    """A server that requires STARTTLS refuses a client configured without it."""
    server = smtp_factory(tls_context=server_tls_context, require_starttls=True)
    report = run(smtp_config(tmp_path, server), two_owners())
    assert [m.status for m in report.messages] == [Status.FAILED] * 3
    assert "530" in report.messages[0].reason
    assert server.received == []


def test_implicit_tls(tmp_path, smtp_factory, server_tls_context, client_tls_context):
    """smtp_ssl = true speaks TLS from the first byte."""
    server = smtp_factory(implicit_tls=server_tls_context)
    config = smtp_config(tmp_path, server, smtp_ssl=True)
    report = run(config, two_owners(), tls_context=client_tls_context)
    assert [m.status for m in report.messages] == [Status.SENT] * 3
    assert [r.tls for r in server.received] == [True] * 3


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        (
            "wrong",
            "refused the login of 'okrsync' (535); check smtp_user and OKRSYNC_SMTP_PASSWORD",
        ),
        (None, "smtp_user is 'okrsync' but OKRSYNC_SMTP_PASSWORD is not set"),
    ],
    ids=["wrong-password", "no-password"],
)
def test_login_problems_fail_every_message(
    tmp_path, smtp_factory, server_tls_context, client_tls_context, monkeypatch, password, reason
):
    """A refused or impossible login fails the run's messages with an actionable reason."""
    server = smtp_factory(tls_context=server_tls_context, users={"okrsync": "right"})
    if password is None:
        monkeypatch.delenv("OKRSYNC_SMTP_PASSWORD", raising=False)
    else:
        monkeypatch.setenv("OKRSYNC_SMTP_PASSWORD", password)
    config = smtp_config(tmp_path, server, smtp_starttls=True, smtp_user="okrsync")
    report = run(config, two_owners(), tls_context=client_tls_context)
    assert [m.status for m in report.messages] == [Status.FAILED] * 3
    assert all(reason in m.reason for m in report.messages)
    assert "right" not in json.dumps(report.to_dict())
    assert server.received == []


def test_dry_run_connects_to_nothing(tmp_path, smtp_server):
    """--dry-run with SMTP: would-send for each message, the server hears nothing."""
    report = run(smtp_config(tmp_path, smtp_server), two_owners(), dry_run=True)
    assert [(m.kind, m.status) for m in report.messages] == [
        (Kind.DIGEST, Status.WOULD_SEND),
        (Kind.REMINDER, Status.WOULD_SEND),
        (Kind.REMINDER, Status.WOULD_SEND),
    ]
    assert smtp_server.received == []
    assert not (tmp_path / "state").exists()
