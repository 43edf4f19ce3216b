"""Who may approve a pipeline's publication, and whom to notify first and on escalation.

Default authority is the people accountable right now: the on-call primary and backup, plus
the pipeline's two owners. A runbook may narrow or widen this; the gate does that on top.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from governance.models import GovernanceConfig
from governance.oncall import OnCall, on_call_at


def authorized_approvers(config: GovernanceConfig, pipeline: str, when: datetime) -> set[str]:
    """On-call primary and backup at `when`, and the pipeline's primary and secondary owner."""
    owners = config.pipeline(pipeline).owners
    now = on_call_at(config, when)
    return {now.primary, now.backup, *owners}


@dataclass(frozen=True)
class NotifyTargets:
    """Engineers to notify when a gate opens (`first`) and when nobody answers (`escalation`)."""

    first: tuple[str, ...]
    escalation: tuple[str, ...]
    on_call: OnCall


def notify_targets(config: GovernanceConfig, pipeline: str, when: datetime) -> NotifyTargets:
    """First the on-call primary; on escalation the backup, then the owners (no repeats)."""
    owners = config.pipeline(pipeline).owners
    now = on_call_at(config, when)
    escalation = tuple(dict.fromkeys((now.backup, *owners)))
    return NotifyTargets(first=(now.primary,), escalation=escalation, on_call=now)


def first_responders(config: GovernanceConfig, pipeline: str, when: datetime) -> list[str]:
    """Whom to notify first: the on-call primary."""
    return list(notify_targets(config, pipeline, when).first)


def escalation_targets(config: GovernanceConfig, pipeline: str, when: datetime) -> list[str]:
    """Whom to notify when the primary does not answer: backup, then owners."""
    return list(notify_targets(config, pipeline, when).escalation)
