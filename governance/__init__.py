"""Governance: who owns each pipeline, who is on call, how fast failures must be fixed, and
the audit ledger that records what happened.

Reading order: `errors`, `models`, `config` (load and validate `governance.yaml` with the
foundation's positioned YAML loader and pydantic-error wording; warnings for repeated
holidays), `sla` (the SLA clock), `approval_codes` (what proves who answered a gate), then
one subpackage per concern, each with its own reading order: `oncall` (rotation, absences,
holiday swaps, shifts, who covers each hour, stats, feeds, responders), `ledger` (the audit
ledger, composed of its parts), `notification` (messages, delivery, the notifier),
`incidents` (the incident a run works on) and `reporting` (metrics, the post-incident
report). The subpackages import one another one way only (an import-linter contract).
"""
