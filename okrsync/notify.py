"""Send the emails that are due after a sync: the manager digest and owner reminders.

:func:`send_due` is the one entry point. It decides what is due from the sync's table
and the ledger (:mod:`okrsync.ledger`), renders it (:mod:`okrsync.notes`), and hands it
to the transport (:mod:`okrsync.mail`), recording each step so that a re-run sends
nothing twice and a failed message is tried again next run.

What is due:

- **Digest**: on the first sync of ``digest_day`` (every day with ``"daily"``), one
  message to each of ``managers`` (the whole sheet) and to each team's
  ``team_managers`` (that team's rows only). A digest that failed is retried on later
  runs until the next digest day.
- **Reminder**: one message per owner with overdue check-ins, listing all their overdue
  KRs. A KR is reminded once per missed check-in (again only when its Next Check-in
  moves on, or 7 days after its last reminder), at most one message per owner per day;
  after 3 reminders with no new check-in it is *stalled*: no more reminders, listed in
  the digest instead.
"""

from __future__ import annotations

import datetime as dt
import logging
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import pandas as pd

from okrsync.columns import Col
from okrsync.config import WEEKDAYS, Config
from okrsync.errors import RowIssue
from okrsync.ledger import DELIVERED, Ledger, LedgerStatus, ReminderKr
from okrsync.mail import (
    MailTransport,
    SendError,
    UnsafeAddressError,
    build_message,
    new_message_id,
    open_transport,
    safe_address,
)
from okrsync.notes import (
    ORG_SCOPE,
    Renderer,
    digest_notes,
    kr_views,
    pick_question,
    reminder_notes,
)

__all__ = [
    "MAX_REMINDERS",
    "REMIND_AGAIN_AFTER",
    "Kind",
    "MessageOutcome",
    "NotifyReport",
    "Status",
    "digest_window",
    "send_due",
]

log = logging.getLogger(__name__)

#: After this many reminders about one check-in, a KR is stalled (contract §4).
MAX_REMINDERS = 3
#: A reminder about the same missed check-in is repeated after this many days.
REMIND_AGAIN_AFTER = 7


class Kind(StrEnum):
    DIGEST = "digest"
    REMINDER = "reminder"


class Status(StrEnum):
    """What happened to one message in this run."""

    SENT = "sent"
    FAILED = "failed"  # tried and failed; tried again on the next run
    REFUSED = "refused"  # recipient outside allowed_domains, or not one plain address
    SKIPPED = "skipped-already-sent"
    WOULD_SEND = "would-send"  # --dry-run


@dataclass(frozen=True)
class MessageOutcome:
    """One message this run sent, failed, refused, skipped or (dry run) would send."""

    kind: Kind
    key: str
    recipients: tuple[str, ...]
    subject: str
    status: Status
    reason: str | None = None
    scope: str | None = None  # the digest's team, or "All teams"
    krs: tuple[str, ...] = ()  # the KR IDs a reminder lists
    message_id: str | None = None
    attempts: int = 0
    path: str | None = None  # the .eml file (file transport)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": str(self.kind),
            "key": self.key,
            "recipients": list(self.recipients),
            "subject": self.subject,
            "status": str(self.status),
            "reason": self.reason,
            "scope": self.scope,
            "krs": list(self.krs),
            "message_id": self.message_id,
            "attempts": self.attempts,
            "path": self.path,
        }


