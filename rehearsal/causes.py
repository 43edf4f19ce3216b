"""What "the cause is fixed" means for each fault variant, and making it happen later.

Most faults have a cause that can go away: the source answers again, the late rows land, the
column comes back, someone corrects the bad data, the quota is raised, the portal recovers.
Fixing it is undoing the fault (`faults.clear_faults` for that one record, data included).

A damaged second copy is fixed by a person restoring a good copy of the file: the rows it
held back stay missing, for the runbook to restore from that copy.

Some faults are damage, not a cause: a missing or misaligned partition, and what a crashed
write left. A crash is an event: once it happened, its trigger is gone and only the
half-written partition remains. Fixing these removes the fault's record and leaves the
damage for the runbook to repair (undoing them would rebuild the partition, doing the
runbook's work for it).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from faults import clear_faults
from faults.actions import REBUILT_BY_UNDO, drop_snapshot
from faults.copies import restore_copy
from faults.records import InjectedFault, erase
from warehouse.db import Platform

ONE_OFF = frozenset({"crash_mid_run"})
"""Variants whose trigger is an event: gone as soon as it struck, in every scenario."""


def fix_cause(platform: Platform, fault: InjectedFault) -> None:
    """Make the fault's cause go away (damage it did stays for the runbook to repair)."""
    if fault.variant in REBUILT_BY_UNDO or fault.variant == "damaged_copy":
        erase(platform.warehouse, [fault.id])
        drop_snapshot(platform, fault)
        if fault.variant == "damaged_copy":
            restore_copy(platform, fault)
        return
    clear_faults(platform, data=True, fault_id=fault.id)


class LaterFix:
    """Fix a cause after `seconds`, from a timer thread; `cancel` if the run ended first."""

    def __init__(self, seconds: float, fix: Callable[[], None]) -> None:
        self.fixed = threading.Event()
        self.error: BaseException | None = None

        def run() -> None:
            try:
                fix()
            except BaseException as exc:  # reported by the verdict, never lost in a thread
                self.error = exc
            finally:
                self.fixed.set()

        self._timer = threading.Timer(seconds, run)
        self._timer.daemon = True

    def start(self) -> LaterFix:
        """Start the countdown (once; later calls do nothing)."""
        if not self._timer.is_alive() and not self.fixed.is_set():
            self._timer.start()
        return self

    def cancel(self) -> None:
        """Stop the countdown if the fix has not happened; wait for one in progress."""
        self._timer.cancel()
        if self._timer.is_alive():
            self._timer.join()
