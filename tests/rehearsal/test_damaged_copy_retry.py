"""A damaged second copy, as an operator lives it: the restore refuses it and names file and
line, nothing is inserted; once a good copy is back, `runbook retry` recovers the incident."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import text

from faults import inject
from faults.copies import restore_copy
from flows.events.emit import failure_event_parameter
from foundation.settings import get_settings
from governance.ledger.audit_ledger import Ledger
from portal.client import PortalClient
from rehearsal.play import scratch
from rehearsal.recovery import run_recovery
from rehearsal.workspace import Backend, Template
from tests.rehearsal.test_retry import retry_answering_gates
from warehouse.db import Platform
from warehouse.failures import PipelineFailure
from warehouse.outputs import output_files
from warehouse.runner import run_pipeline

pytestmark = [pytest.mark.prefect, pytest.mark.timeout(600)]
PIPELINE, PARTITION = "aggregate_engagement", "2026-03"
EVENTS_OF_THE_DAY = text(
    "SELECT COUNT(*), SUM(CASE WHEN event_type IN ('app_open', 'view', 'click', 'search', "
    "'share', 'purchase') OR event_type IS NULL THEN 0 ELSE 1 END) FROM events "
    "WHERE event_date = '2026-03-31'"
)


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=[pytest.mark.postgres, pytest.mark.slow])]
)
def test_a_backup_cut_mid_row_inserts_nothing_and_a_retry_after_the_good_copy_recovers(
    prefect_server: None, templates: Callable[[Backend], Template], backend: Backend
) -> None:
    with scratch(templates(backend)):
        settings = get_settings()
        platform = Platform.from_settings(settings)
        ledger = Ledger.from_url(settings.audit_url())
        portal = PortalClient(settings.portal.portal_url, settings.portal.portal_token)
        try:
            run_pipeline(platform, PIPELINE, PARTITION)
            clean = output_files(settings.output_dir(), PIPELINE, PARTITION).report_csv
            clean_report = clean.read_bytes()
            fault = inject(platform, "late_arriving_data", PIPELINE, PARTITION, "damaged_copy")
            with platform.source("events").connect() as conn:
                held_back = conn.execute(EVENTS_OF_THE_DAY).one()
            with pytest.raises(PipelineFailure) as failed:
                run_pipeline(platform, PIPELINE, PARTITION)
            event = failure_event_parameter(failed.value)

            first = run_recovery(PIPELINE, event, ledger, timeout=180)

            incident = first.incident_id
            assert not first.completed and incident is not None
            assert "event_backup/2026/03/31.csv.gz line " in first.summary
            assert "the text stops mid-row; nothing of 2026-03-31 was inserted" in first.summary
            assert f"then run `runbook retry {incident}`" in first.summary
            with platform.source("events").connect() as conn:
                assert conn.execute(EVENTS_OF_THE_DAY).one() == held_back  # nothing inserted

            restore_copy(platform, fault)  # the operator puts a good copy back
            result = retry_answering_gates(
                ledger, event["id"], str(incident), "--as", "C", "--reason", "good backup restored"
            )

            assert result.exit_code == 0, result.output
            assert ledger.incidents.current_state(incident) == "resolved"
            assert portal.content(PIPELINE, PARTITION, "report").content == clean_report
            with platform.source("events").connect() as conn:
                rows, garbage = conn.execute(EVENTS_OF_THE_DAY).one()
            assert garbage == 0 and rows > held_back[0]
        finally:
            portal.close()
            ledger.dispose()
            platform.dispose()
