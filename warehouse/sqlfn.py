"""The few SQL expressions that differ between SQLite and PostgreSQL, as text fragments.

Generation and transforms otherwise use portable SQL; these helpers keep the dialect
switches in one place. Inputs are SQL expressions built by this package, never user text.
"""

from __future__ import annotations

from sqlalchemy import Engine

MODULUS = 2147483647
MULTIPLIER = 1103515245


def hash_expr(x: str, salt: int) -> str:
    """A deterministic pseudo-random integer in [0, 2^31) from integer expression `x`.

    Two rounds of a multiplicative hash in 64-bit integer arithmetic: identical results on
    SQLite and PostgreSQL, so generated data (and golden reports) match across backends.
    """
    inner = f"((CAST({x} AS BIGINT) * {MULTIPLIER} + {salt % MODULUS}) % {MODULUS})"
    return f"((({inner}) * {MULTIPLIER} + {(salt * 31 + 7) % MODULUS}) % {MODULUS})"


def add_seconds(engine: Engine, base: str, seconds: str) -> str:
    """A timestamp: date or timestamp expression `base` plus integer `seconds`."""
    if engine.dialect.name == "sqlite":
        return f"datetime({base}, '+' || ({seconds}) || ' seconds')"
    return f"(CAST({base} AS timestamp) + ({seconds}) * interval '1 second')"


def add_days(engine: Engine, base: str, days: str) -> str:
    """A date: date expression `base` plus integer `days`."""
    if engine.dialect.name == "sqlite":
        return f"date({base}, '+' || ({days}) || ' days')"
    return f"(CAST({base} AS date) + CAST({days} AS INTEGER))"


def date_of(engine: Engine, ts: str) -> str:
    """The calendar date of timestamp expression `ts`."""
    if engine.dialect.name == "sqlite":
        return f"date({ts})"
    return f"CAST({ts} AS date)"


def as_float(expr: str) -> str:
    """`expr` as a double, so division and averages agree across backends."""
    return f"(({expr}) * 1.0)"


def case_pick(expr: str, values: list[str]) -> str:
    """A CASE choosing `values[expr % len(values)]` (values are package constants)."""
    whens = " ".join(f"WHEN {i} THEN '{v}'" for i, v in enumerate(values))
    return f"(CASE ({expr}) % {len(values)} {whens} END)"
