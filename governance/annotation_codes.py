"""Annotation codes: what proves who explains a swing, as an approval code proves who answers.

An annotation lets a failing check pass, so in the production profile a typed name is not
enough for it either. When a check a person may explain fails (the engagement swing), each
engineer who may annotate the pipeline (on call now and its owners) is sent their own code,
privately, through their contacts in `governance.yaml`. Its scope is one partition of one
pipeline rather than one gate of one run, so it still works after the run that found the swing
was rejected: `runbook annotate PIPELINE PARTITION --as NAME --code CODE`. The signature is the
approval code's (`governance.approval_codes`) over a scope no flow run id can take
(`annotation:<pipeline>`, partition), so neither kind of code opens the other's door. A code is
good for ANNOTATION_CODE_VALID; `runbook retry` finds the swing again and sends new ones.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from foundation.settings import ApprovalSettings
from governance.approval_codes import CodeScope, code_refusal, issue_code
from governance.ledger.records import Notification
from governance.notification import messages
from governance.notification.notify import Notifier

ANNOTATION_CODE_VALID = timedelta(hours=24)


def annotation_scope(pipeline: str, partition: str, expires_at: datetime) -> CodeScope:
    """The scope of an annotation code: one partition of one pipeline, until `expires_at`."""
    return CodeScope(f"annotation:{pipeline}", partition, expires_at)


@dataclass(frozen=True)
class AnnotationCodes:
    """Issue and check annotation codes under this profile's rules."""

    required: bool
    secret: bytes | None

    @classmethod
    def of(cls, settings: ApprovalSettings) -> AnnotationCodes:
        secret = settings.approval_secret
        key = secret.get_secret_value().encode() if secret and secret.get_secret_value() else None
        return cls(settings.codes_required, key)

    def send(
        self,
        notifier: Notifier,
        engineers: Iterable[str],
        *,
        pipeline: str,
        partition: str,
        checks: list[str],
        incident_id: int | None,
        now: datetime,
    ) -> list[Notification]:
        """Send each engineer their own code for the partition (nothing without a secret)."""
        if self.secret is None:
            return []
        scope = annotation_scope(pipeline, partition, now + ANNOTATION_CODE_VALID)
        sent: list[Notification] = []
        for engineer in dict.fromkeys(engineers):
            code = issue_code(self.secret, scope, engineer)
            message = messages.annotation_code(
                pipeline, partition, checks, incident_id, engineer, code, scope.expires_at
            )
            sent.extend(notifier.send(message, [engineer]))
        return sent

    def refusal(
        self, pipeline: str, partition: str, author: str, code: str, now: datetime
    ) -> str | None:
        """Why this annotation is not proven to come from `author` (None: it is, or the
        profile takes typed names)."""
        if not self.required:
            return None
        if self.secret is None:
            return (
                "annotations must be verified (production profile) but RUNBOOK_APPROVAL_SECRET "
                "is not set here: set the same secret as the workers' to check your code"
            )
        if not code.strip():
            return (
                "unverified: a typed name is not an identity here; pass --code, the annotation "
                "code sent to you when the check failed (`runbook retry` sends new ones)"
            )
        scope = annotation_scope(pipeline, partition, now)  # the code carries its own expiry
        target = f"{pipeline} {partition}"
        why = code_refusal(
            self.secret, scope, author, code, now, kind="annotation code", target=target
        )
        return f"unverified: {why}" if why else None
