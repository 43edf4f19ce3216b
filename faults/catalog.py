"""The fault variants each failure kind can be injected as, and the default of each kind."""

from __future__ import annotations

from foundation.errors import RecoveryError, TerminalError
from warehouse.failures import FailureKind

VARIANTS: dict[FailureKind, tuple[str, ...]] = {
    FailureKind.SOURCE_OUTAGE: ("unreachable",),
    FailureKind.ETL_JOB_FAILURE: ("transform_error", "crash_mid_run"),
    FailureKind.LATE_ARRIVING_DATA: ("held_back", "damaged_copy"),
    FailureKind.SCHEMA_DRIFT: ("column_renamed", "column_added", "column_dropped"),
    FailureKind.DATA_QUALITY: ("null_critical", "wrong_mapping"),
    FailureKind.STORAGE_PARTITION: ("missing_partition", "misaligned", "storage_limit"),
    FailureKind.REPORT_PUBLISHING: ("portal_error",),
}
"""Variants per kind; the first one is the default."""

DATA_VARIANTS = frozenset(
    {"held_back", "damaged_copy", "null_critical", "wrong_mapping", "missing_partition",
     "misaligned"}
)  # fmt: skip
"""Variants that change rows (undone only by `clear_faults(..., data=True)` or recovery)."""

RUN_FIRST = frozenset({"missing_partition", "misaligned"})
"""Variants that damage a stored partition, so the pipeline runs first if it has not."""

DETECTED_BY_VALIDATION = frozenset({"missing_partition", "misaligned"})
"""Variants a rerun would silently repair: a check of the stored partition finds them."""

OUTSIDE_THE_DATA = frozenset({"unreachable", "transform_error", "crash_mid_run", "storage_limit",
                              "portal_error"})  # fmt: skip
"""Variants that exist only as a record: they act through the installed fault layer (hooks and
the portal wrapper), so they take effect only in processes where it is installed."""

COPY_TABLES = frozenset({"events", "registrations"})
"""Source tables with a second copy (event backup, activity logs): `damaged_copy` needs one."""


def applies(variant: str, primary_table: str) -> bool:
    """Whether `variant` can strike a pipeline whose primary source table is `primary_table`."""
    return variant != "damaged_copy" or primary_table in COPY_TABLES


CRASH_KEEP: dict[str, str] = {
    "unit_profit_experiments": "arm = 'control'",
    "daily_growth_experiments": "arm = 'control'",
    "aggregate_profit": "region_code IN ('NA', 'EU')",
}
"""Rows of the last fact table an injected mid-run crash leaves behind (else none)."""


class UnknownFaultError(RecoveryError, TerminalError, ValueError):
    """A kind or variant that does not exist."""


def variant_for(kind: FailureKind | str, variant: str | None) -> tuple[FailureKind, str]:
    """Validate `kind` and `variant` (default: the kind's first variant)."""
    try:
        k = FailureKind(kind)
    except ValueError:
        known = ", ".join(k.value for k in FailureKind)
        raise UnknownFaultError(f"unknown fault kind {kind!r}; known: {known}") from None
    if variant is None:
        return k, VARIANTS[k][0]
    if variant not in VARIANTS[k]:
        raise UnknownFaultError(
            f"unknown variant {variant!r} of {k}; known: {', '.join(VARIANTS[k])}"
        )
    return k, variant
