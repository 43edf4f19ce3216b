"""What a publication's bytes are, shared by client and server so both hash the same thing.

A report is CSV as sent; a feed is JSON, hashed and stored in canonical form (sorted keys,
no whitespace) so the same feed always has the same checksum, however it was serialised.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from typing import Any, Literal

from foundation.errors import RecoveryError, TerminalError

Kind = Literal["report", "feed"]
KINDS: tuple[Kind, ...] = ("report", "feed")
MEDIA_TYPES: dict[Kind, str] = {"report": "text/csv", "feed": "application/json"}


class ContentError(RecoveryError, TerminalError, ValueError):
    """The bytes are not a valid report or feed."""


def sha256(data: bytes) -> str:
    """Hex SHA-256 of the stored bytes: the content's identity in receipts."""
    return hashlib.sha256(data).hexdigest()


def canonical_feed(feed: dict[str, Any]) -> bytes:
    """The feed's canonical JSON bytes."""
    try:
        text = json.dumps(feed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise ContentError(f"feed is not JSON-serialisable: {exc}") from exc
    return text.encode("utf-8")


def parse_feed(data: bytes) -> bytes:
    """Validate an uploaded feed (a JSON object) and return its canonical bytes."""
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ContentError(f"feed is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ContentError(f"feed must be a JSON object, got {type(value).__name__}")
    return canonical_feed(value)


def count_csv_rows(data: bytes) -> int:
    """Validate an uploaded report (UTF-8 CSV with a header) and count its data rows."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ContentError(f"report is not UTF-8 text: {exc}") from exc
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise ContentError(f"report is not valid CSV: {exc}") from exc
    rows = [row for row in rows if row]
    if not rows:
        raise ContentError("report is empty: a CSV needs at least a header row")
    width = len(rows[0])
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != width:
            raise ContentError(f"report row {number} has {len(row)} fields, header has {width}")
    return len(rows) - 1
