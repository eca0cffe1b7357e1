"""The schedule of `okrsync run`: parsing `at`, next-run times, and the run loop."""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine

from okrsync.config import ScheduleConfig
from okrsync.errors import ConfigError, LockHeldError, SheetError
from okrsync.lock import RunLock
from okrsync.schedule import (
    At,
    OkrScheduler,
    ZonedJob,
    build_scheduler,
    next_runs,
    parse_at,
    run_forever,
)

ROOT = Path(__file__).resolve().parents[1]
BERLIN = ZoneInfo("Europe/Berlin")


def berlin(*args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=BERLIN, fold=fold)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- parse_at ------------------------------------------------------------------------

PARSED = [
    ("monday 09:00", At("monday", 9, 0)),
    ("  Thursday   9:05 ", At("thursday", 9, 5)),
    ("SUNDAY 00:00", At("sunday", 0, 0)),
    ("saturday 23:59", At("saturday", 23, 59)),
    ("daily 08:30", At("daily", 8, 30)),
    ("Daily 7:00", At("daily", 7, 0)),
    ("every 1h", At("every", every_minutes=60)),
    ("every 2 hours", At("every", every_minutes=120)),
    ("every 1 hour", At("every", every_minutes=60)),
    ("every 30m", At("every", every_minutes=30)),
    ("every 90min", At("every", every_minutes=90)),
    ("every 1 minute", At("every", every_minutes=1)),
    ("every 15 minutes", At("every", every_minutes=15)),
]


@pytest.mark.parametrize(("text", "expected"), PARSED, ids=[t.strip() for t, _ in PARSED])
def test_parse_at_accepts(text: str, expected: At) -> None:
    """Every documented form parses, case and spacing aside."""
    assert parse_at(text) == expected


REJECTED = [
    ("", "not a schedule"),
    ("09:00", "not a schedule"),
    ("monday", "not a schedule"),
    ("mon 09:00", "not a schedule"),
    ("funday 09:00", "not a schedule"),
    ("weekly 09:00", "not a schedule"),
    ("monday 24:00", "not a schedule"),
    ("monday 09:60", "not a schedule"),
    ("monday 9", "not a schedule"),
    ("monday 09:00:00", "not a schedule"),
    ("monday 9am", "not a schedule"),
    ("every 1d", "not a schedule"),
    ("every -1h", "not a schedule"),
    ("every h", "not a schedule"),
    ("every 1.5h", "not a schedule"),
    ("every 0m", "at least 1 minute"),
    ("every 0h", "at least 1 minute"),
]


@pytest.mark.parametrize(("text", "reason"), REJECTED, ids=[t or "empty" for t, _ in REJECTED])
def test_parse_at_rejects(text: str, reason: str) -> None:
    """Anything else is refused with a message quoting the entry and, for a wrong form,
    showing the accepted ones."""
    with pytest.raises(ValueError, match=reason) as e:
        parse_at(text)
    assert repr(text) in str(e.value)
    if reason == "not a schedule":
        assert '"monday 09:00", "daily 08:30" or "every 1h"' in str(e.value)


# --- next_runs ---------------------------------------------------------------------------


def test_weekly_times_keep_the_wall_clock_across_dst_end() -> None:
    """ "monday 09:00" in Europe/Berlin stays 09:00 local when summer time ends
    (2026-10-25), so its UTC time moves from 07:00 to 08:00."""
    config = ScheduleConfig(at=("monday 09:00",), timezone="Europe/Berlin")
    with time_machine.travel(utc(2026, 10, 13, 10, 0), tick=False):
        runs = next_runs(config, datetime.now(UTC), 3)
    assert [r.astimezone(UTC) for r in runs] == [
        utc(2026, 10, 19, 7, 0),
        utc(2026, 10, 26, 8, 0),
        utc(2026, 11, 2, 8, 0),
    ]
    assert {(r.hour, r.minute, r.strftime("%A")) for r in runs} == {(9, 0, "Monday")}
    assert [r.tzname() for r in runs] == ["CEST", "CET", "CET"]


