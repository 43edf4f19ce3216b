"""The JSON Schema of the runbook language, for editors (yaml-language-server) and reviewers.

Generated from the pydantic models, descriptions included (editors show them on hover); each
built-in step type adds a rule that checks `with:` against its own params model when `uses:`
names it, and describes its params and outputs. Template strings are accepted wherever a
value is expected, since they are rendered at run time.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flows.language.models import Runbook
from recovery_tasks.registry import StepType, all_step_types

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schemas" / "runbook.schema.json"
SCHEMA_ID = "https://pipeline-recovery.local/schemas/runbook.schema.json"
TEMPLATE = {"type": "string", "pattern": r"\{\{|\{%", "description": "Jinja template"}


def runbook_json_schema() -> dict[str, Any]:
    """The schema of a runbook file, with per-step-type `with:` rules."""
    schema = Runbook.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA_ID
    schema["title"] = "Runbook"
    step_types = [t for t in all_step_types().values() if t.builtin]
    step = schema["$defs"]["Step"]
    step["properties"]["uses"]["enum"] = [t.name for t in step_types]
    step["properties"]["uses"]["enumDescriptions"] = [t.summary for t in step_types]
    step["allOf"] = [_with_rule(t, schema["$defs"]) for t in step_types]
    return schema


def _with_rule(step_type: StepType, root_defs: dict[str, Any]) -> dict[str, Any]:
    params = step_type.params.model_json_schema(by_alias=True)
    root_defs.update(params.pop("$defs", {}))  # nested models' $refs resolve from the root
    for prop in params.get("properties", {}).values():
        original = dict(prop)
        prop.clear()
        prop["anyOf"] = [original, TEMPLATE]
        if "description" in original:  # on the property itself, where editors look
            prop["description"] = original["description"]
    outputs = ", ".join(step_type.result.model_fields) or "none"
    params["description"] = (
        f"Params of {step_type.name}: {step_type.summary} "
        f"Outputs (steps.<id>.outputs.<name>): {outputs}."
    ).replace("  ", " ")
    rule: dict[str, Any] = {
        "if": {"properties": {"uses": {"const": step_type.name}}, "required": ["uses"]},
        "then": {"properties": {"with": params}},
    }
    if step_type.summary:
        rule["then"]["description"] = step_type.summary
    return rule


def render_schema() -> str:
    """The schema as committed: sorted keys, two-space indent, trailing newline."""
    return json.dumps(runbook_json_schema(), indent=2, sort_keys=True) + "\n"


def write_schema(path: Path = SCHEMA_PATH) -> Path:
    """Regenerate the committed schema file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_schema(), encoding="utf-8")
    return path
