"""The sent-mail ledger: what okrsync has sent, so a re-run never sends it again.

A small sqlite file, ``ledger.sqlite3`` in ``[state] dir``. Three tables:

``messages``
    one row per message, by a stable key such as ``digest:all:lead@example.com:2026-11-16``
    or ``reminder:ann@example.com:2026-11-19``, with its Message-ID, status, attempts
    and timestamps.
``reminder_krs``
    one row per KR a reminder message covers, keyed like
    ``reminder:ann@example.com:KR-0007:2026-11-12:1`` (KR, its Next Check-in, and which
    reminder this is for the KR's current check-in). Reminder counts and "reminded
    already for this missed check-in" are read from here.
``digest_counts``
    the headline counts of each digest (per scope and window), so the next digest can
    say what changed.

Order of writes (why a crash cannot duplicate a digest): before a message is handed to
the transport its row is committed as ``sending`` with its Message-ID; after the
transport returns it becomes ``sent`` or ``failed``. A ``sending`` row found by the next
run means the outcome is unknown, and :meth:`Ledger.resolve` settles it: the file
transport looks for the ``.eml`` (written atomically, so present means complete); for
SMTP okrsync cannot ask the server, and takes the safe side: ``unknown``, which is
treated like sent (one missed email is better than a duplicate in a manager's inbox;
a reminder is repeated 7 days later anyway).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import pandas as pd

from okrsync.errors import NotifyError

__all__ = [
    "LEDGER_FILE",
    "DigestSnapshot",
    "Ledger",
    "LedgerStatus",
    "MessageRecord",
    "ReminderKr",
]

LEDGER_FILE = "ledger.sqlite3"
_SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    message_id TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    path TEXT,
    first_attempt_at TEXT NOT NULL,
    last_attempt_at TEXT NOT NULL,
    sent_at TEXT
);
CREATE TABLE IF NOT EXISTS reminder_krs (
    kr_key TEXT PRIMARY KEY,
    message_key TEXT NOT NULL REFERENCES messages(key) ON DELETE CASCADE,
    kr_id TEXT NOT NULL,
    checkin TEXT NOT NULL,
    next_checkin TEXT NOT NULL,
    nth INTEGER NOT NULL,
    on_date TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS reminder_krs_kr ON reminder_krs (kr_id);
CREATE TABLE IF NOT EXISTS digest_counts (
    scope TEXT NOT NULL,
    window TEXT NOT NULL,
    counts TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (scope, window)
);
"""


class LedgerStatus(StrEnum):
    """Where a message stands in the ledger."""

    SENDING = "sending"  # handed to the transport; the outcome is not recorded yet
    SENT = "sent"
    FAILED = "failed"  # retried on the next run
    UNKNOWN = "unknown"  # a crash hid the outcome; treated as sent (never resent)
    SUPERSEDED = "superseded"  # a failed reminder replaced by a newer one to the same owner


#: Statuses that count as delivered: never send the same key again.
DELIVERED = frozenset({LedgerStatus.SENT, LedgerStatus.UNKNOWN})


@dataclass(frozen=True)
class MessageRecord:
    """One row of ``messages``."""

    key: str
    kind: str
    recipient: str
    subject: str
    message_id: str
    status: LedgerStatus
    reason: str | None
    attempts: int
    path: str | None
    first_attempt_at: str
    last_attempt_at: str
    sent_at: str | None


@dataclass(frozen=True)
class ReminderKr:
    """One KR covered by a reminder: which missed check-in, and which reminder of it.

    :param kr_id: the KR's ID.
    :param checkin: its Check-in Date as ISO text, ``""`` with no check-in yet.
    :param next_checkin: its Next Check-in as ISO text (the missed one).
    :param nth: 1 for the first reminder about this check-in, 2 for the next...
    """

    kr_id: str
    checkin: str
    next_checkin: str
    nth: int

    def key(self, owner: str) -> str:
        """The stable per-KR key, e.g. ``reminder:ann@example.com:KR-0007:2026-11-12:1``."""
        return f"reminder:{owner}:{self.kr_id}:{self.next_checkin}:{self.nth}"


