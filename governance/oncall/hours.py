"""Who covers each hour of one rotation week: the week's primary, its backup, short absences
and overrides.

The week's primary (settled by `holiday_swaps`) keeps the week through a short absence; for
the hours they are away the week's backup takes over as primary, or the next engineer in
order who is present. The backup is the next engineer after the primary who is not away for
most of the week; for hours they are away the next one present backs up. The week is cut at
every absence and override boundary, neighbouring parts with the same people and reasons are
merged, and a gap is left only for the hours in which nobody is present. Overrides win.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from itertools import pairwise

from governance.models import GovernanceConfig, Override
from governance.oncall.absences import Absences
from governance.oncall.holiday_swaps import Primary, after
from governance.oncall.rotation import override_interval
from governance.oncall.shifts import OnCall

Span = tuple[datetime, datetime]


def week_parts(
    config: GovernanceConfig, k: int, primary: Primary, absences: Absences
) -> list[OnCall]:
    """Week k cut where anyone's presence or an override changes, each part with its people."""
    begin, end = absences.week(k)
    overrides = [
        (s, e, o)
        for o in config.overrides
        for s, e in [override_interval(config, o)]
        if s < end and begin < e
    ]
    bounds = {t for s, e, _ in overrides for t in (s, e) if begin < t < end}
    cuts = sorted({begin, end, *bounds, *absences.cuts(begin, end)})
    backup = _week_backup(config, primary.name, k, absences)
    parts: list[OnCall] = []
    for a, b in pairwise(cuts):
        active = next((o for s, e, o in overrides if s <= a < e), None)
        part = _assign(config, k, primary, backup, active, absences, (begin, end), (a, b))
        last = parts[-1] if parts else None
        if last is not None and (last.primary, last.backup, last.reasons) == (
            part.primary,
            part.backup,
            part.reasons,
        ):
            parts[-1] = replace(last, end=b)
        else:
            parts.append(part)
    return parts


def _week_backup(
    config: GovernanceConfig, primary: str | None, k: int, absences: Absences
) -> tuple[str | None, list[str]]:
    """The next engineer after the primary who is not away for most of week k."""
    skipped: list[str] = []
    for c in after(config.rotation.order, _anchor(config, primary, k)):
        if c == primary:
            continue
        if absences.mostly_away(c, k) is None:
            return c, [f"backup {s} on holiday" for s in skipped]
        skipped.append(c)
    return None, ["coverage gap: no backup, everyone else on holiday"]


def _anchor(config: GovernanceConfig, primary: str | None, k: int) -> str:
    """Whose place in the order the week's roles count from."""
    order = config.rotation.order
    return primary if primary is not None else order[k % len(order)]


def _assign(
    config: GovernanceConfig,
    k: int,
    primary: Primary,
    backup: tuple[str | None, list[str]],
    override: Override | None,
    absences: Absences,
    week: Span,
    part: Span,
) -> OnCall:
    """One part of week k: the override's people, else the week's with cover for absences."""
    reasons = list(primary.reasons)
    name = primary.name
    anchor = _anchor(config, name, k)
    if override is not None:
        label = f"override: {override.reason}" if override.reason else "override"
        reasons = [label] if override.primary else [*reasons, label]
        if override.primary is not None:  # the backup follows the override's primary
            name = override.primary
            backup = _week_backup(config, name, k, absences)
    if (override is None or override.primary is None) and (
        name is None or not absences.free(name, *part)
    ):
        order = [backup[0], anchor, *after(config.rotation.order, anchor)]
        cover = _first_present([c for c in order if c != name], absences, part)
        reasons += _cover_note(name, cover, absences, part)
        name = cover
    if override is not None and override.backup is not None:
        second: str | None = override.backup
    else:
        second, notes = _part_backup(config, name or anchor, name, backup, absences, part)
        reasons += notes
    return OnCall(name, second, *week, reasons, *part, primary.name, primary.absent)


def _part_backup(
    config: GovernanceConfig,
    anchor: str,
    primary: str | None,
    backup: tuple[str | None, list[str]],
    absences: Absences,
    part: Span,
) -> tuple[str | None, list[str]]:
    """The week's backup if present for the part (and not covering as primary), else the
    next engineer after the part's primary who is; and why."""
    week_backup, notes = backup
    if week_backup is not None and week_backup != primary and absences.free(week_backup, *part):
        return week_backup, notes
    others = [c for c in after(config.rotation.order, anchor) if c != primary]
    second = _first_present(others, absences, part)
    if second is None:
        return None, ["coverage gap: no backup, everyone else on holiday"]
    if week_backup is None or week_backup == primary:
        return second, [f"backup {second} for these hours"]
    return second, _cover_note(week_backup, second, absences, part, "backup ")


def _first_present(candidates: Sequence[str | None], absences: Absences, part: Span) -> str | None:
    """The first candidate present for all of `part`."""
    return next((c for c in candidates if c is not None and absences.free(c, *part)), None)


def _cover_note(
    absent: str | None, cover: str | None, absences: Absences, part: Span, role: str = ""
) -> list[str]:
    """Why `cover` (or nobody) takes these hours from `absent`."""
    absence = absences.touching(absent, *part) if absent is not None else None
    if absence is None:  # a week-long gap: the week's reason already says so
        return [] if cover is None else [f"{role}{cover} covers these hours"]
    if cover is None:
        return [f"coverage gap: {absence.label} and nobody else is free"]
    return [f"{role}{cover} covers {absent}'s hours: {absence.label}"]
