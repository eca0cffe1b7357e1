"""The sent-mail ledger: a real sqlite file in tmp_path."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest

from okrsync.errors import NotifyError
from okrsync.ledger import LEDGER_FILE, Ledger, LedgerStatus, ReminderKr

DAY = dt.date(2026, 11, 16)


def begin(ledger, key="digest:all:lead@example.com:2026-11-16", **kw):
    args = {"kind": "digest", "recipient": "lead@example.com", "subject": "s",
            "message_id": "<1@example.com>"} | kw  # fmt: skip
    ledger.begin(key, **args)
    return key


def test_open_creates_the_state_folder(tmp_path):
    """The state folder and the sqlite file are created on first use."""
    state = tmp_path / "deep" / "state"
    with Ledger.open(state) as ledger:
        assert ledger.records() == []
    assert (state / LEDGER_FILE).is_file()


def test_dry_run_open_writes_nothing(tmp_path):
    """create=False with no ledger yet gives an empty in-memory ledger and no folder."""
    with Ledger.open(tmp_path / "state", create=False) as ledger:
        assert ledger.get("anything") is None
        assert ledger.path is None
    assert not (tmp_path / "state").exists()


def test_lifecycle_sending_failed_sent(tmp_path):
    """begin -> sending; finish failed; begin again counts an attempt; finish sent stamps it."""
    with Ledger.open(tmp_path) as ledger:
        key = begin(ledger)
        rec = ledger.get(key)
        assert (rec.status, rec.attempts, rec.sent_at) == (LedgerStatus.SENDING, 1, None)
        ledger.finish(key, LedgerStatus.FAILED, "server down")
        assert (ledger.get(key).status, ledger.get(key).reason) == (
            LedgerStatus.FAILED,
            "server down",
        )
        begin(ledger)
        ledger.finish(key, LedgerStatus.SENT)
        rec = ledger.get(key)
        assert (rec.status, rec.attempts, rec.reason) == (LedgerStatus.SENT, 2, None)
        assert rec.sent_at is not None
        assert rec.first_attempt_at <= rec.last_attempt_at
    with Ledger.open(tmp_path) as again:  # durable across processes
        assert again.get(key).status == LedgerStatus.SENT


def test_reminder_counts_come_from_delivered_messages_only(tmp_path):
    """A failed reminder's KRs do not count; sent and unknown ones do."""
    kr = ReminderKr("KR-0007", "2026-11-01", "2026-11-08", 1)
    with Ledger.open(tmp_path) as ledger:
        for n, status in enumerate([LedgerStatus.SENT, LedgerStatus.FAILED, LedgerStatus.UNKNOWN]):
            key = f"reminder:ann@example.com:2026-11-1{n}"
            nth_kr = ReminderKr(kr.kr_id, kr.checkin, kr.next_checkin, n + 1)
            ledger.begin(key, kind="reminder", recipient="ann@example.com", subject="s",
                         message_id=f"<{n}@x>", krs=[nth_kr], on_date=DAY)  # fmt: skip
            ledger.finish(key, status)
        sent = ledger.reminders(["KR-0007", "KR-0099"])
    assert sorted(sent["nth"]) == [1, 3]
    assert set(sent["kr_id"]) == {"KR-0007"}
    assert str(sent["on_date"].dtype).startswith("datetime64")


def test_reminders_handle_many_ids(tmp_path):
    """More KR IDs than sqlite's variable limit are queried in chunks."""
    ids = [f"KR-{i:05d}" for i in range(1200)]
    with Ledger.open(tmp_path) as ledger:
        key = "reminder:ann@example.com:2026-11-16"
        ledger.begin(key, kind="reminder", recipient="ann@example.com", subject="s",
                     message_id="<m@x>", krs=[ReminderKr(ids[-1], "", "2026-10-08", 1)],
                     on_date=DAY)  # fmt: skip
        ledger.finish(key, LedgerStatus.SENT)
        assert list(ledger.reminders(ids)["kr_id"]) == [ids[-1]]


