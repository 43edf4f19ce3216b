"""Fixtures shared by the whole suite: one Prefect test server per session, test step types."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_TO_API_BATCH_INTERVAL", "0.3")
os.environ.setdefault("RUNBOOK_DATA_DIR", tempfile.mkdtemp(prefix="runbook-tests-"))
# typed names count in the lab; tests of verified answers switch the production profile on
os.environ.setdefault("RUNBOOK_PROFILE", "local")
# no test reaches a server Prefect would start on the side (an "ephemeral" one): a test that
# needs a server says so with a marker and gets the session's (or starts its own)
os.environ.setdefault("PREFECT_SERVER_ALLOW_EPHEMERAL_MODE", "false")

import tests.step_types  # noqa: F401  (registers the test.* step types)
from flows.language.catalog import PipelineCatalog, PipelineInfo
from testing.service_guard import (
    UNMARKED_TEST,
    refuse_in_unmarked_test,
    refuse_unmarked_postgres_connections,
)

SERVICE_MARKERS = frozenset({"prefect", "postgres"})


LONG_POLES = (
    "tests/rehearsal/test_matrix.py",
    "tests/e2e/test_escalation.py",
    "tests/deployments/test_serve_and_pool_parity.py",
    "tests/rehearsal/test_rehearse_command.py",
    "tests/rehearsal/test_retry.py",
    "tests/deployments/test_event_trigger.py",
    "tests/flows/test_crash_watch.py",
    "tests/rehearsal/test_ledger_and_portal_agree.py",
    "tests/approval/test_gate.py",
    "tests/e2e/test_approval_in_browser.py",
    "tests/events/test_emit.py",
    "tests/events/test_one_door.py",
    "tests/test_demo.py",
)
"""Modules of half a minute or more (`--durations`), slowest first: parallel workers
(`pytest -n`) take them first, so that no worker starts one when the others are nearly done."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The long poles first, everything else in its usual order."""
    rank = {path: i for i, path in enumerate(LONG_POLES)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Name the test in UNMARKED_TEST while it runs if it carries no service marker, before
    any fixture starts: a Prefect server or a PostgreSQL connection then fails it."""
    refuse_unmarked_postgres_connections()
    if SERVICE_MARKERS.isdisjoint(m.name for m in item.iter_markers()):
        os.environ[UNMARKED_TEST] = item.nodeid
    else:
        os.environ.pop(UNMARKED_TEST, None)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    """Fixtures torn down after the test (session ones at the end) may clean what they made."""
    os.environ.pop(UNMARKED_TEST, None)


@pytest.fixture(scope="session", autouse=True)
def migrated_stores() -> None:
    """The session's audit ledger and portal database, upgraded as the set-up commands do."""
    from foundation.engines import engine_for
    from foundation.settings import get_settings
    from governance.ledger.migrate import upgrade_ledger
    from portal.database import portal_engine, upgrade_portal

    settings = get_settings()
    for engine, upgrade in (
        (engine_for(settings.audit_url()), upgrade_ledger),
        (portal_engine(settings.portal_db_url()), upgrade_portal),
    ):
        try:
            upgrade(engine)
        finally:
            engine.dispose()


def migrated_audit_url(path: Path) -> str:
    """The URL of a SQLite audit ledger at `path`, upgraded as the set-up commands leave it."""
    from foundation.engines import engine_for
    from governance.ledger.migrate import upgrade_ledger

    url = f"sqlite:///{path}"
    engine = engine_for(url)
    try:
        upgrade_ledger(engine)
    finally:
        engine.dispose()
    return url


@pytest.fixture
def audit_url(tmp_path: Path) -> str:
    """A migrated audit ledger of the test's own."""
    return migrated_audit_url(tmp_path / "audit.db")


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[None]:
    """A real Prefect server for the whole session, on PostgreSQL when it is reachable.

    Prefect's own `prefect_test_harness` keeps its server on SQLite, whose write lock stalls
    flow runs for seconds (once a whole minute) when several processes run flows at once, as
    the rehearsal matrix does; PostgreSQL is what Prefect recommends beyond a laptop. Without
    PostgreSQL the session falls back to the SQLite harness. Flows the tests run on this thread
    share one Prefect sync client, closed at the end (see `flows.runtime.prefect_client`); a
    thread that runs flows opens its own context.
    """
    from flows.runtime.prefect_client import prefect_client_context

    refuse_in_unmarked_test("the session's Prefect server")
    with _session_prefect_server(), prefect_client_context():
        yield


@contextmanager
def _session_prefect_server() -> Iterator[None]:
    from prefect.context import _temporary_global_settings_context, get_settings_context
    from prefect.testing.utilities import prefect_test_harness

    from tests.prefect_servers import postgres_prefect_server, postgres_reachable

    if not postgres_reachable():
        with prefect_test_harness(server_startup_timeout=120):
            yield
        return
    with (
        postgres_prefect_server("runbook_test_prefect"),
        _temporary_global_settings_context(get_settings_context()),
    ):
        yield


@pytest.fixture(scope="session")
def catalog() -> PipelineCatalog:
    """Two pipelines, one investor-reporting, as the language tests see governance."""
    return {
        "aggregate_profit": PipelineInfo("aggregate_profit", investor_reporting=True),
        "unit_profit_experiments": PipelineInfo("unit_profit_experiments", False),
    }
