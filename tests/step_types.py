"""Step types that exist for the test suite, registered through the production registry."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from recovery_tasks.context import StepContext
from recovery_tasks.errors import GateClosed, TerminalStepError
from recovery_tasks.registry import step_type


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EchoParams(Params):
    value: Any = None
    log: str | None = None


class EchoResult(BaseModel):
    value: Any = None
    upstream: list[str] = []


@step_type("test.echo", params=EchoParams, result=EchoResult)
def echo(params: EchoParams, ctx: StepContext) -> EchoResult:
    """Return `value`; append `step_id` to the file `log` to record execution order."""
    if params.log:
        with Path(params.log).open("a") as fh:
            fh.write(f"{ctx.step_id}\n")
    return EchoResult(value=params.value, upstream=sorted(ctx.steps))


class AddParams(Params):
    a: int
    b: int = 0


class AddResult(BaseModel):
    total: int


@step_type("test.add", params=AddParams, result=AddResult)
async def add(params: AddParams, ctx: StepContext) -> AddResult:
    """Add two integers (an async implementation)."""
    return AddResult(total=params.a + params.b)


class SleepParams(Params):
    seconds: float
    log: str | None = None


class SleepResult(BaseModel):
    started: float
    ended: float


@step_type("test.sleep", params=SleepParams, result=SleepResult)
async def sleep(params: SleepParams, ctx: StepContext) -> SleepResult:
    """Sleep, recording start and end times (for concurrency and timeout tests)."""
    started = time.monotonic()
    await asyncio.sleep(params.seconds)
    return SleepResult(started=started, ended=time.monotonic())


class FailParams(Params):
    message: str = "boom"
    times: int = 1_000_000
    counter: str | None = None
    terminal: bool = False


class FailResult(BaseModel):
    attempts: int


@step_type("test.fail", params=FailParams, result=FailResult)
def fail(params: FailParams, ctx: StepContext) -> FailResult:
    """Fail the first `times` attempts (counted in the file `counter`), then succeed."""
    attempts = 1
    if params.counter:
        path = Path(params.counter)
        attempts = int(path.read_text()) + 1 if path.exists() else 1
        path.write_text(str(attempts))
    if attempts <= params.times:
        if params.terminal:
            raise TerminalStepError(params.message)
        raise RuntimeError(params.message)
    return FailResult(attempts=attempts)


class GateParams(Params):
    decision: str = "approve"


class GateResult(BaseModel):
    decision: str
    seen: list[str]


@step_type("test.gate", params=GateParams, result=GateResult, role="approval")
def gate(params: GateParams, ctx: StepContext) -> GateResult:
    """A gate decided by its params: shows the compiler's wave handling without pausing."""
    if params.decision != "approve":
        raise GateClosed(f"gate {ctx.step_id} rejected", {"decision": params.decision})
    return GateResult(decision="approve", seen=sorted(ctx.steps))


class PublishParams(Params):
    target: str
    pipeline: str | None = None  # another pipeline than the runbook's, as a real publication
    partition: str | None = None  # that pipeline's partition (its lock is held while it runs)


class PublishResult(BaseModel):
    published: str


@step_type("test.publish", params=PublishParams, result=PublishResult, role="publish")
def publish(params: PublishParams, ctx: StepContext) -> PublishResult:
    """Write a marker file standing for a publication."""
    Path(params.target).write_text(ctx.runbook)
    return PublishResult(published=params.target)
