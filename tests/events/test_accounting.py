"""Every failure event ends in the ledger as exactly one outcome, decided by the incident's
state (not by a time window): opened, attached, refused or a byte-identical duplicate."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from flows.events.accounting import Decision, account, opened
from flows.events.emit import failure_event
from flows.language.catalog import PipelineCatalog
from flows.language.validator import ValidatedRunbook, validate_text
from flows.runtime.run_services import open_command_services
from foundation.settings import temporary_settings
from governance.ledger.records import IncidentState
from recovery_tasks.services import RunServices
from runbook_cli.main import app
from tests.events.conftest import RUNBOOK, fresh_day

PIPELINE = "unit_profit_experiments"


@pytest.fixture
def services(audit_url: str) -> Iterator[RunServices]:
    with open_command_services(audit_url=audit_url) as opened_services:
        yield opened_services


@pytest.fixture
def runbooks(catalog: PipelineCatalog) -> list[ValidatedRunbook]:
    text = RUNBOOK.format(name="accounting", log="/dev/null", seconds=0)
    return [validate_text(text, "accounting.yaml", catalog)]


def sent(kind: str, partition: str, detail: str = "boom", **resource: str) -> dict[str, Any]:
    """A failure event as Prefect's stream hands it to the door (JSON)."""
    body = failure_event(PIPELINE, kind, partition, detail).model_dump(mode="json")
    body["resource"].update(resource)
    return body


def open_from(decision: Decision, services: RunServices) -> int:
    """What the event door does for an event that opens an incident (the run aside)."""
    assert decision.start is not None and decision.checked is not None
    opening = services.ledger.keys.open_or_attach(
        PIPELINE, decision.checked.payload.partition, str(decision.checked.payload.kind),
        decision.checked.occurred, event_id=str(decision.checked.id), runbook="accounting",
        flow_run_id=str(uuid.uuid4()),
    )  # fmt: skip
    outcome = opened(decision, opening.incident, opening.attached, services)
    assert outcome.outcome == "opened"
    return opening.incident.id


def test_a_failure_after_the_incident_ended_opens_a_new_one_at_once(
    services: RunServices, runbooks: list[ValidatedRunbook]
) -> None:
    day = fresh_day()
    first = open_from(account(sent("etl_job_failure", day), runbooks, services), services)
    services.ledger.incidents.record_state(first, IncidentState.RESOLVED)
    again = account(sent("etl_job_failure", day), runbooks, services)
    assert again.start is not None  # no window: a new incident and a run
    assert open_from(again, services) != first


def test_duplicates_are_counted_once_and_a_second_kind_is_attached_with_the_owners_told(
    services: RunServices, runbooks: list[ValidatedRunbook]
) -> None:
    day = fresh_day()
    first_event = sent("source_outage", day)
    incident = open_from(account(first_event, runbooks, services), services)
    copies = [{**first_event, "id": str(uuid.uuid4())} for _ in range(20)]
    outcomes = [account(e, runbooks, services).outcome for e in copies]
    assert {o.outcome for o in outcomes if o} == {"duplicate"}
    second = account(sent("data_quality", day), runbooks, services).outcome
    assert second is not None and (second.outcome, second.incident_id) == ("attached", incident)
    again = account(copies[0], runbooks, services).outcome  # re-delivered: decided before
    assert again is not None and again.outcome == "duplicate"
    ledger = services.ledger
    assert [o.outcome for o in ledger.outcomes.of_incident(incident)].count("duplicate") == 20
    assert {o.kind for o in ledger.outcomes.of_incident(incident)} == {
        "source_outage",
        "data_quality",
    }
    told = [n for n in ledger.notifications.of_incident(incident) if n.reason == "new_failure"]
    assert sorted(n.recipient for n in told) == ["A", "B"]  # the pipeline's two owners
    assert "second failure kind, data_quality" in second.detail["told"]


def test_a_refused_event_holds_nothing_and_a_flood_is_one_closed_incident_paged_once(
    services: RunServices, runbooks: list[ValidatedRunbook]
) -> None:
    day = fresh_day()
    flood = [sent("etl_job_failure", day, **{"pipeline.partition": f"x{n}"}) for n in range(30)]
    outcomes = [account(e, runbooks, services).outcome for e in flood]
    assert {o.outcome for o in outcomes if o} == {"refused"}
    incidents = {o.incident_id for o in outcomes if o}
    assert len(incidents) == 1
    (incident,) = incidents
    assert incident is not None
    ledger = services.ledger
    assert ledger.incidents.current_state(incident) == "closed"  # no SLA clock on the board
    assert all(b.incident.id != incident for b in ledger.open_incidents(services.governance))
    pages = ledger.notifications.of_incident(incident)
    assert len(pages) == len({n.recipient for n in pages}) >= 1  # each person paged once
    genuine = account(sent("etl_job_failure", day), runbooks, services)
    assert genuine.start is not None  # the refusals consumed nothing


