"""Small helpers behind `runbook portal`: where to listen, from the portal URL."""

from __future__ import annotations

from urllib.parse import urlsplit


def host_and_port(url: str) -> tuple[str, int]:
    """Where to listen, taken from the portal URL the rest of the project uses."""
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 8765
