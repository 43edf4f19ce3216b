"""One deployment, described once: what `runbook serve` registers and what prefect.yaml lists.

A plan names a flow, its triggers (as the plain fields Prefect's `DeploymentEventTrigger` and
prefect.yaml both take), its schedules (the `interval`/`cron` mappings both take), its
concurrency limit, tags and fixed parameters. `runner_deployment()` turns it into the
`RunnerDeployment` a runner serves; `prefect_yaml_entry()` into the mapping `prefect deploy`
reads. Both come from the same fields, so the two ways of running the product cannot drift.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.deployments.runner import EntrypointType, RunnerDeployment
from prefect.events.schemas.deployment_triggers import DeploymentEventTrigger
from prefect.schedules import Cron, Interval, Schedule


@dataclass(frozen=True)
class DeploymentPlan:
    """A deployment of the application: flow, triggers, schedules, concurrency, tags."""

    flow: Any
    """The Prefect flow object (its `__module__` and `__name__` locate it for a worker)."""
    name: str
    description: str
    tags: tuple[str, ...]
    triggers: tuple[dict[str, Any], ...] = ()
    schedules: tuple[dict[str, Any], ...] = ()
    parameters: dict[str, Any] = field(default_factory=dict)
    concurrency: int | None = None
    """Runs at once; further runs wait in Prefect's queue (ENQUEUE), never cancelled."""

    @property
    def flow_name(self) -> str:
        """The flow's name on the server (deployments are addressed as `flow/deployment`)."""
        return str(self.flow.name)

    @property
    def full_name(self) -> str:
        return f"{self.flow_name}/{self.name}"

    @property
    def entrypoint(self) -> str:
        """`path/to/module.py:attribute`, relative to the project, as prefect.yaml names it."""
        module = str(self.flow.__module__)
        return f"{module.replace('.', '/')}.py:{self.flow.__name__}"

    def runner_deployment(self) -> RunnerDeployment:
        """The deployment `runbook serve` registers with its runner."""
        return self.flow.to_deployment(
            name=self.name,
            description=self.description,
            tags=list(self.tags),
            parameters=copy.deepcopy(self.parameters) or None,
            triggers=[DeploymentEventTrigger(**copy.deepcopy(t)) for t in self.triggers],
            schedules=[_schedule(s) for s in self.schedules] or None,
            concurrency_limit=self._limit(),
            entrypoint_type=EntrypointType.MODULE_PATH,
            _sync=True,  # the same object inside an event loop (`serve`) as outside
        )

    def prefect_yaml_entry(self, work_pool: str, env: dict[str, str]) -> dict[str, Any]:
        """The mapping prefect.yaml holds for this deployment on `work_pool`; `env` is what
        its flow-run processes get (what `serve`'s runner gives the runs it starts)."""
        entry: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "entrypoint": self.entrypoint,
            "tags": list(self.tags),
            "work_pool": {"name": work_pool, "job_variables": {"env": dict(env)}},
        }
        if self.concurrency is not None:
            limit = {"limit": self.concurrency, "collision_strategy": "ENQUEUE"}
            entry["concurrency_limit"] = limit
        if self.parameters:
            entry["parameters"] = copy.deepcopy(self.parameters)
        if self.schedules:
            entry["schedules"] = [copy.deepcopy(s) for s in self.schedules]
        if self.triggers:
            entry["triggers"] = [
                {"type": "event", "enabled": True, **copy.deepcopy(t)} for t in self.triggers
            ]
        return entry

    def _limit(self) -> ConcurrencyLimitConfig | None:
        if self.concurrency is None:
            return None
        return ConcurrencyLimitConfig(
            limit=self.concurrency, collision_strategy=ConcurrencyLimitStrategy.ENQUEUE
        )

    def describe_start(self) -> str:
        """How a run of it starts: its triggers' events, its schedules, or an automation."""
        starts = [_describe_trigger(t) for t in self.triggers]
        for schedule in self.schedules:
            if "interval" in schedule:
                starts.append(f"every {schedule['interval']} s")
            else:
                zone = schedule.get("timezone")
                starts.append(f"cron '{schedule['cron']}'" + (f" ({zone})" if zone else ""))
        return "; ".join(starts) or "run by an automation or by hand"


def _schedule(fields: dict[str, Any]) -> Schedule:
    """prefect.yaml's schedule mapping as the schedule object a runner takes."""
    if "interval" in fields:
        return Interval(fields["interval"], timezone=fields.get("timezone"))
    return Cron(fields["cron"], timezone=fields.get("timezone"))


def _describe_trigger(fields: dict[str, Any]) -> str:
    """`event pipeline.failed where prefect.resource.id=pipeline.x, once per ... per 60 s`."""
    text = f"event {', '.join(fields['expect'])}"
    match = [
        f"{label}={'|'.join(v) if isinstance(v, list) else v}"
        for label, v in (fields.get("match") or {}).items()
    ]
    if match:
        text += f" where {', '.join(match)}"
    if fields.get("within") and fields.get("for_each"):
        text += f", first per {' + '.join(fields['for_each'])} in {fields['within']} s"
    return text
