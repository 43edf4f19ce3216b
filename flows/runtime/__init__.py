"""The runtime: a validated runbook compiled into a Prefect flow, and its execution.

Reading order: `compiler` (the flow), `execution` (waves, steps, gates, failure handlers),
`step_task` (a step type's function as a Prefect task), `restore` (outcomes of a restarted
run from the ledger), `run_services` (the services a run or a command opens),
`orphan_guard` (a run whose server-side state ended stops its process), `prefect_client`.
"""
