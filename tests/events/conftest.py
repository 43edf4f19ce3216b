"""Events fixtures: a test runbook of a real pipeline, and pipeline.failed events for it."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flows.events.emit import failure_event
from flows.language.catalog import PipelineCatalog
from flows.language.validator import validate_text
from flows.runtime.compiler import CompiledRunbook, compile_runbook
from flows.runtime.prefect_client import prefect_client_context

_DAYS = itertools.count()

RUNBOOK = """
runbook: {name}
pipeline: unit_profit_experiments
on:
  - event: pipeline.failed
    match: {{prefect.resource.id: pipeline.unit_profit_experiments}}
params:
  partition: {{type: string, from: "{{{{ event.payload.partition }}}}"}}
steps:
  - id: recovered
    uses: test.echo
    with: {{log: "{log}"}}
  - id: hold
    uses: test.sleep
    needs: [recovered]
    with: {{seconds: {seconds}}}
  - id: tell
    uses: notify.engineers
    needs: [hold]
    with: {{to: on_call, message: "recovered {{{{ params.partition }}}}"}}
"""


def fresh_day() -> str:
    """A past day partition no other test of the session uses (unit_profit_experiments is
    daily; the door refuses partitions in the future)."""
    start = datetime(2026, 1, 1) - timedelta(days=next(_DAYS) + uuid.uuid4().int % 1500)
    return f"{start:%Y-%m-%d}"


def events_runbook(
    catalog: PipelineCatalog, log: Path, seconds: float = 0, name: str | None = None
) -> CompiledRunbook:
    """A runbook of unit_profit_experiments: one step writing `log`, then a notification."""
    name = name or f"events-{uuid.uuid4().hex[:8]}"
    text = RUNBOOK.format(name=name, log=log, seconds=seconds)
    return compile_runbook(validate_text(text, f"{name}.yaml", catalog))


def event_param(key: str, kind: str = "etl_job_failure", **payload: Any) -> dict[str, Any]:
    """The `event` parameter a trigger would pass for a pipeline.failed event of partition `key`
    (`payload` replaces payload fields as a hostile sender would)."""
    event = failure_event("unit_profit_experiments", kind, key, "boom")
    body = event.model_dump(mode="json")
    body["payload"].update(payload)
    return {
        "id": body["id"],
        "event": body["event"],
        "occurred": body["occurred"],
        "resource": {
            "prefect.resource.id": body["resource"]["prefect.resource.id"],
            "pipeline.partition": body["resource"]["pipeline.partition"],
        },
        "payload": body["payload"],
    }


def run(compiled: CompiledRunbook, **kwargs: Any) -> Any:
    """Run the compiled runbook's flow to its final state.

    Within a Prefect client context of this thread (tests run flows from threads too): without
    one, each run leaves a socket to the server for the garbage collector.
    """
    with prefect_client_context():
        return asyncio.run(compiled.flow(return_state=True, **kwargs))
