"""Binding a pipeline's SQL to a partition: typed date parameters, only those it uses."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import BindParameter, Date, String, TextClause, bindparam, text

from warehouse.calendar import Partition

_DATE_PARAMS = ("start", "end")
_TEXT_PARAMS = ("p", "prev_p", "pipeline")


def bound(sql: str) -> TextClause:
    """`text(sql)` with typed dates (SQLite stores ISO strings) and strings (PostgreSQL casts)."""
    clause = text(sql)
    typed: list[BindParameter[Any]] = [
        bindparam(n, type_=Date) for n in _DATE_PARAMS if re.search(rf":{n}\b", sql)
    ]
    typed += [bindparam(n, type_=String) for n in _TEXT_PARAMS if re.search(rf":{n}\b", sql)]
    return clause.bindparams(*typed) if typed else clause


def partition_params(partition: Partition, pipeline: str | None = None) -> dict[str, Any]:
    """The bound parameters every pipeline statement may use."""
    prev = partition.previous()
    params: dict[str, Any] = {
        "p": partition.key,
        "start": partition.start,
        "end": partition.end,
        "prev_p": prev.key,
    }
    if pipeline:
        params["pipeline"] = pipeline
    return params
