"""The opening quote of a string that YAML read on past its line, closed by a later quote.

`value: "2026-10}` with a `"` a few lines further down is valid YAML up to that later quote:
the scanner takes everything in between as one string and fails only after it, lines later,
with a message about commas or indentation that points nowhere near the mistake. When the
error lies on the line where such a multi-line quoted string ends, the opening quote is
what to fix; this finds it by re-scanning the text up to the error.
"""

from __future__ import annotations

import yaml


def quote_closed_later(exc: yaml.MarkedYAMLError, text: str, loader: type) -> yaml.Mark | None:
    """The start of the quoted string that ran on to the error's line, if one did."""
    if exc.problem_mark is None:
        return None
    error_line = exc.problem_mark.line
    opened = None
    try:
        for token in yaml.scan(text, Loader=loader):
            if token.start_mark.line > error_line:
                break
            spans = token.end_mark.line > token.start_mark.line
            if isinstance(token, yaml.ScalarToken) and token.style in ('"', "'") and spans:
                opened = token.start_mark if token.end_mark.line == error_line else None
    except yaml.MarkedYAMLError:
        pass  # the scan stops at the same error: the tokens before it are what we need
    return opened


def explain_closed_later(quote: str, opened_line: int, error_line: int, problem: str) -> str:
    """The message for a quote closed lines later by another string's quote."""
    return (
        f"unclosed quote: the string opened here with {quote} is not closed on this line; "
        f"YAML read on to line {error_line}, where a later {quote} closed it, and then "
        f"failed ({problem}); add the closing {quote} on line {opened_line}"
    )
