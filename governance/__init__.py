"""Governance: who owns each pipeline, who is on call, how fast failures must be fixed, and
the audit ledger that records what happened.

Reading order: `errors`, `models`, `config` (load and validate `governance.yaml` with the
runbook language's positioned YAML loader and pydantic-error wording), `rotation` (weeks and
handoffs), `oncall` (who is on call), `responders` (who may approve, whom to notify), `sla`,
`ledger_schema`, `ledger_records`, `ledger` (writes and lookups), `ledger_views` (open
incidents, an incident's story), `notify`.
"""
