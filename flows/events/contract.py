"""The `pipeline.failed` event contract, checked at the door of every recovery.

An event is input from outside (a pipeline flow, an external job, `runbook emit`, anyone who
can reach the API), so a recovery checks it before it touches anything: the kind is one of
the seven failure kinds or `unclassified` (a run failed and no classifier knew why), the
partition is a key of the pipeline's grain in ASCII digits with a sane year, the pipeline
is known to governance and is the runbook's, sizes are bounded and the failed flow run id is
a UUID. A bad event cannot become valid by waiting, so the refusal
is terminal (`InvalidEventError`), never retried.

The partition also travels as the resource label `pipeline.partition`, because Prefect's
triggers de-duplicate per resource label (`for_each`), not per payload field.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from foundation.errors import RecoveryError, TerminalError
from foundation.visible import invisible_chars
from warehouse.calendar import FiscalCalendar, PartitionError, parse_partition
from warehouse.failures import FailureKind
from warehouse.pipelines import registry as pipeline_registry

EVENT_NAME = "pipeline.failed"
RESOURCE_PREFIX = "pipeline."
PARTITION_LABEL = "pipeline.partition"
DETAIL_LIMIT = 8_000  # characters the emitters keep; the rest is cut with a note
DETAIL_MAX = 16_000  # what the door accepts from an emitter that did not cut
PARTITION_MAX = 32
NAME_MAX = 200
PAYLOAD_JSON = "payload_json"  # how triggers pass the payload: its JSON text, cut at PAYLOAD_CUT
PAYLOAD_CUT = 200_000  # characters: with escaping, the run's parameters stay under 512 KB
FUTURE_GRACE = timedelta(days=1)  # a partition may start this long after today (clock skew)

Bounded = Annotated[str, StringConstraints(max_length=NAME_MAX)]


class InvalidEventError(RecoveryError, TerminalError):
    """A failure event that breaks the contract; `reasons` says what, one line each."""

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__("invalid pipeline.failed event: " + "; ".join(reasons))


class FailurePayload(BaseModel):
    """The payload of `pipeline.failed`: what broke, where, and which run said so."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: FailureKind
    partition: Annotated[str, StringConstraints(min_length=1, max_length=PARTITION_MAX)]
    pipeline: Bounded | None = None
    detail: str | None = Field(default=None, max_length=DETAIL_MAX)
    flow_run_id: UUID | None = None


