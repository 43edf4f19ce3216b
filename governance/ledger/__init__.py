"""The audit ledger: append-only records of what happened to every incident.

Reading order: `schema` (the tables), `migrate` (Alembic, `migrations/`), `records` (what
readers get back), `rows` and `database` (the hold on the database every part shares), one
module per part (`incidents`, `keys`, `steps`, `approvals`, `publications`, `intents`,
`notifications`, `outcomes`), `views` (open incidents, an incident's story), `availability`
(a ledger away for a while) and `audit_ledger` (`Ledger`: the parts on one database).
"""