def test_weekly_times_keep_the_wall_clock_across_dst_start() -> None:
    """And when summer time starts (2026-03-29): 08:00 UTC, then 07:00 UTC."""
    config = ScheduleConfig(at=("monday 09:00",), timezone="Europe/Berlin")
    runs = next_runs(config, berlin(2026, 3, 20, 12, 0), 2)
    assert [r.astimezone(UTC) for r in runs] == [utc(2026, 3, 23, 8, 0), utc(2026, 3, 30, 7, 0)]


def test_a_time_that_does_not_exist_runs_an_hour_later() -> None:
    """02:30 does not exist on 2026-03-29 in Berlin: the run is at 03:30 CEST."""
    config = ScheduleConfig(at=("sunday 02:30",), timezone="Europe/Berlin")
    (run,) = next_runs(config, berlin(2026, 3, 28, 12, 0), 1)
    assert run == berlin(2026, 3, 29, 3, 30)
    assert run.astimezone(UTC) == utc(2026, 3, 29, 1, 30)


def test_a_time_that_happens_twice_runs_once() -> None:
    """02:30 happens twice on 2026-10-25 in Berlin: one run, the first time; the next is
    the following day."""
    config = ScheduleConfig(at=("daily 02:30",), timezone="Europe/Berlin")
    runs = next_runs(config, berlin(2026, 10, 25, 0, 0), 2)
    assert [r.astimezone(UTC) for r in runs] == [utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)]


def test_hourly_runs_on_the_hour_25_times_on_the_long_day() -> None:
    """ "every 1h" is on the hour in local time; 2026-10-25 in Berlin has 25 hours, so 25
    runs, 02:00 twice (CEST, then CET)."""
    config = ScheduleConfig(at=("every 1h",), timezone="Europe/Berlin")
    runs = next_runs(config, berlin(2026, 10, 24, 23, 59), 26)
    on_the_day = [r for r in runs if r.date() == datetime(2026, 10, 25).date()]
    assert len(on_the_day) == 25
    assert runs[-1] == berlin(2026, 10, 26, 0, 0)
    assert [(r.hour, r.tzname()) for r in on_the_day[2:4]] == [(2, "CEST"), (2, "CET")]
    gaps = {b.astimezone(UTC) - a.astimezone(UTC) for a, b in pairwise(runs)}
    assert gaps == {timedelta(hours=1)}


def test_intervals_are_aligned_to_the_clock_not_to_the_start() -> None:
    """ "every 30m" started at 10:17 runs at 10:30 and 11:00; "every 90m" restarts its
    grid at midnight (22:30, then 00:00, not 00:00 + 90m - ...)."""
    half_hour = ScheduleConfig(at=("every 30m",), timezone="UTC")
    assert next_runs(half_hour, utc(2026, 10, 5, 10, 17), 2) == [
        utc(2026, 10, 5, 10, 30),
        utc(2026, 10, 5, 11, 0),
    ]
    ninety = ScheduleConfig(at=("every 90m",), timezone="UTC")
    assert next_runs(ninety, utc(2026, 10, 5, 21, 0), 3) == [
        utc(2026, 10, 5, 22, 30),
        utc(2026, 10, 6, 0, 0),
        utc(2026, 10, 6, 1, 30),
    ]


def test_now_on_a_scheduled_time_gives_the_next_one() -> None:
    """A run is strictly after ``now``: at 09:00:00 sharp the next daily run is tomorrow."""
    config = ScheduleConfig(at=("daily 09:00",), timezone="UTC")
    assert next_runs(config, utc(2026, 10, 5, 9, 0), 1) == [utc(2026, 10, 6, 9, 0)]


