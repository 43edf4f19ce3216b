"""Test machinery beside the product: harnesses that tests, benchmarks and drills start.

A real Prefect server in a subprocess (`testing.prefect_server`, also the rehearsal's scratch
server) and `runbook serve` in a subprocess with the waits that make it usable in a test
(`testing.served`). No product package imports this one (an import-linter contract).
"""
