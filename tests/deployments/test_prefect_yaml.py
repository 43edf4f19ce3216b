"""The generated prefect.yaml is current and is the application's one list of deployments."""

from __future__ import annotations

import yaml
from prefect.cli.deploy._models import PrefectYamlModel
from prefect.events.schemas.deployment_triggers import DeploymentEventTrigger

from deployments.application import RecoveryApplication
from deployments.prefect_yaml import PREFECT_YAML, WORK_POOL, render_prefect_yaml

EVERY_DEPLOYMENT = {
    "aggregate-engagement",
    "aggregate-growth",
    "aggregate-profit",
    "daily-growth-experiments",
    "unit-profit-experiments",
    "pipeline-failed-intake",
    "pipeline-crash-report",
    "sla-watch",
    "invariant-sweep",
    "incident-sync",
    "escalate",
    "weekly",
}


def deployments_in_file() -> dict[str, dict]:
    return {d["name"]: d for d in yaml.safe_load(PREFECT_YAML.read_text())["deployments"]}


def test_committed_prefect_yaml_is_up_to_date() -> None:
    assert PREFECT_YAML.read_text() == render_prefect_yaml(RecoveryApplication.load()), (
        "prefect.yaml is stale: run `runbook deployments --write` and commit it"
    )


def test_the_file_holds_every_deployment_serve_runs_operations_included() -> None:
    assert set(deployments_in_file()) == EVERY_DEPLOYMENT
    served = {p.name for p in RecoveryApplication.load().deployments()}
    assert served == EVERY_DEPLOYMENT


def test_each_deployment_of_the_file_is_what_serve_registers() -> None:
    """Field by field: entrypoint, tags, parameters, schedules, triggers and concurrency of each
    RunnerDeployment `serve` hands its runner, against the file's entry of the same name."""
    in_file = deployments_in_file()
    for plan in RecoveryApplication.load().deployments():
        served = plan.runner_deployment()
        entry = in_file[plan.name]
        module, attribute = served.entrypoint.rsplit(".", 1)
        assert entry["entrypoint"] == f"{module.replace('.', '/')}.py:{attribute}", plan.name
        assert entry["tags"] == served.tags, plan.name
        assert entry.get("parameters", {}) == served.parameters, plan.name
        assert entry["description"] == served.description, plan.name
        file_triggers = [
            DeploymentEventTrigger.model_validate(t).model_dump() for t in entry.get("triggers", [])
        ]
        assert file_triggers == [t.model_dump() for t in served.triggers], plan.name
        file_schedules = [_schedule_fields(s) for s in entry.get("schedules", [])]
        assert file_schedules == [_served_schedule(s.schedule) for s in served.schedules]
        options = served.concurrency_options
        expected = (
            {"limit": served.concurrency_limit, "collision_strategy": options.collision_strategy}
            if served.concurrency_limit is not None and options is not None
            else None
        )
        assert entry.get("concurrency_limit") == expected, plan.name
        assert entry["work_pool"]["name"] == WORK_POOL


def _schedule_fields(fields: dict) -> dict:
    if "interval" in fields:
        return {"interval": float(fields["interval"])}
    return {"cron": fields["cron"], "timezone": fields.get("timezone")}


def _served_schedule(schedule) -> dict:  # type: ignore[no-untyped-def]
    if hasattr(schedule, "interval"):
        return {"interval": schedule.interval.total_seconds()}
    return {"cron": schedule.cron, "timezone": schedule.timezone}


def test_runs_on_a_worker_send_the_heartbeats_the_crash_watch_expects() -> None:
    app = RecoveryApplication.load()
    for entry in deployments_in_file().values():
        env = entry["work_pool"]["job_variables"]["env"]
        assert env["PREFECT_FLOWS_HEARTBEAT_FREQUENCY"] == str(
            app.settings.operations.heartbeat_seconds
        )
    watch, pipeline_watch, pending = app.automations()
    assert (watch.name, pipeline_watch.name) == ("runbook-crash-watch", "pipeline-crash-watch")
    silence = app.settings.operations.crash_silence_seconds
    for crash in (watch, pipeline_watch):
        assert crash.trigger.within.total_seconds() == silence  # type: ignore[union-attr]
    waited = app.settings.operations.pending_silence_seconds
    assert pending.trigger.within.total_seconds() == waited  # type: ignore[union-attr]
    assert pending.actions[0].state == "SCHEDULED"  # type: ignore[union-attr]
    # a process worker takes a run as Pending named "Submitting": both are watched
    taken = {"prefect.flow-run.Pending", "prefect.flow-run.Submitting"}
    assert pending.trigger.after == taken  # type: ignore[union-attr]
    assert not taken & pending.trigger.expect  # type: ignore[union-attr]


def test_each_runbook_is_a_deployment_triggered_by_its_pipelines_failure_event() -> None:
    by_name = deployments_in_file()
    profit = by_name["aggregate-profit"]
    assert profit["entrypoint"] == "deployments/entrypoints.py:aggregate_profit"
    trigger = profit["triggers"][0]
    assert trigger["expect"] == ["pipeline.failed"]
    assert trigger["match"] == {"prefect.resource.id": "pipeline.aggregate_profit"}
    assert trigger["parameters"]["event"]["id"] == "{{ event.id | string }}"
    assert "truncate(200000" in trigger["parameters"]["event"]["payload_json"]
    assert by_name["sla-watch"]["schedules"] == [{"interval": 60}]
    assert by_name["invariant-sweep"]["schedules"] == [{"interval": 300}]
    assert by_name["weekly"]["schedules"] == [{"cron": "0 9 * * 1", "timezone": "Europe/London"}]
    assert by_name["incident-sync"]["triggers"][0]["expect"] == ["prefect.flow-run.*"]
    assert (
        by_name["escalate"]["entrypoint"] == "flows/operations/escalation_flow.py:escalate_approval"
    )


def test_failure_events_are_left_to_the_event_door_and_a_burst_waits_in_a_queue() -> None:
    for deployment in deployments_in_file().values():
        if "runbook" not in deployment["tags"] or "triggers" not in deployment:
            continue
        assert deployment["concurrency_limit"] == {"limit": 4, "collision_strategy": "ENQUEUE"}
        for trigger in deployment["triggers"]:
            checked = DeploymentEventTrigger.model_validate(trigger)
            assert checked.enabled is False  # `runbook door` decides pipeline.failed events
            assert checked.posture == "Reactive" and checked.threshold == 1
            assert checked.within.total_seconds() == 60
            labels = {"prefect.resource.id", "pipeline.partition"}
            if deployment["name"] == "pipeline-failed-intake":
                labels = {"prefect.resource.id"}  # unknown pipelines: once per pipeline
            assert checked.for_each == labels


def test_the_intake_takes_every_failure_event_without_its_payload() -> None:
    intake = deployments_in_file()["pipeline-failed-intake"]
    assert intake["entrypoint"] == "flows/operations/intake.py:pipeline_failed_intake"
    assert intake["parameters"]["claimed"] == [
        "pipeline.aggregate_engagement",
        "pipeline.aggregate_growth",
        "pipeline.aggregate_profit",
        "pipeline.daily_growth_experiments",
        "pipeline.unit_profit_experiments",
    ]
    trigger = intake["triggers"][0]
    assert "match" not in trigger and trigger["expect"] == ["pipeline.failed"]
    assert "payload" not in trigger["parameters"]["event"]


def test_prefect_accepts_the_file() -> None:
    PrefectYamlModel.model_validate(yaml.safe_load(PREFECT_YAML.read_text()))
