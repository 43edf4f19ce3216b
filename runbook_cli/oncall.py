"""`runbook oncall`: who is primary and backup, week by week, and why; as a table, as JSON,
as iCalendar feeds to subscribe to, and as a check for CI (`--check` fails on coverage gaps)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from foundation.problems import Problem
from governance.config import load_governance_with_warnings
from governance.errors import GovernanceConfigError
from governance.models import GovernanceConfig
from governance.oncall.rotation import localize
from governance.oncall.schedule import OnCall, rotation_start, schedule

GovernanceOption = Annotated[
    Path | None, typer.Option("--governance", help="Governance file [RUNBOOK_GOVERNANCE_FILE].")
]
GAP = "(gap)"


def load_config_or_exit(path: Path | None) -> GovernanceConfig:
    """The governance file (its warnings on stderr), or every problem in it and exit code 1."""
    config, warnings = load_with_warnings_or_exit(path)
    _warn(warnings)
    return config


def load_with_warnings_or_exit(path: Path | None) -> tuple[GovernanceConfig, list[Problem]]:
    """The governance file and its warnings, or every problem in it on stderr and exit 1."""
    try:
        return load_governance_with_warnings(path)
    except GovernanceConfigError as exc:
        typer.echo(exc.render(), err=True)
        raise typer.Exit(1) from None
    except OSError as exc:
        typer.echo(f"error: cannot read governance file: {exc}", err=True)
        raise typer.Exit(1) from None


def _warn(warnings: list[Problem]) -> None:
    for warning in warnings:
        typer.echo(f"warning: {warning.render()}", err=True)


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
    weeks: Annotated[
        int | None,
        typer.Option("--weeks", min=1, help="How many weeks [4; 26 with --check or --ics]."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    check: Annotated[
        bool, typer.Option("--check", help="Exit 1 if any week has nobody free on call (CI).")
    ] = False,
    ics: Annotated[
        Path | None,
        typer.Option("--ics", help="Write iCalendar feeds (team.ics, engineer-NAME.ics) here."),
    ] = None,
    stats: Annotated[
        bool,
        typer.Option("--stats", help="Per engineer: weeks, hours, back-to-backs, swaps [52]."),
    ] = False,
    governance: GovernanceOption = None,
) -> None:
    """Who is on call (primary, backup) week by week from --at, and why.

    A short absence is covered hour by hour (a split week); a week is swapped only when its
    primary is away for most of it; docs/oncall.md states every rule."""
    config, warnings = load_with_warnings_or_exit(governance)
    _warn(warnings)
    count = weeks or (52 if stats else 26 if check or ics else 4)
    when = parse_at(at, config)
    begins = rotation_start(config)
    early = when < begins
    if early:
        typer.echo(
            f"no rotation yet at {_local(config, when)}: it begins {_local(config, begins)}; "
            "showing from then",
            err=True,
        )
        when = begins
    rows = schedule(config, when, count)
    gaps = [row for row in rows if row.gaps]
    if check:  # the gap lines first: they are what CI is asked about
        for row in gaps:
            typer.echo(f"coverage gap: {_span(config, row)}: no {' and no '.join(row.gaps)}; "
                       f"{row.why}", err=True)  # fmt: skip
    if stats:
        from runbook_cli.oncall_stats import print_stats

        print_stats(config, rows, as_json)
    elif as_json:
        typer.echo(json.dumps(_document(config, rows, when, early, warnings), indent=2))
    elif ics is None:
        _table(config, rows, when, count)
    if ics is not None:
        from governance.oncall.feeds import write_feeds  # icalendar only when feeds are asked for

        for path in write_feeds(config, rows, ics):
            typer.echo(f"wrote {path}", err=as_json)
    if check:
        hours = sum((r.span[1] - r.span[0]).total_seconds() for r in gaps) / 3600
        verdict = f"{len(gaps)} coverage gap(s), {hours:g} hours" if gaps else "no coverage gaps"
        typer.echo(f"{verdict} in {count} week(s) from {_local(config, when)}", err=True)
        if gaps:
            raise typer.Exit(1)


def _table(config: GovernanceConfig, rows: list[OnCall], when: datetime, weeks: int) -> None:
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
        f"{row.primary or GAP:<8} {row.backup or GAP:<8} {row.why}"
    )


def _document(
    config: GovernanceConfig,
    rows: list[OnCall],
    when: datetime,
    early: bool,
    warnings: list[Problem],
) -> dict[str, Any]:
    """The schedule as JSON: ISO times with the rotation's offset, null for a gap."""

    def iso(moment: datetime | None) -> str | None:
        return None if moment is None else localize(config, moment).isoformat()

    return {
        "timezone": config.rotation.timezone,
        "from": iso(when),
        "rotation_start": iso(rotation_start(config)),
        "no_rotation_before_start": early,
        "assignments": [
            {
                "start": iso(row.start),
                "end": iso(row.end),
                "week_start": iso(row.week_start),
                "week_end": iso(row.week_end),
                "week_primary": row.week_primary,
                "primary": row.primary,
                "backup": row.backup,
                "gaps": list(row.gaps),
                "reasons": row.reasons,
            }
            for row in rows
        ],
        "gaps": sum(1 for row in rows if row.gaps),
        "warnings": [w.render() for w in warnings],
    }


def _span(config: GovernanceConfig, row: OnCall) -> str:
    start, end = row.start or row.week_start, row.end or row.week_end
    return f"{_local(config, start)} to {_local(config, end)}"


def _local(config: GovernanceConfig, when: datetime) -> str:
    return f"{localize(config, when):%Y-%m-%d %a %H:%M %Z}"