def test_entries_merge_in_order_and_shared_times_count_once() -> None:
    """Several entries give one sorted list; Monday 09:00 from two entries is one run."""
    config = ScheduleConfig(
        at=("monday 09:00", "daily 09:00", "thursday 17:30"), timezone="Europe/Berlin"
    )
    runs = next_runs(config, berlin(2026, 10, 4, 12, 0), 6)  # a Sunday
    assert runs == [
        berlin(2026, 10, 5, 9, 0),
        berlin(2026, 10, 6, 9, 0),
        berlin(2026, 10, 7, 9, 0),
        berlin(2026, 10, 8, 9, 0),
        berlin(2026, 10, 8, 17, 30),
        berlin(2026, 10, 9, 9, 0),
    ]


def test_naive_now_is_read_in_the_configured_zone() -> None:
    """A naive ``now`` is wall time in ``[schedule] timezone``; results are in that zone."""
    config = ScheduleConfig(at=("daily 09:00",), timezone="Europe/Berlin")
    (run,) = next_runs(config, datetime(2026, 10, 5, 8, 0), 1)
    assert run == berlin(2026, 10, 5, 9, 0)
    assert run.tzinfo == BERLIN


def test_no_entries_no_runs_and_bad_config_is_a_config_error() -> None:
    """An empty ``at`` has no runs; a bad zone or entry in a config built in code is a
    ConfigError naming the key."""
    assert next_runs(ScheduleConfig(at=()), utc(2026, 10, 5), 3) == []
    with pytest.raises(ConfigError, match=r"\[schedule\] timezone 'Mars/Olympus'"):
        next_runs(ScheduleConfig(timezone="Mars/Olympus"), utc(2026, 10, 5), 1)
    with pytest.raises(ConfigError, match=r"\[schedule\] at: 'noon' is not a schedule"):
        build_scheduler(ScheduleConfig(at=("noon",)), lambda: None)


# --- build_scheduler ---------------------------------------------------------------------


def test_scheduler_jobs_agree_with_next_runs_under_a_frozen_clock() -> None:
    """One library job per entry; each job's next time is what next_runs says, also
    through the library's own (naive, local) ``next_run``."""
    config = ScheduleConfig(at=("monday 09:00", "every 1h"), timezone="Europe/Berlin")
    frozen = utc(2026, 10, 25, 0, 40)  # 02:40 CEST, the night summer time ends
    with time_machine.travel(frozen, tick=False):
        scheduler = build_scheduler(config, lambda: None)
        local_next = scheduler.next_run
    assert isinstance(scheduler, OkrScheduler)
    assert [type(j) for j in scheduler.jobs] == [ZonedJob, ZonedJob]
    monday, hourly = scheduler.jobs
    assert (
        monday.next_instant
        == next_runs(ScheduleConfig(at=("monday 09:00",), timezone="Europe/Berlin"), frozen, 1)[0]
    )
    assert hourly.next_instant == utc(2026, 10, 25, 1, 0)  # 02:00 CET, the second 02:00
    assert scheduler.next_instant == utc(2026, 10, 25, 1, 0)
    assert local_next == utc(2026, 10, 25, 1, 0).astimezone().replace(tzinfo=None)
    assert "every 1h" in repr(hourly)
    assert "02:00 CET" in repr(hourly)


def test_run_pending_runs_once_when_two_entries_are_due_together() -> None:
    """ "daily 09:00" and "monday 09:00" are both due on Monday at 09:00: one sync, and
    both entries move on to their own next time."""
    config = ScheduleConfig(at=("daily 09:00", "monday 09:00"), timezone="Europe/Berlin")
    calls: list[datetime] = []
    with time_machine.travel(berlin(2026, 10, 5, 8, 59, 59), tick=False) as traveller:
        scheduler = build_scheduler(config, lambda: calls.append(datetime.now(UTC)))
        scheduler.run_pending()
        assert calls == []
        traveller.shift(1)
        scheduler.run_pending()
        assert calls == [utc(2026, 10, 5, 7, 0)]
        scheduler.run_pending()
        assert len(calls) == 1
    daily, monday = scheduler.jobs
    assert daily.next_instant == utc(2026, 10, 6, 7, 0)
    assert monday.next_instant == utc(2026, 10, 12, 7, 0)


# --- run_forever -------------------------------------------------------------------------


