"""`runbook oncall`: who is primary and backup, week by week, and why."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from governance.config import load_governance
from governance.errors import GovernanceConfigError
from governance.models import GovernanceConfig
from governance.oncall import OnCall, schedule
from governance.rotation import localize

GovernanceOption = Annotated[
    Path | None, typer.Option("--governance", help="Governance file [RUNBOOK_GOVERNANCE_FILE].")
]


def load_config_or_exit(path: Path | None) -> GovernanceConfig:
    """The governance file, or every problem in it on stderr and exit code 1."""
    try:
        return load_governance(path)
    except GovernanceConfigError as exc:
        typer.echo(exc.render(), err=True)
        raise typer.Exit(1) from None
    except OSError as exc:
        typer.echo(f"error: cannot read governance file: {exc}", err=True)
        raise typer.Exit(1) from None


def parse_at(text: str | None, config: GovernanceConfig) -> datetime:
    """`--at` as ISO date or datetime; without a zone it is the rotation's local time."""
    if text is None:
        return datetime.now(UTC)
    try:
        return localize(config, datetime.fromisoformat(text))
    except ValueError:
        raise typer.BadParameter(
            f"'{text}' is not a date or time; write e.g. 2026-03-30 or 2026-03-30T08:30",
            param_hint="--at",
        ) from None


def oncall(
    at: Annotated[
        str | None,
        typer.Option("--at", help="A moment (ISO; rotation-local if no zone; default now)."),
    ] = None,
    weeks: Annotated[int, typer.Option("--weeks", min=1, help="How many weeks to show.")] = 4,
    governance: GovernanceOption = None,
) -> None:
    """Who is on call (primary, backup) week by week from --at, and why."""
    config = load_config_or_exit(governance)
    when = parse_at(at, config)
    rows = schedule(config, when, weeks)
    zone = config.rotation.timezone
    typer.echo(f"On call, {weeks} week(s) from {_local(config, when)} ({zone}); * = then:")
    typer.echo(f"  {'from':<26} {'to':<26} {'primary':<8} {'backup':<8} why")
    for row in rows:
        typer.echo(_row(config, row, when))


def _row(config: GovernanceConfig, row: OnCall, when: datetime) -> str:
    assert row.start is not None and row.end is not None
    mark = "*" if row.start <= when < row.end else " "
    return (
        f"{mark} {_local(config, row.start):<26} {_local(config, row.end):<26} "
        f"{row.primary:<8} {row.backup:<8} {row.why}"
    )


def _local(config: GovernanceConfig, when: datetime) -> str:
    return f"{localize(config, when):%Y-%m-%d %a %H:%M %Z}"
