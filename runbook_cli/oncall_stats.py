"""`runbook oncall --stats`: the on-call load per engineer as a table or JSON, so a team lead
can check the rotation stayed fair through holidays."""

from __future__ import annotations

import json
from dataclasses import asdict

import typer

from governance.models import GovernanceConfig
from governance.oncall.shifts import OnCall
from governance.oncall.stats import oncall_stats


def print_stats(config: GovernanceConfig, rows: list[OnCall], as_json: bool) -> None:
    """Weeks and hours as primary and backup, back-to-backs, weeks swapped away, gaps."""
    stats = oncall_stats(rows, list(config.engineers))
    if as_json:
        typer.echo(json.dumps(asdict(stats), indent=2))
        return
    typer.echo(f"On-call load over {stats.weeks} week(s):")
    typer.echo(
        f"  {'engineer':<10} {'weeks P':>7} {'weeks B':>7} {'hours P':>8} {'hours B':>8} "
        f"{'back-to-back':>12} {'swapped away':>12}"
    )
    for name, load in stats.engineers.items():
        typer.echo(
            f"  {name:<10} {load.weeks['primary']:>7} {load.weeks['backup']:>7} "
            f"{load.hours['primary']:>8g} {load.hours['backup']:>8g} "
            f"{load.back_to_back:>12} {load.weeks_swapped_away:>12}"
        )
    typer.echo(
        f"coverage gaps: {stats.gaps}, no primary for {stats.gap_hours['primary']:g} hours, "
        f"no backup for {stats.gap_hours['backup']:g} hours"
    )
