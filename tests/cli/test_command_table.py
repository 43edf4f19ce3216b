"""The declared command table says what each command module really defines.

`runbook --help` lists commands from their declarations without importing them, so a
summary or a module path that drifted from the code would mislead silently; this loads each
declared command and compares.
"""

from __future__ import annotations

import inspect

import pytest
import typer
from typer.testing import CliRunner

from runbook_cli.lazy_group import Declared
from runbook_cli.main import COMMANDS, app

runner = CliRunner()


@pytest.mark.parametrize("declared", COMMANDS, ids=[d.name for d in COMMANDS])
def test_a_declared_summary_is_the_first_paragraph_of_the_command_help(
    declared: Declared,
) -> None:
    command = declared.load()
    assert command.name == declared.name
    assert inspect.cleandoc(command.help or "").split("\n\n")[0] == declared.summary


def test_every_command_is_declared_once() -> None:
    names = [d.name for d in COMMANDS]
    assert len(names) == len(set(names))


def test_a_command_runs_through_the_listing_and_an_unknown_one_is_refused() -> None:
    assert runner.invoke(app, ["schema"]).output.startswith("{")
    unknown = runner.invoke(app, ["validat"])
    assert unknown.exit_code == 2
    assert "validat" in unknown.output


def test_a_declaration_naming_nothing_fails_when_loaded() -> None:
    with pytest.raises(AttributeError):
        Declared("nothing", "runbook_cli.runbooks", "No such command.").load()
    assert isinstance(typer.main.get_command(app), typer.core.TyperGroup)
