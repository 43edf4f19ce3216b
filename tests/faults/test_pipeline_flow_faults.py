"""The pipeline flows on a Prefect test server: success, and an injected outage failing them
with its kind in the logs (the flows build their platform from settings; the installed fault
layer's hooks make the outage happen)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from faults import inject
from foundation.settings import temporary_settings
from warehouse.db import Platform
from warehouse.failures import FailureKind, PipelineFailure

pytestmark = [pytest.mark.prefect]


@pytest.fixture
def sqlite_only(clean: Platform, data_dir: Path) -> Iterator[Platform]:
    """The SQLite sample, which the flows find through settings (the default URL)."""
    if clean.warehouse.dialect.name != "sqlite":
        pytest.skip("flows read the warehouse URL from settings (the SQLite default)")
    with temporary_settings(data_dir=data_dir):
        yield clean


def test_flow_fails_with_kind_and_logs(prefect_server: None, sqlite_only: Platform) -> None:
    from prefect.context import get_run_context  # noqa: F401

    from flows.pipelines import pipeline_flow
    from warehouse.job_logs import extraction_failures, latest_failed_run, read_job_logs

    ok = asyncio.run(pipeline_flow("aggregate_profit")("2026-03"))
    assert ok["rows"] == {"profit_monthly": 39}
    inject(sqlite_only, FailureKind.SOURCE_OUTAGE, "aggregate_profit", "2026-03")
    with pytest.raises(PipelineFailure) as info:
        asyncio.run(pipeline_flow("aggregate-profit")("2026-03"))
    assert info.value.kind == FailureKind.SOURCE_OUTAGE
    run_id = asyncio.run(latest_failed_run("aggregate_profit"))
    assert run_id is not None
    deadline = time.monotonic() + 15  # the API receives a run's logs in batches, shortly after
    while True:
        lines = asyncio.run(read_job_logs(run_id))
        found = any("kind=source_outage" in line.message for line in extraction_failures(lines))
        if found or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert found
