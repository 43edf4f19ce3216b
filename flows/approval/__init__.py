"""The approval gate: evidence, the Resume form, who may answer, escalation, answers."""
