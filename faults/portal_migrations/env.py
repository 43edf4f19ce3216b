"""Alembic environment of the portal's fault plan; run by `faults.portal_plan.upgrade_fault_plan`.

The fault plan's table sits in the portal database but belongs to the fault layer: its
revisions are kept in a version table of their own (`alembic_version_portal_faults`), so a
product portal never carries it and a portal served with faults adds it.
"""

from __future__ import annotations

from alembic import context
from foundation.migrations import run_migrations

run_migrations(context)
