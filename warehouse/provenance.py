"""Where restored rows came from: a record per row a restore inserted (file and load).

A restore puts a day's validated rows in a staging table, then in one transaction, in SQL:
removes the rows an earlier restore of that day inserted (by their records, never a row the
source delivered itself), records the staged keys the table lacks, and inserts them. So a
restore from a corrected copy replaces its own earlier rows, and one from the same copy
changes nothing. The records live in `restored_rows`, beside the rows they describe: the
warehouse migration creates it; a source kept in another database gets it on first restore.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import Connection, Engine, TextClause, bindparam, text
from sqlalchemy.types import Date, DateTime

from warehouse.tables import restored_rows


@dataclass(frozen=True)
class Load:
    """One restore: the file a day's rows came from, and the load they belong to."""

    file: str
    load_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    at: datetime = field(default_factory=lambda: datetime.now(UTC).replace(tzinfo=None))

    def of_file(self, path: str) -> Load:
        """The same load reading another day's file."""
        return Load(path, self.load_id, self.at)


def ensure_records(engine: Engine) -> None:
    """Give a source kept outside the warehouse its `restored_rows` table (a no-op once made)."""
    restored_rows.create(engine, checkfirst=True)


_FORGET_ROWS = "DELETE FROM {table} WHERE {key} IN ({earlier}) AND {still_ours}"
_FORGET_RECORDS = "DELETE FROM restored_rows WHERE source_table = :t AND day = :day"
_EARLIER = "SELECT row_key FROM restored_rows WHERE source_table = :t AND day = :day"
_RECORD = """
    INSERT INTO restored_rows (source_table, row_key, day, file, load_id, restored_at)
    SELECT :t, s.{key}, :day, :file, :load, :at
    FROM (SELECT DISTINCT {key} FROM {stage} staged) s
    WHERE NOT EXISTS (SELECT 1 FROM {table} x WHERE x.{key} = s.{key})"""


@dataclass(frozen=True)
class Target:
    """A source table a restore fills: its key, its staged keys, its insert and ownership test.

    `stage` is a table or parenthesised query yielding the staged rows' `key`; `insert`
    inserts the staged rows, skipping keys present (`ON CONFLICT DO NOTHING`); `still_ours`
    is a condition on a row (`:day` bound) that a row the source delivered itself under the
    same key after the restore fails (another day, no restore mark). Trusted SQL only:
    callers pass their own constants.
    """

    table: str
    key: str
    stage: str
    insert: str
    still_ours: str


def replace_restored(conn: Connection, target: Target, day: date, load: Load) -> int:
    """Swap `day`'s earlier restored rows of the target table for the staged ones.

    Returns the rows added, net: inserted less the earlier restored rows removed, so
    restoring a day again from the same file counts 0.
    """
    table, key, insert = target.table, target.key, target.insert
    params = {"t": table, "day": day}
    forget = _FORGET_ROWS.format(
        table=table, key=key, earlier=_EARLIER, still_ours=target.still_ours
    )
    forgotten = conn.execute(_typed(forget), params).rowcount
    conn.execute(_typed(_FORGET_RECORDS), params)
    record = _typed(_RECORD.format(key=key, stage=target.stage, table=table))
    recorded = conn.execute(
        record, {**params, "file": load.file, "load": load.load_id, "at": load.at}
    ).rowcount
    conn.execute(_typed(insert), {"day": day} if ":day" in insert else {})
    return int(recorded) - int(forgotten)


def _typed(sql: str) -> TextClause:
    types = {"day": Date, "at": DateTime}
    return text(sql).bindparams(
        *(bindparam(k, type_=t) for k, t in types.items() if f":{k}" in sql)
    )
