"""One portal served over real HTTP on a free loopback port for the whole session."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from faults.portal_admin import PortalFaultAdmin
from faults.portal_layer import portal_with_faults
from portal.client import PortalClient
from portal.config import PortalConfig
from portal.database import portal_engine, upgrade_portal
from portal.retry import RetryPolicy
from portal.server import PortalServer

TOKEN = "test-token"
MAX_UPLOAD = 256 * 1024


class SleepRecorder:
    """Records the client's backoff waits, and really waits (the server must see time pass)."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        time.sleep(seconds)


@pytest.fixture(scope="session")
def portal_config(tmp_path_factory: pytest.TempPathFactory) -> PortalConfig:
    """A fresh SQLite file, or the database in RUNBOOK_TEST_PORTAL_DB_URL (e.g. PostgreSQL).

    Tests publish to partitions of their own, so a shared database needs no cleaning.
    """
    db_url = os.environ.get("RUNBOOK_TEST_PORTAL_DB_URL") or (
        f"sqlite:///{Path(tmp_path_factory.mktemp('portal')) / 'portal.db'}"
    )
    engine = portal_engine(db_url)  # as `runbook portal serve` does before serving
    try:
        upgrade_portal(engine)
    finally:
        engine.dispose()
    return PortalConfig(db_url=db_url, token=TOKEN, max_upload_bytes=MAX_UPLOAD)


@pytest.fixture(scope="session")
def portal(portal_config: PortalConfig) -> Iterator[PortalServer]:
    """The portal behind the fault layer, so tests can make it fail on purpose."""
    with PortalServer(portal_config, build=portal_with_faults) as server:
        yield server


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def fast_retry() -> RetryPolicy:
    return RetryPolicy(max_attempts=4, initial_backoff=0.01, max_backoff=0.05, max_retry_after=5)


@pytest.fixture
def client(
    portal: PortalServer, sleeps: SleepRecorder, fast_retry: RetryPolicy
) -> Iterator[PortalClient]:
    """A client with fast backoff, facing an empty fault plan."""
    with (
        PortalFaultAdmin(portal.url, TOKEN) as plan,
        PortalClient(portal.url, TOKEN, timeout=5.0, retry=fast_retry, sleep=sleeps) as c,
    ):
        plan.clear_faults()
        yield c
        plan.clear_faults()


@pytest.fixture
def partition() -> str:
    """A partition no other test publishes to."""
    return f"2024-03-{uuid.uuid4().hex[:8]}"


REPORT = b"product,region,fiscal_month,revenue,cost,profit\nwidget,EU,2024-03,100.0,60.0,40.0\n"
REPORT_V2 = REPORT + b"gadget,US,2024-03,50.0,20.0,30.0\n"
