"""How the answers at one gate prove who gave them, and how approvers get their proof.

The production profile requires an approval code with every answer (`governance.approval_codes`):
each authorized approver is sent their own code privately when the gate opens, and again on
escalation. Without the server-side secret no code can be issued, so such a gate refuses to
open at all (fail closed) rather than fall back to typed names. The `local` and `demo`
profiles trust typed names, and the form says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from foundation.settings import ApprovalSettings
from governance.approval_codes import CodeScope, code_refusal, issue_code
from governance.ledger.records import Notification
from governance.notification import messages
from governance.notification.notify import Notifier
from recovery_tasks.errors import GateClosed

NO_CODE = (
    "unverified: a typed name is not an identity here; enter the approval code sent to you "
    "privately when the gate opened"
)


@dataclass(frozen=True)
class GateIdentity:
    """The proof this gate asks of an answer: its approver's code, or (local) nothing."""

    required: bool
    secret: bytes | None
    scope: CodeScope

    @classmethod
    def of(cls, settings: ApprovalSettings, scope: CodeScope) -> GateIdentity:
        """The gate's identity rules; GateClosed when codes are required but none can be made."""
        secret = settings.approval_secret
        key = secret.get_secret_value().encode() if secret and secret.get_secret_value() else None
        if settings.codes_required and key is None:
            raise GateClosed(
                "answers must be verified (profile "
                f"{settings.profile}) but RUNBOOK_APPROVAL_SECRET is not set: no approval code "
                "can be issued, so nobody could prove who they are; nothing published"
            )
        return cls(settings.codes_required, key, scope)

    def code_for(self, approver: str) -> str | None:
        """`approver`'s code for this gate (None when this profile issues none)."""
        return issue_code(self.secret, self.scope, approver) if self.secret else None

    def refusal(self, approver: str, code: str, now: datetime) -> str | None:
        """Why this answer is not proven to come from `approver` (None: it counts as theirs)."""
        if not self.required:
            return None
        if not code.strip():
            return NO_CODE
        assert self.secret is not None  # `of` refuses a required gate without a secret
        why = code_refusal(self.secret, self.scope, approver, code, now)
        return f"unverified: {why}" if why else None

    @property
    def form_note(self) -> str:
        """The line on top of the evidence saying what the form's code field is for."""
        if self.required:
            return (
                "**Identity:** enter the approval code sent to you privately; a typed name "
                "alone is refused."
            )
        return (
            "**Identity (local/demo profile):** the approver's name is taken as typed and "
            "not verified; production requires each approver's own approval code."
        )

    def send_codes(
        self,
        notifier: Notifier,
        approvers: Iterable[str],
        *,
        pipeline: str,
        incident_id: int | None,
        link: str | None,
        page_url: str | None = None,
    ) -> list[Notification]:
        """Send each approver their own code, each through their own contacts only; with
        `page_url`, the code also as a signed link to the approval page."""
        sent: list[Notification] = []
        for approver in dict.fromkeys(approvers):
            code = self.code_for(approver)
            if code is None:
                continue
            tap = answer_link(page_url, self.scope.flow_run_id, code) if page_url else None
            message = messages.approval_code(
                pipeline,
                incident_id,
                approver,
                code,
                self.scope.flow_run_id,
                self.scope.expires_at,
                link,
                tap,
            )
            sent.extend(notifier.send(message, [approver]))
        return sent


def answer_link(page_url: str, flow_run_id: str, code: str) -> str:
    """The approval page's address for one approver's code: the code is the link's signature,
    so the page proves nothing itself and the gate checks the code like any other answer."""
    return f"{page_url.rstrip('/')}/answer/{flow_run_id}?code={quote(code, safe='')}"
