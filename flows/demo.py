"""The end-to-end demo: a pipeline fails, its runbook recovers it, on-call approves, the
portal gets the republished report, and the audit ledger tells the story.

Everything runs on the embedded default: a SQLite warehouse under `data/`, Prefect's local
(ephemeral) server unless PREFECT_API_URL points elsewhere, and the investor portal served
from this process on a free port. The demo plays one human part, and says so: it answers
the approval gate as the engineer on call, through the same path as `runbook approve`.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from foundation.errors import RecoveryError

Say = Callable[[str], None]


class DemoError(RecoveryError, RuntimeError):
    """A demo step did not go as the story needs."""


def run_demo(
    pipeline: str,
    partition: str,
    fault: str,
    variant: str | None,
    approver: str | None,
    say: Say = print,
) -> int:
    """Run the story, with the fault layer installed; return the incident id."""
    from faults import enabled

    with enabled():
        return _run_story(pipeline, partition, fault, variant, approver, say)


def _run_story(
    pipeline: str, partition: str, fault: str, variant: str | None, approver: str | None, say: Say
) -> int:
    from foundation.settings import temporary_settings
    from portal.config import PortalConfig
    from portal.server import PortalServer
    from warehouse.db import Platform
    from warehouse.generate import generate

    say("1. Sample data: generating the small deterministic data set")
    platform = Platform.from_settings()
    counts = generate(platform, "small")
    say(f"   {sum(counts.values()):,} rows in {len(counts)} source tables")
    say("2. Runbooks: validating runbooks/")
    runbook = _validate_and_pick(pipeline, say)
    with (
        PortalServer(PortalConfig.from_settings()) as portal,
        temporary_settings(portal_url=portal.url),
    ):
        say(f"3. Investor portal serving at {portal.url}")
        _clean_run_and_publish(pipeline, partition, say)
        event = _fail_pipeline(platform, pipeline, partition, fault, variant, say)
        incident_id = _recover(runbook, event, approver, say)
        _show_result(pipeline, partition, incident_id, say)
    return incident_id


def _validate_and_pick(pipeline: str, say: Say) -> Any:
    from flows.runbook_library import validate_files

    reports = validate_files()
    for report in reports:
        verdict = "OK" if report.runbook else f"INVALID ({len(report.problems)} problems)"
        say(f"   {verdict:<4} {report.path.name}")
    if any(r.problems for r in reports):
        raise DemoError("fix the invalid runbooks first (`runbook validate`)")
    matches = [r.runbook for r in reports if r.runbook and r.runbook.spec.pipeline == pipeline]
    if not matches:
        raise DemoError(f"no runbook recovers pipeline {pipeline}")
    return matches[0]


def _clean_run_and_publish(pipeline: str, partition: str, say: Say) -> None:
    from flows.pipelines import pipeline_flow
    from foundation.settings import get_settings
    from portal.client import PortalClient

    say(f"4. Normal day: {pipeline} runs for {partition} and its report is published")
    state = asyncio.run(pipeline_flow(pipeline)(partition=partition, return_state=True))
    if not state.is_completed():
        raise DemoError(f"the clean run of {pipeline} failed: {state.message}")
    settings = get_settings()
    report = (settings.output_dir() / pipeline / f"{partition}.csv").read_bytes()
    with PortalClient(settings.portal.portal_url, settings.portal.portal_token) as client:
        receipt = client.publish_report(
            pipeline,
            partition,
            report,
            f"scheduled:{pipeline}:{partition}:{datetime.now(UTC):%Y%m%d%H%M%S}",
        )
    say(f"   published version {receipt.version} (receipt {receipt.id})")


def _fail_pipeline(
    platform: Any, pipeline: str, partition: str, fault: str, variant: str | None, say: Say
) -> dict[str, Any]:
    from faults import clear_faults, inject
    from flows.pipelines import pipeline_flow
    from warehouse.failures import PipelineFailure

    injected = inject(platform, fault, pipeline, partition, variant)
    say(f"5. Failure: injected {injected.kind}/{injected.variant}; the pipeline re-runs and fails")
    state = asyncio.run(pipeline_flow(pipeline)(partition=partition, return_state=True))
    failure = asyncio.run(state.aresult(raise_on_failure=False))
    if not isinstance(failure, PipelineFailure):
        raise DemoError(f"expected a classified failure, got {state.name}: {state.message}")
    say(f"   pipeline.failed: kind={failure.kind} partition={failure.partition}: {failure.detail}")
    cleared = clear_faults(platform)
    say(
        f"   the cause is fixed ({len(cleared)} injected fault(s) cleared); the partition is "
        "still wrong until recovery runs"
    )
    return {
        "event": "pipeline.failed",
        "occurred": datetime.now(UTC).isoformat(),
        "resource": {"prefect.resource.id": f"pipeline.{pipeline}"},
        "payload": {**failure.payload(), "flow_run_id": str(state.state_details.flow_run_id)},
    }


def _recover(runbook: Any, event: dict[str, Any], approver: str | None, say: Say) -> int:
    from flows.approval.answering import answer_gate
    from flows.language.compiler import compile_runbook
    from governance.config import load_governance
    from governance.ledger import Ledger
    from governance.oncall import on_call_at

    compiled = compile_runbook(runbook)
    say(f"6. Recovery: runbook {runbook.name} runs for the event ({len(runbook.spec.steps)} steps)")
    result: list[Any] = []
    started = datetime.now(UTC)
    worker = threading.Thread(
        target=lambda: result.append(asyncio.run(compiled.flow(event=event, return_state=True))),
        daemon=True,
    )
    worker.start()
    flow_run_id, description = _wait_for_gate(runbook.name, worker, started)
    say("   the run is paused for approval; the on-call engineer sees in the Prefect UI:")
    for line in description.splitlines():
        say(f"   | {line}")
    now_on_call = on_call_at(load_governance(), datetime.now(UTC))
    who = approver or now_on_call.primary
    say(
        f"   the demo answers as {who} (on call now: {now_on_call.primary}, backup "
        f"{now_on_call.backup}), as `runbook approve {flow_run_id} --as {who}` would"
    )
    verdict = asyncio.run(
        answer_gate(flow_run_id, who, "approve", "demo: evidence reviewed", Ledger.from_settings())
    )
    say(f"   gate: {verdict.detail if verdict else 'no verdict yet'}")
    worker.join(300)
    state = result[0] if result else None
    if state is None or not state.is_completed():
        raise DemoError(f"the recovery did not complete: {state.name if state else 'running'}")
    publish = state.result()["steps"].get("publish", {})
    say(f"   recovered and published: {publish.get('outputs', {})}")
    return _incident_of(flow_run_id)


def _wait_for_gate(flow_name: str, worker: threading.Thread, started: datetime) -> tuple[str, str]:
    """The id of this demo's recovery run once it waits at its gate, and the evidence shown."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterStartTime,
    )
    from prefect.client.schemas.sorting import FlowRunSort
    from prefect.input.run_input import read_flow_run_input

    async def paused_run() -> tuple[str, str] | None:
        async with get_client() as client:
            runs = await client.read_flow_runs(
                flow_filter=FlowFilter(name=FlowFilterName(any_=[flow_name])),
                flow_run_filter=FlowRunFilter(start_time=FlowRunFilterStartTime(after_=started)),
                sort=FlowRunSort.START_TIME_DESC,
                limit=1,
            )
        for run in runs:
            if run.state and run.state.is_paused():
                keyset = run.state.state_details.run_input_keyset or {}
                text = await read_flow_run_input(keyset.get("description", ""), run.id)
                if text:  # the form and its evidence are saved just after the pause
                    return str(run.id), str(text)
        return None

    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        found = asyncio.run(paused_run())
        if found:
            return found
        if not worker.is_alive():
            raise DemoError("the recovery ended before reaching its approval gate")
        time.sleep(1)
    raise DemoError("the recovery did not reach its approval gate in 10 minutes")


def _incident_of(flow_run_id: str) -> int:
    from governance.ledger import Ledger

    incident = Ledger.from_settings().incident_of_run(flow_run_id)
    if incident is None:
        raise DemoError(f"recovery run {flow_run_id} opened no incident")
    return incident.id


def _show_result(pipeline: str, partition: str, incident_id: int, say: Say) -> None:
    from foundation.settings import get_settings
    from governance.ledger import Ledger
    from portal.client import PortalClient

    settings = get_settings()
    with PortalClient(settings.portal.portal_url, settings.portal.portal_token) as client:
        history = client.history(pipeline, partition, "report")
    versions = [f"v{r.version} {r.sha256[:12]}" for r in history.history] if history else []
    say(f"7. Portal now holds {pipeline} {partition}: {', '.join(versions)}")
    say(f"   audit story of incident {incident_id} (`runbook audit {incident_id}`):")
    for line in Ledger.from_settings().incident_story(incident_id):
        say(f"   {line.at:%H:%M:%S} {line.what:<28} {line.detail}"[:160])
