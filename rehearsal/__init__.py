"""Rehearsal, the game day in one command: break a pipeline on purpose and prove the runbook.

For one cell (a pipeline, a fault variant, a scenario for the fault's cause) a rehearsal
works on scratch copies of everything (`rehearsal.workspace`): it runs the pipeline clean and
publishes, injects the fault (the `faults` package), lets the pipeline fail, then runs the
pipeline's runbook while the cause is fixed, persists, or goes away a few seconds into the
run (`rehearsal.causes`), answering its approval gate as the rehearsal approver. It then
compares everything with the clean run (`rehearsal.verdict`): RECOVERED, FAILED-SAFE or
WRONG. `rehearsal.matrix` runs many cells in worker processes and checks them against the
declared expectations (`rehearsal/expectations.yaml`).

Beside the product: only the CLI imports it (an import-linter contract).
"""
