"""Putting the application's standing automations on a Prefect server, by name.

prefect.yaml can carry a deployment's triggers but not an automation of its own (the crash
watch changes a run's state; it runs no deployment), so `runbook serve` and `runbook
deployments --automations` put them in place through here, from the same list.
"""

from __future__ import annotations

from typing import Any

from prefect.automations import Automation
from prefect.client.orchestration import get_client


async def ensure_automation(wanted: Automation) -> str:
    """Create the automation, or bring the existing one of its name up to date; say which.

    An automation left as it is keeps the events it has seen: rewriting the crash watch on
    every `serve` start would forget the heartbeats, and a run killed just before a restart
    would never be noticed. So it is updated only when its definition changed.
    """
    async with get_client() as client:
        existing = await client.read_automations_by_name(wanted.name)
        for extra in existing[1:]:  # two serve processes started at once: keep one
            await client.delete_automation(extra.id)
    if not existing:
        await wanted.acreate()
        return "created"
    if definition(existing[0]) == definition(wanted):
        return "in place"
    wanted.id = existing[0].id
    await wanted.aupdate()
    return "updated"


def definition(automation: Any) -> Any:
    """What the automation does, comparable across reads (sets come back in any order)."""
    return _canonical(
        {
            "description": automation.description,
            "enabled": automation.enabled,
            "trigger": automation.trigger.model_dump(mode="json"),
            "actions": [a.model_dump(mode="json") for a in automation.actions],
        }
    )


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_canonical(v) for v in value]
        return sorted(items, key=repr)
    return value
