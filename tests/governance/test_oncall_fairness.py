"""Property test over generated governance files: the schedule never stacks more back-to-back
primary weeks than the simple swap rule, nobody away is on call, primary and backup differ,
and every hour is covered or reported as a gap.

The simple rule is written again here, by weeks only, from the files' dates: the absent
primary's week goes to the partner's next week (else the next engineer's in rotation); when
nobody can trade, the next engineer present takes it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from governance.config import parse_governance
from governance.models import GovernanceConfig
from governance.oncall.schedule import schedule
from tests.governance.conftest import BASE

WEEKS = 30
START = date(2026, 1, 5)
ZONES = ["Europe/London", "America/New_York", "UTC"]

absence = st.tuples(
    st.integers(0, 3),  # engineer
    st.integers(-3, WEEKS * 7),  # first day, from the rotation's start
    st.integers(0, 16),  # extra days
)
governance_files = st.tuples(
    st.lists(absence, max_size=8),
    st.lists(st.integers(0, WEEKS * 7), max_size=2),  # public holidays, everyone
    st.sampled_from([30, 50, 70]),
    st.sampled_from(ZONES),
)


def _config(absences: list, public: list[int], threshold: int, zone: str) -> GovernanceConfig:
    text = BASE.replace("WEEKDAY", "monday").replace("TIME", "09:00").replace("ZONE", zone)
    text += f"  swap_threshold: {threshold}\n  calendar: team\n"
    days = ", ".join(
        f"{{name: holiday {i}, from: {START + timedelta(days=d)}}}" for i, d in enumerate(public)
    )
    text += f"public_holidays: {{team: [{days}]}}\n"
    holidays = ", ".join(
        f"{{engineer: {'ABCD'[e]}, from: {START + timedelta(days=d)}, "
        f"to: {START + timedelta(days=d + n)}}}"
        for e, d, n in absences
    )
    return parse_governance(text + f"holidays: [{holidays}]\n", "generated.yaml")


def _away(config: GovernanceConfig) -> dict[str, list[tuple[datetime, datetime]]]:
    """Each engineer's absences as UTC ranges of whole local days."""
    zone = ZoneInfo(config.rotation.timezone)

    def days(first: date, last: date) -> tuple[datetime, datetime]:
        return (
            datetime.combine(first, time(0), tzinfo=zone).astimezone(UTC),
            datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC),
        )

    away: dict[str, list[tuple[datetime, datetime]]] = {e: [] for e in config.engineers}
    for h in config.holidays:
        away[h.engineer].append(days(h.from_, h.to))
    for day in config.public_holidays.get("team", []):
        for e in away:
            away[e].append(days(day.from_, day.last))
    return away


def _simple_rule(config: GovernanceConfig, weeks: int) -> list[str | None]:
    """Weekly primaries under the simple swap rule (the bound the schedule must keep)."""
    order, n = config.rotation.order, len(config.rotation.order)
    zone = ZoneInfo(config.rotation.timezone)
    away = _away(config)

    def handoff(k: int) -> datetime:
        day = START + timedelta(days=7 * k)
        return datetime.combine(day, time(9), tzinfo=zone).astimezone(UTC)

    def long_away(e: str, k: int) -> bool:
        begin, end = handoff(k), handoff(k + 1)
        hours = set()
        for first, after in away[e]:
            t = max(first, begin)
            while t < min(after, end):
                hours.add(t)
                t += timedelta(hours=1)
        return len(hours) * 100 > config.rotation.swap_threshold * (end - begin) / timedelta(
            hours=1
        )

    primary: list[str | None] = [order[k % n] for k in range(weeks + 2 * n)]
    for j in range(weeks):
        p = primary[j]
        if p is None or not long_away(p, j):
            continue
        others = [order[(order.index(p) + s) % n] for s in range(1, n)]
        for q in others:
            m = next((m for m in range(j + 1, j + 2 * n + 1) if primary[m] == q), None)
            if not long_away(q, j) and m is not None and not long_away(p, m):
                primary[j], primary[m] = q, p
                break
        else:
            primary[j] = next((q for q in others if not long_away(q, j)), None)
    return primary[:weeks]


def _back_to_back(primaries: list[str | None]) -> int:
    return sum(1 for a, b in pairwise(primaries) if a is not None and a == b)


@settings(max_examples=60, deadline=timedelta(seconds=5))
@given(governance_files)
def test_schedules_keep_the_rotations_invariants_and_stack_no_extra_weeks(generated) -> None:
    config = _config(*generated)
    first = datetime.combine(START, time(9), tzinfo=ZoneInfo(config.rotation.timezone))
    rows = schedule(config, first, WEEKS)
    away = _away(config)

    def present(e: str, start: datetime, end: datetime) -> bool:
        return all(not (a < end and start < b) for a, b in away[e])

    assert rows[0].span[0] == first
    for before, after in pairwise(rows):  # every hour is in exactly one assignment
        assert before.span[1] == after.span[0]
    for row in rows:
        start, end = row.span
        assert row.primary is None or row.primary != row.backup
        for name in row.people:  # nobody away is on call
            assert present(name, start, end), (name, row)
        free = [e for e in config.engineers if present(e, start, end)]
        if row.primary is None:  # a gap only when nobody is present
            assert free == []
        if row.backup is None:
            assert [e for e in free if e != row.primary] == []
    weekly = list({row.week_start: row.week_primary for row in rows}.values())
    assert len(weekly) == WEEKS
    assert _back_to_back(weekly) <= _back_to_back(_simple_rule(config, WEEKS))
