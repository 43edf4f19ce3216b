"""Switching the fault layer on: the warehouse hooks and the run services' portal wrapper.

Nothing in the product imports this package. It joins a process in one of two ways:

- `RUNBOOK_FAULTS=on` (setting `runbooks.faults`): the composition roots that load plugins
  (`Platform.from_settings`, `RunServices.open`, the step registry) import `faults.plugin`,
  which calls `install()`. Served flow runs inherit the setting from their environment.
- Explicitly: `install()` / `uninstall()`, or `with enabled(): ...` (tests, the demo).

Installed, it makes the warehouse's platforms use `FaultHooks` and gives every run's services
a `portal_factory` that builds a `FaultingPortalClient`. Uninstalled, the records stay in the
warehouse but nothing acts on them (data faults still changed the data, of course).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager

from faults.portal_client import FaultingPortalClient
from faults.warehouse_hooks import FaultHooks
from recovery_tasks.services import RunServices, register_services_plugin
from warehouse.db import install_hooks, installed_hooks

PLUGIN_NAME = "faults"


def install() -> None:
    """Install the fault layer in this process (idempotent)."""
    if not installed():
        install_hooks(FaultHooks())
    register_services_plugin(PLUGIN_NAME, _wrap_portal)


def uninstall() -> None:
    """Remove the fault layer from this process: the no-op hooks and the plain portal client."""
    if installed():
        install_hooks(None)
    register_services_plugin(PLUGIN_NAME, None)


def installed() -> bool:
    """Whether new platforms get the fault hooks."""
    return isinstance(installed_hooks(), FaultHooks)


@contextmanager
def enabled() -> Iterator[None]:
    """The fault layer installed for the block, and removed after (unless it was before)."""
    was = installed()
    install()
    try:
        yield
    finally:
        if not was:
            uninstall()


def _wrap_portal(services: RunServices) -> RunServices:
    """The run's services with a portal client that honours injected publishing faults."""
    return dataclasses.replace(services, portal_factory=_faulting_portal)


def _faulting_portal(services: RunServices) -> FaultingPortalClient:
    portal = services.settings.portal
    faults_db = services.platform().warehouse
    return FaultingPortalClient(portal.portal_url, portal.portal_token, faults_db=faults_db)
