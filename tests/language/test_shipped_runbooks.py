"""The runbooks the project ships are valid, match the schema, and obey the policy."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from flows.language.catalog import load_catalog
from flows.language.errors import RunbookValidationError
from flows.language.library import load_runbook, validate_files
from flows.language.schema import SCHEMA_PATH
from flows.language.validator import validate_text
from foundation.yaml_source import load_yaml

RUNBOOKS = sorted((Path(__file__).parents[2] / "runbooks").glob("*.yaml"))


def test_every_pipeline_in_governance_has_exactly_one_valid_runbook() -> None:
    reports = validate_files(RUNBOOKS)
    assert [r.problems for r in reports if r.problems] == []
    covered = sorted(r.runbook.spec.pipeline for r in reports if r.runbook)
    assert covered == sorted(load_catalog())


@pytest.mark.parametrize("path", RUNBOOKS, ids=lambda p: p.stem)
def test_runbook_matches_the_committed_json_schema(path: Path) -> None:
    schema = json.loads(SCHEMA_PATH.read_text())
    first_line = path.read_text().splitlines()[0]
    assert first_line == "# yaml-language-server: $schema=../schemas/runbook.schema.json"
    # YAML 1.2 as editors read it: `on:` is a key, not YAML 1.1's boolean True
    jsonschema.validate(load_yaml(path.read_text(), path.name).data, schema)


def test_schema_catches_a_wrong_with_parameter_for_editors() -> None:
    schema = json.loads(SCHEMA_PATH.read_text())
    document = load_yaml(RUNBOOKS[0].read_text(), RUNBOOKS[0].name).data
    document["steps"][1]["with"] = {"partishun": "2026-10"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, schema)


@pytest.mark.parametrize("name", ["aggregate-profit", "aggregate-growth", "aggregate-engagement"])
def test_investor_runbooks_publish_only_behind_an_approval_gate(name: str) -> None:
    runbook = load_runbook(name)
    publish = [s.id for s in runbook.spec.steps if runbook.types[s.id].role == "publish"]
    gates = {s.id for s in runbook.spec.steps if runbook.types[s.id].role == "approval"}
    assert publish and gates
    for step in publish:
        assert runbook.graph.ancestors_of(step) & gates


def test_approval_steps_may_name_only_engineers_from_governance(tmp_path: Path) -> None:
    text = (
        RUNBOOKS[2]
        .read_text()
        .replace("      poll_interval: 1\n", "      poll_interval: 1\n      approvers: [A, Bob]\n")
    )
    assert "approvers: [A, Bob]" in text
    with pytest.raises(RunbookValidationError) as raised:
        validate_text(text, "aggregate-profit.yaml", load_catalog())
    (problem,) = raised.value.problems
    assert problem.render().splitlines()[0] == (
        "aggregate-profit.yaml:87:22: steps[11].with.approvers[1]: unknown engineer 'Bob'; "
        "engineers in governance.yaml: A, B, C, D"
    )
