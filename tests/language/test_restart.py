"""A flow run started again (after a suspension or a crash) does not redo what it finished.

Runners start a run again the same way: the same flow run, executed from the top of its flow.
Here the test does what a runner does, on the session's Prefect server, with the run's own
ledger: execute, reschedule the same flow run, execute again.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.flow_engine import run_flow
from prefect.states import Scheduled

from flows.events.emit import failure_event
from flows.language.catalog import PipelineCatalog
from flows.language.validator import validate_text
from flows.runtime.compiler import compile_runbook
from flows.runtime.run_services import open_command_services
from foundation.settings import temporary_settings

pytestmark = [pytest.mark.prefect]

EVENT = failure_event("unit_profit_experiments", "etl_job_failure", "2026-10-14").model_dump(
    mode="json"
)

RUNBOOK = """
runbook: restarted
pipeline: unit_profit_experiments
steps:
  - id: first
    uses: test.echo
    with: {{value: 1, log: "{log}"}}
  - id: skipped
    uses: test.echo
    needs: [first]
    when: "{{{{ false }}}}"
    with: {{value: 2, log: "{log}"}}
  - id: flaky
    uses: test.fail
    needs: [first]
    with: {{times: 1, counter: "{counter}"}}
  - id: last
    uses: test.echo
    needs: [flaky]
    with: {{value: 3, log: "{log}"}}
"""


def execute_again(flow: Any, flow_run_id: Any) -> Any:
    """Reschedule the same flow run and execute it from the top, as a runner would."""

    async def go() -> Any:
        async with get_client() as client:
            await client.set_flow_run_state(flow_run_id, Scheduled(), force=True)
            flow_run = await client.read_flow_run(flow_run_id)
        return await run_flow(flow, flow_run=flow_run, return_type="state")

    return asyncio.run(go())


def test_a_run_started_again_restores_finished_steps_and_runs_the_rest(
    prefect_server: None, catalog: PipelineCatalog, tmp_path: Path, audit_url: str
) -> None:
    log, counter = tmp_path / "ran.log", tmp_path / "attempts"
    text = RUNBOOK.format(log=log, counter=counter)
    with temporary_settings(audit_url=audit_url):
        compiled = compile_runbook(validate_text(text, "restarted.yaml", catalog))
        first = asyncio.run(compiled.flow(event=EVENT, return_state=True))
        assert first.is_failed()  # `flaky` fails its first attempt
        assert log.read_text().split() == ["first"]
        flow_run_id = first.state_details.flow_run_id

        again = execute_again(compiled.flow, flow_run_id)

        assert again.is_completed(), again.message
        assert log.read_text().split() == ["first", "last"]  # `first` did not run again
        assert counter.read_text() == "2"
        with open_command_services(audit_url=audit_url) as services:
            ledger = services.ledger
            incident = ledger.incidents.of_run(str(flow_run_id))
            assert incident is not None
            steps = [(s.step_id, s.state) for s in ledger.steps.of_incident(incident.id)]
            states = [e.state for e in ledger.incidents.events(incident.id)]
    assert steps == [
        ("first", "completed"),
        ("skipped", "skipped"),
        ("flaky", "failed"),
        ("last", "upstream_failed"),
        ("flaky", "completed"),
        ("last", "completed"),
    ]
    assert states.count("opened") == 1  # the same incident, not a second one
    assert states[-1] == "resolved"
