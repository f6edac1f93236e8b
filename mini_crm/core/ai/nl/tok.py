"""The parser's token: one typed piece of a prompt with its span in the original text.

A module of its own so that the tokenizer's steps (`tokens`, `date_words`) can all
import it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Tok:
    """A token: `kind` (see `tokens`' docstring), its normalised text, its character
    span [start, end) in the original prompt and a kind-specific `value`."""

    kind: str
    text: str  # normalised (lower-case) text
    start: int  # span in the original prompt
    end: int
    value: Any = None
    times: bool = False  # "once", "twice": a count of orders by itself
    glued: bool = False  # no space before this token ("5k", "₹5")
    extra: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        v = "" if self.value is None else f"={self.value!r}"
        return f"{self.kind}:{self.text}{v}"


def merge(tokens: list[Tok], i: int, n: int, kind: str, value: Any, **kw: Any) -> Tok:
    """One token of `kind` in place of tokens[i:i+n], spanning them all."""
    span = tokens[i:i + n]
    return Tok(kind, " ".join(t.text for t in span), span[0].start, span[-1].end, value, **kw)
