"""Text as a person can read it: control and invisible characters shown escaped.

A NUL in an event breaks Prefect's trigger consumer on PostgreSQL and loses a whole batch of
other events; a zero-width space makes "B\u200b" look like the approver "B". Emitters clean
text before it leaves (`clean`), and anything shown to a person escapes what cannot be seen
(`visible`), so what is on screen is what is stored.
"""

from __future__ import annotations

import unicodedata

_KEPT_IN_TEXT = frozenset("\n\t")  # kept in free text (details); never in names
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def is_invisible(char: str, *, free_text: bool = False) -> bool:
    """A control, format (zero-width, bidi) or unassigned character."""
    if free_text and char in _KEPT_IN_TEXT:
        return False
    return unicodedata.category(char) in _INVISIBLE


def invisible_chars(text: str, *, free_text: bool = False) -> list[str]:
    """The invisible characters of `text`, escaped (e.g. ['\\x00', '\\u200b'])."""
    return [_escaped(c) for c in text if is_invisible(c, free_text=free_text)]


def visible(text: str, *, free_text: bool = False) -> str:
    """`text` with every invisible character replaced by its escape (`\\x00`, `\\u200b`)."""
    if not any(is_invisible(c, free_text=free_text) for c in text):
        return text
    return "".join(_escaped(c) if is_invisible(c, free_text=free_text) else c for c in text)


def _escaped(char: str) -> str:
    code = ord(char)
    return (
        f"\\x{code:02x}"
        if code < 0x100
        else f"\\u{code:04x}"
        if code < 0x10000
        else f"\\U{code:08x}"
    )
