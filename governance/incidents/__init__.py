"""The incident a runbook run works on: opened or attached at the door, told what happens."""
