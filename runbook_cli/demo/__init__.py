"""`runbook demo`: the product told end to end, as an application of its public API.

`command` holds the command; `story` tells it; `paused_run` watches for the gate like an
engineer in the Prefect UI. Nothing in the product imports this package.
"""
