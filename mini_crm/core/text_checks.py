"""One check for text a person or a client hands us to store or compile: no control
characters.

PostgreSQL cannot store U+0000 (NUL) in text or JSON at all (the statement fails), the
other C0/C1 control characters are invisible in every page, CSV and log that shows them,
and none belongs in a rule value, a segment or campaign name, a message or a subject.
Tab and line breaks are allowed only where the text may span lines (a message body).

Names (segments, campaigns, tags, API keys) are held to more: `name_problem` also
refuses invisible format characters (Unicode category Cf: zero-width space U+200B, BOM,
soft hyphen, bidi overrides...), which made "Big\u200b spenders" a second name that
looks exactly like "Big spenders". ZWNJ/ZWJ (U+200C/U+200D) are kept: Devanagari,
Malayalam and emoji sequences need them to render. `name_key_text` is the text names
are compared by (segment uniqueness): NFKC (full-width "Ｂｉｇ" is "Big"), casefold,
every Cf removed (ZWJ/ZWNJ too), whitespace runs made one space, trimmed.

`control_problem(text, what, multiline=...)` returns the sentence for the user (or None)
and `check_text` raises `ControlCharacterError` (a ValueError) with it; callers wrap it in
their own error type with the field it belongs to. Ingestion items have their own NUL
check (core.ingestion.schemas) because their per-item error wording is a contract.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["CONTROL_CHARACTERS", "ControlCharacterError", "check_name", "check_text",
           "control_problem", "name_key_text", "name_problem"]

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


# Cf characters a name may keep: they change how Indic scripts and emoji render.
_JOINERS = frozenset("\u200c\u200d")


def name_problem(text: str, what: str) -> str | None:
    """control_problem (single line) plus invisible format characters: "a segment name
    contains the invisible character U+200B (zero width space); remove it", or None."""
    if problem := control_problem(text, what):
        return problem
    if not isinstance(text, str):
        return None
    for char in text:
        if char not in _JOINERS and unicodedata.category(char) == "Cf":
            label = unicodedata.name(char, "format character").lower()
            return (f"{what} contains the invisible character U+{ord(char):04X} "
                    f"({label}); remove it")
    return None


def check_name(text: str, what: str) -> str:
    """`text` unchanged, or ControlCharacterError with `name_problem`'s sentence."""
    problem = name_problem(text, what)
    if problem:
        raise ControlCharacterError(problem)
    return text


def name_key_text(name: str | None) -> str:
    """The text two names are "the same name" by: NFKC-folded (full-width and other
    compatibility forms become plain letters), case-folded, every format character (Cf)
    removed, runs of whitespace made one space and the ends trimmed. NFKC is applied
    again after casefold because folding can produce text that is not normalised."""
    text = unicodedata.normalize("NFKC", name or "")
    text = unicodedata.normalize("NFKC", text.casefold())
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return " ".join(text.split())
