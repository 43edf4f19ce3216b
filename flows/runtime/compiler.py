"""Compile a validated runbook into a Prefect flow named after it.

Each step becomes a task run named by its step id, with the step's retries, retry delay and
timeout. The flow is async, so independent steps run concurrently and there is no sync-flow
heartbeat tail. Approval gates run in the flow itself, between waves (see `waves`).
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio
from prefect import Flow, flow
from prefect.context import FlowRunContext

from flows.events.door import admit
from flows.language.catalog import PipelineCatalog
from flows.language.library import load_runbook
from flows.language.validator import ValidatedRunbook
from flows.language.waves import Wave, runbook_waves
from flows.runtime.run_services import open_services
from governance.incidents.reference import IncidentRef, Retry


@dataclass(frozen=True)
class CompiledRunbook:
    """A runbook ready to run: its Prefect flow and the waves the flow will execute."""

    runbook: ValidatedRunbook
    waves: tuple[Wave, ...]
    flow: Flow[..., Any]

    @property
    def name(self) -> str:
        """The runbook's (and the flow's) name."""
        return self.runbook.name


def compile_runbook(runbook: ValidatedRunbook, *, record: bool = True) -> CompiledRunbook:
    """Build the Prefect flow of a validated runbook.

    With `record`, each run opens its incident in the audit ledger and appends every step's
    outcome; without, the flow touches nothing but its steps (benchmarks, dry runs). Either
    way a `pipeline.failed` event is checked at the door first (`flows.events.door`).
    """
    from flows.runtime.execution import RunbookExecution

    waves = runbook_waves(runbook.graph, runbook.types)

    async def run_runbook(
        event: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        incident: dict[str, Any] | None = None,
        triggered_by: str | None = None,
    ) -> Any:
        """Run the runbook for one triggering event (params override what the event gives)."""
        retry = Retry.from_parameter(incident)  # `runbook retry`: the door was passed already
        services = await anyio.to_thread.run_sync(functools.partial(open_services, record=record))
        try:
            opened: IncidentRef | None = None
            if retry is None:  # the door: check the event, open or attach its incident
                admission = await admit(runbook, event or {}, services, _flow_run_id())
                if admission.final is not None:
                    return admission.final
                event, opened = admission.event, admission.incident
            execution = RunbookExecution(
                runbook, waves, event or {}, params or {}, opened, triggered_by, services, retry
            )
            return await execution.run()
        finally:
            await anyio.to_thread.run_sync(services.close)

    spec = runbook.spec
    description = spec.description or f"Recovery runbook for pipeline {spec.pipeline}"
    return CompiledRunbook(runbook, waves, _runbook_flow(run_runbook, spec.runbook, description))


def _flow_run_id() -> str | None:
    context = FlowRunContext.get()
    return str(context.flow_run.id) if context and context.flow_run else None


_TEMPLATE: Flow[..., Any] | None = None


def _runbook_flow(fn: Callable[..., Any], name: str, description: str) -> Flow[..., Any]:
    """A Prefect flow for `fn`, named `name`.

    Every runbook's flow function is the same closure (same signature, same source), so the
    costly parts of `Flow.__init__` (parameter schema, validated-function check, version
    hash) are identical for all of them: build one flow once and copy it, changing only what
    differs. This keeps compiling 100 runbooks well under a second.
    """
    global _TEMPLATE
    if _TEMPLATE is None:
        _TEMPLATE = flow(
            fn, name="runbook", validate_parameters=True, log_prints=True, persist_result=False
        )
    compiled = copy.copy(_TEMPLATE)
    functools.update_wrapper(compiled, fn)
    compiled.fn = fn
    compiled.name = name
    compiled.description = description
    compiled.__doc__ = description
    return compiled


def compile_named(name: str, catalog: PipelineCatalog | None = None) -> CompiledRunbook:
    """Load and compile a runbook by name (or the path of its file)."""
    return compile_runbook(load_runbook(name, catalog))