class FailureEvent(BaseModel):
    """A `pipeline.failed` event as a recovery receives it (the trigger's parameter)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: Bounded | None = None
    event: Literal["pipeline.failed"]
    occurred: datetime | None = None
    resource: dict[Bounded, Bounded] = Field(default_factory=dict, max_length=20)
    payload: FailurePayload

    @property
    def pipeline(self) -> str | None:
        """The pipeline named by the resource (`pipeline.<name>`), else by the payload."""
        resource_id = self.resource.get("prefect.resource.id", "")
        if resource_id.startswith(RESOURCE_PREFIX):
            return resource_id.removeprefix(RESOURCE_PREFIX)
        return self.payload.pipeline


def unpack_payload(event: Mapping[str, Any]) -> dict[str, Any]:
    """The event with `payload` decoded from the trigger's `payload_json` text (if it has one).

    Triggers pass the payload as JSON text cut at PAYLOAD_CUT characters, so that a huge
    payload still creates the run (Prefect refuses run parameters over 512 KB, and the event
    would vanish) and the door can refuse it here, on record. Text that was cut or is not a
    JSON object raises InvalidEventError.
    """
    unpacked = dict(event)
    text = unpacked.pop(PAYLOAD_JSON, None)
    if text is None:
        return unpacked
    try:
        payload = json.loads(text) if isinstance(text, str) else text
    except ValueError:
        if isinstance(text, str) and len(text) >= PAYLOAD_CUT:
            raise InvalidEventError(
                [
                    f"payload: over {PAYLOAD_CUT:,} characters of JSON; details are cut at "
                    f"{DETAIL_LIMIT:,} by `runbook emit` and the pipeline flows"
                ]
            ) from None
        raise InvalidEventError(["payload: not JSON"]) from None
    if not isinstance(payload, dict):
        raise InvalidEventError([f"payload: a JSON object is expected, got {_shown(payload)}"])
    unpacked["payload"] = payload
    return unpacked


def is_failure_event(event: Mapping[str, Any]) -> bool:
    """Whether `event` claims to be a `pipeline.failed` event (then the contract applies)."""
    return event.get("event") == EVENT_NAME


def check_failure_event(
    event: Mapping[str, Any],
    pipeline: str,
    known_pipelines: frozenset[str] | set[str],
    calendar: FiscalCalendar = "calendar",
    *,
    future_grace: timedelta = FUTURE_GRACE,
    today: date | None = None,
) -> FailureEvent:
    """The event, validated for the runbook of `pipeline`; InvalidEventError says why not.

    An event that came through Prefect (it has an id) must carry its partition as the
    resource label too, or Prefect's trigger could not tell its partitions apart. Control
    and invisible characters are refused everywhere but in the detail's line breaks and
    tabs; a partition that starts after today plus `future_grace` has no data to recover.
    """
    try:
        checked = FailureEvent.model_validate(dict(event))
    except ValidationError as exc:
        raise InvalidEventError([_reason(err) for err in exc.errors()]) from None
    reasons: list[str] = []
    named = checked.pipeline
    if named is not None and named not in known_pipelines:
        reasons.append(f"pipeline {_shown(named)} is not in governance.yaml")
    elif named is not None and named != pipeline:
        reasons.append(f"event of pipeline {_shown(named)} reached the runbook of {pipeline}")
    if checked.payload.pipeline not in (None, named or pipeline):
        reasons.append(
            f"payload.pipeline {_shown(checked.payload.pipeline)} contradicts the resource"
        )
    reasons += _invisible_reasons(checked)
    reasons += _partition_reasons(checked, pipeline, calendar)
    reasons += _future_reasons(checked, pipeline, calendar, today, future_grace)
    if reasons:
        raise InvalidEventError(reasons)
    return checked


def _partition_reasons(event: FailureEvent, pipeline: str, calendar: FiscalCalendar) -> list[str]:
    key = event.payload.partition
    if not key.isascii():
        return [f"payload.partition {_shown(key)} has non-ASCII characters"]
    reasons = []
    known = pipeline_registry.get(pipeline)
    if known is not None:
        try:
            parse_partition(known.grain, key, calendar)
        except PartitionError as exc:
            reasons.append(f"payload.partition: {exc}")
    label = event.resource.get(PARTITION_LABEL) or None  # the trigger renders a missing one ""
    if label is None and event.id is not None and event.resource:
        reasons.append(f"resource label {PARTITION_LABEL} is missing (it should be {key!r})")
    elif label is not None and label != key:
        reasons.append(f"resource label {PARTITION_LABEL} {_shown(label)} differs from {key!r}")
    return reasons


def _invisible_reasons(event: FailureEvent) -> list[str]:
    fields: list[tuple[str, str | None, bool]] = [
        *((f"resource {key!r}", f"{key}{value}", False) for key, value in event.resource.items()),
        ("payload.partition", event.payload.partition, False),
        ("payload.pipeline", event.payload.pipeline, False),
        ("payload.detail", event.payload.detail, True),
    ]
    reasons = []
    for where, text, free in fields:
        if text and (found := invisible_chars(text, free_text=free)):
            shown = ", ".join(sorted(set(found))[:5])
            reasons.append(f"{where}: control or invisible characters ({shown})")
    return reasons


def _future_reasons(
    event: FailureEvent,
    pipeline: str,
    calendar: FiscalCalendar,
    today: date | None,
    grace: timedelta,
) -> list[str]:
    known = pipeline_registry.get(pipeline)
    if known is None:
        return []
    try:
        partition = parse_partition(known.grain, event.payload.partition, calendar)
    except PartitionError:
        return []  # already a reason
    latest = (today or datetime.now(UTC).date()) + grace
    if partition.start <= latest:
        return []
    return [
        f"payload.partition {event.payload.partition!r} starts {partition.start}, after today "
        f"plus {grace.days} day(s) of grace: it has no data yet"
    ]


def _reason(err: Any) -> str:
    where = ".".join(str(part) for part in err["loc"]) or "event"
    if err["type"] == "extra_forbidden":
        allowed = ", ".join(FailurePayload.model_fields)
        return f"{where}: unknown field; allowed: {allowed}"
    if err["type"] == "enum":
        return f"{where}: {_shown(err.get('input'))} is not one of {', '.join(FailureKind)}"
    if err["type"] == "missing":
        return f"{where}: missing"
    message = str(err["msg"]).removeprefix("Value error, ")
    given = err.get("input")
    if isinstance(given, str) and len(given) > 60:
        return f"{where}: {message} (got {len(given):,} characters)"
    return f"{where}: {message} (got {_shown(given)})"


def _shown(value: Any) -> str:
    """A value quoted for a message, cut so hostile input cannot flood the record."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
