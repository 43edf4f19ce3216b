"""The generated prefect.yaml is current and deploys every runbook with its triggers."""

from __future__ import annotations

import yaml
from prefect.cli.deploy._models import PrefectYamlModel
from prefect.events.schemas.deployment_triggers import DeploymentEventTrigger

from deployments.prefect_yaml import PREFECT_YAML, render_prefect_yaml
from flows.runbook_library import validate_files


def test_committed_prefect_yaml_is_up_to_date() -> None:
    runbooks = [r.runbook for r in validate_files() if r.runbook]
    assert PREFECT_YAML.read_text() == render_prefect_yaml(runbooks), (
        "prefect.yaml is stale: run `runbook deployments --write` and commit it"
    )


def test_each_runbook_is_a_deployment_triggered_by_its_pipelines_failure_event() -> None:
    document = yaml.safe_load(PREFECT_YAML.read_text())
    by_name = {d["name"]: d for d in document["deployments"]}
    profit = by_name["aggregate-profit"]
    assert profit["entrypoint"] == "deployments/entrypoints.py:aggregate_profit"
    trigger = profit["triggers"][0]
    assert trigger["expect"] == ["pipeline.failed"]
    assert trigger["match"] == {"prefect.resource.id": "pipeline.aggregate_profit"}
    assert trigger["parameters"]["event"]["id"] == "{{ event.id | string }}"
    assert "truncate(200000" in trigger["parameters"]["event"]["payload_json"]
    assert len(by_name) == 8
    assert by_name["sla-watch"]["schedules"] == [{"interval": 60}]
    assert by_name["invariant-sweep"]["schedules"] == [{"interval": 300}]


def test_a_flood_of_one_partition_starts_one_run_and_a_burst_waits_in_a_queue() -> None:
    document = yaml.safe_load(PREFECT_YAML.read_text())
    for deployment in document["deployments"]:
        if "runbook" not in deployment["tags"]:
            continue
        assert deployment["concurrency_limit"] == {"limit": 4, "collision_strategy": "ENQUEUE"}
        for trigger in deployment["triggers"]:
            checked = DeploymentEventTrigger.model_validate(trigger)
            assert checked.posture == "Reactive" and checked.threshold == 1
            assert checked.within.total_seconds() == 60
            labels = {"prefect.resource.id", "pipeline.partition"}
            if deployment["name"] == "pipeline-failed-intake":
                labels = {"prefect.resource.id"}  # unknown pipelines: once per pipeline
            assert checked.for_each == labels


def test_the_intake_takes_every_failure_event_without_its_payload() -> None:
    document = yaml.safe_load(PREFECT_YAML.read_text())
    intake = {d["name"]: d for d in document["deployments"]}["pipeline-failed-intake"]
    assert intake["entrypoint"] == "flows/events/intake.py:pipeline_failed_intake"
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
