"""Alembic environment of the portal database; run by `portal.database.upgrade_portal`.

A new revision: copy the latest file in `versions/`, set `revision` and `down_revision`, write
`upgrade()`/`downgrade()` with `op`, change the tables in `portal/database.py` to match and
bump `PORTAL_HEAD`; the tests check that the scripts' head, the constant and the tables agree.
"""

from __future__ import annotations

from alembic import context
from foundation.migrations import run_migrations

run_migrations(context)
