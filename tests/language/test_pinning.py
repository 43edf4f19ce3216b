"""A publish step is pinned by what its type declares it publishes, not by a param's name."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict

from flows.language.catalog import PipelineCatalog, PipelineInfo
from flows.language.errors import RunbookValidationError
from flows.language.validator import validate_text
from recovery_tasks.registry import Pinned, step_type

CATALOG = PipelineCatalog(
    {"aggregate_profit": PipelineInfo("aggregate_profit", True, "fiscal_month")},
    frozenset({"A"}),
)


class DigestParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    partition: str
    digest: str | None = None


class Sent(BaseModel):
    sent: bool


@step_type(
    "test.digest_publish",
    params=DigestParams,
    result=Sent,
    role="publish",
    publishes=(Pinned("report", "digest", "sha256"),),
)
def digest_publish(params: DigestParams, ctx: object) -> Sent:
    """Stands for a publication pinned by a param of its own name."""
    return Sent(sent=True)


RUNBOOK = """\
runbook: pinned
pipeline: aggregate_profit
steps:
  - id: report
    uses: reports.build
    with: {partition: "2026-10"}
  - id: approve
    uses: approval.on_call
    needs: [report]
  - id: publish
    uses: test.digest_publish
    needs: [approve]
    with:
      partition: "2026-10"
"""


def test_a_declared_pin_is_required_whatever_its_param_is_called() -> None:
    with pytest.raises(RunbookValidationError, match=r"without `digest` any bytes would be"):
        validate_text(RUNBOOK, "pinned.yaml", CATALOG)


def test_the_declared_pin_reading_the_gated_report_validates() -> None:
    pinned = RUNBOOK + '      digest: "{{ steps.report.outputs.sha256 }}"\n'
    assert validate_text(pinned, "pinned.yaml", CATALOG).types["publish"].publishes


def test_a_pin_on_a_param_the_step_type_lacks_is_refused_at_registration() -> None:
    with pytest.raises(TypeError, match=r"pins report by 'sha', not a param"):
        step_type(
            "test.misdeclared",
            params=DigestParams,
            result=Sent,
            role="publish",
            publishes=(Pinned("report", "sha", "sha256"),),
        )


def test_only_a_publish_step_declares_what_it_publishes() -> None:
    with pytest.raises(TypeError, match=r"is not a publish step"):
        step_type(
            "test.not_publish",
            params=DigestParams,
            result=Sent,
            publishes=(Pinned("report", "digest", "sha256"),),
        )
