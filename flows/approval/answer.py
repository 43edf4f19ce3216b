"""The form the on-call engineer fills in on the paused run's page (Prefect's Resume form).

The approver's name alone is not an identity; the `code` field carries the proof
(`flows.approval.identity`), so the same form works from the UI, REST and `runbook approve`.
"""

from __future__ import annotations

from typing import Literal

from prefect.input import RunInput
from pydantic import Field


class ApprovalAnswer(RunInput):
    """One engineer's answer to an approval gate."""

    approver: str = Field(description="Your name as in governance.yaml (e.g. A)")
    decision: Literal["approve", "reject"] = Field(description="Publish the recovered report?")
    comment: str = Field(default="", description="Why; kept in the audit ledger")
    code: str = Field(
        default="",
        description="Your approval code, sent to you privately when the gate opened "
        "(required unless the form says the profile is local)",
    )
