"""Fixtures: the shared sample warehouse (`tests.warehouse.fixtures`), a portal over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from faults.portal_admin import PortalFaultAdmin
from portal.client import PortalClient
from portal.retry import RetryPolicy
from portal.server import PortalServer
from tests.portal.conftest import (  # noqa: F401  (portal fixtures reused here)
    TOKEN,
    SleepRecorder,
    fast_retry,
    partition,
    portal,
    portal_config,
    sleeps,
)
from tests.warehouse.fixtures import (  # noqa: F401  (shared fixtures)
    clean,
    data_dir,
    engine,
    fault_layer,
    platform,
)


@pytest.fixture
def admin(portal: PortalServer) -> Iterator[PortalFaultAdmin]:  # noqa: F811
    """The portal's fault plan, empty before and after the test."""
    with PortalFaultAdmin(portal.url, TOKEN) as plan:
        plan.clear_faults()
        yield plan
        plan.clear_faults()


@pytest.fixture
def client(
    portal: PortalServer,  # noqa: F811
    sleeps: SleepRecorder,  # noqa: F811
    fast_retry: RetryPolicy,  # noqa: F811
    admin: PortalFaultAdmin,
) -> Iterator[PortalClient]:
    """A client with fast backoff, facing an empty fault plan."""
    with PortalClient(portal.url, TOKEN, timeout=5.0, retry=fast_retry, sleep=sleeps) as c:
        yield c
