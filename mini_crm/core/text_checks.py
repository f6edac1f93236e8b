"""One check for text a person or a client hands us to store or compile: no control
characters.

PostgreSQL cannot store U+0000 (NUL) in text or JSON at all (the statement fails), the
other C0/C1 control characters are invisible in every page, CSV and log that shows them,
and none belongs in a rule value, a segment or campaign name, a message or a subject.
Tab and line breaks are allowed only where the text may span lines (a message body).

`control_problem(text, what, multiline=...)` returns the sentence for the user (or None)
and `check_text` raises `ControlCharacterError` (a ValueError) with it; callers wrap it in
their own error type with the field it belongs to. Ingestion items have their own NUL
check (core.ingestion.schemas) because their per-item error wording is a contract.
"""

from __future__ import annotations

import re

__all__ = ["CONTROL_CHARACTERS", "ControlCharacterError", "check_text", "control_problem"]

# C0 controls, DEL and C1 controls; tab (\t), newline (\n) and CR (\r) are decided by
# `multiline`. Also what makes an external id unprintable (core.ingestion.schemas).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_LINE_CONTROLS = frozenset("\t\n\r")
_NAMES = {"\x00": "a NUL character (U+0000)", "\t": "a tab", "\n": "a line break",
          "\r": "a line break"}


class ControlCharacterError(ValueError):
    """A text holding a control character; `str()` is the message for the user."""


def control_problem(text: str, what: str, *, multiline: bool = False) -> str | None:
    """"<what> contains a NUL character (U+0000); remove it" (or names the control
    character by code point), or None when `text` is fine. With `multiline=True` tab,
    newline and carriage return are allowed (a message body); otherwise they are refused
    too (a name, a subject, a rule value). Non-str values are not this check's concern
    (None)."""
    if not isinstance(text, str):
        return None
    for match in CONTROL_CHARACTERS.finditer(text):
        char = match.group()
        if multiline and char in _LINE_CONTROLS:
            continue
        name = _NAMES.get(char, f"the control character U+{ord(char):04X}")
        return f"{what} contains {name}; remove it"
    return None


def check_text(text: str, what: str, *, multiline: bool = False) -> str:
    """`text` unchanged, or ControlCharacterError with `control_problem`'s sentence."""
    problem = control_problem(text, what, multiline=multiline)
    if problem:
        raise ControlCharacterError(problem)
    return text
