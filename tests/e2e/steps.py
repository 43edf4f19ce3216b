"""Step types for the served end-to-end tests (a plugin: `RUNBOOK_STEP_MODULES`).

`e2e.publish` appends one line per execution, so a test counts publications, not files;
`e2e.slow` writes a line when it starts, then sleeps, so a test can kill a run mid-step.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from recovery_tasks.context import StepContext
from recovery_tasks.registry import step_type


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PublishParams(_Params):
    target: str


class PublishResult(BaseModel):
    line: str


@step_type("e2e.publish", params=PublishParams, result=PublishResult, role="publish")
def publish(params: PublishParams, ctx: StepContext) -> PublishResult:
    """Append `<flow run id> <epoch seconds>` to `target`: one line per publication."""
    line = f"{ctx.flow_run_id} {time.time():.3f}"
    with Path(params.target).open("a", encoding="utf-8") as out:
        out.write(line + "\n")
    return PublishResult(line=line)


class SlowParams(_Params):
    seconds: float
    log: str


class SlowResult(BaseModel):
    slept: float


@step_type("e2e.slow", params=SlowParams, result=SlowResult)
async def slow(params: SlowParams, ctx: StepContext) -> SlowResult:
    """Append `<flow run id> <step id>` to `log`, then sleep `seconds`."""
    with Path(params.log).open("a", encoding="utf-8") as out:
        out.write(f"{ctx.flow_run_id} {ctx.step_id}\n")
    await asyncio.sleep(params.seconds)
    return SlowResult(slept=params.seconds)
