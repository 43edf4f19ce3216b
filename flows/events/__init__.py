"""Failure events: their contract, their delivery, the door of every recovery run (check,
de-duplicate, account), the partition lock, and the event history shown beside an incident.
The standing consumers of the events (the event door, the intake) are in `flows.operations`."""
