"""How rules and leftovers read back to the marketer: quotes of the prompt, rule phrases."""

from __future__ import annotations

import re
from typing import Any

from mini_crm.core.ai.nl import lexicon
from mini_crm.core.ai.nl import tokens as lx
from mini_crm.core.ai.nl.clauses import Clause, Context
from mini_crm.core.ai.nl.field_words import every_word
from mini_crm.core.ai.nl.tokens import Tok
from mini_crm.core.ai.nl.vocab import (
    FILLER,
    LAPSE,
    NEG,
    ORDER_NOUNS,
    ORDER_VERBS,
    REPEAT,
    TEXT_OPS,
    VAGUE,
)
from mini_crm.core.segments.describe import describe

CONTENT_KINDS = ("word", "num", "str", "money", "name", "names", "period", "date", "range",
                 "domain", "domains")


def leftovers(text: str, mapped: lx.Mapped, c: Clause, reserved: set[str]) -> list[str]:
    """Content words of a clause that no rule used: reported, never silently dropped.

    Only grammar glue (FILLER: "customers", "who", "the" …) may go unused quietly; a
    grammar word left over ("churned" with nothing to attach to, "top" without a share)
    changes what the marketer meant, so it is reported like an unknown word.
    """
    out, run = [], []
    for i, t in enumerate(c.toks):
        unknown = i not in c.used and t.kind in CONTENT_KINDS and t.text not in FILLER \
            and (len(t.text) > 1 or t.kind != "word") \
            and not (c.conds and t.text in VAGUE)  # "high value: spend ≥ ₹25K"
        if unknown:
            run.append(t)
        elif run:
            out.append(quote(text, mapped, run))
            run = []
    if run:
        out.append(quote(text, mapped, run))
    return out


def reserved_words(ctx: Context) -> set[str]:
    """Words the grammar itself uses: attribute values spelt like them need their key."""
    words = set(FILLER) | NEG | LAPSE | ORDER_VERBS | ORDER_NOUNS | every_word() \
        | REPEAT | set(lexicon.UNITS) | set(lexicon.MONTHS) \
        | set(lexicon.NUMBER_WORDS) | set(ctx.providers) \
        | {"true", "false", "yes", "no", "unknown", "other", "none", "first", "last", "app"}
    for phrase in (*lexicon.CMP_PHRASES, *lexicon.POST_PHRASES, *lexicon.WINDOW_PHRASES,
                   *TEXT_OPS):
        words.update(phrase.split())
    return words


def quote(text: str, mapped: lx.Mapped, toks: list[Tok]) -> str:
    if not toks:
        return ""
    start, _ = mapped.source(min(t.start for t in toks), min(t.start for t in toks))
    _, end = mapped.source(max(t.end for t in toks), max(t.end for t in toks))
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "'’"):
        start -= 1  # "haven't": the "not" came from inside a word
    return text[start:end].strip(" ,;.")


_DAYS_PHRASES = {
    "days_since_signup": ("joined in the last {} days", "joined at least {} days ago"),
    "days_since_first_order": ("first ordered in the last {} days",
                               "first ordered at least {} days ago"),
}


def phrase(rule: dict[str, Any]) -> str:
    """How one rule reads (describe.py's sentence, with a few clearer cases)."""
    f, op, v = rule.get("field"), rule.get("operator"), rule.get("value")
    if f == "order_count" and op == "=" and v in (0, 1):
        return "have never ordered" if v == 0 else "placed exactly 1 order"
    if f in _DAYS_PHRASES and op in ("<", "<=", ">", ">="):
        recent, old = _DAYS_PHRASES[f]
        if op in ("<", "<="):
            return recent.format(v + (op == "<="))
        return old.format(v + (op == ">"))
    group = rule if "rules" in rule else {"combinator": "and", "rules": [rule]}
    return readable(describe(group)).removeprefix("Customers who ")


def readable(sentence: str) -> str:
    """describe()'s sentence with attribute fields named in words (loyalty tier)."""
    return re.sub(r"attributes\.([A-Za-z0-9_]+)", lambda m: m.group(1).replace("_", " "),
                  sentence)
