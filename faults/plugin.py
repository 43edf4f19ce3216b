"""The plugin module `RUNBOOK_FAULTS=on` names: importing it installs the fault layer."""

from __future__ import annotations

from faults.activation import install

install()
