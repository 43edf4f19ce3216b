"""The fault layer is a seam: installed, records act; uninstalled, the product ignores them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import faults
from faults import inject
from faults.portal_client import FaultingPortalClient
from foundation.settings import get_settings
from recovery_tasks.services import RunServices
from tests.warehouse.sample import GOLDEN
from warehouse.db import Platform
from warehouse.failures import FailureKind, PipelineFailure
from warehouse.runner import run_pipeline

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture
def uninstalled() -> object:
    faults.uninstall()
    yield
    faults.install()


def test_installed_layer_makes_recorded_faults_happen(clean: Platform) -> None:
    inject(clean, "etl_job_failure", "aggregate_profit", "2026-03", "transform_error")
    with pytest.raises(PipelineFailure) as info:
        run_pipeline(Platform(clean.warehouse, config=clean.config), "aggregate_profit", "2026-03")
    assert info.value.kind == FailureKind.ETL_JOB_FAILURE


@pytest.mark.parametrize("variant", ["transform_error", "storage_limit", "unreachable"])
def test_without_the_layer_recorded_faults_do_nothing(
    clean: Platform, uninstalled: object, variant: str
) -> None:
    kind = {"transform_error": "etl_job_failure", "storage_limit": "storage_partition",
            "unreachable": "source_outage"}[variant]  # fmt: skip
    inject(clean, kind, "aggregate_profit", "2026-03", variant)
    platform = Platform(clean.warehouse, config=clean.config)  # built without the fault hooks
    result = run_pipeline(platform, "aggregate_profit", "2026-03")
    golden = (GOLDEN / "aggregate_profit__2026-03.csv").read_text()
    assert result.outputs.report_csv.read_text() == golden


def _fresh_process(tmp_path: Path, **env: str) -> str:
    code = (
        "import faults\n"
        "from warehouse.db import Platform\n"
        "assert not faults.installed()  # importing the package installs nothing\n"
        "platform = Platform.from_settings()\n"
        "print(type(platform.hooks).__name__, faults.installed())\n"
        "platform.dispose()\n"
    )
    inherited = {k: v for k, v in os.environ.items() if k != "RUNBOOK_FAULTS"}
    environment = {**inherited, "RUNBOOK_DATA_DIR": str(tmp_path), **env}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT, env=environment, capture_output=True,
        text=True, timeout=60, check=True,
    )  # fmt: skip
    return done.stdout.strip()


def test_the_setting_installs_the_layer_in_a_fresh_process(tmp_path: Path) -> None:
    assert _fresh_process(tmp_path, RUNBOOK_FAULTS="on") == "FaultHooks True"
    assert _fresh_process(tmp_path) == "WarehouseHooks False"


def test_run_services_publish_through_the_faulting_client_only_with_the_layer() -> None:
    with RunServices.open(get_settings(), record=False) as services, services.portal() as client:
        assert isinstance(client, FaultingPortalClient)
    faults.uninstall()
    try:
        with (
            RunServices.open(get_settings(), record=False) as services,
            services.portal() as client,
        ):
            assert not isinstance(client, FaultingPortalClient)
    finally:
        faults.install()