@pytest.fixture
def log(caplog: pytest.LogCaptureFixture) -> logging.Logger:
    caplog.set_level(logging.INFO, logger="okrsync")
    return logging.getLogger("okrsync.test")


def test_once_runs_the_job_now_once(log: logging.Logger, caplog: pytest.LogCaptureFixture) -> None:
    """``once=True`` runs the job immediately, whatever the schedule, logs its start and
    summary, and returns 0."""
    calls: list[int] = []

    def job() -> dict[str, int]:
        calls.append(1)
        return {"rows": 40, "changes": 6, "emails": 2}

    config = ScheduleConfig(at=("monday 09:00",), timezone="UTC")
    with time_machine.travel(utc(2026, 10, 7, 13, 0), tick=False):  # a Wednesday
        assert run_forever(config, job, once=True, log=log) == 0
    assert calls == [1]
    events = [getattr(r, "event", None) for r in caplog.records]
    assert events == ["run_start", "run_done"]
    done = caplog.records[-1]
    assert done.getMessage().startswith("sync run finished in ")
    assert done.getMessage().endswith(": rows 40, changes 6, emails 2")
    assert done.summary == {"rows": 40, "changes": 6, "emails": 2}
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handlers put back


@pytest.mark.parametrize(
    ("error", "exit_code", "traceback"),
    [
        (LockHeldError("another okrsync run (pid 4242) holds the lock"), 75, False),
        (SheetError("the workbook okrs.xlsx is missing; check [sheet] path"), 1, False),
        (ZeroDivisionError("division by zero"), 1, True),
    ],
    ids=["lock-held", "okrsync-error", "bug"],
)
def test_once_returns_the_failed_runs_exit_code(
    error: Exception,
    exit_code: int,
    traceback: bool,
    log: logging.Logger,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A failed ``--once`` run is one error record (a traceback only for a bug, not for
    an okrsync error) and its exit code: 75 when the lock is held, so cron can tell."""

    def job() -> None:
        raise error

    assert run_forever(ScheduleConfig(), job, once=True, log=log) == exit_code
    (failed,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert str(error) in failed.getMessage()
    assert "try again" not in failed.getMessage()
    assert failed.exit_code == exit_code
    assert (failed.exc_info is not None) == traceback


def test_a_failed_run_is_logged_once_and_the_loop_goes_on(
    log: logging.Logger, caplog: pytest.LogCaptureFixture
) -> None:
    """The first run fails: one error saying when it tries again; the loop carries on
    and the next run succeeds. The clock starts just before 09:00 and the failing job
    moves it to just before 09:01: under a second, with
    half a second to spare on a busy machine."""
    stop = threading.Event()
    outcomes: list[str] = []

    with time_machine.travel(utc(2026, 10, 5, 8, 59, 59, 600_000), tick=True) as traveller:

        def job() -> dict[str, int]:
            if not outcomes:
                outcomes.append("failed")
                traveller.move_to(utc(2026, 10, 5, 9, 0, 59, 500_000))
                raise SheetError("the sheet could not be reached; check the network")
            outcomes.append("done")
            stop.set()
            return {"rows": 3}

        config = ScheduleConfig(at=("every 1m",), timezone="UTC")
        assert run_forever(config, job, stop=stop, log=log) == 0

    assert outcomes == ["failed", "done"]
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert (
        errors[0]
        .getMessage()
        .endswith(
            "the sheet could not be reached; check the network; "
            "okrsync keeps running and will try again at Mon 2026-10-05 09:01 UTC"
        )
    )
    assert errors[0].exc_info is None
    messages = [r.getMessage() for r in caplog.records]
    assert (
        messages[0] == "okrsync run: schedule every 1m (UTC); next run at Mon 2026-10-05 09:00 UTC"
    )
    assert any(m.endswith(": rows 3") for m in messages)
    assert messages[-1] == "okrsync run: asked to stop, stopped cleanly"


def test_stop_event_from_another_thread(
    log: logging.Logger, caplog: pytest.LogCaptureFixture
) -> None:
    """Run in a worker thread (no signal handlers there), ``stop`` ends the wait
    between runs at once, and nothing ran."""
    stop = threading.Event()
    codes: list[int] = []
    config = ScheduleConfig(at=("monday 09:00",), timezone="UTC")
    worker = threading.Thread(
        target=lambda: codes.append(run_forever(config, lambda: None, stop=stop, log=log))
    )
    worker.start()
    stop.set()
    worker.join(timeout=10)
    assert codes == [0]
    assert [getattr(r, "event", None) for r in caplog.records] == ["next_run", "stopped"]


def test_an_empty_schedule_is_a_config_error(log: logging.Logger) -> None:
    """``okrsync run`` with ``at = []`` has nothing to wait for: say how to fix it."""
    with pytest.raises(
        ConfigError, match=r'\[schedule\] at is empty; add a time such as "monday 09:00"'
    ):
        run_forever(ScheduleConfig(at=()), lambda: None, log=log)


# --- signals, in a real process ----------------------------------------------------------

CHILD = """
import logging, sys, time
from datetime import UTC, datetime
from pathlib import Path

import time_machine

from okrsync.config import ScheduleConfig
from okrsync.lock import RunLock
from okrsync.logs import setup_logging
from okrsync.schedule import run_forever

state = Path(sys.argv[1])
seconds = float(sys.argv[2])
setup_logging(0, "json")


def job():
    with RunLock(state):
        print("run started", flush=True)
        # Work in slices, as a real sync runs Python code all along: the kernel may hand a
        # signal to one of numpy's native threads, and Python then runs the handler at the
        # main thread's next bytecode, which one long time.sleep() would put off.
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            time.sleep(0.02)
        (state / "finished").write_text("yes")
        return {"rows": 3}


# Start 0.1 s before a scheduled time, so the first run begins at once.
with time_machine.travel(datetime(2026, 10, 5, 8, 59, 59, 900000, tzinfo=UTC), tick=True):
    code = run_forever(ScheduleConfig(at=("every 1m",)), job, log=logging.getLogger("okrsync"))
sys.exit(code)
"""


def _start_child(tmp_path: Path, seconds: float) -> subprocess.Popen[str]:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    return subprocess.Popen(
        [sys.executable, str(script), str(tmp_path / "state"), str(seconds)],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_during_a_run_finishes_it_then_stops(tmp_path: Path, signum: signal.Signals) -> None:
    """SIGTERM (systemd, docker stop) or SIGINT (Ctrl-C) in the middle of a 1-second run:
    the run finishes, the process exits 0, and the lock is free."""
    with _start_child(tmp_path, 1.0) as child:
        assert child.stdout is not None
        assert child.stdout.readline() == "run started\n"
        child.send_signal(signum)
        _, stderr = child.communicate(timeout=30)
    assert child.returncode == 0, stderr
    assert (tmp_path / "state" / "finished").read_text() == "yes"
    records = [json.loads(line) for line in stderr.splitlines()]
    assert [r.get("event") for r in records] == ["next_run", "run_start", "run_done", "stopped"]
    assert records[-1]["message"] == f"okrsync run: received {signum.name}, stopped cleanly"
    with RunLock(tmp_path / "state") as lock:
        assert lock.held


def test_a_second_signal_stops_at_once(tmp_path: Path) -> None:
    """Two signals: the run is cut short (exit 130) and the lock is still released."""
    with _start_child(tmp_path, 30.0) as child:
        assert child.stdout is not None
        assert child.stdout.readline() == "run started\n"
        # Two different signals, so the kernel cannot merge them into one.
        child.send_signal(signal.SIGTERM)
        child.send_signal(signal.SIGINT)
        _, stderr = child.communicate(timeout=30)
    assert child.returncode == 130, stderr
    assert not (tmp_path / "state" / "finished").exists()
    assert json.loads(stderr.splitlines()[-1])["message"] == (
        "stopped at once by a second signal; the run in progress was cut short"
    )
    with RunLock(tmp_path / "state") as lock:
        assert lock.held
