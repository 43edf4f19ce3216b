"""Pydantic's errors said in a runbook author's words: what the field wants, then what it got.

"Input should be a valid boolean" becomes "wants true or false (got 'yes please')": the
author writes YAML, not Python, so the message names YAML's spellings.
"""

from __future__ import annotations

from typing import Any

from foundation.pydantic_errors import message_of

_WANTS = {
    "bool_parsing": "wants true or false",
    "bool_type": "wants true or false",
    "int_parsing": "wants a whole number, e.g. 3",
    "int_type": "wants a whole number, e.g. 3",
    "int_from_float": "wants a whole number, e.g. 3",
    "float_parsing": "wants a number, e.g. 2.5",
    "float_type": "wants a number, e.g. 2.5",
    "string_type": "wants text (put it in quotes)",
    "list_type": "wants a list, e.g. [a, b]",
    "dict_type": "wants a mapping (key: value lines, or {key: value})",
    "model_type": "wants a mapping (key: value lines, or {key: value})",
    "model_attributes_type": "wants a mapping (key: value lines, or {key: value})",
    "date_parsing": "wants a date YYYY-MM-DD",
    "date_from_datetime_parsing": "wants a date YYYY-MM-DD",
    "date_type": "wants a date YYYY-MM-DD",
}


def runbook_message(err: Any) -> str:
    """One pydantic error as a sentence for the runbook author."""
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind in _WANTS:
        text = _WANTS[kind]
    elif kind == "literal_error":
        text = f"must be one of {ctx.get('expected', '')}"
    elif kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = next(iter(ctx.values()), "")
        text = {
            "greater_than_equal": f"must be at least {bound}",
            "greater_than": f"must be more than {bound}",
            "less_than_equal": f"must be at most {bound}",
            "less_than": f"must be less than {bound}",
        }[kind]
    elif kind in ("too_short", "too_long"):
        limit = ctx.get("min_length" if kind == "too_short" else "max_length")
        noun = "item" if limit == 1 else "items"
        side = "at least" if kind == "too_short" else "at most"
        return f"needs {side} {limit} {noun}, found {ctx.get('actual_length')}"
    else:
        return message_of(err)
    given = err.get("input")
    shown = given if isinstance(given, str | int | float | bool) else None
    return f"{text} (got {shown!r})" if shown is not None else text
