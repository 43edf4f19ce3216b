"""Where runs, commands and the SLA watch get their services: the one factory for each use.

A runbook run gets the on-call approval gate and the Prefect UI's address; a command (`runbook
incidents`, `audit`, `approve`, the demo) and the SLA watch get the same ledger, governance
snapshot, engines and notifier, without a gate and without opening an incident. Use the result
as a context manager: leaving it disposes every engine it opened.
"""

from __future__ import annotations

from prefect.settings import PREFECT_UI_URL

from flows.approval.gate import on_call_gate
from foundation.settings import AppSettings, get_settings
from governance.models import GovernanceConfig
from recovery_tasks.services import RunServices


def open_services(settings: AppSettings | None = None, *, record: bool = True) -> RunServices:
    """The services of one run, with the on-call approval gate and the Prefect UI's address."""
    return RunServices.open(
        settings, record=record, gate=on_call_gate, ui_url=PREFECT_UI_URL.value()
    )


def open_command_services(
    *,
    audit_url: str | None = None,
    governance: GovernanceConfig | None = None,
    settings: AppSettings | None = None,
) -> RunServices:
    """Services for a command or a scheduled job: `audit_url` and `governance` override the
    configured ledger and governance file (a command's `--db` and `--governance`)."""
    settings = settings or get_settings()
    if audit_url:
        settings = settings.with_updates(audit_url=audit_url)
    return RunServices.open(settings, record=False, governance=governance)