@dataclass(frozen=True)
class DigestSnapshot:
    """The headline counts a digest showed, and its window (the digest day)."""

    scope: str
    window: dt.date
    counts: Mapping[str, int]


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class Ledger:
    """The sqlite ledger in a state directory.

    >>> with Ledger.open(Path(".okrsync")) as ledger:
    ...     ledger.get("digest:all:lead@example.com:2026-11-16")

    :param path: the sqlite file, or ``None`` for an empty in-memory ledger (a dry run
        with no state yet must not create the state directory).
    """

    def __init__(self, path: Path | None, *, readonly: bool = False) -> None:
        self.path = path
        if path is not None and readonly:
            # A dry run reads what was sent and must not touch the file (not even its schema).
            uri = f"{path.resolve().as_uri()}?mode=ro"
            self._db = sqlite3.connect(uri, uri=True, isolation_level=None)
        else:
            self._db = sqlite3.connect(str(path) if path else ":memory:", isolation_level=None)
        try:
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA foreign_keys = ON")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > _SCHEMA_VERSION:
                raise NotifyError(
                    f"The ledger {path} was written by a newer okrsync (schema {version}); "
                    "upgrade okrsync or point [state] dir elsewhere."
                )
            if not (readonly and path is not None):
                self._db.executescript(_SCHEMA)
                self._db.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
        except sqlite3.DatabaseError as e:
            self._db.close()
            raise NotifyError(
                f"The ledger {path} cannot be opened ({e}); move it aside and re-run "
                "(okrsync then forgets what it sent)."
            ) from e
        except BaseException:
            self._db.close()
            raise

    @classmethod
    def open(cls, state_dir: Path, *, create: bool = True) -> Ledger:
        """Open the ledger in ``state_dir``, creating the folder and file when ``create``.

        With ``create=False`` (a dry run) the ledger opens read-only, and a missing one as
        an empty in-memory ledger: nothing is written to disk.
        """
        path = state_dir / LEDGER_FILE
        if not create:
            return cls(path, readonly=True) if path.exists() else cls(None)
        if create:
            try:
                state_dir.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise NotifyError(
                    f"Cannot create the state folder {state_dir} ({e}); check [state] dir."
                ) from e
        return cls(path)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        # Explicit transactions: each step of a send is durable before the next begins.
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # --- messages -----------------------------------------------------------------

    def get(self, key: str) -> MessageRecord | None:
        """The record of ``key``, or ``None`` when it was never attempted."""
        row = self._db.execute("SELECT * FROM messages WHERE key = ?", (key,)).fetchone()
        return _record(row) if row else None

    def records(self, status: LedgerStatus | None = None) -> list[MessageRecord]:
        """Every record (with ``status``, when given), oldest first."""
        if status is None:
            rows = self._db.execute("SELECT * FROM messages ORDER BY rowid")
        else:
            rows = self._db.execute(
                "SELECT * FROM messages WHERE status = ? ORDER BY rowid", (str(status),)
            )
        return [_record(r) for r in rows]

    def begin(
        self,
        key: str,
        *,
        kind: str,
        recipient: str,
        subject: str,
        message_id: str,
        path: str | None = None,
        krs: Sequence[ReminderKr] = (),
        on_date: dt.date | None = None,
    ) -> None:
        """Record that ``key`` is being handed to the transport (status ``sending``).

        Called, and committed, before the send. For a retry the row keeps its first
        attempt time and counts one more attempt; a reminder's KRs are replaced by
        ``krs`` (the set due now), reminded on ``on_date`` (the run's "today").
        """
        if krs and on_date is None:
            raise ValueError("a reminder's KRs need the date they are reminded on")
        now = _now()
        with self._tx() as db:
            db.execute(
                """
                INSERT INTO messages (key, kind, recipient, subject, message_id, status,
                    reason, attempts, path, first_attempt_at, last_attempt_at)
                VALUES (?, ?, ?, ?, ?, ?, NULL, 1, ?, ?, ?)
                ON CONFLICT (key) DO UPDATE SET
                    subject = excluded.subject, message_id = excluded.message_id,
                    status = excluded.status, reason = NULL, path = excluded.path,
                    attempts = attempts + 1, last_attempt_at = excluded.last_attempt_at
                """,
                (key, kind, recipient, subject, message_id, LedgerStatus.SENDING, path, now, now),
            )
            db.execute("DELETE FROM reminder_krs WHERE message_key = ?", (key,))
            db.executemany(
                "INSERT OR REPLACE INTO reminder_krs (kr_key, message_key, kr_id, checkin, "
                "next_checkin, nth, on_date) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (k.key(recipient), key, k.kr_id, k.checkin, k.next_checkin, k.nth, str(on_date))
                    for k in krs
                ],
            )

    def finish(self, key: str, status: LedgerStatus, reason: str | None = None) -> None:
        """Record the outcome of the send begun with :meth:`begin`."""
        with self._tx() as db:
            db.execute(
                "UPDATE messages SET status = ?, reason = ?, "
                "sent_at = CASE WHEN ? THEN ? ELSE sent_at END WHERE key = ?",
                (str(status), reason, status == LedgerStatus.SENT, _now(), key),
            )

    def supersede(self, kind: str, recipient: str, keep: str) -> None:
        """Mark older failed ``kind`` messages to ``recipient`` as replaced by ``keep``."""
        with self._tx() as db:
            # Their KRs were never reminded: forget them, so the new message can claim them.
            db.execute(
                "DELETE FROM reminder_krs WHERE message_key IN (SELECT key FROM messages "
                "WHERE kind = ? AND recipient = ? AND status = ? AND key != ?)",
                (kind, recipient, LedgerStatus.FAILED, keep),
            )
            db.execute(
                "UPDATE messages SET status = ?, reason = ? "
                "WHERE kind = ? AND recipient = ? AND status = ? AND key != ?",
                (LedgerStatus.SUPERSEDED, f"replaced by {keep}", kind, recipient,
                 LedgerStatus.FAILED, keep),
            )  # fmt: skip

    # --- reminders ----------------------------------------------------------------

    def reminders(self, kr_ids: Sequence[str]) -> pd.DataFrame:
        """Delivered reminders about ``kr_ids``: columns kr_id, checkin, next_checkin, nth, on_date.

        ``on_date`` is the run's "today" when the reminder went out (``datetime64``).
        """
        columns = ["kr_id", "checkin", "next_checkin", "nth", "on_date"]
        if not kr_ids:
            return pd.DataFrame(columns=columns)
        delivered = ", ".join("?" for _ in DELIVERED)
        # Chunked IN lists stay under sqlite's variable limit on big sheets.
        frames = []
        ids = list(dict.fromkeys(kr_ids))
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            frames.append(
                pd.read_sql_query(
                    f"SELECT r.kr_id, r.checkin, r.next_checkin, r.nth, r.on_date "  # noqa: S608
                    f"FROM reminder_krs r JOIN messages m ON m.key = r.message_key "
                    f"WHERE m.status IN ({delivered}) AND r.kr_id IN ({marks})",
                    self._db,
                    params=[*map(str, DELIVERED), *chunk],
                )
            )
        out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
        out["on_date"] = pd.to_datetime(out["on_date"])
        return out

    # --- digest counts ------------------------------------------------------------

    def record_digest(self, scope: str, window: dt.date, counts: Mapping[str, int]) -> None:
        """Store the headline counts of the digest for ``scope`` in ``window``."""
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO digest_counts (scope, window, counts, recorded_at) "
                "VALUES (?, ?, ?, ?)",
                (scope, window.isoformat(), json.dumps(dict(counts), sort_keys=True), _now()),
            )

    def last_digest(self, scope: str, before: dt.date) -> DigestSnapshot | None:
        """The latest digest of ``scope`` whose window is before ``before``."""
        row = self._db.execute(
            "SELECT window, counts FROM digest_counts WHERE scope = ? AND window < ? "
            "ORDER BY window DESC LIMIT 1",
            (scope, before.isoformat()),
        ).fetchone()
        if row is None:
            return None
        return DigestSnapshot(
            scope=scope,
            window=dt.date.fromisoformat(row["window"]),
            counts=json.loads(row["counts"]),
        )


def _record(row: sqlite3.Row) -> MessageRecord:
    data = dict(row)
    data["status"] = LedgerStatus(data["status"])
    return MessageRecord(**data)
