"""`runbook demo`: the product told end to end, as an application of its public API.

`command` mounts the command; `story` tells it; `paused_run` watches for the gate like an
engineer in the Prefect UI. Nothing in the product imports this package.
"""

from runbook_cli.demo.command import register

__all__ = ["register"]
