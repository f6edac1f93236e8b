"""Shares of the customer base: "top 10% spenders", "bottom quartile by orders".

A share becomes a threshold computed from today's data by the caller's `quantile`
function (core/ai/quantiles.py: one portable ORDER BY … LIMIT 1 OFFSET k over the whole
customer table), and the explanation says what it was: "top 10% by spend = total spend at
least ₹12,400 today". Without data (no quantile function), or for a measure that has no
column to rank, the share is refused with a message — never read as "spent over ₹10".
"""

from __future__ import annotations

from mini_crm.core import formatting
from mini_crm.core.ai.nl.clauses import Clause, Context
from mini_crm.core.ai.nl.field_words import words_of
from mini_crm.core.ai.nl.vocab import ORDER_NOUNS

SIDES = {"top": "top", "highest": "top", "best": "top", "biggest": "top", "upper": "top",
         "bottom": "bottom", "lowest": "bottom", "least": "bottom", "lower": "bottom",
         "smallest": "bottom", "worst": "bottom"}
SHARES = {"quartile": 25, "decile": 10, "quintile": 20, "half": 50, "tercile": 100 / 3,
          "percentile": 1}
PERCENT = {"%", "percent", "pc", "per"}
RANKABLE = {"total_spend": "spend", "order_count": "number of orders"}
ORDER_WORDS = ORDER_NOUNS | {"order", "orders", "count", "frequency", "purchases"}


def read_percentiles(c: Clause, ctx: Context) -> None:
    """"top 10% …", "bottom quartile …", "top decile …": a threshold rule, or a refusal."""
    for i, t in enumerate(c.toks):
        if i in c.used or t.kind != "word" or t.text not in SIDES:
            continue
        found = _share(c, i)
        if found is None:
            continue
        share, span = found
        field_name, field_words = _measure(c, span[-1] + 1)
        idx = [*span, *field_words]
        side = SIDES[t.text]
        label = f"{side} {_fmt(share)}%"
        if field_name is None:
            c.refuse(idx, f"“{label}” of what? Say “{label} by spend” or “… by orders”")
            continue
        if field_name not in RANKABLE:
            c.refuse(idx, f"“{label}” can rank spend or number of orders only")
            continue
        value = ctx.quantile(field_name, side, share) if ctx.quantile else None
        if value is None:
            c.refuse(idx, f"“{label}” needs customer data to compute a threshold")
            continue
        op = ">=" if side == "top" else "<="
        shown = formatting.rupees(value) if field_name == "total_spend" else \
            formatting.plural(int(value), "order")
        what = "total spend" if field_name == "total_spend" else "order count"
        c.add({"field": field_name, "operator": op, "value": value}, idx,
              note=f"{label} by {RANKABLE[field_name]} = {what} "
                   f"{'at least' if side == 'top' else 'at most'} {shown} today")


def _share(c: Clause, i: int) -> tuple[float, list[int]] | None:
    """The share after a side word: "10%", "10 percent", "quartile", "5 per cent"."""
    j = i + 1
    if j < len(c.toks) and c.toks[j].text == "the":
        j += 1
    if j >= len(c.toks):
        return None
    t = c.toks[j]
    if t.kind == "word" and t.text.rstrip("s") in SHARES:
        return SHARES[t.text.rstrip("s")], list(range(i, j + 1))
    if t.kind in ("num", "money") and j + 1 < len(c.toks) and c.toks[j + 1].text in PERCENT:
        end = j + 1
        if c.toks[end].text == "per" and end + 1 < len(c.toks) and \
                c.toks[end + 1].text == "cent":
            end += 1
        elif c.toks[end].text == "per":
            return None
        share = float(t.value)
        return (share, list(range(i, end + 1))) if 0 < share < 100 else None
    return None


def _measure(c: Clause, start: int) -> tuple[str | None, list[int]]:
    """What the share ranks: spend, orders or average order value, named in the clause."""
    spend_words, aov_words = words_of("total_spend"), words_of("avg_order_value")
    spend = [k for k, t in enumerate(c.toks) if k >= start - 4 and t.text in spend_words
             and k not in c.used]
    aov = [k for k, t in enumerate(c.toks) if t.text in aov_words and k not in c.used]
    orders = [k for k, t in enumerate(c.toks) if t.text in ORDER_WORDS and k not in c.used]
    by = [k for k in range(start, min(start + 2, len(c.toks))) if c.toks[k].text in ("by", "of",
                                                                                    "in")]
    if aov:
        return "avg_order_value", [*by, *aov]
    if spend:
        return "total_spend", [*by, *spend]
    if orders:
        return "order_count", [*by, *orders]
    return None, by


def _fmt(share: float) -> str:
    return f"{share:g}" if share == int(share) else f"{share:.1f}"
