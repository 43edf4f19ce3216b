"""The runbook document as pydantic models: strict (`extra="forbid"`) at every level.

`with:` is kept as a mapping here and checked against the step type's own params model in
the validator, because which model applies depends on `uses:`.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from foundation.durations import Duration

IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]*$"
SLUG = r"^[a-z0-9][a-z0-9-]*$"
ParamType = Literal["string", "integer", "number", "boolean", "object", "array"]
TriggerRule = Literal["all_success", "none_failed"]


class Strict(BaseModel):
    """Base for every runbook model: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class Trigger(Strict):
    """An event that starts the runbook (compiled to a Prefect deployment trigger)."""

    event: str = Field(description="Event name, e.g. prefect.flow-run.Failed or pipeline.failed")
    match: dict[str, str | list[str]] = Field(
        default_factory=dict, description="Labels the event's resource must have"
    )
    match_related: dict[str, str | list[str]] = Field(
        default_factory=dict, description="Labels one of the event's related resources must have"
    )


class Param(Strict):
    """A runbook parameter: its type and where its value comes from (a template)."""

    type: ParamType = Field(default="string", description="JSON type the value is checked as")
    from_: str | None = Field(
        default=None,
        alias="from",
        description="Template giving the value from the event, e.g. {{ event.payload.partition }}",
    )
    default: Any = Field(default=None, description="Value when the event gives none")
    description: str = Field(default="", description="What the param means (for readers)")


class Step(Strict):
    """One node of the step graph."""

    id: str = Field(description="Unique id (letters, digits, _); templates read steps.<id>")
    uses: str = Field(description="Step type, e.g. checks.source_counts")
    name: str | None = Field(default=None, description="Display name (defaults to the id)")
    needs: list[str] = Field(default_factory=list, description="Ids of upstream steps")
    with_: dict[str, Any] = Field(
        default_factory=dict,
        alias="with",
        description=(
            "Params of the step type (`runbook steps TYPE` lists them); values may be templates"
        ),
    )
    when: str | None = Field(
        default=None,
        description="Condition evaluated just before the step would start; false skips the step",
    )
    trigger_rule: TriggerRule = Field(
        default="all_success",
        description=(
            "When the step runs given its needs (as Airflow's trigger rules): all_success "
            "(default; a skipped need skips it too) or none_failed (runs unless a need failed, "
            "even if some were skipped: the join after a `when:` branch)"
        ),
    )
    retries: int = Field(default=0, ge=0, le=20, description="Attempts after a failure (0-20)")
    retry_delay: Duration | None = Field(
        default=None, description="Wait between attempts, e.g. 30s, 5m"
    )
    timeout: Duration | None = Field(
        default=None, description="Longest one attempt may take, e.g. 30m, 2h (no limit if unset)"
    )
    allow_failure: bool = Field(
        default=False, description="A failure does not fail dependents or the runbook"
    )

    @field_validator("timeout")
    @classmethod
    def _timeout_is_positive(cls, value: Any) -> Any:
        """A zero timeout fails every attempt at once: certainly a mistake."""
        if value is not None and value.total_seconds() <= 0:
            raise ValueError(
                "timeout must be longer than 0s: a step with no time to run always fails; "
                "write e.g. 30m, or remove `timeout` for no limit"
            )
        return value

    @field_validator("id")
    @classmethod
    def _id_is_identifier(cls, value: str) -> str:
        """Ids are read in templates as `steps.<id>`, so they must be identifiers."""
        if not re.match(IDENTIFIER, value):
            suggestion = re.sub(r"\W", "_", value)
            raise ValueError(
                f"step id {value!r} must use only letters, digits and _ (templates "
                f"read it as steps.<id>); try {suggestion!r}"
            )
        return value

    @field_validator("needs", mode="before")
    @classmethod
    def _one_need_as_list(cls, value: Any) -> Any:
        """`needs: scan` is shorthand for `needs: [scan]`."""
        return [value] if isinstance(value, str) else value


class Runbook(Strict):
    """A runbook: which pipeline it recovers, what starts it, its params and its steps."""

    runbook: str = Field(description="Name (lowercase, digits, -); the flow is named after it")
    pipeline: str = Field(description="Pipeline it recovers (must be in governance.yaml)")
    description: str = Field(default="", description="What it recovers and how (for readers)")
    on: list[Trigger] = Field(default_factory=list, description="Events that start it")
    params: dict[str, Param] = Field(
        default_factory=dict, description="Typed values resolved when the run starts"
    )
    steps: list[Step] = Field(min_length=1, description="The step graph")
    on_failure: list[Step] = Field(
        default_factory=list, description="Steps run when the runbook fails (e.g. notify)"
    )

    @field_validator("runbook")
    @classmethod
    def _name_is_slug(cls, value: str) -> str:
        """Names become flow and deployment names and file names: keep them plain."""
        if not re.match(SLUG, value):
            suggestion = re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")
            raise ValueError(
                f"runbook name {value!r} must use only lowercase letters, digits "
                f"and -; try {suggestion!r}"
            )
        return value
