"""Compiled runbooks run on a real Prefect server: order, concurrency, skips, failures, gates."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

from flows.language.catalog import PipelineCatalog
from flows.language.validator import validate_text
from flows.runtime.compiler import compile_runbook
from governance.ledger.audit_ledger import Ledger

pytestmark = pytest.mark.prefect


def run(text: str, catalog: PipelineCatalog, **kwargs: Any) -> Any:
    """Validate, compile and run a runbook; return the flow's final state."""
    compiled = compile_runbook(validate_text(text, "inline.yaml", catalog))
    return asyncio.run(compiled.flow(return_state=True, **kwargs))


def task_runs(flow_run_id: Any, expect: int) -> dict[str, Any]:
    """Task runs of a flow run by name, as the Prefect UI shows them.

    The server records task runs from events a moment after they happen, so this waits
    (up to 15 s) until `expect` of them have arrived in their final states.
    """

    async def read() -> dict[str, Any]:
        async with get_client() as client:
            for _ in range(150):
                runs = await client.read_task_runs(
                    flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
                )
                if len(runs) >= expect and all(r.state and r.state.is_final() for r in runs):
                    break
                await asyncio.sleep(0.1)
        return {r.name: r for r in runs}

    return asyncio.run(read())


def test_steps_run_in_dependency_order_with_results_flowing_into_templates(
    prefect_server: None, catalog: PipelineCatalog, tmp_path: Path
) -> None:
    log = tmp_path / "order.log"
    state = run(
        f"""
runbook: ordered
pipeline: unit_profit_experiments
params:
  partition: {{type: string, from: "{{{{ event.payload.partition }}}}"}}
  bonus: {{type: integer, default: 4}}
steps:
  - id: last
    uses: test.echo
    needs: [total]
    with: {{value: "{{{{ steps.total.outputs.total * 10 }}}}", log: "{log}"}}
  - id: first
    uses: test.echo
    with: {{value: "part-{{{{ params.partition }}}}", log: "{log}"}}
  - id: total
    uses: test.add
    needs: [first]
    with: {{a: "{{{{ params.bonus }}}}", b: 3}}
""",
        catalog,
        event={"payload": {"partition": "2026-10"}},
    )
    assert state.is_completed() and state.message == "recovered"
    result = state.result()
    assert log.read_text().split() == ["first", "last"]
    assert result["params"] == {"partition": "2026-10", "bonus": 4}
    assert result["steps"]["first"]["outputs"]["value"] == "part-2026-10"
    assert result["steps"]["last"]["outputs"]["value"] == 70  # a lone {{ }} keeps its type
    assert set(task_runs(state.state_details.flow_run_id, 3)) == {"first", "total", "last"}


def test_independent_steps_run_concurrently(prefect_server: None, catalog: PipelineCatalog) -> None:
    steps = "\n".join(
        f"  - id: s{i}\n    uses: test.sleep\n    with: {{seconds: 1}}" for i in range(3)
    )
    state = run(f"runbook: wide\npipeline: unit_profit_experiments\nsteps:\n{steps}\n", catalog)
    outputs = [s["outputs"] for s in state.result()["steps"].values()]
    latest_start = max(o["started"] for o in outputs)
    earliest_end = min(o["ended"] for o in outputs)
    assert latest_start < earliest_end  # all three were sleeping at the same time


def test_false_when_skips_visibly_and_the_skip_propagates(
    prefect_server: None, catalog: PipelineCatalog
) -> None:
    state = run(
        """
runbook: skipping
pipeline: unit_profit_experiments
steps:
  - id: count
    uses: test.add
    with: {a: 1}
  - id: backfill
    uses: test.echo
    needs: [count]
    when: steps.count.outputs.total > 5
  - id: after_backfill
    uses: test.echo
    needs: [backfill]
  - id: report
    uses: test.echo
    needs: [count]
    when: "{{ steps.count.outputs.total == 1 }}"
""",
        catalog,
    )
    assert state.is_completed()
    steps = state.result()["steps"]
    assert steps["backfill"]["state"] == "skipped"
    assert steps["after_backfill"]["state"] == "skipped"
    assert steps["report"]["state"] == "completed"
    runs = task_runs(state.state_details.flow_run_id, 4)
    assert runs["backfill"].state.name == "Skipped"
    assert runs["after_backfill"].state.name == "Skipped"