@dataclass
class NotifyReport:
    """What :func:`send_due` did, for the run summary and ``--json``."""

    dry_run: bool
    enabled: bool = True
    transport: str = "file"
    today: dt.date | None = None
    #: The digest day this run belongs to (``None`` when no digest was considered).
    digest_window: dt.date | None = None
    messages: list[MessageOutcome] = field(default_factory=list)
    #: KRs reminded 3 times with no new check-in: no more reminders.
    stalled: list[str] = field(default_factory=list)
    #: Overdue KRs that cannot be reminded: no (valid) Owner Email.
    unreachable: list[str] = field(default_factory=list)
    #: Messages an interrupted earlier run left unsettled, and how they were settled.
    recovered: list[str] = field(default_factory=list)

    def count(self, status: Status) -> int:
        return sum(m.status == status for m in self.messages)

    @property
    def failed(self) -> list[MessageOutcome]:
        return [m for m in self.messages if m.status == Status.FAILED]

    @property
    def refused(self) -> list[MessageOutcome]:
        return [m for m in self.messages if m.status == Status.REFUSED]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable summary (``json.dumps(report.to_dict())``)."""
        return {
            "enabled": self.enabled,
            "dry_run": self.dry_run,
            "transport": self.transport,
            "today": self.today.isoformat() if self.today else None,
            "digest_window": self.digest_window.isoformat() if self.digest_window else None,
            "counts": {str(s): self.count(s) for s in Status},
            "messages": [m.to_dict() for m in self.messages],
            "stalled": list(self.stalled),
            "unreachable": list(self.unreachable),
            "recovered": list(self.recovered),
        }

    def lines(self) -> list[str]:
        """One human line per message, for the run summary on the terminal."""
        if not self.enabled:
            return ["email: off ([email] enabled = false)"]
        out = []
        for m in self.messages:
            who = ", ".join(m.recipients)
            what = f"{m.kind} ({m.scope})" if m.scope else str(m.kind)
            why = f": {m.reason}" if m.reason and m.status != Status.SENT else ""
            out.append(f"{m.status} {what} to {who}{why}")
        if self.stalled:
            out.append("stalled (reminders stopped): " + ", ".join(self.stalled))
        if self.unreachable:
            out.append("overdue without Owner Email: " + ", ".join(self.unreachable))
        out.extend(self.recovered)
        return out


@dataclass
class _Planned:
    kind: Kind
    key: str
    recipient: str
    name: str
    subject: str
    text: str
    html: str
    scope: str | None = None
    krs: tuple[ReminderKr, ...] = ()
    listed: tuple[str, ...] = ()
    on_date: dt.date | None = None  # a reminder's day (its KRs' "reminded on")


def digest_window(today: dt.date, digest_day: str) -> dt.date:
    """The digest day this ``today`` belongs to: today with ``"daily"``, else the latest
    ``digest_day`` on or before today."""
    if digest_day == "daily":
        return today
    back = (today.weekday() - WEEKDAYS.index(digest_day)) % 7
    return today - dt.timedelta(days=back)


def send_due(
    config: Config,
    table: pd.DataFrame,
    issues: Sequence[RowIssue],
    *,
    today: dt.date,
    location: str,
    dry_run: bool = False,
    tls_context: ssl.SSLContext | None = None,
) -> NotifyReport:
    """Send the digest and reminders that are due, and report each message.

    :param table: the sync's table (``SyncResult.table``): one row per sheet row.
    :param issues: the sync's row issues, for "rows with problems".
    :param today: the sync's today (``--today``); windows and reminder spacing use it.
    :param location: where owners update their rows (sheet URL or workbook path).
    :param dry_run: render and report what would be sent; send and record nothing.
    :param tls_context: verify the SMTP server against this context instead of the
        system's CAs (tests, private CAs); verification stays on either way.
    :raises NotifyError: the ledger or a template is broken. Send failures never raise:
        they are reported (status ``failed``) and retried on the next run.
    """
    email = config.email
    report = NotifyReport(
        dry_run=dry_run, enabled=email.enabled, transport=str(email.transport), today=today
    )
    if not email.enabled:
        return report
    renderer = Renderer(email.templates)
    transport = open_transport(email, tls_context=tls_context)
    with Ledger.open(config.state.dir, create=not dry_run) as ledger:
        try:
            if not dry_run:
                report.recovered = _settle(ledger, transport)
            reminders, stalled = _plan_reminders(
                config, table, ledger, renderer, today, location, report
            )
            report.stalled = sorted(stalled)
            for plan, scope_key, counts in _plan_digests(
                config, table, issues, ledger, renderer, today, location, stalled, report
            ):
                outcomes = [_deliver(p, config, ledger, transport, dry_run) for p in plan]
                report.messages.extend(outcomes)
                if counts and any(o.status == Status.SENT for o in outcomes):
                    assert report.digest_window is not None
                    ledger.record_digest(scope_key, report.digest_window, counts)
            for p in reminders:
                if isinstance(p, MessageOutcome):  # nothing due for this owner today
                    report.messages.append(p)
                else:
                    report.messages.append(_deliver(p, config, ledger, transport, dry_run))
        finally:
            transport.close()
    for m in report.messages:
        log.info("%s %s to %s%s", m.status, m.kind, ", ".join(m.recipients),
                 f" ({m.reason})" if m.reason else "")  # fmt: skip
    return report


def _settle(ledger: Ledger, transport: MailTransport) -> list[str]:
    """Settle messages an interrupted run left as ``sending`` (see :mod:`okrsync.ledger`)."""
    notes = []
    for rec in ledger.records(LedgerStatus.SENDING):
        delivered = transport.delivered(rec.key, rec.message_id)
        if delivered is None:
            reason = "an earlier run stopped while sending; not resent, to avoid a duplicate"
            ledger.finish(rec.key, LedgerStatus.UNKNOWN, reason)
        elif delivered:
            reason = "an earlier run stopped after writing it; found in the outbox"
            ledger.finish(rec.key, LedgerStatus.SENT, reason)
        else:
            reason = "an earlier run stopped before writing it; retrying"
            ledger.finish(rec.key, LedgerStatus.FAILED, reason)
        notes.append(f"recovered {rec.key}: {reason}")
    return notes


def _deliver(
    p: _Planned, config: Config, ledger: Ledger, transport: MailTransport, dry_run: bool
) -> MessageOutcome:
    """Check, record, send and record again one planned message (see the ledger's write order)."""
    base = {
        "kind": p.kind,
        "key": p.key,
        "recipients": (p.recipient,),
        "subject": p.subject,
        "scope": p.scope,
        "krs": p.listed,
    }
    try:
        to = safe_address(p.recipient, p.name)
    except UnsafeAddressError as e:
        return MessageOutcome(**base, status=Status.REFUSED, reason=str(e))
    if not config.email.domain_allowed(to.addr_spec):
        domain = to.domain
        return MessageOutcome(
            **base,
            status=Status.REFUSED,
            reason=f"{domain} is not in [email] allowed_domains; not sent",
        )
    rec = ledger.get(p.key)
    if rec is not None:
        base |= {"message_id": rec.message_id, "attempts": rec.attempts, "path": rec.path}
        done = rec.status in DELIVERED
        if rec.status == LedgerStatus.SENDING:  # only seen in a dry run (a run settles first)
            done = transport.delivered(rec.key, rec.message_id) is not False
        if done:
            when = rec.sent_at or rec.last_attempt_at
            reason = rec.reason or f"sent {when}"
            return MessageOutcome(**base, status=Status.SKIPPED, reason=reason)
    if dry_run:
        where = transport.where(p.key)
        return MessageOutcome(**base | {"path": where}, status=Status.WOULD_SEND)
    message_id = rec.message_id if rec else new_message_id(config.email.sender)
    msg = build_message(
        sender=safe_address(config.email.sender, "okrsync"),
        to=to,
        subject=p.subject,
        text=p.text,
        html=p.html,
        message_id=message_id,
    )
    path = transport.where(p.key)
    if p.kind == Kind.REMINDER:
        ledger.supersede(str(p.kind), p.recipient, keep=p.key)
    # Recorded before the send: a crash after it leaves "sending", which the next run settles.
    ledger.begin(
        p.key,
        kind=str(p.kind),
        recipient=p.recipient,
        subject=p.subject,
        message_id=message_id,
        path=path,
        krs=p.krs,
        on_date=p.on_date,
    )
    attempts = (rec.attempts if rec else 0) + 1
    base |= {"message_id": message_id, "attempts": attempts, "path": path}
    try:
        transport.send(msg, p.key)
    except SendError as e:
        ledger.finish(p.key, LedgerStatus.FAILED, str(e))
        return MessageOutcome(**base, status=Status.FAILED, reason=str(e))
    ledger.finish(p.key, LedgerStatus.SENT)
    return MessageOutcome(**base, status=Status.SENT)


# --- planning -------------------------------------------------------------------------


def _iso(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series).dt.strftime("%Y-%m-%d").fillna("")


def _plan_reminders(
    config: Config,
    table: pd.DataFrame,
    ledger: Ledger,
    renderer: Renderer,
    today: dt.date,
    location: str,
    report: NotifyReport,
) -> tuple[list[_Planned | MessageOutcome], dict[str, int]]:
    """Reminders due now, and the stalled KRs (ID -> reminders sent), whole-column.

    An owner whose reminder already went out today gets a ``skipped`` outcome instead.
    """
    if table.empty:
        return [], {}
    error = table["error"].fillna(value=False).astype(bool) if "error" in table else None
    due_rows = table[Col.OVERDUE.value] == "yes"
    od = table[due_rows if error is None else due_rows & ~error].copy()
    if od.empty:
        return [], {}
    od["_checkin"] = _iso(od[Col.CHECKIN_DATE.value])
    od["_next"] = _iso(od[Col.NEXT_CHECKIN.value])
    sent = ledger.reminders(od[Col.ID.value].astype(str).tolist())
    counts = (
        sent.groupby(["kr_id", "checkin"]).size().rename("_count").reset_index()
        if not sent.empty
        else pd.DataFrame(columns=["kr_id", "checkin", "_count"])
    )
    last = (
        sent.groupby(["kr_id", "next_checkin"])["on_date"].max().rename("_last").reset_index()
        if not sent.empty
        else pd.DataFrame(columns=["kr_id", "next_checkin", "_last"])
    )
    od["_id"] = od[Col.ID.value].astype(str)
    index = od.index
    od = od.merge(
        counts.astype({"kr_id": str, "checkin": str}),
        how="left",
        left_on=["_id", "_checkin"],
        right_on=["kr_id", "checkin"],
    ).drop(columns=["kr_id", "checkin"])
    od = od.merge(
        last.astype({"kr_id": str, "next_checkin": str}),
        how="left",
        left_on=["_id", "_next"],
        right_on=["kr_id", "next_checkin"],
    ).drop(columns=["kr_id", "next_checkin"])
    od.index = index
    od["_count"] = pd.to_numeric(od["_count"]).fillna(0).astype(int)
    last_on = pd.to_datetime(od["_last"])
    stalled_mask = od["_count"] >= MAX_REMINDERS
    recent = last_on.notna() & ((pd.Timestamp(today) - last_on).dt.days < REMIND_AGAIN_AFTER)
    email = od[Col.OWNER_EMAIL.value]
    has_email = email.notna() & (email.astype(str).str.strip() != "")
    od["_due"] = ~stalled_mask & ~recent & has_email
    stalled = dict(zip(od.loc[stalled_mask, "_id"], od.loc[stalled_mask, "_count"], strict=True))
    report.unreachable = sorted(od.loc[~stalled_mask & ~has_email, "_id"])

    live = od[~stalled_mask & has_email].copy()
    live["_to"] = live[Col.OWNER_EMAIL.value].astype(str).str.strip().str.casefold()
    planned: list[_Planned | MessageOutcome] = []
    for to, rows in live.groupby("_to", sort=True):
        key = f"reminder:{to}:{today.isoformat()}"
        due = rows[rows["_due"]]
        if due.empty:
            rec = ledger.get(key)
            if rec is not None and rec.status in DELIVERED:
                planned.append(
                    MessageOutcome(
                        kind=Kind.REMINDER,
                        key=key,
                        recipients=(str(to),),
                        subject=rec.subject,
                        status=Status.SKIPPED,
                        reason=f"sent {rec.sent_at or rec.last_attempt_at}",
                        krs=tuple(rows["_id"]),
                        message_id=rec.message_id,
                        attempts=rec.attempts,
                        path=rec.path,
                    )
                )
            continue
        krs = tuple(
            ReminderKr(kr_id=i, checkin=c, next_checkin=n, nth=int(k) + 1)
            for i, c, n, k in zip(
                due["_id"], due["_checkin"], due["_next"], due["_count"], strict=True
            )
        )
        views = kr_views(rows.drop(columns=[c for c in rows.columns if c.startswith("_")]))
        notes = reminder_notes(
            views,
            today=today,
            location=location,
            last_call=[k.kr_id for k in krs if k.nth == MAX_REMINDERS],
        )
        text, html = renderer.reminder(notes)
        planned.append(
            _Planned(
                kind=Kind.REMINDER,
                key=key,
                recipient=str(to),
                name=notes.owner,
                subject=notes.subject,
                text=text,
                html=html,
                krs=krs,
                listed=tuple(rows["_id"]),
                on_date=today,
            )
        )
    return planned, stalled


def _plan_digests(
    config: Config,
    table: pd.DataFrame,
    issues: Sequence[RowIssue],
    ledger: Ledger,
    renderer: Renderer,
    today: dt.date,
    location: str,
    stalled: dict[str, int],
    report: NotifyReport,
) -> list[tuple[list[_Planned], str, dict[str, int] | None]]:
    """Each digest scope's messages, its ledger scope key and its headline counts."""
    email = config.email
    window = digest_window(today, email.digest_day)
    scopes: list[tuple[str, str, pd.DataFrame, tuple[str, ...]]] = []
    if email.managers:
        scopes.append(("all", ORG_SCOPE, table, email.managers))
    if email.team_managers:
        teams = table[Col.TEAM.value].astype(str).str.strip().str.casefold()
        for team, addrs in email.team_managers.items():
            if addrs:
                rows = table[teams == team.strip().casefold()]
                scopes.append((f"team={team}", team, rows, addrs))
    if not scopes:
        return []
    report.digest_window = window
    period = 1 if email.digest_day == "daily" else 7
    question = pick_question(today)
    out = []
    for scope_key, scope_name, rows, addrs in scopes:
        recipients = list(dict.fromkeys(a.strip() for a in addrs))
        keys = {a: f"digest:{scope_key}:{a.casefold()}:{window.isoformat()}" for a in recipients}
        if today != window:
            # Not a digest day: only retry a digest of this window that failed.
            retry = []
            for a in recipients:
                rec = ledger.get(keys[a])
                if rec is not None and rec.status in (LedgerStatus.FAILED, LedgerStatus.SENDING):
                    retry.append(a)
            recipients = retry
        if not recipients:
            continue
        previous = ledger.last_digest(scope_key, before=window)
        since = previous.window if previous else today - dt.timedelta(days=period)
        notes = digest_notes(
            rows,
            issues,
            scope=scope_name,
            today=today,
            since=since,
            previous=previous.counts if previous else None,
            stalled=stalled,
            location=location,
            question=question,
        )
        text, html = renderer.digest(notes)
        plan = [
            _Planned(
                kind=Kind.DIGEST,
                key=keys[a],
                recipient=a,
                name="",
                subject=notes.subject,
                text=text,
                html=html,
                scope=scope_name,
            )
            for a in recipients
        ]
        out.append((plan, scope_key, notes.counts))
    return out
