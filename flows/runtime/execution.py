"""One run of a compiled runbook: params, waves, steps, gates and failure handlers.

Rules a runbook author relies on (also in docs/runbook-language.md):
- a step starts as soon as all its `needs` have finished; independent steps run at once;
- `when` is evaluated just before the step would start; false -> the step is Skipped;
- a step whose need was skipped is skipped too (a skip propagates down the graph), unless
  it has `trigger_rule: none_failed` (a join: it runs when none of its needs failed);
- a step whose need failed ends UpstreamFailed, unless that need has `allow_failure`;
- an approval gate that rejects or times out stops the run: nothing after it runs;
- when the runbook fails, its `on_failure` steps run, then the flow ends Failed;
- a recorded run's steps hold their partition's concurrency slot (`flows.events.partition_lock`)
  while a wave runs, so two recoveries never write one partition at the same time.
- a run started again (after its gate suspended it, or after a crash) does not redo what it
  finished: completed and skipped steps come back from the ledger (`flows.runtime.restore`).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from contextlib import AbstractAsyncContextManager, nullcontext
from datetime import UTC, datetime
from typing import Any

import anyio
from prefect import get_run_logger
from prefect.context import FlowRunContext
from prefect.states import Completed, Failed, State
from pydantic import ValidationError

from flows.events.partition_lock import partition_locks
from flows.language.models import Step
from flows.language.params import resolve_params
from flows.language.pipelines import other_partition
from flows.language.templates import TemplateRenderError, evaluate_condition, render_value
from flows.language.validator import ValidatedRunbook
from flows.language.waves import Wave
from flows.runtime.orphan_guard import stop_when_orphaned
from flows.runtime.restore import restored_outcomes
from flows.runtime.step_task import mark_task, step_task
from governance.incidents.reference import IncidentRef, Retry
from recovery_tasks.context import StepContext, StepOutcome
from recovery_tasks.errors import GateClosed
from recovery_tasks.registry import StepType
from recovery_tasks.run_outcome import run_outcome
from recovery_tasks.services import RunServices


class RunbookExecution:
    """State of one flow run of a runbook."""

    def __init__(
        self,
        runbook: ValidatedRunbook,
        waves: tuple[Wave, ...],
        event: dict[str, Any],
        overrides: dict[str, Any],
        incident: IncidentRef | None,
        triggered_by: str | None,
        services: RunServices,
        retry: Retry | None = None,
    ) -> None:
        self.runbook = runbook
        self.waves = waves
        self.event = event
        self.overrides = overrides
        self.incident = incident
        self.retry = retry
        self.triggered_by = triggered_by
        self.services = services
        self.recorder = services.recorder
        self.params: dict[str, Any] = {}
        self.outcomes: dict[str, StepOutcome] = {}
        self.restored: dict[str, StepOutcome] = {}
        self.steps = {s.id: s for s in runbook.spec.steps}
        run_context = FlowRunContext.get()
        self.flow_run_id = (
            str(run_context.flow_run.id) if run_context and run_context.flow_run else None
        )
        self.served = bool(
            run_context and run_context.flow_run and run_context.flow_run.deployment_id
        )

    async def run(self) -> State:
        """Execute every wave; on failure run the handlers and end Failed."""
        if self.served and self.flow_run_id:  # stop (and be retried) if the runner dies
            stop_when_orphaned(self.flow_run_id)
        try:
            self.params = resolve_params(
                self.runbook.spec.params, self.overrides, self._base_ns(), self.runbook.partitions
            )
        except ValueError as exc:  # the event lacks what the runbook needs: still on record
            await self._open_incident()
            await self._record_state("failed", {"params": str(exc)})
            raise
        await self._open_incident()
        await self._restore()
        stopped: GateClosed | None = None
        for wave in self.waves:
            async with self._holding_partition(wave):
                await self._run_concurrently(wave.steps)
            if self._failed_steps():
                break
            try:
                for gate in wave.gates:
                    await self._run_gate(self.steps[gate])
            except GateClosed as closed:
                stopped = closed
                break
        failed = self._failed_steps()
        if stopped or failed:
            await self._run_handlers()
            name = "Rejected" if stopped else "Failed"
            message = str(stopped) if stopped else f"steps failed: {', '.join(failed)}"
            if not stopped:
                await self._record_state("failed", {"failed_steps": failed})
            return Failed(name=name, message=message, data=self.summary())
        outcome = run_outcome(self.outcomes, {sid: s.uses for sid, s in self.steps.items()})
        await self._record_state("resolved", {"steps": len(self.outcomes), "outcome": outcome})
        return Completed(message=outcome, data=self.summary())

    def _holding_partition(self, wave: Wave) -> AbstractAsyncContextManager[None]:
        """The partitions' concurrency slots while a wave's steps run (not across gates, not
        unrecorded): the runbook's, and those of other pipelines its steps work on."""
        if not self.recorder.keeps_story:
            return nullcontext()
        own = (self.runbook.spec.pipeline, self.params.get("partition"))
        others = [other_partition(self.steps[s], own[0], self._namespace()) for s in wave.steps]
        return partition_locks([own, *(o for o in others if o is not None)])

    async def _open_incident(self) -> None:
        """Open (or re-find, for the same event or the same flow run) the incident; a retry
        resumes its incident. A run that keeps no story opens none."""
        if not self.recorder.keeps_story:
            return
        if self.retry is not None:
            self.incident = await anyio.to_thread.run_sync(
                self.recorder.resume, self.retry, self.runbook.name, self.event, self.flow_run_id
            )
            return
        if self.incident is None and self.flow_run_id:
            self.incident = await anyio.to_thread.run_sync(
                self.recorder.rebind, self.flow_run_id, self.event
            )
        if self.incident is None:
            self.incident = await anyio.to_thread.run_sync(
                self.recorder.open,
                self.runbook.name,
                self.runbook.spec.pipeline,
                self.event,
                self.params,
                self.flow_run_id,
            )

    async def _restore(self) -> None:
        """What this flow run finished in an earlier attempt, from the ledger."""
        if self.flow_run_id is None:
            return
        results = await anyio.to_thread.run_sync(self.recorder.run_steps)
        self.restored = restored_outcomes(results, self.steps)
        if self.restored:
            get_run_logger().info(
                "run started again: %s restored from the ledger", ", ".join(self.restored)
            )

    def _take_restored(self, step: Step) -> bool:
        """Use the step's restored outcome, if it has one (nothing runs, nothing is recorded)."""
        outcome = self.restored.get(step.id)
        if outcome is None:
            return False
        self.outcomes[step.id] = outcome
        return True

    async def _record_state(self, state: str, detail: dict[str, Any]) -> None:
        """Append a lifecycle state to the incident's story (off the event loop)."""
        await anyio.to_thread.run_sync(functools.partial(self.recorder.state, state, detail=detail))

    async def _finish(self, step_id: str, outcome: StepOutcome) -> None:
        """Keep a step's outcome for later templates and append it to the incident's story."""
        self.outcomes[step_id] = outcome
        record = functools.partial(
            self.recorder.step,
            step_id,
            outcome.state,
            outputs=outcome.outputs,
            message=outcome.message,
            started=outcome.started,
            ended=outcome.ended,
        )
        await anyio.to_thread.run_sync(record)

    def summary(self) -> dict[str, Any]:
        """Params and every step's state and outputs: the flow's result."""
        return {
            "runbook": self.runbook.name,
            "pipeline": self.runbook.spec.pipeline,
            "params": self.params,
            "steps": {k: v.as_template_value() for k, v in self.outcomes.items()},
        }

    def _failed_steps(self) -> list[str]:
        return [
            sid
            for sid, o in self.outcomes.items()
            if o.state in ("failed", "upstream_failed")
            and not (sid in self.steps and self.steps[sid].allow_failure)
        ]

    def _incident_ns(self) -> dict[str, Any]:
        """`incident.*` as templates and steps read it (empty before one is opened)."""
        return self.incident.namespace() if self.incident is not None else {}

    def _base_ns(self) -> dict[str, Any]:
        return {
            "event": self.event,
            "incident": self._incident_ns(),
            "runbook": {
                "name": self.runbook.name,
                "pipeline": self.runbook.spec.pipeline,
                "flow_run_id": getattr(self, "flow_run_id", None),
            },
        }

    def _namespace(self) -> dict[str, Any]:
        steps = {k: v.as_template_value() for k, v in self.outcomes.items()}
        return {**self._base_ns(), "params": self.params, "steps": steps}

    async def _run_concurrently(self, step_ids: tuple[str, ...]) -> None:
        done = {sid: asyncio.Event() for sid in step_ids}

        async def one(step: Step) -> None:
            for need in step.needs:
                if need in done:
                    await done[need].wait()
            try:
                await self._run_step(step)
            finally:
                done[step.id].set()

        await asyncio.gather(*(one(self.steps[s]) for s in step_ids))

    def _blocked_by(self, step: Step) -> tuple[str, str] | None:
        """Why this step cannot run because of its needs: (kind, message), or None."""
        for need in step.needs:
            outcome = self.outcomes[need]
            if (
                outcome.state in ("failed", "upstream_failed")
                and not self.steps[need].allow_failure
            ):
                return "upstream_failed", f"not run: upstream step '{need}' {outcome.state}"
        if step.trigger_rule == "none_failed":  # a join: skipped needs do not skip it
            return None
        for need in step.needs:
            if self.outcomes[need].state == "skipped":
                return "skipped", f"skipped: upstream step '{need}' was skipped"
        return None

    async def _prepare(self, step: Step, step_type: StepType) -> tuple[Any, StepContext] | None:
        """Check needs and `when`, render `with:`; None when the step does not run."""
        blocked = self._blocked_by(step)
        if blocked is None and step.when is not None:
            try:
                if not evaluate_condition(step.when, self._namespace()):
                    blocked = ("skipped", f"skipped: when `{step.when}` is false")
            except TemplateRenderError as exc:
                blocked = ("failed", str(exc))
        if blocked is None:
            try:
                rendered = render_value(step.with_, self._namespace())
                params = step_type.params.model_validate(rendered)
            except (TemplateRenderError, ValidationError) as exc:
                blocked = ("failed", f"parameters of step '{step.id}' are invalid: {exc}")
        if blocked is not None:
            kind, message = blocked
            decided = datetime.now(UTC)  # when it was decided: the story keeps its place
            await self._finish(step.id, StepOutcome(kind, None, message, ended=decided))  # type: ignore[arg-type]
            get_run_logger().info("step %s: %s", step.id, message)
            marker = "skipped" if kind == "skipped" else "upstream_failed"
            await mark_task(step)(marker, message, return_state=True)
            return None
        return params, self._context(step)

    def _context(self, step: Step) -> StepContext:
        return StepContext(
            runbook=self.runbook.name,
            pipeline=self.runbook.spec.pipeline,
            step_id=step.id,
            event=self.event,
            params=self.params,
            incident=self._incident_ns(),
            steps=dict(self.outcomes),
            flow_run_id=self.flow_run_id,
            triggered_by=self.triggered_by,
            timeout=step.timeout,
            uses={s.id: s.uses for s in self.runbook.spec.steps},
            services=self.services,
        )

    async def _run_step(self, step: Step, types: dict[str, StepType] | None = None) -> None:
        if types is None and self._take_restored(step):
            return
        step_type = (types or self.runbook.types)[step.id]
        prepared = await self._prepare(step, step_type)
        if prepared is None:
            return
        params, ctx = prepared
        started = datetime.now(UTC)
        state = await step_task(step, step_type)(step_type, params, ctx, return_state=True)
        ended = datetime.now(UTC)
        if state.is_completed():
            outputs = await state.aresult()
            await self._finish(step.id, StepOutcome("completed", outputs, None, started, ended))
        else:
            error = await _state_error(state)
            await self._finish(step.id, StepOutcome("failed", None, error, started, ended))

    async def _run_gate(self, step: Step) -> None:
        restored = self.restored.get(step.id)
        if restored is not None and restored.state == "completed" and self._take_restored(step):
            return  # approved in an earlier attempt of this run: fail closed on anything else
        step_type = self.runbook.types[step.id]
        prepared = await self._prepare(step, step_type)
        if prepared is None:
            outcome = self.outcomes[step.id]
            raise GateClosed(f"approval gate '{step.id}' did not open: {outcome.message}")
        params, ctx = prepared
        started = datetime.now(UTC)
        try:
            if inspect.iscoroutinefunction(step_type.run):
                result = await step_type.run(params, ctx)
            else:  # a blocking gate waits in a worker thread, off the flow's event loop
                result = await anyio.to_thread.run_sync(step_type.run, params, ctx)
        except GateClosed as closed:
            await self._finish(
                step.id,
                StepOutcome("rejected", closed.outputs, str(closed), started, datetime.now(UTC)),
            )
            raise
        outputs = step_type.result.model_validate(result).model_dump(mode="json")
        await self._finish(
            step.id, StepOutcome("completed", outputs, None, started, datetime.now(UTC))
        )

    async def _run_handlers(self) -> None:
        handlers = {h.id: h for h in self.runbook.spec.on_failure}
        for handler_id in self.runbook.handler_graph.order:
            await self._run_step(handlers[handler_id], self.runbook.handler_types)


async def _state_error(state: State) -> str:
    try:
        await state.aresult(raise_on_failure=True)
    except BaseException as exc:  # the step's own exception, whatever it is
        return f"{type(exc).__name__}: {exc}"
    return state.message or state.name or "failed"