def test_refusals_past_the_limits_of_a_source_and_a_pipeline_are_counted_without_reasons(
    audit_url: str, runbooks: list[ValidatedRunbook]
) -> None:
    day = fresh_day()

    def forged(sender: str, n: int) -> dict[str, Any]:
        labels = {"pipeline.partition": f"x{n}", "prefect.resource.name": sender}
        return sent("etl_job_failure", day, **labels)

    with (
        temporary_settings(refusals_per_source=3, refusals_per_pipeline=5),
        open_command_services(audit_url=audit_url) as services,
    ):
        flood = [forged("sender-a", n) for n in range(5)] + [
            forged("sender-b", n) for n in range(3)
        ]
        outcomes = [account(e, runbooks, services).outcome for e in flood]
        genuine = account(
            sent("etl_job_failure", day, **{"prefect.resource.name": "sender-a"}),
            runbooks,
            services,
        )
    assert all(o is not None and o.outcome == "refused" for o in outcomes)
    kept = [o for o in outcomes if o and "reasons" in o.detail]
    assert len(kept) == 3 and {o.source for o in kept} == {"sender-a"}
    limited = [o.detail["limited"] for o in outcomes if o and "limited" in o.detail]
    assert limited == [
        *["more than 3 refusals of source sender-a in this burst"] * 2,
        *["more than 5 refusals of unit_profit_experiments in this burst"] * 3,
    ]
    (incident,) = {o.incident_id for o in outcomes if o}
    assert incident is not None
    pages = services.ledger.notifications.of_incident(incident)
    assert len(pages) == len({n.recipient for n in pages}) >= 1  # one page per person
    assert genuine.start is not None  # a genuine event of a limited source still opens
    shown = CliRunner().invoke(app, ["audit", str(incident), "--db", audit_url])
    assert shown.exit_code == 0, shown.output
    assert (
        "refusals: 8 refused event(s) from 2 source(s)" in shown.output
        and "5 over the refusal limits (counted, reasons not kept); most: sender-a (5), "
        "sender-b (3)"
        in shown.output
    ), shown.output


def test_an_unknown_pipeline_is_refused_on_record(
    services: RunServices, runbooks: list[ValidatedRunbook]
) -> None:
    body = failure_event("no_such_pipeline", "etl_job_failure", "2026-03-01").model_dump(
        mode="json"
    )
    outcome = account(body, runbooks, services).outcome
    assert outcome is not None and outcome.outcome == "refused"
    assert "unknown pipeline" in outcome.detail["reasons"][0]


def test_a_rejected_incident_tells_its_owners_and_once_closed_by_command_frees_the_partition(
    services: RunServices, runbooks: list[ValidatedRunbook], audit_url: str
) -> None:
    day = fresh_day()
    incident = open_from(account(sent("data_quality", day), runbooks, services), services)
    services.ledger.incidents.record_state(incident, IncidentState.REJECTED, actor="B")
    waiting = account(sent("data_quality", day, detail="again"), runbooks, services).outcome
    assert waiting is not None and waiting.outcome == "attached"
    assert "waits for a person (rejected)" in waiting.detail["told"]
    result = CliRunner().invoke(
        app, ["incidents", "close", str(incident), "--reason", "bad source file", "--as", "B",
              "--db", audit_url],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    closed = next(e for e in services.ledger.incidents.events(incident) if e.state == "closed")
    assert (closed.actor, closed.detail["reason"]) == ("B", "bad source file")
    after = account(sent("data_quality", day, detail="third"), runbooks, services)
    assert after.start is not None  # a new incident


def test_closing_needs_an_engineer_of_governance(audit_url: str) -> None:
    result = CliRunner().invoke(
        app, ["incidents", "close", "1", "--reason", "x", "--as", "B\u200b", "--db", audit_url]
    )
    assert result.exit_code == 1
    assert "'B\\\\u200b' is not an engineer" in result.output
