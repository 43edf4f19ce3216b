"""Approval codes: what proves, at a gate, that an answer comes from the engineer it names.

The Prefect UI and API have no user accounts, so a typed name proves nothing. When a gate
opens (and again on escalation) each approver is sent, through their own contacts in
`governance.yaml`, a short code: their name, an expiry and an HMAC-SHA256 over
(flow run, gate, approver, expiry) keyed by a secret only the server side holds
(`RUNBOOK_APPROVAL_SECRET`). Whoever types that code into the Resume form (or passes it to
`runbook approve --code`) proves they read that engineer's private channel. A code is useless
for another run, another gate, another person or after its expiry; the gate counts it once.

Pure functions (no clock, no I/O): the gate passes `now`. Comparison is constant-time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime

SIGNATURE_CHARS = 16  # base32 characters of the HMAC kept in the code: 80 bits


@dataclass(frozen=True)
class CodeScope:
    """What a code is good for: one gate of one flow run, until `expires_at`."""

    flow_run_id: str
    gate: str
    expires_at: datetime

    @property
    def expiry(self) -> int:
        return int(self.expires_at.timestamp())


def issue_code(secret: bytes, scope: CodeScope, approver: str) -> str:
    """The code of `approver` for `scope`: `NAME.EXPIRY.SIGNATURE` (typeable on a phone)."""
    return f"{approver}.{_base36(scope.expiry)}.{_signature(secret, scope, approver, scope.expiry)}"


def code_refusal(
    secret: bytes,
    scope: CodeScope,
    approver: str,
    code: str,
    now: datetime,
    *,
    kind: str = "approval code",
    target: str = "this run's gate",
) -> str | None:
    """Why `code` does not prove that `approver` answers this gate now (None: it does).

    `kind` and `target` name the code and what it opens in the reasons (an annotation code
    opens a partition, `governance.annotation_codes`)."""
    parts = code.strip().rsplit(".", 2)
    malformed = f"that is not an {kind} (NAME.EXPIRY.SIGNATURE, as sent to you)"
    if len(parts) != 3 or not parts[0]:
        return malformed
    holder, expiry_text, signature = parts
    try:
        expiry = int(expiry_text, 36)
    except ValueError:
        return malformed
    expected = _signature(secret, scope, holder, expiry)
    if not hmac.compare_digest(expected, signature.upper()):
        return f"this {kind} is not valid for {target}"
    if holder != approver:
        return f"this {kind} was issued to {holder}, not to '{approver}'"
    if now.timestamp() >= expiry:
        expired = datetime.fromtimestamp(expiry, UTC).isoformat(timespec="seconds")
        return f"this {kind} expired at {expired}"
    return None


def _signature(secret: bytes, scope: CodeScope, approver: str, expiry: int) -> str:
    message = "\n".join((scope.flow_run_id, scope.gate, approver, str(expiry))).encode()
    digest = hmac.new(secret, message, hashlib.sha256).digest()
    return base64.b32encode(digest).decode()[:SIGNATURE_CHARS]


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if number == 0:
            return out
