"""Fault injection beside the product: break a pipeline on purpose, in a classified way.

Used by `runbook fault`, the demo, drills and the tests; no product package imports it (an
import-linter contract says so). Two halves:

- Records and data faults (`inject`, `clear_faults`, `active_faults`): a fault is a row in
  the warehouse database; data faults also change the sources or the warehouse and can be
  undone (`faults.injection`, `faults.actions`, `faults.catalog`).
- The layer that acts on records (`install`, `enabled`; `faults.activation`): warehouse hooks
  for outages, transform errors, crashes and quotas (`faults.warehouse_hooks`), and a portal
  client that refuses to publish a faulted partition (`faults.portal_client`). Installed by
  `RUNBOOK_FAULTS=on` (plugin `faults.plugin`) or explicitly.

The portal served with faults (`faults.portal_layer.portal_with_faults`, `runbook portal serve
--faults`) obeys a fault plan kept in its database (`faults.portal_plan`, with migrations of its
own); `faults.portal_admin.PortalFaultAdmin` drives that plan over HTTP.
"""

from __future__ import annotations

from faults.activation import enabled, install, installed, uninstall
from faults.catalog import VARIANTS, UnknownFaultError
from faults.injection import clear_faults, inject, publishing_fault
from faults.records import InjectedFault, active_faults

__all__ = [
    "VARIANTS",
    "InjectedFault",
    "UnknownFaultError",
    "active_faults",
    "clear_faults",
    "enabled",
    "inject",
    "install",
    "installed",
    "publishing_fault",
    "uninstall",
]
