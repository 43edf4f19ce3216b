"""Governance: who owns each pipeline, who is on call, how fast failures must be fixed, and
the audit ledger that records what happened.

Reading order: `errors`, `models`, `config` (load and validate `governance.yaml` with the
foundation's positioned YAML loader and pydantic-error wording; warnings for repeated
holidays), `rotation` (weeks, handoffs, holidays as time), `absences` (who is away when,
public holidays per calendar), `holiday_swaps` (each week's primary), `shifts` (a stretch of
on-call time), `oncall_hours` (who covers each hour of a week), `oncall` (who is on call,
coverage gaps), `oncall_stats` (the load per engineer), `oncall_feeds` (iCalendar feeds),
`responders` (who may approve, whom to notify), `sla`, then the audit ledger:
`ledger_schema`, `ledger_migrations` (Alembic, `migrations/`), `ledger_records`,
`ledger_rows`, `ledger_base`, one module per part (`ledger_incidents`, `ledger_steps`,
`ledger_approvals`, `ledger_publications`, `ledger_notifications`), `ledger_views` (open
incidents, an incident's story) and `ledger` (all of it as one `Ledger`), `notify`.
"""
