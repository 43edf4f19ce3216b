"""Event-driven operation: the failure event's contract, its delivery, the door of every
recovery run (check, de-duplicate), the intake of events no runbook takes, the partition lock,
and the event history shown beside an incident."""
