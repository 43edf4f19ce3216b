"""One rehearsal cell, start to finish, on scratch copies of everything.

1. A clean run of the pipeline; investor pipelines publish its report and feed to the
   scratch portal (the real portal app on a free port). Its bytes are the reference. In the
   first-publication scenario nothing of it stays: no files, no partition, nothing published.
2. The fault is injected and the pipeline fails, as its Prefect flow (its logs and its
   `pipeline.failed` event are real); a damaged partition is found by validating it; a
   publishing fault fails the scheduled publication. A fault the pipeline copes with (an
   added column) fails nothing: no recovery is needed.
3. The cause is fixed, persists, or goes away a few seconds after the runbook starts (for
   the portal: a few seconds after the approval, while the runbook republishes).
4. The runbook runs; the rehearsal answers its gate; the verdict compares with step 1.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from faults import inject
from faults.catalog import DETECTED_BY_VALIDATION
from faults.portal_client import FaultingPortalClient
from faults.portal_layer import portal_with_faults
from faults.records import InjectedFault
from flows.events.emit import failure_event_parameter
from foundation.settings import get_settings, temporary_settings
from governance.ledger.audit_ledger import Ledger
from portal.client import PortalClient
from portal.config import PortalConfig
from portal.errors import PortalUnavailableError
from portal.retry import RetryPolicy
from portal.server import PortalServer
from rehearsal.causes import ONE_OFF, LaterFix, fix_cause
from rehearsal.cells import Cell
from rehearsal.expectations import Outcome
from rehearsal.first_publication import forget_first_run
from rehearsal.recovery import run_recovery
from rehearsal.verdict import RunInfo, judge, read_after, reference_of
from rehearsal.workspace import CellSpace, Template, open_cell
from warehouse.db import Platform
from warehouse.failures import FailureKind, PipelineFailure
from warehouse.outputs import output_files, read_feed
from warehouse.pipelines import get_pipeline
from warehouse.runner import run_pipeline, validate_partition

Say = Callable[[str], None]


@dataclass(frozen=True)
class Options:
    """How a rehearsal runs: the compressed SLA is in the template's governance file."""

    later_after: float = 3.0  # seconds into the runbook before an arrives-later cause goes
    run_timeout: float = 300.0


@dataclass(frozen=True)
class CellResult:
    """A cell's verdict and why."""

    cell: Cell
    outcome: Outcome
    reason: str
    seconds: float
    incident_id: int | None = None
    story: tuple[str, ...] = ()  # the incident's audit story, as `runbook audit` tells it


def rehearse(cell: Cell, template: Template, options: Options, say: Say = print) -> CellResult:
    """Play `cell` on fresh copies of the template; return its verdict.

    A cell whose runbook the engine failed (the Prefect API gave way, or the run ended with no
    step failed: not a verdict on the runbook) is played once more from scratch; the reason
    says so.
    """
    started = time.monotonic()
    note = ""
    for attempt in (1, 2):
        with scratch(template):
            outcome, reason, run = _play(cell, options, say)
            story = _story(run.incident_id)
        if not run.infrastructure or attempt == 2:
            break
        note = f" (played twice: the first play could not be judged: {reason})"
        say(f"{cell.label}: the engine around the runbook failed ({reason}); playing it again")
    seconds = time.monotonic() - started
    return CellResult(cell, outcome, reason + note, seconds, run.incident_id, story)


def _story(incident_id: int | None) -> tuple[str, ...]:
    """The incident's story from the scratch ledger, one line per fact."""
    if incident_id is None:
        return ()
    with Ledger.from_url(get_settings().audit_url()) as ledger:
        return tuple(
            f"{line.at:%H:%M:%S} {line.what:<26} {line.detail}"[:200]
            for line in ledger.incident_story(incident_id)
        )


@contextmanager
def scratch(template: Template) -> Iterator[CellSpace]:
    """Fresh copies of the template, a portal served on them, settings pointing at both."""
    space = open_cell(template)
    try:
        token = get_settings().portal.portal_token
        portal_config = PortalConfig(db_url=space.settings["portal_db_url"], token=token)
        with (
            PortalServer(portal_config, build=portal_with_faults) as portal,
            temporary_settings(**space.settings, portal_url=portal.url),
        ):
            yield space
    finally:
        space.close()


