"""The terminal of a long command (demo, rehearsal): Prefect's run logs kept off it, so the
command's own story is read, while the logs still reach Prefect's API."""

from __future__ import annotations

import logging


def quiet_console() -> None:
    """Keep Prefect's run logs off the terminal (they still reach its API)."""
    for logger in (logging.getLogger("prefect"), logging.getLogger()):
        for handler in logger.handlers:
            if type(handler).__name__ != "APILogHandler" and isinstance(
                handler, logging.StreamHandler
            ):
                handler.setLevel(logging.CRITICAL)