def test_supersede_releases_failed_reminders(tmp_path):
    """An older failed reminder to the same owner is superseded and its KRs freed."""
    kr = ReminderKr("KR-0001", "", "2026-10-08", 1)
    args = {"kind": "reminder", "recipient": "ann@example.com", "subject": "s", "krs": [kr],
            "on_date": DAY}  # fmt: skip
    with Ledger.open(tmp_path) as ledger:
        ledger.begin("reminder:ann@example.com:2026-11-16", message_id="<a@x>", **args)
        ledger.finish("reminder:ann@example.com:2026-11-16", LedgerStatus.FAILED, "down")
        ledger.supersede("reminder", "ann@example.com", keep="reminder:ann@example.com:2026-11-17")
        ledger.begin("reminder:ann@example.com:2026-11-17", message_id="<b@x>", **args)
        ledger.finish("reminder:ann@example.com:2026-11-17", LedgerStatus.SENT)
        old = ledger.get("reminder:ann@example.com:2026-11-16")
        assert old.status == LedgerStatus.SUPERSEDED
        assert old.reason == "replaced by reminder:ann@example.com:2026-11-17"
        assert len(ledger.reminders(["KR-0001"])) == 1


def test_a_reminder_needs_its_day():
    """Recording KRs without the day they were reminded on is a programming error."""
    with Ledger(None) as ledger, pytest.raises(ValueError, match="date"):
        ledger.begin("k", kind="reminder", recipient="a@x.com", subject="s", message_id="<m>",
                     krs=[ReminderKr("KR-1", "", "2026-10-08", 1)])  # fmt: skip


def test_digest_counts_by_scope_and_window(tmp_path):
    """last_digest returns the latest snapshot strictly before a window, per scope."""
    with Ledger.open(tmp_path) as ledger:
        ledger.record_digest("all", dt.date(2026, 11, 2), {"krs": 10})
        ledger.record_digest("all", dt.date(2026, 11, 9), {"krs": 11})
        ledger.record_digest("all", dt.date(2026, 11, 9), {"krs": 12})  # a re-run replaces
        ledger.record_digest("team=Growth", dt.date(2026, 11, 16), {"krs": 3})
        last = ledger.last_digest("all", before=dt.date(2026, 11, 16))
        assert (last.window, dict(last.counts)) == (dt.date(2026, 11, 9), {"krs": 12})
        assert ledger.last_digest("all", before=dt.date(2026, 11, 9)).counts == {"krs": 10}
        assert ledger.last_digest("team=Growth", before=dt.date(2026, 11, 16)) is None


def test_corrupt_ledger_is_a_notify_error(tmp_path):
    """A file that is not sqlite gives one actionable sentence."""
    (tmp_path / LEDGER_FILE).write_bytes(b"this is not a database" * 100)
    with pytest.raises(NotifyError, match=r"cannot be opened .*move it aside"):
        Ledger.open(tmp_path)


def test_newer_schema_is_refused(tmp_path):
    """A ledger from a newer okrsync is not silently downgraded."""
    db = sqlite3.connect(tmp_path / LEDGER_FILE)
    db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(NotifyError, match="newer okrsync"):
        Ledger.open(tmp_path)


def test_dry_run_open_of_an_existing_ledger_is_read_only(tmp_path):
    """create=False on an existing ledger reads it and cannot write to it."""
    with Ledger.open(tmp_path) as ledger:
        key = begin(ledger)
        ledger.finish(key, LedgerStatus.SENT)
    before = (tmp_path / LEDGER_FILE).read_bytes()
    with Ledger.open(tmp_path, create=False) as ledger:
        assert ledger.get(key).status == LedgerStatus.SENT
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            begin(ledger, key="other")
    assert (tmp_path / LEDGER_FILE).read_bytes() == before