def _play(cell: Cell, options: Options, say: Say) -> tuple[Outcome, str, RunInfo]:
    settings = get_settings()
    platform = Platform.from_settings(settings)
    pipe = get_pipeline(cell.pipeline)
    portal = PortalClient(settings.portal.portal_url, settings.portal.portal_token)
    try:
        run_pipeline(platform, pipe, cell.partition)
        reference = reference_of(platform, pipe.name, cell.partition, settings.output_dir())
        if cell.scenario == "first-publication":
            forget_first_run(platform, cell, settings.output_dir())
        elif pipe.investor_reporting:
            _publish(portal, cell, settings.output_dir())
        say(f"{cell.label}: clean run done; injecting {cell.kind}/{cell.variant}")
        fault = inject(platform, cell.kind, cell.pipeline, cell.partition, cell.variant)
        event = _fail(platform, cell, fault, settings.output_dir(), say)
        if cell.variant in ONE_OFF:
            fix_cause(platform, fault)  # the crash happened; what persists is its damage
        if event is None:
            run = RunInfo(False, False, "no recovery needed: the pipeline coped with the fault")
        else:
            run = _recover(platform, cell, fault, event, options, say)
        after = read_after(platform, pipe.name, cell.partition, settings.output_dir(), portal)
        outcome, reason = judge(reference, after, run, pipe.investor_reporting)
        say(f"{cell.label}: {outcome}: {reason}")
        return outcome, reason, run
    finally:
        portal.close()
        platform.dispose()


def _publish(portal: PortalClient, cell: Cell, outputs: Any) -> None:
    """The scheduled publication of a run's outputs: report and feed, as one release."""
    files = output_files(outputs, cell.pipeline, cell.partition)
    key = f"scheduled:{cell.pipeline}:{cell.partition}:{uuid.uuid4().hex}"
    report, feed = files.report_csv.read_bytes(), read_feed(files.dashboard_feed)
    portal.publish_release(cell.pipeline, cell.partition, report, feed, key)


def _fail(
    platform: Platform, cell: Cell, fault: InjectedFault, outputs: Any, say: Say
) -> dict[str, Any] | None:
    """Make the pipeline fail as it would in production; the failure event, or None."""
    try:
        if cell.variant in DETECTED_BY_VALIDATION:
            validate_partition(platform, cell.pipeline, cell.partition)
        else:
            _run_flow(cell)
            if get_pipeline(cell.pipeline).investor_reporting:
                if cell.kind == FailureKind.REPORT_PUBLISHING:
                    _scheduled_publication(platform, cell, outputs)
                elif cell.scenario == "first-publication":  # the run coped: published on time
                    _published_on_schedule(cell, outputs)
        return None
    except PipelineFailure as failure:
        say(f"{cell.label}: pipeline.failed kind={failure.kind}: {failure.detail}")
        return failure_event_parameter(failure, failure.evidence.get("flow_run_id"))


def _run_flow(cell: Cell) -> None:
    """Run the pipeline's Prefect flow; raise its classified failure with the run's id."""
    from flows.pipelines import pipeline_flow

    state = asyncio.run(pipeline_flow(cell.pipeline)(partition=cell.partition, return_state=True))
    run_id = str(state.state_details.flow_run_id)
    if state.is_completed():
        return
    failure = asyncio.run(state.aresult(raise_on_failure=False))
    if isinstance(failure, PipelineFailure):
        failure.evidence["flow_run_id"] = run_id
        raise failure
    raise RuntimeError(f"the pipeline flow failed unclassified: {state.message}")


def _published_on_schedule(cell: Cell, outputs: Any) -> None:
    """The scheduled publication after a run that succeeded, through the plain client."""
    settings = get_settings().portal
    with PortalClient(settings.portal_url, settings.portal_token) as client:
        _publish(client, cell, outputs)


def _scheduled_publication(platform: Platform, cell: Cell, outputs: Any) -> None:
    """Publish the run's outputs as the scheduler would, through the fault layer's client."""
    settings = get_settings().portal
    client = FaultingPortalClient(
        settings.portal_url,
        settings.portal_token,
        faults_db=platform.warehouse,
        retry=RetryPolicy(max_attempts=1),
    )
    try:
        with client:
            _publish(client, cell, outputs)
    except PortalUnavailableError as exc:
        raise PipelineFailure(
            FailureKind.REPORT_PUBLISHING, cell.partition, str(exc), pipeline=cell.pipeline
        ) from exc


def _recover(
    platform: Platform,
    cell: Cell,
    fault: InjectedFault,
    event: dict[str, Any],
    options: Options,
    say: Say,
) -> RunInfo:
    later = LaterFix(options.later_after, lambda: fix_cause(platform, fault))
    if cell.scenario in ("fixed", "first-publication") and cell.variant not in ONE_OFF:
        fix_cause(platform, fault)
    arrives_later = cell.scenario == "arrives-later" and cell.variant not in ONE_OFF
    publishing = cell.kind == FailureKind.REPORT_PUBLISHING
    ledger = Ledger.from_url(get_settings().audit_url())
    try:
        say(f"{cell.label}: the runbook runs ({cell.scenario})")
        run = run_recovery(
            cell.pipeline,
            event,
            ledger,
            timeout=options.run_timeout,
            on_start=later.start if arrives_later and not publishing else None,
            on_answer=later.start if arrives_later and publishing else None,
        )
    finally:
        later.cancel()
        ledger.dispose()
    if later.error is not None:
        return RunInfo(run.needed, False, f"the later fix failed: {later.error}", run.incident_id)
    return run
