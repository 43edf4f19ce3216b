"""The Prefect task every ordinary step runs as, and the visible marks for steps not run."""

from __future__ import annotations

import inspect
from typing import Any

import anyio
from prefect import Task, task
from prefect.cache_policies import NO_CACHE
from prefect.states import Completed, Failed, State
from pydantic import BaseModel

from flows.language.models import Step
from foundation.errors import retry_condition
from recovery_tasks.context import StepContext
from recovery_tasks.registry import StepType


async def run_step_type(step_type: StepType, params: BaseModel, ctx: StepContext) -> dict:
    """Call the implementation (a sync one in a worker thread) and check its result model."""
    if inspect.iscoroutinefunction(step_type.run):
        result = await step_type.run(params, ctx)
    else:
        result = await anyio.to_thread.run_sync(step_type.run, params, ctx)
    if not isinstance(result, step_type.result):
        result = step_type.result.model_validate(result)
    return result.model_dump(mode="json")


@task(cache_policy=NO_CACHE, persist_result=False, retry_condition_fn=retry_condition)
async def run_step(step_type: StepType, params: BaseModel, ctx: StepContext) -> dict:
    """Run one runbook step (renamed per step: the task run carries the step id)."""
    return await run_step_type(step_type, params, ctx)


def step_task(step: Step, step_type: StepType) -> Task[..., Any]:
    """The step's task: named by its type, its run named by its id, with its retry policy."""
    return run_step.with_options(
        name=step_type.name,
        task_run_name=step.id,
        retries=step.retries,
        retry_delay_seconds=step.retry_delay.total_seconds() if step.retry_delay else 0,
        timeout_seconds=step.timeout.total_seconds() if step.timeout else None,
    )


@task(cache_policy=NO_CACHE, persist_result=False)
async def mark_step(kind: str, message: str) -> State:
    """A visible task run for a step that did not run: skipped, or its upstream failed."""
    if kind == "skipped":
        return Completed(name="Skipped", message=message)
    return Failed(name="UpstreamFailed", message=message)


def mark_task(step: Step) -> Task[..., Any]:
    """The marker task for this step, its run named by the step id."""
    return mark_step.with_options(task_run_name=step.id)
