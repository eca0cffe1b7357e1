"""`okrsync run`: the schedule in ``[schedule] at``, and the loop that keeps to it.

Forms of ``at``: ``"monday 09:00"`` (a weekday and a time), ``"daily 08:30"``, and
``"every 1h"`` / ``"every 30m"`` (an interval).

What the times mean, in the configured ``[schedule] timezone``:

- ``"monday 09:00"`` and ``"daily 08:30"`` are wall-clock times in that zone, so they
  stay at 09:00 across daylight-saving changes. A time that does not exist on the day
  the clocks go forward (02:30 in Europe/Berlin) runs one hour later on the wall
  clock; a time that happens twice when they go back runs once, the first time.
- ``"every N"`` intervals are aligned to the clock, counted from each local midnight:
  ``"every 1h"`` runs on the hour, ``"every 30m"`` at :00 and :30, ``"every 90m"`` at
  00:00, 01:30, 03:00, ... and again from 00:00 the next day. So the times do not
  depend on when ``okrsync run`` was started.
- When several entries fall on the same instant (``"daily 09:00"`` and
  ``"monday 09:00"``), the sync runs once.
- A time missed while the machine was asleep runs once when it wakes; a time missed
  while a long run was still going is skipped.

The runner is built on the ``schedule`` library (:class:`schedule.Scheduler` holds the
jobs and runs the due ones). ``schedule`` 1.2 handles time zones only through pytz, which
okrsync does not depend on, so :class:`ZonedJob` computes its next run with
:mod:`zoneinfo` instead (:func:`next_runs` is the same computation, pure, for tests and
for printing "next run at ...").
"""

from __future__ import annotations

import contextlib
import logging
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from types import FrameType
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import schedule

from okrsync.config import WEEKDAYS
from okrsync.errors import ConfigError, OkrsyncError

if TYPE_CHECKING:
    from okrsync.config import ScheduleConfig

__all__ = [
    "At",
    "JobResult",
    "OkrScheduler",
    "ZonedJob",
    "build_scheduler",
    "format_when",
    "next_after",
    "next_runs",
    "parse_at",
    "run_forever",
]

_AT_RE = re.compile(r"^(?P<day>[a-z]+)\s+(?P<h>\d{1,2}):(?P<m>\d{2})$")
_EVERY_RE = re.compile(r"^every\s+(?P<n>\d+)\s*(?P<unit>m|min|minutes?|h|hours?)$")

#: The longest the loop sleeps before looking at the clock again: bounds how late a
#: run starts after the wall clock jumps (suspend, NTP) and how long a stop signal
#: waits while idle (signal handlers only set a flag; see :class:`_Stopper`).
_TICK = 1.0

#: What a job may return: a summary to log (``{"rows": 12, "changes": 3}`` or a
#: sentence), or ``None``.
JobResult = Mapping[str, object] | str | None


@dataclass(frozen=True)
class At:
    """One parsed ``at`` entry: ``day`` is a weekday, ``"daily"`` or ``"every"``."""

    day: str
    hour: int = 0
    minute: int = 0
    every_minutes: int = 0


def parse_at(text: str) -> At:
    """Parse one ``[schedule] at`` entry.

    :raises ValueError: with a message that shows the accepted forms.
    """
    spec = " ".join(text.split()).casefold()
    if m := _EVERY_RE.match(spec):
        n = int(m["n"])
        minutes = n * 60 if m["unit"].startswith("h") else n
        if minutes < 1:
            raise ValueError(f"{text!r}: the interval must be at least 1 minute")
        return At(day="every", every_minutes=minutes)
    if (m := _AT_RE.match(spec)) and m["day"] in (*WEEKDAYS, "daily"):
        hour, minute = int(m["h"]), int(m["m"])
        if hour < 24 and minute < 60:
            return At(day=m["day"], hour=hour, minute=minute)
    raise ValueError(f'{text!r} is not a schedule; use "monday 09:00", "daily 08:30" or "every 1h"')


# --- next-run arithmetic (pure) ---------------------------------------------------------


def _zone(config: ScheduleConfig) -> ZoneInfo:
    try:
        return ZoneInfo(config.timezone)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise ConfigError(
            f"[schedule] timezone {config.timezone!r} is not a known time zone; "
            "use an IANA name like Europe/Berlin"
        ) from e


def _entries(config: ScheduleConfig) -> list[At]:
    try:
        return [parse_at(spec) for spec in config.at]
    except ValueError as e:
        raise ConfigError(f"[schedule] at: {e}") from e


