"""`python -m runbook_cli ...` is the same as `runbook ...`."""

from runbook_cli.main import main

main()
