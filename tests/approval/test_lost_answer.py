"""A pause that fired without an answer on record is asked again under a new key: the gate
never fails the run, and never takes an answer nobody gave."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from prefect import flow

from flows.approval.gate import _Waiting
from flows.approval.identity import GateIdentity
from flows.approval.waiting import AnswerLostError
from governance.approval_codes import CodeScope

pytestmark = pytest.mark.prefect


class LosesTheFirstPause(_Waiting):
    """A gate whose first pause was left without an answer (a crash retried after it
    suspended); the pause asked after it is answered."""

    asked: list[str]

    async def _ask(self, key: str, verdict: Any, left: int) -> Any:
        self.asked.append(key)
        if len(self.asked) == 1:
            raise AnswerLostError(key)
        return {"approver": "B", "decision": "approve"}


def test_a_pause_left_without_an_answer_is_asked_again_under_a_new_key(
    prefect_server: None,
) -> None:
    now = datetime.now(UTC)
    typed_names = GateIdentity(required=False, secret=None, scope=CodeScope("run", "approve", now))
    gate = LosesTheFirstPause(
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        now,
        now,
        suspend=True,
        identity=typed_names,
    )
    gate.asked = []

    @flow(name="lost-answer", persist_result=False)
    async def ask() -> Any:
        return await gate._ask_until_on_record("approve-1", None, 60)  # type: ignore[arg-type]

    assert asyncio.run(ask()) == {"approver": "B", "decision": "approve"}
    assert gate.asked == ["approve-1", "approve-1-again-1"]