def _wall(day: date, hour: int, minute: int, tz: ZoneInfo) -> datetime:
    """The instant (in UTC) at which the wall clock in ``tz`` shows ``day hour:minute``.

    ``fold=0`` picks the first of two instants when the clocks go back, and for a time
    that does not exist (clocks forward) the offset from before the change, which lands
    one hour later on the new wall clock.
    """
    return datetime.combine(day, dtime(hour, minute), tzinfo=tz).astimezone(UTC)


def next_after(at: At, tz: ZoneInfo, after: datetime) -> datetime:
    """The first instant strictly after ``after`` at which ``at`` is due.

    :param after: an aware datetime (any zone).
    :return: an aware datetime in ``tz``.
    """
    # All arithmetic and comparisons in UTC: between two datetimes of one zone, Python
    # uses wall-clock time, which is wrong across a daylight-saving change.
    after = after.astimezone(UTC)
    today = after.astimezone(tz).date()
    if at.day == "every":
        step = timedelta(minutes=at.every_minutes)
        # Count real time from local midnight: a 23- or 25-hour day still gets evenly
        # spaced runs, and the grid starts again at the next midnight.
        start = _wall(today, 0, 0, tz)
        end = _wall(today + timedelta(days=1), 0, 0, tz)
        candidate = start + ((after - start) // step + 1) * step if after >= start else start
        return min(candidate, end).astimezone(tz)
    for offset in range(8):
        day = today + timedelta(days=offset)
        if at.day != "daily" and WEEKDAYS[day.weekday()] != at.day:
            continue
        candidate = _wall(day, at.hour, at.minute, tz)
        if candidate > after:
            return candidate.astimezone(tz)
    # Unreachable: a weekday comes round within 8 days.
    raise AssertionError(at)  # pragma: no cover


def next_runs(config: ScheduleConfig, now: datetime, count: int = 1) -> list[datetime]:
    """The next ``count`` times the schedule runs after ``now``, earliest first.

    Pure (no clock, no I/O). Entries that fall on the same instant count once.

    :param now: an aware datetime, or a naive one read as wall time in the
        configured timezone.
    :return: aware datetimes in the configured timezone; ``[]`` when ``at`` is empty.
    :raises ConfigError: for a bad ``at`` entry or time zone (a config built in code).
    """
    tz = _zone(config)
    entries = _entries(config)
    cursor = now.replace(tzinfo=tz) if now.tzinfo is None else now
    runs: list[datetime] = []
    while entries and len(runs) < count:
        # key: compare instants; min() over one zone would compare wall clocks.
        cursor = min((next_after(at, tz, cursor) for at in entries), key=_utc)
        runs.append(cursor)
    return runs


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def format_when(moment: datetime) -> str:
    """A run time for people: ``Mon 2026-10-05 09:00 CEST``."""
    return moment.strftime("%a %Y-%m-%d %H:%M %Z")


# --- the scheduler, on the `schedule` library ------------------------------------------


class ZonedJob(schedule.Job):
    """A :class:`schedule.Job` for one ``at`` entry, due at wall times in a time zone.

    Only the next-run computation differs from the library's (``zoneinfo`` instead of
    pytz); the library still calls :meth:`_schedule_next_run` after each run. Besides
    the library's naive local ``next_run``, the job keeps ``next_instant`` (aware, in
    UTC), which :attr:`should_run` compares against, so a change of the
    machine's own UTC offset cannot make a run early, late or double.
    """

    def __init__(self, entry: str, tz: ZoneInfo, scheduler: schedule.Scheduler) -> None:
        super().__init__(interval=1, scheduler=scheduler)
        self.entry = entry
        self.at = parse_at(entry)
        self.tz = tz
        self.next_instant: datetime | None = None

    def _schedule_next_run(self) -> None:
        self.next_instant = _utc(next_after(self.at, self.tz, datetime.now(UTC)))
        # The library's own API (Scheduler.next_run, idle_seconds) speaks naive local time.
        self.next_run = self.next_instant.astimezone().replace(tzinfo=None)

    @property
    def should_run(self) -> bool:
        """``True`` once the job's next instant has come."""
        return self.next_instant is not None and datetime.now(UTC) >= self.next_instant

    def skip(self) -> None:
        """Move on to the next time without running: another entry's run covered this one."""
        self.last_run = datetime.now()
        self._schedule_next_run()

    def __lt__(self, other: schedule.Job) -> bool:
        if isinstance(other, ZonedJob) and self.next_instant and other.next_instant:
            return self.next_instant < other.next_instant
        return bool(super().__lt__(other))

    def __repr__(self) -> str:
        when = "[not scheduled]"
        if self.next_instant is not None:
            when = format_when(self.next_instant.astimezone(self.tz))
        return f"<ZonedJob {self.entry!r} ({self.tz.key}), next run {when}>"


class OkrScheduler(schedule.Scheduler):
    """A :class:`schedule.Scheduler` that runs the sync once however many entries are due.

    ``at = ["daily 09:00", "monday 09:00"]`` makes two jobs due on Monday at 09:00;
    syncing twice in a row would only repeat the work, so the earliest due job runs and
    the others just move on to their next time.
    """

    def run_pending(self) -> None:
        """Run the due job (once, see the class docstring); skip the other due ones."""
        due = sorted(job for job in self.jobs if job.should_run)
        if not due:
            return
        first, *rest = due
        try:
            self._run_job(first)
        finally:
            for job in rest:
                if isinstance(job, ZonedJob):
                    job.skip()
                else:  # a plain library job added by hand: the library's behaviour
                    self._run_job(job)

    @property
    def next_instant(self) -> datetime | None:
        """The time of the next run (aware, UTC), or ``None`` when nothing is scheduled."""
        times = [j.next_instant for j in self.jobs if isinstance(j, ZonedJob) and j.next_instant]
        return min(times, default=None)


def build_scheduler(config: ScheduleConfig, job: Callable[[], object]) -> OkrScheduler:
    """A scheduler with one :class:`ZonedJob` per ``[schedule] at`` entry, each calling ``job``.

    Call ``scheduler.run_pending()`` to run what is due; :func:`run_forever` does that
    in a loop with logging, error handling and signals.

    :raises ConfigError: for a bad ``at`` entry or time zone (a config built in code).
    """
    tz = _zone(config)
    _entries(config)  # one ConfigError for a bad entry, before any job exists
    scheduler = OkrScheduler()
    for entry in config.at:
        ZonedJob(entry, tz, scheduler).do(job)
    return scheduler


# --- the loop: run_forever ------------------------------------------------------------


class _Stopper:
    """Knows whether to stop: the caller's Event, or SIGTERM/SIGINT.

    The first signal only sets a flag, read between runs, so the run in progress
    finishes (the handler must not touch the Event: ``Event.set`` takes a plain lock
    that the interrupted main thread may be holding). A second signal means "now" and
    raises :class:`KeyboardInterrupt` wherever the main thread is.
    """

    def __init__(self, stop: threading.Event) -> None:
        self.event = stop
        self.signal: signal.Signals | None = None
        self.in_run = False
        #: Whether the second signal interrupted a run (rather than the wait between runs).
        self.cut_short = False

    @property
    def stopping(self) -> bool:
        return self.signal is not None or self.event.is_set()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signal is not None:
            self.cut_short = self.in_run
            raise KeyboardInterrupt
        self.signal = signal.Signals(signum)

    @contextlib.contextmanager
    def handlers(self) -> Iterator[None]:
        """Install the handlers for the duration, if this is the main thread (else no-op)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {s: signal.signal(s, self._handle) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        """Mark a run in progress, for the message when a second signal cuts it short."""
        self.in_run = True
        try:
            yield
        finally:
            self.in_run = False

    def wait(self, seconds: float) -> None:
        self.event.wait(min(max(seconds, 0.0), _TICK))


def _summary_text(result: object) -> str:
    if result is None:
        return "done"
    if isinstance(result, Mapping):
        text = ", ".join(f"{k} {v}" for k, v in result.items()) or "done"
    else:
        text = str(result)
    # A job that returns a big object by mistake must not flood the log.
    return text if len(text) <= 300 else text[:297] + "..."


def _run_logged(
    job: Callable[[], object],
    config: ScheduleConfig,
    log: logging.Logger,
    *,
    once: bool,
) -> int:
    """Run ``job`` once, logging start, summary, duration and any error; return an exit code.

    An :class:`OkrsyncError` is logged as its one sentence; anything else with its
    traceback (a bug to report). Either way, exactly one error record.
    """
    log.info("sync run started", extra={"event": "run_start"})
    started = time.monotonic()
    try:
        result = job()
    except Exception as e:
        duration = round(time.monotonic() - started, 3)
        exit_code = e.exit_code if isinstance(e, OkrsyncError) else 1
        reason = str(e) or type(e).__name__
        if once:
            # The error's own sentence says what to do; cron or systemd sees the exit code.
            then = ""
        else:
            upcoming = next_runs(config, datetime.now(UTC), 1)
            when = format_when(upcoming[0]) if upcoming else "the next scheduled time"
            then = f"; okrsync keeps running and will try again at {when}"
        log.error(
            "sync run failed after %.1fs: %s%s",
            duration,
            reason,
            then,
            exc_info=None if isinstance(e, OkrsyncError) else e,
            extra={"event": "run_failed", "duration_s": duration, "exit_code": exit_code},
        )
        return exit_code
    duration = round(time.monotonic() - started, 3)
    summary = dict(result) if isinstance(result, Mapping) else _summary_text(result)
    log.info(
        "sync run finished in %.1fs: %s",
        duration,
        _summary_text(result),
        extra={"event": "run_done", "duration_s": duration, "summary": summary},
    )
    return 0


def run_forever(
    config: ScheduleConfig,
    job: Callable[[], object],
    *,
    once: bool = False,
    stop: threading.Event | None = None,
    log: logging.Logger,
) -> int:
    """Run ``job`` at the times in ``config`` until stopped; return the exit code.

    Each run is logged (start; the summary ``job`` returns, a dict such as
    ``{"rows": 40, "changes": 6, "emails": 2}`` or a sentence; duration; errors). A
    failed run is logged once, with when the next try is, and the loop goes on.

    Stopping: set ``stop``, or send SIGTERM or SIGINT (handled only when called from
    the main thread). The run in progress finishes first; a second signal stops at
    once (exit code 130). ``job`` should hold the run lock itself, so that a
    scheduled run and a cron-started ``okrsync sync`` never overlap::

        def job() -> dict[str, object]:
            with RunLock(cfg.state.dir):
                return summary_of(pipeline.sync(cfg))

        sys.exit(run_forever(cfg.schedule, job, once=once, log=logging.getLogger("okrsync")))

    A refused lock (:class:`~okrsync.errors.LockHeldError`) is then just a failed run,
    tried again at the next time.

    :param once: ``okrsync run --once``: run ``job`` now, once, whatever the schedule
        says, and return. "What is due now" is this run: it is for cron, systemd timers
        and tests, which decide the time themselves.
    :return: 0 after a clean stop; with ``once``, 0 or the failed run's exit code (the
        error's ``exit_code``: 75 when another run holds the lock, 1 otherwise); 130
        when a second signal cut a run short.
    :raises ConfigError: for a bad ``at`` entry or time zone, or no entries at all
        (not with ``once``).
    """
    stopper = _Stopper(stop or threading.Event())
    with stopper.handlers():
        try:
            if once:
                with stopper.running():
                    return _run_logged(job, config, log, once=True)
            return _loop(config, job, stopper, log)
        except KeyboardInterrupt:
            log.warning(
                "stopped at once by a second signal%s",
                "; the run in progress was cut short" if stopper.cut_short else "",
                extra={"event": "stopped", "exit_code": 130},
            )
            return 130


def _loop(
    config: ScheduleConfig, job: Callable[[], object], stopper: _Stopper, log: logging.Logger
) -> int:
    """The long-running half of :func:`run_forever`."""
    if not config.at:
        raise ConfigError('[schedule] at is empty; add a time such as "monday 09:00"')
    scheduler = build_scheduler(config, lambda: _run_logged(job, config, log, once=False))
    tz = _zone(config)

    def log_next(message: str) -> None:
        upcoming = scheduler.next_instant
        assert upcoming is not None  # every entry always has a next time
        log.info(
            "%s; next run at %s",
            message,
            format_when(upcoming.astimezone(tz)),
            extra={"event": "next_run", "next_run": upcoming.isoformat()},
        )

    log_next(f"okrsync run: schedule {', '.join(config.at)} ({tz.key})")
    while not stopper.stopping:
        if any(j.should_run for j in scheduler.jobs):
            with stopper.running():
                scheduler.run_pending()
            if not stopper.stopping:
                log_next("waiting")
            continue
        upcoming = scheduler.next_instant
        assert upcoming is not None
        stopper.wait((upcoming - datetime.now(UTC)).total_seconds())
    reason = f"received {stopper.signal.name}" if stopper.signal else "asked to stop"
    log.info("okrsync run: %s, stopped cleanly", reason, extra={"event": "stopped"})
    return 0
