"""The committed JSON Schema is current, and checks what editors should flag."""

from __future__ import annotations

import json

from flows.language.schema import SCHEMA_PATH, render_schema


def test_committed_schema_is_up_to_date() -> None:
    assert SCHEMA_PATH.read_text(encoding="utf-8") == render_schema(), (
        "schemas/runbook.schema.json is stale: run `runbook schema --write` and commit it"
    )


def test_schema_forbids_unknown_fields_and_names_every_builtin_step_type() -> None:
    schema = json.loads(render_schema())
    step = schema["$defs"]["Step"]
    assert schema["additionalProperties"] is False
    assert step["additionalProperties"] is False
    assert "with" in step["properties"] and "needs" in step["properties"]
    uses = step["properties"]["uses"]["enum"]
    assert not [name for name in uses if name.startswith("test.")]
    assert {rule["if"]["properties"]["uses"]["const"] for rule in step["allOf"]} == set(uses)


def test_every_field_an_author_writes_has_a_description_for_editors() -> None:
    schema = json.loads(render_schema())
    for name in ("Step", "Param", "Trigger"):
        properties = schema["$defs"][name]["properties"]
        assert [p for p, s in properties.items() if not s.get("description")] == [], name
    assert [p for p, s in schema["properties"].items() if not s.get("description")] == []


def test_each_step_types_with_describes_its_params_and_outputs() -> None:
    schema = json.loads(render_schema())
    rules = {r["if"]["properties"]["uses"]["const"]: r for r in schema["$defs"]["Step"]["allOf"]}
    described = rules["reports.build"]["then"]["properties"]["with"]["description"]
    assert described.startswith("Params of reports.build: Write the report CSV")
    assert "Outputs (steps.<id>.outputs.<name>): pipeline, partition, csv_path" in described
    partition = rules["reports.build"]["then"]["properties"]["with"]["properties"]["partition"]
    assert partition["description"].startswith("Partition key")
