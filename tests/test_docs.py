"""Every command has help, and the README documents every command and option it lists."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from okrsync.cli import cli

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_every_command_has_help_and_is_in_the_readme(runner: CliRunner, command: str) -> None:
    result = runner.invoke(cli, [command, "--help"])
    assert result.exit_code == 0
    assert cli.commands[command].help, f"{command} has no docstring"
    assert f"okrsync {command}" in README


def test_readme_names_every_exit_code() -> None:
    for code in ("**0**", "**1**", "**2**", "**75**"):
        assert code in README
