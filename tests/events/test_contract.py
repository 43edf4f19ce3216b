"""The failure event's contract: what a recovery refuses at its door, and why."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from flows.events.contract import (
    DETAIL_LIMIT,
    DETAIL_MAX,
    PAYLOAD_CUT,
    InvalidEventError,
    check_failure_event,
    unpack_payload,
)
from flows.events.emit import cut_detail, failure_event

KNOWN = frozenset({"aggregate_profit", "aggregate_growth", "unit_profit_experiments"})
RUN_ID = "0b7c5a52-5a4b-4a0c-9c1e-0f3b8e2a9d11"


def event(**payload: Any) -> dict[str, Any]:
    """A pipeline.failed event of aggregate_profit as the trigger passes it to the run."""
    body = {"kind": "etl_job_failure", "partition": "2026-10", "pipeline": "aggregate_profit"}
    body.update(payload)
    return {
        "id": "3c9f9a1e-9b51-4a56-8a1d-7d4f3f2b5c10",
        "event": "pipeline.failed",
        "occurred": "2026-10-14T09:00:00+00:00",
        "resource": {
            "prefect.resource.id": "pipeline.aggregate_profit",
            "pipeline.partition": str(body.get("partition")),
        },
        "payload": {k: v for k, v in body.items() if v is not None},
    }


def refusal(raw: dict[str, Any], pipeline: str = "aggregate_profit") -> str:
    with pytest.raises(InvalidEventError) as caught:
        check_failure_event(raw, pipeline, KNOWN)
    return str(caught.value)


def test_a_well_formed_event_passes_with_its_flow_run_id_as_a_uuid() -> None:
    checked = check_failure_event(
        event(flow_run_id=RUN_ID, detail="boom"), "aggregate_profit", KNOWN
    )
    assert checked.pipeline == "aggregate_profit"
    assert str(checked.payload.flow_run_id) == RUN_ID
    assert checked.payload.kind == "etl_job_failure"


def test_what_runbook_emit_builds_passes_the_door() -> None:
    built = failure_event("aggregate_profit", "data_quality", "2026-10", "x" * 100_000)
    raw = built.model_dump(mode="json")
    checked = check_failure_event(raw, "aggregate_profit", KNOWN)
    assert len(checked.payload.detail or "") < DETAIL_MAX
    assert "more characters cut" in (checked.payload.detail or "")


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"kind": "meteor_strike"}, r"payload\.kind: 'meteor_strike' is not one of source_outage"),
        ({"partition": "2026-W0٣"}, r"payload\.partition '2026-W0٣' has non-ASCII characters"),
        ({"partition": "2026-1\u0660"}, "non-ASCII"),
        ({"partition": "2026-10'; DROP TABLE x; --"}, r"payload\.partition: .*at most 32|bad"),
        ({"partition": "'; DROP TABLE x;--"}, r"bad fiscal_month partition"),
        ({"partition": "../../etc/passwd"}, r"bad fiscal_month partition '\.\./\.\./etc/passwd'"),
        ({"partition": "9999-12"}, r"year 9999 is outside 1970\.\.2100"),
        ({"partition": "2026-W43"}, r"bad fiscal_month partition '2026-W43'; expected e\.g\."),
        ({"detail": "x" * (DETAIL_MAX + 1)}, r"payload\.detail: .* \(got 16,001 characters\)"),
        ({"flow_run_id": "not-a-run"}, r"payload\.flow_run_id: Input should be a valid UUID"),
        ({"kind": None}, r"payload\.kind: missing"),
        ({"surprise": 1}, r"payload\.surprise: unknown field; allowed: kind, partition"),
        ({"pipeline": "aggregate_growth"}, "payload.pipeline 'aggregate_growth' contradicts"),
    ],
)
def test_each_broken_payload_is_refused_with_its_reason(payload: dict, reason: str) -> None:
    message = refusal(event(**payload))
    assert re.search(reason, message), message


def test_an_unknown_pipeline_is_refused() -> None:
    raw = event()
    raw["resource"]["prefect.resource.id"] = "pipeline.moon_base"
    assert "pipeline 'moon_base' is not in governance.yaml" in refusal(raw)


def test_an_event_for_another_pipeline_is_refused_by_this_runbook() -> None:
    assert "reached the runbook of aggregate_growth" in refusal(event(), "aggregate_growth")


def test_an_event_through_prefect_must_label_its_partition() -> None:
    raw = event()
    del raw["resource"]["pipeline.partition"]
    assert "resource label pipeline.partition is missing" in refusal(raw)
    raw["resource"]["pipeline.partition"] = "2026-11"
    assert "differs from '2026-10'" in refusal(raw)


def test_a_hand_written_event_without_resource_or_id_is_checked_by_its_payload() -> None:
    raw = {"event": "pipeline.failed", "payload": {"kind": "data_quality", "partition": "2026-10"}}
    assert check_failure_event(raw, "aggregate_profit", KNOWN).pipeline is None
    raw["payload"]["partition"] = "2026-13"
    assert "month 13 out of range" in refusal(raw)


def test_messages_quote_hostile_values_only_in_part() -> None:
    message = refusal(event(kind="k" * 5000))
    assert len(message) < 400


def test_long_details_are_cut_with_a_note_saying_how_much() -> None:
    assert cut_detail("short") == "short"
    cut = cut_detail("y" * (DETAIL_LIMIT + 1234))
    assert cut.startswith("y" * DETAIL_LIMIT)
    assert cut.endswith("[... 1,234 more characters cut; the full text is in the job's logs]")


def test_the_payload_arrives_as_json_text_and_is_decoded_at_the_door() -> None:
    raw = event()
    packed = {**raw, "payload_json": json.dumps(raw.pop("payload"))}
    assert unpack_payload(packed) == event()


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"kind": "' + "x" * PAYLOAD_CUT, "payload: over 200,000 characters of JSON"),
        ("{not json", "payload: not JSON"),
        ("[1, 2]", "payload: a JSON object is expected, got [1, 2]"),
    ],
    ids=["cut", "not-json", "not-an-object"],
)
def test_a_payload_cut_by_the_trigger_or_not_an_object_is_refused(text: str, reason: str) -> None:
    with pytest.raises(InvalidEventError, match=re.escape(reason)):
        unpack_payload({"event": "pipeline.failed", "payload_json": text[:PAYLOAD_CUT]})


@pytest.mark.parametrize(
    ("payload", "where"),
    [
        (
            {"partition": "2026-10\x00"},
            "payload.partition: control or invisible characters (\\x00)",
        ),
        ({"detail": "boom\x00"}, "payload.detail: control or invisible characters (\\x00)"),
        ({"pipeline": "aggregate_profit\u200b"}, "payload.pipeline: control or invisible"),
    ],
    ids=["nul-partition", "nul-detail", "zero-width-pipeline"],
)
def test_control_and_invisible_characters_are_refused_and_shown_escaped(
    payload: dict[str, Any], where: str
) -> None:
    assert where in refusal(event(**payload))


def test_line_breaks_in_a_detail_pass() -> None:
    assert check_failure_event(event(detail="line 1\n\tline 2"), "aggregate_profit", KNOWN)


def test_a_partition_after_today_plus_the_grace_is_refused() -> None:
    from datetime import date, timedelta

    raw = event(partition="2031-01")
    assert "starts 2031-01-01, after today plus 1 day(s) of grace" in refusal(raw)
    early = date(2030, 12, 31)
    assert check_failure_event(raw, "aggregate_profit", KNOWN, today=early)
    with pytest.raises(InvalidEventError):
        check_failure_event(raw, "aggregate_profit", KNOWN, today=early, future_grace=timedelta())


def test_the_emitter_sends_no_control_character_and_names_keep_theirs_escaped() -> None:
    built = failure_event("aggregate_profit", "data_quality", "2026-10\x00", "a\x00b\nc\x07")
    raw = built.model_dump(mode="json")
    assert "\x00" not in json.dumps(raw) and "\\u0000" not in json.dumps(raw)
    assert raw["payload"]["detail"] == "ab\nc"
    assert raw["payload"]["partition"] == "2026-10\\x00"
    assert "bad fiscal_month partition '2026-10\\\\x00'" in refusal(raw)
