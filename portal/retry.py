"""When the portal client tries again: which answers are transient and how long to wait."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from pydantic import BaseModel, ConfigDict, Field

TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


class RetryPolicy(BaseModel):
    """Bounded exponential backoff; a server's Retry-After wins over the backoff.

    A Retry-After longer than `max_retry_after` is not waited out: the call fails
    transiently at once and the caller (e.g. a Prefect task retry) decides what to do.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_attempts: int = Field(default=5, ge=1)
    initial_backoff: float = Field(default=0.5, ge=0)
    max_backoff: float = Field(default=10.0, ge=0)
    multiplier: float = Field(default=2.0, ge=1)
    jitter: float = Field(default=0.1, ge=0, le=1, description="+/- fraction of each backoff")
    max_retry_after: float = Field(default=60.0, ge=0)

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        base = min(self.max_backoff, self.initial_backoff * self.multiplier ** (attempt - 1))
        return max(0.0, base * (1 + random.uniform(-self.jitter, self.jitter)))


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP-date); None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
