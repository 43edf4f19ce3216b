"""The generated prefect.yaml is current and deploys every runbook with its triggers."""

from __future__ import annotations

import yaml

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
    assert len(by_name) == 6
    assert by_name["sla-watch"]["schedules"] == [{"interval": 60}]
