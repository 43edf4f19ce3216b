"""Seconds between two ledger times, in SQL, on SQLite and PostgreSQL alike.

The ledger stores UTC times (`UtcDateTime`): text on SQLite, `timestamp` on PostgreSQL. The
metrics are computed in the database, so the difference of two times must be too:
`julianday` on SQLite, `EXTRACT(EPOCH FROM ...)` on PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class seconds_between(FunctionElement[float]):  # lowercase: it reads as the SQL function
    """`seconds_between(start, end)`: end minus start in seconds (NULL if either is NULL)."""

    type = sa.Float()
    inherit_cache = True
    name = "seconds_between"


@compiles(seconds_between)
def _postgresql(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"EXTRACT(EPOCH FROM ({end}) - ({start}))"


@compiles(seconds_between, "sqlite")
def _sqlite(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"((julianday({end}) - julianday({start})) * 86400.0)"
