"""The pipeline-recovery application: the one composition root (Dagster's `Definitions`).

It knows the runbooks (validated against governance's pipelines, with the step types of the
built-in families plus the plugin modules the settings name, loaded here), every deployment
with its trigger, schedule and concurrency, and the standing automations; the services a run
gets are opened by the compiled flows themselves (`flows.runtime.run_services`). `runbook serve`
registers `deployments()` with a runner; `runbook deployments` writes the same list into
prefect.yaml for `prefect deploy --all` and a work pool; `runbook deployments --automations`
and `serve` put `automations()` on the server. Nothing else assembles deployments, so what a
work pool runs is exactly what `serve` ran.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from prefect.automations import Automation

from deployments.build import intake_trigger_fields, runbook_resources, trigger_fields
from deployments.deployment_plan import DeploymentPlan
from deployments.entrypoints import entrypoint_flow
from deployments.runbook_set import find_runbook, validate_runbook_set
from flows.approval.escalation import ESCALATE_DEPLOYMENT
from flows.language.errors import RunbookValidationError
from flows.language.library import FileReport
from flows.language.validator import ValidatedRunbook
from flows.operations.crash_watch import crash_watch, pending_watch
from flows.operations.escalation_flow import escalate_approval
from flows.operations.incident_sync import (
    RUNBOOK_TAG,
    SYNC_NAME,
    SYNC_TAG,
    incident_sync,
    sync_trigger_fields,
)
from flows.operations.intake import INTAKE_NAME, pipeline_failed_intake
from flows.operations.invariant_sweep import INTERVAL_SECONDS as SWEEP_SECONDS
from flows.operations.invariant_sweep import SWEEP_NAME, invariant_sweep
from flows.operations.sla_watch import INTERVAL_SECONDS, sla_watch
from flows.operations.weekly_report import weekly_incident_report, weekly_schedule
from flows.pipelines.crash_report import (
    REPORT_NAME,
    crash_trigger_fields,
    pipeline_crash_report,
    pipeline_crash_watch,
)
from foundation.settings import AppSettings, get_settings
from governance.config import load_governance
from governance.models import GovernanceConfig

RUNS_PER_DEPLOYMENT = 4
"""Runs of one deployment at once; a burst beyond waits in Prefect's queue (ENQUEUE)."""


@dataclass(frozen=True)
class RecoveryApplication:
    """Runbooks, step types, services, deployments and automations of one configuration."""

    settings: AppSettings
    governance: GovernanceConfig
    runbooks: tuple[ValidatedRunbook, ...]

    @classmethod
    def load(
        cls, settings: AppSettings | None = None, *, strict: bool = True
    ) -> RecoveryApplication:
        """The application as the settings describe it.

        Strict (serving, deploying): raises `RunbookValidationError` with every problem of
        every file, so nothing is served or deployed while one runbook is broken. Not strict
        (a flow-run process loading its own runbook): the valid runbooks only.
        """
        reports = cls.validate(settings)
        problems = [p for r in reports for p in r.problems]
        if problems and strict:
            raise RunbookValidationError(problems)
        settings = settings or get_settings()
        runbooks = tuple(r.runbook for r in reports if r.runbook is not None)
        return cls(settings, load_governance(settings.governance.governance_file), runbooks)

    @staticmethod
    def validate(settings: AppSettings | None = None) -> list[FileReport]:
        """Every runbook file's outcome, with the configured plugins' step types known."""
        return validate_runbook_set(settings)

    def runbook(self, name: str) -> ValidatedRunbook:
        """The valid runbook called `name`."""
        return find_runbook(self.runbooks, name)

    def deployments(self) -> list[DeploymentPlan]:
        """Every deployment, in one list: runbooks, intake, crash reports of pipeline runs,
        SLA watch, invariant sweep, incident sync, escalation and the weekly incident report."""
        return [
            *[self._runbook_plan(r) for r in sorted(self.runbooks, key=lambda r: r.name)],
            self._intake_plan(),
            DeploymentPlan(
                pipeline_crash_report,
                REPORT_NAME,
                "Send pipeline.failed (unclassified) for a pipeline run that crashed without "
                "reporting itself (its process was killed)",
                ("governance", "pipelines"),
                triggers=(crash_trigger_fields(),),
            ),
            DeploymentPlan(
                sla_watch,
                "sla-watch",
                "Notify at 50% and 75% of each open incident's SLA; record breaches",
                ("governance",),
                schedules=({"interval": INTERVAL_SECONDS},),
            ),
            DeploymentPlan(
                invariant_sweep,
                SWEEP_NAME,
                "Open an incident for every partition that is not complete while no open "
                "incident or live run holds it",
                ("governance", "sweep"),
                schedules=({"interval": SWEEP_SECONDS},),
            ),
            DeploymentPlan(
                incident_sync,
                SYNC_NAME,
                "Write crashed, cancelled and forced endings of runbook runs into the ledger; "
                "retry a crashed recovery once",
                (SYNC_TAG,),
                triggers=(sync_trigger_fields(),),
            ),
            DeploymentPlan(
                escalate_approval,
                ESCALATE_DEPLOYMENT,
                "Tell the backup and the owners that an approval went unanswered (run by each "
                "gate's automation)",
                (RUNBOOK_TAG, "escalation"),
            ),
            DeploymentPlan(
                weekly_incident_report,
                "weekly",
                "Incident metrics of the week, as a markdown artifact",
                (RUNBOOK_TAG, "report"),
                schedules=(self._report_schedule(),),
            ),
        ]

    def automations(self) -> list[Automation]:
        """The standing automations (a gate's escalation is armed by the gate itself)."""
        operations = self.settings.operations
        return [
            crash_watch(operations.crash_silence_seconds),
            pipeline_crash_watch(operations.crash_silence_seconds),
            pending_watch(operations.pending_silence_seconds),
        ]

    def deployment(self, full_name: str) -> DeploymentPlan:
        """The deployment `flow/deployment` of this application."""
        for plan in self.deployments():
            if plan.full_name == full_name:
                return plan
        raise KeyError(f"no deployment {full_name!r} in this application")

    def run_environment(self) -> dict[str, str]:
        """What a flow-run process of a runbook or pipeline needs in its environment (a worker's
        job): heartbeats, which the crash watches listen to."""
        heartbeat = self.settings.operations.heartbeat_seconds
        return {"PREFECT_FLOWS_HEARTBEAT_FREQUENCY": str(heartbeat)}

    def _runbook_plan(self, runbook: ValidatedRunbook) -> DeploymentPlan:
        spec = runbook.spec
        return DeploymentPlan(
            entrypoint_flow(runbook),
            runbook.name,
            " ".join(spec.description.split()) or f"Recovery runbook for pipeline {spec.pipeline}",
            (RUNBOOK_TAG, spec.pipeline),
            triggers=tuple(trigger_fields(t) for t in spec.on),
            concurrency=RUNS_PER_DEPLOYMENT,
        )

    def _intake_plan(self) -> DeploymentPlan:
        return DeploymentPlan(
            pipeline_failed_intake,
            INTAKE_NAME,
            "Record pipeline.failed events no runbook takes (unknown pipeline) and notify on-call",
            (RUNBOOK_TAG, "intake"),
            triggers=(intake_trigger_fields(),),
            parameters={"claimed": runbook_resources(list(self.runbooks))},
            concurrency=RUNS_PER_DEPLOYMENT,
        )

    def _report_schedule(self) -> dict[str, Any]:
        cron = self.settings.operations.report_cron
        if cron:
            return {"cron": cron, "timezone": self.governance.rotation.timezone}
        return copy.deepcopy(weekly_schedule(self.governance))
