"""In production an annotation proves who wrote it, as an answer at a gate does.

The swing fails the engagement check; each engineer who may annotate (on call now and the
owners) receives their own annotation code on their own webhook (a real HTTP endpoint). A
typed name alone, someone else's code, a gate's approval code, a code for another partition
and an expired code are each refused with nothing recorded; the engineer's own code records
the note, the check passes, and the audit says how the annotator was identified.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from foundation.settings import temporary_settings
from governance.annotation_codes import annotation_scope
from governance.approval_codes import CodeScope, issue_code
from governance.models import GovernanceConfig
from governance.oncall.responders import authorized_approvers
from recovery_tasks.services import RunServices
from runbook_cli.main import app
from tests.e2e.conftest import Webhook, governance, webhook  # noqa: F401  (module fixtures)
from tests.recovery_tasks.test_annotations import (  # noqa: F401  (shared fixtures)
    NOTE,
    PARTITION,
    PIPELINE,
    _incident,
    _quality,
    _state,
    portal,
    run,
    swing,
)

SECRET = "test-approval-secret"


@pytest.fixture
def production(
    swing: RunServices,  # noqa: F811
    governance: GovernanceConfig,  # noqa: F811
) -> Iterator[RunServices]:
    """The swing's run in the production profile, engineers' contacts on the webhook."""
    with temporary_settings(profile="production", approval_secret=SECRET) as settings:
        yield dataclasses.replace(swing, settings=settings, governance=governance)


def _annotate(who: str, code: str | None) -> object:
    args = ["annotate", PIPELINE, PARTITION, "--note", NOTE, "--as", who]
    return CliRunner().invoke(app, [*args, *(["--code", code] if code is not None else [])])


def _annotations(services: RunServices, incident: int) -> int:
    return sum(1 for e in services.ledger.incidents.events(incident) if e.state == "annotated")


def _code_of(webhook: Webhook, engineer: str) -> str:  # noqa: F811
    codes = [
        b["annotation_code"]
        for b in webhook.bodies(engineer)
        if b.get("reason") == "annotation_code" and b.get("partition") == PARTITION
    ]
    assert codes, f"{engineer} received no annotation code: {webhook.bodies(engineer)}"
    return codes[-1]


def test_each_annotator_gets_their_own_code_and_only_it_records_the_note(
    production: RunServices,
    webhook: Webhook,  # noqa: F811
) -> None:
    incident = _incident(production)  # the session's ledger: the key may be open already
    annotated_before = _annotations(production, incident)
    outputs = _quality(production)
    who_may = sorted(authorized_approvers(production.governance, PIPELINE, datetime.now(UTC)))
    assert outputs["annotation_codes_to"] == who_may and {"A", "D"} <= set(who_may)
    code_a, code_d = _code_of(webhook, "A"), _code_of(webhook, "D")
    assert code_a.startswith("A.") and code_a != code_d
    told = next(b for b in webhook.bodies("A") if b.get("annotation_code") == code_a)
    command = f"runbook annotate {PIPELINE} {PARTITION} --as A --code {code_a} --note"
    assert "no_unannotated_swing failed" in told["message"] and command in told["message"]
    secret, now = SECRET.encode(), datetime.now(UTC)
    gate_code = issue_code(secret, CodeScope("f" * 32, "annotate", now + timedelta(hours=1)), "A")
    other_month = issue_code(
        secret, annotation_scope(PIPELINE, "2026-04", now + timedelta(hours=1)), "A"
    )
    expired = issue_code(secret, annotation_scope(PIPELINE, PARTITION, now - timedelta(1)), "A")
    refusals = {
        None: "unverified: a typed name is not an identity here; pass --code",
        code_d: "unverified: this annotation code was issued to D, not to 'A'",
        gate_code: "unverified: this annotation code is not valid for aggregate_engagement 2026-03",
        other_month: "not valid for aggregate_engagement 2026-03",
        expired: "unverified: this annotation code expired at",
    }
    for code, why in refusals.items():
        refused = _annotate("A", code)
        assert refused.exit_code == 1, refused.output
        assert why in refused.stderr and "nothing recorded" in refused.stderr
    assert _state(production) == "quarantined"
    assert _annotations(production, incident) == annotated_before

    done = _annotate("A", code_a)
    assert done.exit_code == 0, done.output
    assert "local profile" not in done.stdout
    assert f"annotated {PIPELINE} {PARTITION} as A on incident {incident}" in done.stdout
    assert _state(production) == "complete"
    assert _annotations(production, incident) == annotated_before + 1
    story = CliRunner().invoke(app, ["audit", str(incident)])
    assert f"by A; partition={PARTITION}, note={NOTE}, proof=their annotation code" in (
        story.stdout
    )
    report = CliRunner().invoke(app, ["audit", str(incident), "--markdown"])
    assert f'A (identified by their annotation code): "{NOTE}"' in report.stdout


def test_without_the_secret_production_refuses_every_annotation(
    production: RunServices,
) -> None:
    _incident(production)
    _quality(production)
    with temporary_settings(approval_secret=None):
        refused = _annotate("A", "A.x.Y")
    assert refused.exit_code == 1
    assert "RUNBOOK_APPROVAL_SECRET is not set here" in refused.stderr
    assert _state(production) == "quarantined"
