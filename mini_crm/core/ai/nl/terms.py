"""Marketer vocabulary in prompts: "churned", "VIP", "at risk", "big spenders" ….

Each word is a named definition (rules JSON) kept in the database and editable in
Settings (core/ai/vocabulary.py holds the defaults and the storage); the parser only
finds the words and applies whatever definition it was given, so an edited definition
changes what "VIP" means at once, and the explanation quotes the definition used.

A time-based term ("lapsed", "new" …) gives way to an explicit period or date in its
clause about the same thing: "lapsed for 6 months" is read by the period grammar, not by
the default 90 days, and "lapsed customers since Diwali" (or "churned since last
Christmas") means ordered before but nothing since Diwali: last order before Diwali
(customers who never ordered are not lapsed). "new customers since Diwali" is signed up
on or after Diwali. A time about something else keeps the definition: "VIP customers
since Holi" is VIP and a customer (signed up) since Holi; "churned signups since Diwali"
is churned and signed up since Diwali.

"recently" (or "lately") next to a term about the last order ("recently lapsed",
"customers who lapsed recently") means it became true within the definition's own
window: lapsed at least N days ago (the definition's threshold) and less than 2N, so
with the default lapsed (no order in 90 days) "recently lapsed" is a last order 90–179
days ago, "recently churned" 180–359, "recently dormant" 365–729. A term whose
definition has no such open threshold ("at risk" is already 60–119 days; "new" is about
the signup) reads as defined and "recently" is reported with why, never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mini_crm.core.ai.nl.clauses import Clause, Context
from mini_crm.core.ai.nl.combine import negate
from mini_crm.core.ai.nl.dates import time_field


@dataclass(frozen=True)
class Term:
    key: str  # "at_risk"
    label: str  # "at risk"
    rules: dict[str, Any]  # a rules group (DESIGN.md JSON)
    description: str = ""


# Word sequences (tokens, hyphens dropped) → term key. Longest phrases are tried first.
PHRASES: dict[str, str] = {
    "lapsed": "lapsed", "churned": "churned", "churners": "churned", "churn": "churned",
    "dormant": "dormant", "at risk": "at_risk", "vip": "vip", "vips": "vip",
    "loyal": "loyal", "loyalists": "loyal", "new": "new", "one time": "one_time",
    "one timers": "one_time", "one timer": "one_time", "repeat": "repeat",
    "returning": "repeat", "recurring": "repeat", "regulars": "repeat",
    "big spender": "big_spender", "big spenders": "big_spender",
    "high spenders": "big_spender", "heavy spenders": "big_spender",
    "top spenders": "big_spender",
}
# Terms about time → the days field they are about: an explicit period or date in the
# clause about that field wins over the definition.
TIME_TERMS = {"lapsed": "days_since_last_order", "churned": "days_since_last_order",
              "dormant": "days_since_last_order", "at_risk": "days_since_last_order",
              "new": "days_since_signup"}
NEGATORS = {"not", "non", "never"}
RECENTLY = {"recently", "lately"}


def read_terms(c: Clause, ctx: Context) -> None:
    """Apply the definition of every marketer term in the clause (negated after "not"/"non-")."""
    if not ctx.terms:
        return
    # the field a period or date in this clause is about ("" when it has none)
    times = [i for i in c.index("period", "date", "range")
             if c.toks[i].kind != "range" or c.toks[i].extra.get("kind") == "period"]
    timed = time_field(c)[0] if times else ""
    words = [(i, t.text) for i, t in enumerate(c.toks)
             if i not in c.used and (t.kind == "word" or t.text == "one")]
    phrases = sorted(PHRASES, key=lambda p: -len(p.split()))
    k = 0
    while k < len(words):
        hit = None
        for p in phrases:
            parts = p.split()
            if [w for _, w in words[k:k + len(parts)]] == parts and \
                    _adjacent(c, [i for i, _ in words[k:k + len(parts)]]):
                hit = p
                break
        if hit is None:
            k += 1
            continue
        idx = [i for i, _ in words[k:k + len(hit.split())]]
        k += len(idx)
        term = ctx.terms.get(PHRASES[hit])
        if term is None or TIME_TERMS.get(term.key, "-") == timed \
                or any(i in c.used for i in idx):
            continue
        rules, note = term.rules, _note(term, False)
        recent = [j for j in (idx[0] - 1, idx[-1] + 1) if 0 <= j < len(c.toks)
                  and c.toks[j].text in RECENTLY and j not in c.used][:1]
        if recent:
            word = c.toks[recent[0]].text
            threshold = _open_threshold(term)
            if threshold is None:
                c.refuse(recent, f"it adds nothing to “{term.label}”: your definition "
                                 f"already says when: {term.description or term.label}")
                recent = []
            else:
                rules = {**rules, "rules": [*rules["rules"], {
                    "field": "days_since_last_order", "operator": "<",
                    "value": 2 * threshold}]}
                note = (f"{word} {term.label}: {term.label} within the last {threshold} "
                        f"days, i.e. last order {threshold}–{2 * threshold - 1} days ago "
                        f"(your definition in Settings: "
                        f"{term.description or term.label})")
        rule = rules if len(rules.get("rules", [])) != 1 else rules["rules"][0]
        neg = [j for j in range(max(0, min([*recent, *idx]) - 2), min([*recent, *idx]))
               if c.toks[j].text in NEGATORS and j not in c.used]
        c.add(negate(rule) if neg else rule, [*idx, *recent, *neg],
              note=f"not {note}" if neg else note)


def _open_threshold(term: Term) -> int | None:
    """N of a definition that says "no order in the last N days" with no upper bound
    (lapsed, churned, dormant as defined by default), else None."""
    if TIME_TERMS.get(term.key) != "days_since_last_order" or term.rules.get("not") \
            or term.rules.get("combinator", "and") != "and":
        return None
    on_last = [r for r in term.rules.get("rules", [])
               if r.get("field") == "days_since_last_order"]
    lower = [r for r in on_last if r.get("operator") in (">=", ">")]
    if len(lower) != 1 or len(on_last) != 1 or not isinstance(lower[0].get("value"), int):
        return None
    value = int(lower[0]["value"]) + (lower[0]["operator"] == ">")
    return value if value > 0 else None


def _adjacent(c: Clause, idx: list[int]) -> bool:
    """Words of one phrase, with at most a hyphen between them ("at-risk", "one-time")."""
    return all(b - a == 1 or (b - a == 2 and c.toks[a + 1].text == "-")
               for a, b in zip(idx, idx[1:], strict=False))


def _note(term: Term, negated: bool) -> str:
    what = term.description or term.label
    return f"{'not ' if negated else ''}{term.label} (your definition in Settings: {what})"
