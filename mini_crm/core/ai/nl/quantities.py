"""Extractors for amounts (total spend, average order value: the money fields, named by
their FieldSpec.words) and order counts."""

from __future__ import annotations

import re

from mini_crm.core.ai.nl.clauses import Clause, Context, negation_words, op_around, tidy
from mini_crm.core.ai.nl.combine import negate
from mini_crm.core.ai.nl.field_words import money_fields, names
from mini_crm.core.ai.nl.tokens import Tok
from mini_crm.core.ai.nl.vocab import MAX_VALUE, NEG, ORDER_NOUNS, ORDER_VERBS, REPEAT


def read_money(c: Clause, ctx: Context) -> None:
    """An amount: the money field the clause names ("average basket over ₹800" is the
    average order value), else the first one (total spend: "spent over ₹5K", "₹5K+")."""
    fields = money_fields()
    named = [f for f in fields if names(f, c.words())]
    spendish = bool(named)
    for i in c.index("money", "range", "num"):
        t = c.toks[i]
        if t.kind == "range" and t.extra.get("kind") not in ("money", "num"):
            continue
        if t.kind == "num" and not spendish:
            continue
        if t.kind in ("num", "range") and t.kind != "money" and not spendish:
            continue
        if t.kind in ("num", "range") and _counted(c, i):
            continue
        # a field named besides the first ("average spend") is the more specific one
        spec = next((f for f in named if f is not fields[0]), fields[0])
        field_name = spec.name
        singles = {w for f in fields for w in f.words if " " not in w}
        parts = {p for w in spec.words if " " in w for p in w.split()}
        triggers = [j for j, x in enumerate(c.toks) if x.text in singles
                    or x.text.removesuffix("s") in parts]
        if t.kind == "range":
            lo, hi = t.value
            if hi > MAX_VALUE:
                c.refuse([i, *triggers], too_big(t, hi, "an amount"))
                continue
            c.add({"field": field_name, "operator": "between", "value": [tidy(lo), tidy(hi)]},
                  [i, *triggers])
            continue
        if t.value > MAX_VALUE:
            op, extra = op_around(c, i, default=">=")
            c.refuse([i, *extra, *triggers], too_big(t, t.value, "an amount"))
            continue
        op, extra = op_around(c, i, default=">=")
        if negation_words(c) and not extra and c.has({"not", "never"}):
            op = "<"  # "haven't spent ₹500" → under ₹500
        c.add({"field": field_name, "operator": op, "value": tidy(t.value)},
              [i, *extra, *triggers])


def too_big(t: Tok, value: float, what: str) -> str:
    """Why a number above MAX_VALUE is refused, in the marketer's figures: "₹99,999,999,
    999,999,999,999 is more than an amount can be: the most is ₹1,000,000,000,000". The
    number is shown from its written digits when it has no words ("lakh", "K"), since the
    float it was read into has lost the last ones."""
    digits = re.sub(r"[₹,\s]|rs\.?|inr", "", t.text.split(" and ")[-1])
    shown = int(digits) if digits.isdigit() else int(value)
    rupee = "₹" if what == "an amount" else ""
    return (f"{rupee}{shown:,} is more than {what} can be: the most is "
            f"{rupee}{int(MAX_VALUE):,}")


def _counted(c: Clause, i: int) -> bool:
    """Is the number at i a count of orders ("3 orders", "more than 2 purchases")?"""
    t = c.toks[i]
    if t.times:
        return True
    nxt = c.toks[i + 1:i + 4]
    return any(x.text in ORDER_NOUNS for x in nxt if x.kind == "word")


def read_counts(c: Clause, ctx: Context) -> None:
    w = c.words()
    for i in c.index("num", "range"):
        t = c.toks[i]
        if t.kind == "range" and t.extra.get("kind") != "num":
            continue
        if not (_counted(c, i) or (w & ORDER_NOUNS) or (w & ORDER_VERBS and t.times)):
            continue
        nouns = [j for j in range(i + 1, min(len(c.toks), i + 4))
                 if c.toks[j].text in ORDER_NOUNS]
        verbs = [j for j, x in enumerate(c.toks) if x.text in ORDER_VERBS and j not in c.used]
        if t.kind == "range":
            lo, hi = t.value
            if hi > MAX_VALUE:
                c.refuse([i, *nouns, *verbs], too_big(t, hi, "a count of orders"))
                continue
            c.add({"field": "order_count", "operator": "between", "value": [tidy(lo), tidy(hi)]},
                  [i, *nouns, *verbs])
            continue
        if t.value > MAX_VALUE:
            _, extra = op_around(c, i, default="=")
            c.refuse([i, *extra, *nouns, *verbs], too_big(t, t.value, "a count of orders"))
            continue
        neg = negation_words(c)
        op, extra = op_around(c, i, default="=")
        if t.text == "one" and any(c.toks[j].text == "time" for j in nouns):
            op = "="  # "one-time buyers"
        if neg and not extra and t.value == 0:
            neg = []
        rule = {"field": "order_count", "operator": op, "value": tidy(t.value)}
        c.add(negate(rule) if neg and c.has({"not"}) and not extra else rule,
              [i, *extra, *nouns, *verbs])
    if any(cond.rule.get("field") == "order_count" for cond in c.conds) \
            or c.index("period", "date", free=False):
        return
    verbs = [j for j, x in enumerate(c.toks) if x.text in ORDER_VERBS | ORDER_NOUNS
             and j not in c.used and x.text not in ("spent", "paid", "active", "visited",
                                                    "came", "returned")]
    if not verbs:
        if w & REPEAT:
            c.add({"field": "order_count", "operator": ">=", "value": 2},
                  [j for j, x in enumerate(c.toks) if x.text in REPEAT])
        elif "first" in w and w & {"time", "timers", "timer"}:
            c.add({"field": "order_count", "operator": "=", "value": 1},
                  [j for j, x in enumerate(c.toks) if x.text in ("first", "time", "timers",
                                                                 "timer", "-")])
        return
    neg = negation_words(c)
    if neg and not {c.toks[j].text for j in neg} & NEG:
        # "stopped ordering", "lapsed buyers": they did order once, so never "have never
        # ordered"; with no period there is no rule to read: the words are reported
        return
    if neg:
        c.add({"field": "order_count", "operator": "=", "value": 0}, [*verbs, *neg])
    elif w & REPEAT:
        c.add({"field": "order_count", "operator": ">=", "value": 2},
              [*verbs, *(j for j, x in enumerate(c.toks) if x.text in REPEAT)])
    elif w & {"ever", "have", "has", "already", "before", "placed", "made"}:
        c.add({"field": "order_count", "operator": ">=", "value": 1}, verbs)
