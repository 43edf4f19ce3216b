"""The end-to-end demo: a pipeline fails, its runbook recovers it, on-call approves, the
portal gets the republished report, and the audit ledger tells the story.

An application of the public API, beside the product: the same services as `runbook serve`
(`RunServices` from `flows.runtime.run_services`, settings overridden with
`temporary_settings`), the pipelines' and the runbook's own Prefect flows, the answer path of
`runbook approve`. Everything runs on the embedded default: a SQLite warehouse under
`data/`, Prefect's local (ephemeral) server unless PREFECT_API_URL points elsewhere, and the
investor portal served from this process on a free port. The demo plays one human part, and
says so: it answers the approval gate as the engineer on call.

One event loop tells the story; blocking work (sample data, the warehouse, the portal client,
the ledger) runs in worker threads, so the recovery flow and the demo's watch share the loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import anyio

from deployments.application import RecoveryApplication
from faults import clear_faults, enabled, inject
from flows.approval.answering import answer_gate
from flows.language.validator import ValidatedRunbook
from flows.pipelines import pipeline_flow
from flows.runtime.compiler import compile_runbook
from flows.runtime.prefect_client import prefect_client_context, reach_prefect_api
from flows.runtime.run_services import open_command_services
from foundation.settings import temporary_settings
from governance.oncall.schedule import on_call_at
from portal.config import PortalConfig
from portal.server import PortalServer
from recovery_tasks.services import RunServices
from runbook_cli.demo.errors import DemoError
from runbook_cli.demo.paused_run import wait_for_gate
from warehouse.failures import PipelineFailure
from warehouse.generate import generate
from warehouse.outputs import output_files, read_feed

Say = Callable[[str], None]
RECOVERY_LIMIT = 300  # seconds the recovery may take once approved


def run_demo(
    pipeline: str,
    partition: str,
    fault: str,
    variant: str | None,
    approver: str | None,
    say: Say = print,
) -> int:
    """Run the story, with the fault layer installed; return the incident id."""
    with (
        enabled(),
        PortalServer(PortalConfig.from_settings()) as portal,
        # the demo profile takes typed names: no engineer's private channel to read a code from
        temporary_settings(portal_url=portal.url, profile="demo") as settings,
        open_command_services(settings=settings) as services,
    ):
        story = Story(services, portal.url, say)
        return asyncio.run(story.tell(pipeline, partition, fault, variant, approver))


class Story:
    """The chapters, told in order on one event loop with the run's services."""

    def __init__(self, services: RunServices, portal_url: str, say: Say) -> None:
        self.services = services
        self.portal_url = portal_url
        self.say = say

    async def tell(
        self, pipeline: str, partition: str, fault: str, variant: str | None, approver: str | None
    ) -> int:
        async with anyio.create_task_group() as meanwhile:
            # Prefect's local server starts (seconds) while the data and runbooks get ready
            meanwhile.start_soon(anyio.to_thread.run_sync, reach_prefect_api)
            runbook = await self.prepare(pipeline)
        with prefect_client_context():
            await self.clean_run_and_publish(pipeline, partition)
            event = await self.fail_pipeline(pipeline, partition, fault, variant)
            incident_id = await self.recover(runbook, event, approver)
        await anyio.to_thread.run_sync(self.show_result, pipeline, partition, incident_id)
        return incident_id

    async def prepare(self, pipeline: str) -> ValidatedRunbook:
        say = self.say
        say("1. Sample data: generating the small deterministic data set")
        counts = await anyio.to_thread.run_sync(generate, self.services.platform(), "small")
        say(f"   {sum(counts.values()):,} rows in {len(counts)} source tables")
        say("2. Runbooks: validating runbooks/")
        runbook = await anyio.to_thread.run_sync(_validate_and_pick, pipeline, say)
        say(f"3. Investor portal serving at {self.portal_url}")
        return runbook

    async def clean_run_and_publish(self, pipeline: str, partition: str) -> None:
        self.say(f"4. Normal day: {pipeline} runs for {partition} and its report is published")
        state = await pipeline_flow(pipeline)(partition=partition, return_state=True)
        if not state.is_completed():
            raise DemoError(f"the clean run of {pipeline} failed: {state.message}")
        receipt = await anyio.to_thread.run_sync(self._publish_scheduled, pipeline, partition)
        self.say(
            f"   published report version {receipt.report.version} and its dashboard feed "
            f"(receipt {receipt.report.id})"
        )

    def _publish_scheduled(self, pipeline: str, partition: str) -> Any:
        files = output_files(self.services.output_dir, pipeline, partition)
        with self.services.portal() as client:
            return client.publish_release(
                pipeline,
                partition,
                files.report_csv.read_bytes(),
                read_feed(files.dashboard_feed),
                f"scheduled:{pipeline}:{partition}:{datetime.now(UTC):%Y%m%d%H%M%S}",
            )

    async def fail_pipeline(
        self, pipeline: str, partition: str, fault: str, variant: str | None
    ) -> dict[str, Any]:
        platform = self.services.platform()
        injected = await anyio.to_thread.run_sync(
            inject, platform, fault, pipeline, partition, variant
        )
        self.say(
            f"5. Failure: injected {injected.kind}/{injected.variant}; "
            "the pipeline re-runs and fails"
        )
        state = await pipeline_flow(pipeline)(partition=partition, return_state=True)
        failure = await state.aresult(raise_on_failure=False)
        if not isinstance(failure, PipelineFailure):
            raise DemoError(f"expected a classified failure, got {state.name}: {state.message}")
        self.say(
            f"   pipeline.failed: kind={failure.kind} partition={failure.partition}: "
            f"{failure.detail}"
        )
        cleared = await anyio.to_thread.run_sync(clear_faults, platform)
        self.say(
            f"   the cause is fixed ({len(cleared)} injected fault(s) cleared); the partition is "
            "still wrong until recovery runs"
        )
        return failure_event(failure, str(state.state_details.flow_run_id))

    async def recover(
        self, runbook: ValidatedRunbook, event: dict[str, Any], approver: str | None
    ) -> int:
        say = self.say
        compiled = compile_runbook(runbook)
        say(
            f"6. Recovery: runbook {runbook.name} runs for the event "
            f"({len(runbook.spec.steps)} steps)"
        )
        ended: list[Any] = []
        started = datetime.now(UTC)

        async def run_recovery() -> None:
            ended.append(await compiled.flow(event=event, return_state=True))

        async with anyio.create_task_group() as runs:
            runs.start_soon(run_recovery)
            flow_run_id, description = await wait_for_gate(
                runbook.name, started, lambda: bool(ended)
            )
            say("   the run is paused for approval; the on-call engineer sees in the Prefect UI:")
            for line in description.splitlines():
                say(f"   | {line}")
            await self.approve(flow_run_id, approver)
            with anyio.fail_after(RECOVERY_LIMIT):
                while not ended:
                    await anyio.sleep(0.1)
        state = ended[0]
        if not state.is_completed():
            raise DemoError(f"the recovery did not complete: {state.name}")
        publish = (await state.aresult())["steps"].get("publish", {})
        say(f"   recovered and published: {publish.get('outputs', {})}")
        incident = await anyio.to_thread.run_sync(
            self.services.ledger.incidents.of_run, flow_run_id
        )
        if incident is None:
            raise DemoError(f"recovery run {flow_run_id} opened no incident")
        return incident.id

    async def approve(self, flow_run_id: str, approver: str | None) -> None:
        """Answer the gate as the engineer on call now, as `runbook approve` would."""
        now_on_call = on_call_at(self.services.governance, datetime.now(UTC))
        who = approver or now_on_call.primary
        self.say(
            f"   the demo answers as {who} (on call now: {now_on_call.primary}, backup "
            f"{now_on_call.backup}), as `runbook approve {flow_run_id} --as {who}` would; "
            "the demo profile takes the typed name (production asks for the approver's code)"
        )
        verdict = await answer_gate(
            flow_run_id, who, "approve", "demo: evidence reviewed", self.services.ledger
        )
        self.say(f"   gate: {verdict.detail if verdict else 'no verdict yet'}")

    def show_result(self, pipeline: str, partition: str, incident_id: int) -> None:
        with self.services.portal() as client:
            history = client.history(pipeline, partition, "report")
        versions = [f"v{r.version} {r.sha256[:12]}" for r in history.history] if history else []
        self.say(f"7. Portal now holds {pipeline} {partition}: {', '.join(versions)}")
        self.say(f"   audit story of incident {incident_id} (`runbook audit {incident_id}`):")
        for line in self.services.ledger.incident_story(incident_id):
            self.say(f"   {line.at:%H:%M:%S} {line.what:<28} {line.detail}"[:160])


def _validate_and_pick(pipeline: str, say: Say) -> ValidatedRunbook:
    reports = RecoveryApplication.validate()
    for report in reports:
        verdict = "OK" if report.runbook else f"INVALID ({len(report.problems)} problems)"
        say(f"   {verdict:<4} {report.path.name}")
    if any(r.problems for r in reports):
        raise DemoError("fix the invalid runbooks first (`runbook validate`)")
    matches = [r.runbook for r in reports if r.runbook and r.runbook.spec.pipeline == pipeline]
    if not matches:
        raise DemoError(f"no runbook recovers pipeline {pipeline}")
    return matches[0]


def failure_event(failure: PipelineFailure, flow_run_id: str) -> dict[str, Any]:
    """The `pipeline.failed` event in the shape a deployment trigger hands it to the runbook's
    flow, with the failed run for the log scan (no event id: each demo opens a new incident)."""
    return {
        "event": "pipeline.failed",
        "occurred": datetime.now(UTC).isoformat(),
        "resource": {"prefect.resource.id": f"pipeline.{failure.pipeline}"},
        "payload": {**failure.payload(), "flow_run_id": flow_run_id},
    }
