"""The content digest that pins what an approver saw to what is published."""

from __future__ import annotations

import hashlib


def sha256_of(data: bytes) -> str:
    """Hex sha256 of the bytes."""
    return hashlib.sha256(data).hexdigest()
