"""Who may approve a pipeline's publication, and whom to notify first and on escalation.

Default authority is the people accountable right now: the on-call primary and backup, plus
the pipeline's two owners. A runbook may narrow or widen this; the gate does that on top.
When nobody is on call (a coverage gap, or before the rotation starts) the owners are told
first: nobody on holiday is paged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from governance.models import GovernanceConfig
from governance.oncall.schedule import NoRotationYet, OnCall, on_call_at


def on_call_or_none(config: GovernanceConfig, when: datetime) -> OnCall | None:
    """Who is on call at `when`; None before the rotation starts."""
    try:
        return on_call_at(config, when)
    except NoRotationYet:
        return None


def authorized_approvers(config: GovernanceConfig, pipeline: str, when: datetime) -> set[str]:
    """On-call primary and backup at `when` (if any), and the pipeline's two owners."""
    owners = config.pipeline(pipeline).owners
    now = on_call_or_none(config, when)
    return {*(now.people if now else ()), *owners}


@dataclass(frozen=True)
class NotifyTargets:
    """Engineers to notify when a gate opens (`first`) and when nobody answers (`escalation`).

    `gap` says why nobody on call is among `first` (then it is the owners), else None.
    """

    first: tuple[str, ...]
    escalation: tuple[str, ...]
    on_call: OnCall | None  # None before the rotation starts
    gap: str | None = None

    @property
    def on_call_people(self) -> tuple[str, ...]:
        """Who is on call and free (primary first); empty in a gap."""
        return self.on_call.people if self.on_call else ()


def notify_targets(config: GovernanceConfig, pipeline: str, when: datetime) -> NotifyTargets:
    """First the on-call primary; on escalation the backup, then the owners (no repeats).

    In a coverage gap (no primary) the owners are notified first and again on escalation,
    after the backup if there is one.
    """
    owners = config.pipeline(pipeline).owners
    now = on_call_or_none(config, when)
    if now is not None and now.primary is not None:
        escalation = tuple(dict.fromkeys(n for n in (now.backup, *owners) if n is not None))
        return NotifyTargets(first=(now.primary,), escalation=escalation, on_call=now)
    gap = now.why if now is not None else "no rotation yet"
    backup = () if now is None or now.backup is None else (now.backup,)
    escalation = tuple(dict.fromkeys((*backup, *owners)))
    return NotifyTargets(first=tuple(owners), escalation=escalation, on_call=now, gap=gap)


def first_responders(config: GovernanceConfig, pipeline: str, when: datetime) -> list[str]:
    """Whom to notify first: the on-call primary (the owners in a coverage gap)."""
    return list(notify_targets(config, pipeline, when).first)
