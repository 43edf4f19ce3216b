"""Alembic environment of the audit ledger; run by `governance.ledger.migrate.upgrade_ledger`.

A new revision: copy the latest file in `versions/`, set `revision` and `down_revision`, write
`upgrade()`/`downgrade()` with `op`, change `governance/ledger/schema.py` to match and bump
`LEDGER_HEAD`; the tests check that the scripts' head, the constant and the tables agree.
"""

from __future__ import annotations

from alembic import context
from foundation.migrations import run_migrations

run_migrations(context)
