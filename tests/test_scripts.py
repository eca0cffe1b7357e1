"""The deployment examples in scripts/ work as their headers say."""

from __future__ import annotations

import configparser
import re
import subprocess
from pathlib import Path

import pytest

from okrsync.errors import LockHeldError

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"

# Stands in for the okrsync executable: shows how it was called, logs to stderr like
# the real one, and exits 75 as a run refused by the lock would.
FAKE_OKRSYNC = """#!/bin/sh
echo "pid=$$ args=$* config=${OKRSYNC_CONFIG:-} password=${OKRSYNC_SMTP_PASSWORD:+set}"
echo "a log line" >&2
exit 75
"""


def _fake_okrsync(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(FAKE_OKRSYNC)
    path.chmod(0o755)
    return path


def test_crontab_line_runs_okrsync_and_logs_to_a_file(tmp_path: Path) -> None:
    """The crontab's one job line has a valid schedule, no ``%``, and run by /bin/sh as
    cron would (HOME set, little else) it calls ``okrsync sync`` with the config, reads
    the SMTP password file when there is one, and appends stdout and stderr to the log."""
    lines = [
        line
        for line in (SCRIPTS / "okrsync.crontab").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert len(lines) == 1
    minute, hour, dom, month, dow, command = lines[0].split(maxsplit=5)
    assert (minute, hour, dom, month) == ("0", "9", "*", "*")
    assert re.fullmatch(r"[0-7](,[0-7])*", dow)
    assert "%" not in command

    home = tmp_path / "home"
    _fake_okrsync(home / "okrsync" / ".venv" / "bin" / "okrsync")
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "SHELL": "/bin/sh"}
    first = subprocess.run(["/bin/sh", "-c", command], env=env, check=False)
    (home / "okrsync" / "smtp.env").write_text("OKRSYNC_SMTP_PASSWORD=pw\n")
    second = subprocess.run(["/bin/sh", "-c", command], env=env, check=False)

    assert (first.returncode, second.returncode) == (75, 75)
    log = (home / "okrsync" / "okrsync.log").read_text().splitlines()
    config = home / "okrsync" / "okrsync.toml"
    assert [re.sub(r"pid=\d+ ", "", line) for line in log] == [
        f"args=sync config={config} password=",
        "a log line",
        f"args=sync config={config} password=set",
        "a log line",
    ]


@pytest.mark.parametrize(
    ("args", "expected"),
    [([], "--log-format json run"), (["run", "--once"], "--log-format json run --once")],
    ids=["default", "with-args"],
)
def test_container_entrypoint_execs_okrsync_with_json_logs_on_stdout(
    tmp_path: Path, args: list[str], expected: str
) -> None:
    """No arguments: ``okrsync run``; arguments: ``okrsync <arguments>``; always JSON
    logs, stderr on stdout, the default config path, okrsync's exit code, and okrsync
    replacing the shell (so it is PID 1 and gets ``docker stop``'s SIGTERM)."""
    fake = _fake_okrsync(tmp_path / "okrsync")
    with subprocess.Popen(
        [str(SCRIPTS / "container-entrypoint.sh"), *args],
        env={"PATH": "/usr/bin:/bin", "OKRSYNC_BIN": str(fake)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 75
    assert err == ""
    assert out.splitlines() == [
        f"pid={proc.pid} args={expected} config=/config/okrsync.toml password=",
        "a log line",
    ]


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string((SCRIPTS / name).read_text())
    return parser


def test_systemd_units_fit_together() -> None:
    """The timer starts the oneshot sync service; the long-running service runs
    ``okrsync run``; exit code 75 (lock held) is not a failure; all can be enabled."""
    timer, sync, run = (
        _unit("okrsync.timer"),
        _unit("okrsync.service"),
        _unit("okrsync-run.service"),
    )
    assert timer["Timer"]["Unit"] == "okrsync.service"
    assert timer["Timer"]["OnCalendar"].startswith("Mon,Thu *-*-* 09:00:00")
    assert sync["Service"]["Type"] == "oneshot"
    assert sync["Service"]["ExecStart"].endswith("/bin/okrsync sync")
    assert sync["Service"]["SuccessExitStatus"] == str(LockHeldError.exit_code)
    assert run["Service"]["ExecStart"].endswith("/bin/okrsync run")
    assert run["Service"]["KillSignal"] == "SIGTERM"
    for unit in (timer, sync, run):
        assert unit["Install"]["WantedBy"]


@pytest.mark.parametrize(
    "name",
    [
        "okrsync.crontab",
        "okrsync.service",
        "okrsync.timer",
        "okrsync-run.service",
        "container-entrypoint.sh",
    ],
)
def test_each_script_says_how_to_install_it_and_see_its_logs(name: str) -> None:
    """Every example starts with a comment header covering install and logs."""
    header = []
    for line in (SCRIPTS / name).read_text().splitlines():
        if line.startswith("#!"):
            continue
        if not line.startswith("#"):
            break
        header.append(line)
    text = "\n".join(header)
    assert "Install" in text
    assert re.search(r"See (its|it)\b", text)
    assert re.search(r"journalctl|tail -f|docker logs", text)


def test_screenshot_workbook_script_parses_and_explains_its_arguments() -> None:
    """The LibreOffice renderer (run by hand for docs/setup-workbook.png) is valid bash
    and answers a call without arguments with its usage, before installing anything."""
    script = SCRIPTS / "screenshot_workbook.sh"
    assert subprocess.run(["bash", "-n", str(script)], check=False).returncode == 0
    result = subprocess.run(["bash", str(script)], capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert result.stderr.startswith("usage: ")