def test_retries_then_success(
    prefect_server: None, catalog: PipelineCatalog, tmp_path: Path
) -> None:
    counter = tmp_path / "attempts"
    state = run(
        f"""
runbook: flaky
pipeline: unit_profit_experiments
steps:
  - id: flaky
    uses: test.fail
    retries: 2
    retry_delay: 0s
    with: {{times: 2, counter: "{counter}"}}
""",
        catalog,
    )
    assert state.is_completed()
    assert state.result()["steps"]["flaky"]["outputs"] == {"attempts": 3}


def test_terminal_errors_are_not_retried(
    prefect_server: None, catalog: PipelineCatalog, tmp_path: Path
) -> None:
    counter = tmp_path / "attempts"
    state = run(
        f"""
runbook: terminal
pipeline: unit_profit_experiments
steps:
  - id: refuse
    uses: test.fail
    retries: 3
    with: {{terminal: true, counter: "{counter}", message: "schema mismatch"}}
""",
        catalog,
    )
    assert state.is_failed()
    assert counter.read_text() == "1"


def test_failure_fails_dependents_runs_handlers_and_fails_the_flow(
    prefect_server: None, catalog: PipelineCatalog, tmp_path: Path
) -> None:
    log = tmp_path / "handlers.log"
    state = run(
        f"""
runbook: failing
pipeline: unit_profit_experiments
steps:
  - id: extract
    uses: test.fail
    with: {{message: "source unreachable"}}
  - id: optional
    uses: test.fail
    allow_failure: true
  - id: transform
    uses: test.echo
    needs: [extract]
  - id: tolerant
    uses: test.echo
    needs: [optional]
    with: {{value: "{{{{ steps.optional.state }}}}"}}
on_failure:
  - id: tell_on_call
    uses: test.echo
    with: {{value: "{{{{ steps.extract.message }}}}", log: "{log}"}}
""",
        catalog,
    )
    assert state.is_failed()
    assert "extract" in state.message and "optional" not in state.message
    runs = task_runs(state.state_details.flow_run_id, 5)
    assert runs["transform"].state.name == "UpstreamFailed"
    assert runs["tolerant"].state.is_completed()
    assert log.read_text().split() == ["tell_on_call"]


def test_timeout_fails_the_step(prefect_server: None, catalog: PipelineCatalog) -> None:
    state = run(
        """
runbook: slow
pipeline: unit_profit_experiments
steps:
  - id: slow
    uses: test.sleep
    timeout: 1s
    with: {seconds: 5}
""",
        catalog,
    )
    assert state.is_failed()
    runs = task_runs(state.state_details.flow_run_id, 1)
    assert runs["slow"].state.name == "TimedOut"


GATED = """
runbook: gated
pipeline: aggregate_profit
steps:
  - id: recover
    uses: test.echo
  - id: evidence
    uses: test.echo
  - id: approve
    uses: test.gate
    needs: [recover]
    with: {{decision: {decision}}}
  - id: publish
    uses: test.publish
    needs: [approve]
    with: {{target: "{target}"}}
"""


def test_gate_waits_for_every_step_before_it_and_publish_follows(
    prefect_server: None, catalog: PipelineCatalog, tmp_path: Path
) -> None:
    target = tmp_path / "published"
    state = run(GATED.format(decision="approve", target=target), catalog)
    assert state.is_completed()
    steps = state.result()["steps"]
    assert steps["approve"]["outputs"]["seen"] == ["evidence", "recover"]
    assert target.read_text() == "gated"


def test_rejected_gate_publishes_nothing(
    prefect_server: None, catalog: PipelineCatalog, tmp_path: Path
) -> None:
    target = tmp_path / "published"
    state = run(GATED.format(decision="reject", target=target), catalog)
    assert state.is_failed() and state.name == "Rejected"
    assert not target.exists()
    assert set(task_runs(state.state_details.flow_run_id, 2)) == {"recover", "evidence"}


