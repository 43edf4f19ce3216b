"""The form the on-call engineer fills in on the paused run's page (Prefect's Resume form)."""

from __future__ import annotations

from typing import Literal

from prefect.input import RunInput
from pydantic import Field


class ApprovalAnswer(RunInput):
    """One engineer's answer to an approval gate."""

    approver: str = Field(description="Your name as in governance.yaml (e.g. A)")
    decision: Literal["approve", "reject"] = Field(description="Publish the recovered report?")
    comment: str = Field(default="", description="Why; kept in the audit ledger")
