"""A genuine MAU swing in the engagement pipeline: the case the annotation tests explain."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text


def raise_mau_over_previous(platform: Any, partition: str, previous: str, ratio: float) -> None:
    """Set `previous`'s stored MAU so `partition`'s is `ratio` times it (1.4: a 40% jump)."""
    with platform.warehouse.begin() as conn:
        conn.execute(
            text(
                "UPDATE engagement_monthly SET mau = (SELECT ROUND(mau / :ratio) FROM "
                "engagement_monthly WHERE partition_key = :p) WHERE partition_key = :prev"
            ),
            {"p": partition, "prev": previous, "ratio": ratio},
        )
