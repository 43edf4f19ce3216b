"""The standing operations around recovery runs: Prefect flows and services a deployment runs.

`sla_watch`, `incident_sync`, `invariant_sweep`, `weekly_report` and `escalation_flow` are
scheduled or triggered flows; `event_door` and `intake` take the failure events (`standby`:
exactly one door among the processes sharing the ledger); `crash_watch`
and `run_watch` notice runs that died; `publication_reconcile` makes the ledger and the
portal agree.
"""
