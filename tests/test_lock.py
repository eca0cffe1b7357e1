"""The run lock: overlapping runs on one state directory are impossible."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from okrsync.errors import ConfigError, LockHeldError
from okrsync.lock import LOCK_FILE, RunLock

ROOT = Path(__file__).resolve().parents[1]

# A process that takes the lock, says so, and waits for a file before finishing.
HOLDER = """
import sys, time
from pathlib import Path
from okrsync.errors import LockHeldError
from okrsync.lock import RunLock

state, go, release = (Path(p) for p in sys.argv[1:4])
while not go.exists():
    time.sleep(0.005)
try:
    with RunLock(state):
        print("locked", flush=True)
        (state / f"ran-{__import__('os').getpid()}").touch()
        while not release.exists():
            time.sleep(0.005)
except LockHeldError as e:
    print(e, file=sys.stderr)
    sys.exit(e.exit_code)
"""


def _holder(tmp_path: Path, go: Path, release: Path) -> subprocess.Popen[str]:
    script = tmp_path / "holder.py"
    script.write_text(HOLDER)
    return subprocess.Popen(
        [sys.executable, str(script), str(tmp_path / "state"), str(go), str(release)],
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_second_acquirer_is_refused_with_the_holders_pid(tmp_path: Path) -> None:
    """While a run holds the lock, another is refused at once with LockHeldError (exit
    code 75) naming the holder's pid, host and start time; after release it gets it."""
    state = tmp_path / "state"
    with RunLock(state) as first:
        assert first.held
        holder = first.holder()
        assert holder is not None
        assert holder.pid == os.getpid()
        with pytest.raises(LockHeldError) as e:
            RunLock(state).acquire()
        message = str(e.value)
        assert e.value.exit_code == 75
        assert message.startswith(
            f"another okrsync run (pid {os.getpid()} on {holder.host}, started "
        )
        assert " UTC) holds the lock " in message
        assert str(state / LOCK_FILE) in message
        assert message.endswith("wait for it to finish, or check that process if it seems stuck")
    assert not first.held
    assert first.holder() is None  # no stale details left behind
    assert (state / LOCK_FILE).exists()  # the file stays; see okrsync/lock.py
    with RunLock(state) as again:
        assert again.held


def test_waiting_acquirer_gets_the_lock_when_it_is_released(tmp_path: Path) -> None:
    """``wait`` keeps trying: it gets the lock once the holder lets go, and is refused
    if the holder does not within the time."""
    first = RunLock(tmp_path)
    first.acquire()
    with pytest.raises(LockHeldError):
        RunLock(tmp_path, wait=0.1).acquire()
    releaser = threading.Timer(0.1, first.release)
    releaser.start()
    with RunLock(tmp_path, wait=30) as second:
        assert second.held
    releaser.join()


def test_a_lock_held_by_a_killed_process_is_recovered(tmp_path: Path) -> None:
    """A run killed with SIGKILL cannot clean up, but the kernel drops its lock: the next
    run goes ahead without anyone deleting anything."""
    go = tmp_path / "go"
    go.touch()
    with _holder(tmp_path, go, tmp_path / "never") as child:
        assert child.stdout is not None
        assert child.stdout.readline() == "locked\n"
        with pytest.raises(LockHeldError, match=f"pid {child.pid} "):
            RunLock(tmp_path / "state").acquire()
        child.send_signal(signal.SIGKILL)
        child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL
    with RunLock(tmp_path / "state") as lock:
        assert lock.held
        holder = lock.holder()
        assert holder is not None
        assert holder.pid == os.getpid()


def test_two_concurrent_runs_exactly_one_runs(tmp_path: Path) -> None:
    """Two processes start, wait for the same signal and race for the lock: one runs,
    the other exits 75 naming the winner."""
    go, release = tmp_path / "go", tmp_path / "release"
    children = [_holder(tmp_path, go, release) for _ in range(2)]
    try:
        go.touch()
        deadline = time.monotonic() + 30  # a hang guard, not a measurement
        while all(c.poll() is None for c in children) and time.monotonic() < deadline:
            time.sleep(0.01)
        (loser,) = [c for c in children if c.poll() is not None]
        (winner,) = [c for c in children if c is not loser]
        _, loser_err = loser.communicate(timeout=30)
        release.touch()
        winner_out, _ = winner.communicate(timeout=30)
    finally:
        for c in children:
            c.kill()
            c.communicate()
    assert loser.returncode == 75
    assert f"pid {winner.pid} " in loser_err
    assert winner.returncode == 0
    assert winner_out == "locked\n"
    assert sorted(p.name for p in (tmp_path / "state").glob("ran-*")) == [f"ran-{winner.pid}"]


def test_the_state_dir_is_created_and_an_unusable_one_is_a_config_error(tmp_path: Path) -> None:
    """A missing state dir is created with its parents; one that cannot be (a file is in
    the way) is a ConfigError naming the lock and the key to fix."""
    with RunLock(tmp_path / "a" / "b") as lock:
        assert (tmp_path / "a" / "b" / LOCK_FILE).exists()
        assert "held=True" in repr(lock)
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigError, match=r"cannot create the run lock .*; make \[state\] dir"):
        RunLock(tmp_path / "file" / "state").acquire()


def test_one_lock_object_cannot_be_taken_twice(tmp_path: Path) -> None:
    """Acquiring a RunLock that is already held is a programming error, not a wait."""
    with RunLock(tmp_path) as lock, pytest.raises(RuntimeError, match="already held"):
        lock.acquire()
