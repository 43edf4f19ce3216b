"""Where a runbook run gets its services: settings, engines, ledger, governance, the gate."""

from __future__ import annotations

from prefect.settings import PREFECT_UI_URL

from flows.approval.gate import on_call_gate
from foundation.settings import AppSettings
from recovery_tasks.services import RunServices


def open_services(settings: AppSettings | None = None, *, record: bool = True) -> RunServices:
    """The services of one run, with the on-call approval gate and the Prefect UI's address."""
    return RunServices.open(
        settings, record=record, gate=on_call_gate, ui_url=PREFECT_UI_URL.value()
    )
