"""Binding a pipeline's SQL to a partition: typed date parameters, only those it uses."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Date, TextClause, bindparam, text

from warehouse.calendar import Partition
from warehouse.settings import get_settings

_DATE_PARAMS = ("start", "end")


def bound(sql: str) -> TextClause:
    """`text(sql)` with `:start` and `:end` typed as dates (SQLite stores ISO strings)."""
    clause = text(sql)
    dates = [bindparam(n, type_=Date) for n in _DATE_PARAMS if f":{n}" in sql]
    return clause.bindparams(*dates) if dates else clause


def partition_params(partition: Partition, pipeline: str | None = None) -> dict[str, Any]:
    """The bound parameters every pipeline statement may use."""
    prev = partition.previous(get_settings().fiscal_calendar)
    params: dict[str, Any] = {
        "p": partition.key,
        "start": partition.start,
        "end": partition.end,
        "prev_p": prev.key,
    }
    if pipeline:
        params["pipeline"] = pipeline
    return params
