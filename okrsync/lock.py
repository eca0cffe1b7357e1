"""The run lock: one okrsync run at a time per ``[state] dir``.

Two runs on one state directory (a cron-started ``okrsync sync`` while ``okrsync run``
is mid-sync, or two cron jobs) would read the same sheet, write the same cells and send
the same emails twice. :class:`RunLock` makes that impossible::

    with RunLock(config.state.dir):
        pipeline.sync(config)

It is an exclusive ``flock(2)`` on ``<state dir>/run.lock``. The kernel drops the lock
when the holding process ends however it ends (exit, crash, ``kill -9``, OOM killer),
so a lock left by a dead process is never a dead end: the next run simply gets it. The
file also holds the holder's pid, host and start time, only so that the refusal can
say who holds it.

The file is never deleted: removing a lock file that another process has open and is
waiting on lets two processes hold "the" lock on two different files.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from okrsync.errors import ConfigError, LockHeldError

__all__ = ["LOCK_FILE", "LockHolder", "RunLock"]

#: The lock file's name inside ``[state] dir``.
LOCK_FILE = "run.lock"

#: How often a waiting acquirer tries again.
_POLL = 0.05


@dataclass(frozen=True)
class LockHolder:
    """Who holds the lock, as written in the lock file."""

    pid: int
    host: str
    started: datetime

    def describe(self) -> str:
        """``pid 4242 on build-01, started 2026-10-05 09:00:02 UTC``."""
        when = self.started.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        return f"pid {self.pid} on {self.host}, started {when}"


class RunLock:
    """An exclusive, non-reentrant lock on a state directory, for one okrsync run.

    :param state_dir: the ``[state] dir``; created (with parents) when missing.
    :param wait: seconds to keep trying while another run holds the lock; 0 (the
        default) refuses at once, which is what a cron-started run wants.
    :raises LockHeldError: (exit code 75) from :meth:`acquire` / ``with`` when another
        run holds the lock; the message names its pid and start time.
    :raises ConfigError: when the state directory or lock file cannot be created.

    Acquiring in the same process twice (two ``RunLock`` objects on one directory)
    is refused like any other holder: ``flock`` locks belong to the open file.
    """

    def __init__(self, state_dir: Path, *, wait: float = 0.0) -> None:
        self.state_dir = Path(state_dir)
        self.path = self.state_dir / LOCK_FILE
        self.wait = wait
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """``True`` while this object holds the lock."""
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock, waiting up to ``wait`` seconds; see the class docstring."""
        if self._fd is not None:
            raise RuntimeError(f"{self.path} is already held by this RunLock")
        fd = self._open()
        deadline = time.monotonic() + self.wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = self._read_holder(fd)
                    os.close(fd)
                    raise LockHeldError(self._refusal(holder)) from None
                time.sleep(_POLL)
            except BaseException:
                os.close(fd)
                raise
        self._fd = fd
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(info) + "\n").encode(), 0)

    def release(self) -> None:
        """Give the lock up (a no-op when not held). The file stays; see the module docstring."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.ftruncate(fd, 0)  # no stale holder info for the next reader
        finally:
            os.close(fd)  # closing the last descriptor releases the flock

    def holder(self) -> LockHolder | None:
        """Who holds the lock now, from the file; ``None`` when free or unreadable.

        For messages only: it reads without locking.
        """
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        try:
            return _parse_holder(os.pread(fd, 4096, 0))
        finally:
            os.close(fd)

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"RunLock({str(self.state_dir)!r}, held={self.held})"

    # --- helpers --------------------------------------------------------------------

    def _open(self) -> int:
        try:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            # O_CLOEXEC: a child process started during the run (a mailer, a browser)
            # must not inherit the descriptor and keep the lock after we are gone.
            return os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as e:
            raise ConfigError(
                f"cannot create the run lock {self.path} ({e.strerror}); "
                "make [state] dir a folder okrsync can write to"
            ) from e

    def _read_holder(self, fd: int) -> LockHolder | None:
        # The holder writes its details just after locking; give it a moment.
        for _ in range(10):
            with contextlib.suppress(OSError):
                if holder := _parse_holder(os.pread(fd, 4096, 0)):
                    return holder
            time.sleep(0.02)
        return None

    def _refusal(self, holder: LockHolder | None) -> str:
        who = f"({holder.describe()}) " if holder else ""
        return (
            f"another okrsync run {who}holds the lock {self.path}; "
            "wait for it to finish, or check that process if it seems stuck"
        )


def _parse_holder(data: bytes) -> LockHolder | None:
    try:
        info = json.loads(data)
        return LockHolder(
            pid=int(info["pid"]),
            host=str(info["host"]),
            started=datetime.fromisoformat(info["started"]),
        )
    except (ValueError, KeyError, TypeError):
        return None