def test_missing_event_value_without_default_fails_before_any_step(
    prefect_server: None, catalog: PipelineCatalog
) -> None:
    state = run(
        """
runbook: needs-partition
pipeline: unit_profit_experiments
params:
  partition: {from: "{{ event.payload.partition }}"}
steps:
  - id: scan
    uses: test.echo
""",
        catalog,
        event={"id": "evt-without-partition", "payload": {}},
    )
    assert state.is_failed()
    assert "partition" in state.message
    assert task_runs(state.state_details.flow_run_id, 0) == {}
    ledger = Ledger.from_settings()
    incident = ledger.incidents.find_by_event("evt-without-partition")
    assert incident is not None and incident.runbook == "needs-partition"
    assert ledger.incidents.current_state(incident.id) == "failed"


def test_a_none_failed_join_runs_after_a_skipped_branch_and_the_rest_follows(
    prefect_server: None, catalog: PipelineCatalog
) -> None:
    state = run(
        """
runbook: branching
pipeline: unit_profit_experiments
params:
  kind: {type: string, default: late_data}
steps:
  - id: diagnose
    uses: test.echo
    with: {value: "{{ params.kind }}"}
  - id: backfill
    uses: test.echo
    needs: [diagnose]
    when: steps.diagnose.outputs.value == 'late_data'
  - id: rebuild
    uses: test.echo
    needs: [diagnose]
    when: steps.diagnose.outputs.value == 'partition'
  - id: rerun
    uses: test.echo
    needs: [backfill, rebuild]
    trigger_rule: none_failed
  - id: report
    uses: test.echo
    needs: [rerun]
""",
        catalog,
    )
    assert state.is_completed()
    steps = state.result()["steps"]
    assert steps["rebuild"]["state"] == "skipped"
    assert steps["backfill"]["state"] == "completed"
    assert steps["rerun"]["state"] == "completed"
    assert steps["report"]["state"] == "completed"


def test_a_partition_of_the_wrong_grain_fails_the_run_before_any_step(
    prefect_server: None, tmp_path: Path
) -> None:
    from flows.language.catalog import PipelineInfo

    weekly = {"aggregate_growth": PipelineInfo("aggregate_growth", False, "week")}
    state = run(
        """
runbook: weekly
pipeline: aggregate_growth
params:
  partition: {from: "{{ event.payload.partition }}"}
steps:
  - id: rerun
    uses: transforms.rerun
    with: {partition: "{{ params.partition }}"}
""",
        weekly,
        event={"id": "evt-day-for-a-week", "payload": {"partition": "2026-10-14"}},
    )
    assert state.is_failed()
    assert "expected YYYY-Www, an ISO week, e.g. 2026-W43" in state.message
    assert task_runs(state.state_details.flow_run_id, 0) == {}


def test_the_story_of_a_failed_run_tells_skipped_and_blocked_steps_in_their_place(
    prefect_server: None, catalog: PipelineCatalog
) -> None:
    state = run(
        """
runbook: story-order
pipeline: unit_profit_experiments
steps:
  - id: first
    uses: test.sleep
    with: {seconds: 1}
  - id: broken
    uses: test.fail
    needs: [first]
    with: {terminal: true}
  - id: after_broken
    uses: test.echo
    needs: [broken]
  - id: never
    uses: test.echo
    needs: [first]
    when: steps.first.outputs.ended < 0
""",
        catalog,
        event={"id": "evt-story-order", "payload": {}},
    )
    assert state.is_failed()
    ledger = Ledger.from_settings()
    incident = ledger.incidents.find_by_event("evt-story-order")
    assert incident is not None
    story = [line.what for line in ledger.incident_story(incident.id)]
    steps = [what for what in story if what.startswith("step ")]
    assert steps.index("step first") < steps.index("step never")
    assert steps.index("step broken") < steps.index("step after_broken")
    assert story.index("step first") > story.index("opened")
