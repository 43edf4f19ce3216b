"""An audit ledger that is away for a while: wait for it, say so once, never lose the fact.

A database restart, a failover or a full disk makes every ledger write raise a driver error
for a while. A gate holding an approver's answer, or a publish step holding the portal's
receipt, must not drop it nor flood the operator with SQLAlchemy tracebacks: `wait_for_ledger`
retries the write with backoff within a budget, says once that the ledger is unavailable and
once that it is back, and at the end of the budget raises `LedgerUnavailableError`, whose
message is one line naming the ledger's problem and what happens next.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from foundation.errors import RecoveryError, TerminalError

T = TypeVar("T")
FIRST_PAUSE = 0.5
LONGEST_PAUSE = 10.0


class LedgerUnavailableError(RecoveryError, TerminalError):
    """The audit ledger stayed unavailable for the whole budget; the message says what next."""


def is_unavailable(exc: BaseException) -> bool:
    """Whether `exc` says the ledger's database cannot be reached or written just now."""
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def problem_line(exc: BaseException) -> str:
    """The driver's complaint in one line, without SQLAlchemy's statement and links."""
    cause = getattr(exc, "orig", None) or exc
    text = " ".join(str(cause).split())
    return (text[:200] + "...") if len(text) > 200 else text or type(cause).__name__


def wait_for_ledger(
    write: Callable[[], T],
    *,
    budget_seconds: float,
    holding: str,
    say: Callable[[str], None],
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """`write()`, retried while the ledger is unavailable, for at most `budget_seconds`.

    `holding` names what is kept meanwhile (e.g. "the answer of A (approve)"); `say` receives
    the one message when the ledger goes away and the one when it is back.
    """
    deadline = time.monotonic() + budget_seconds
    pause, waited_since = FIRST_PAUSE, None
    while True:
        try:
            done = write()
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            if waited_since is None:
                waited_since = time.monotonic()
                say(
                    f"the audit ledger is unavailable ({problem_line(exc)}); {holding} is kept "
                    f"and recorded when it is back: retrying for up to {budget_seconds:.0f} s"
                )
            left = deadline - time.monotonic()
            if left <= 0:
                raise LedgerUnavailableError(
                    f"the audit ledger stayed unavailable for {budget_seconds:.0f} s "
                    f"({problem_line(exc)}); {holding} could not be recorded"
                ) from None
            sleep(min(pause, left))
            pause = min(pause * 2, LONGEST_PAUSE)
            continue
        if waited_since is not None:
            say(f"the audit ledger is back after {time.monotonic() - waited_since:.0f} s")
        return done
