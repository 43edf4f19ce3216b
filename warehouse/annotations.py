"""Annotations: a person's explanation of why a partition's numbers moved.

The engagement swing check passes a partition that has one (a launch or a campaign is a real
swing, not a fault), and the dashboard feed carries the notes to the investor portal so the
published numbers come with their explanation. Who may write one is the caller's concern
(`runbook annotate`, the annotation gate): the warehouse records what it is given.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select

from warehouse.db import Platform
from warehouse.tables import annotations_table


def annotate(engine: Any, pipeline: str, partition: str, note: str, author: str) -> None:
    """Record why a partition's numbers moved (it silences the swing check)."""
    with Platform.of(engine).warehouse.begin() as conn:
        conn.execute(
            insert(annotations_table).values(
                pipeline=pipeline, partition_key=partition, note=note, author=author,
                created_at=datetime.now(),
            )
        )  # fmt: skip


def notes_of(conn: Any, pipeline: str, partition: str) -> list[dict[str, str]]:
    """The partition's annotations, oldest first, as `{author, note}` (no times: the feed's
    bytes must not change when nothing but the clock did)."""
    a = annotations_table.c
    rows = conn.execute(
        select(a.author, a.note)
        .where(a.pipeline == pipeline, a.partition_key == partition)
        .order_by(a.created_at, a.id)
    )
    return [{"author": author, "note": note} for author, note in rows]
