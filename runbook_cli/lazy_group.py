"""A command group that imports a command's module only when that command runs.

`runbook --help` and a fast command such as `runbook validate` must not pay for importing
Prefect, SQLAlchemy and the runtime that other commands need. Each command is declared by
name, module and one-line summary; the listing in `--help` is drawn from the declarations,
and a command's module is imported when the command is resolved (run, its own `--help`, or
shell completion of its arguments). `tests/cli/test_command_table.py` checks that every
declaration matches the command its module really defines.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import typer
from typer import _click as click  # typer's own click: its groups hold its commands
from typer.core import TyperCommand, TyperGroup


@dataclass(frozen=True)
class Declared:
    """A command of `runbook`: its name, the module defining it, and its summary.

    The module holds either a function named like the command (`runbook oncall`:
    `runbook_cli.oncall.oncall`) or, for a command group, a `typer.Typer` named `app`.
    `summary` is the first paragraph of the command's help, shown in `runbook --help`.
    """

    name: str
    module: str
    summary: str
    attr: str | None = None

    def load(self) -> click.Command:
        """Import the module and build the click command it defines."""
        target = getattr(importlib.import_module(self.module), self.attr or self.name)
        holder = typer.Typer()
        if isinstance(target, typer.Typer):
            holder.add_typer(target, name=self.name)
        else:
            holder.command(self.name)(target)
        holder.callback()(lambda: None)  # always a group, so `commands` holds it by name
        return typer.main.get_group(holder).commands[self.name]


class _Listed(TyperCommand):
    """What `--help` lists for a command not loaded yet: its name and summary only."""

    def __init__(self, declared: Declared) -> None:
        super().__init__(name=declared.name, help=declared.summary)


class LazyGroup(TyperGroup):
    """A Typer group whose commands come from `DECLARED`, each imported when resolved."""

    DECLARED: tuple[Declared, ...] = ()

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Declared commands in their declared order, then any registered directly."""
        names = [d.name for d in self.DECLARED]
        return names + [n for n in super().list_commands(ctx) if n not in names]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command if loaded, else a listing stand-in (no import)."""
        loaded = super().get_command(ctx, cmd_name)
        if loaded is not None:
            return loaded
        declared = self._declared(cmd_name)
        return _Listed(declared) if declared else None

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """Resolve as click does, then load the command's module."""
        name, command, rest = super().resolve_command(ctx, args)
        if isinstance(command, _Listed) and name is not None:
            command = self.load(name)
        return name, command, rest

    def load(self, name: str) -> click.Command:
        """Import the declared command `name` and keep it."""
        declared = self._declared(name)
        if declared is None:
            raise KeyError(name)
        command = declared.load()
        self.commands[name] = command
        return command

    def _declared(self, name: str) -> Declared | None:
        return next((d for d in self.DECLARED if d.name == name), None)
