"""Small helpers behind `runbook portal`: parsing fault rules given on the command line."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from portal.faults import FAULT_RULE, FaultRule


def parse_fault(text: str) -> FaultRule:
    """A fault rule from JSON (`{"mode": "drop"}`) or shorthand (`mode=status,status=503`).

    In shorthand, `count=forever` means until cleared.
    """
    text = text.strip()
    if text.startswith("{"):
        return FAULT_RULE.validate_json(text)
    values: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        if not sep:
            raise ValueError(f"fault option {part!r} is not name=value")
        values[name.strip()] = None if value in {"forever", "null"} else _scalar(value.strip())
    return FAULT_RULE.validate_python(values)


def _scalar(value: str) -> Any:
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


def host_and_port(url: str) -> tuple[str, int]:
    """Where to listen, taken from the portal URL the rest of the project uses."""
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 8765
