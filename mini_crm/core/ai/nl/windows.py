"""Windowed order rules in plain English, for the offline parser (nl_rules).

A clause that holds an order count or a spend *and* a period folds them into one windowed
rule (DESIGN.md "Windowed order rules"):

- "more than 3 orders last year"  → window_order_count > 3, window = last calendar year
  in the brand's zone ({"from": "2025-01-01", "to": "2025-12-31"});
- "spent over ₹10K in the last 6 months" → window_spend > 10000, {"last_days": 180};
- "bought from category shoes in the last 90 days" → window_order_count > 0 with
  items_match {"key": "category", "value": "shoes"}, {"last_days": 90}.

"last year / month / week" are the previous calendar period (a date token from
nl_date_words, so they arrive here as a span like "in 2025" or "in March"); "in the last
N days/months", "in the last month" are the last N brand days (a month is 30).
"""

from __future__ import annotations

from typing import Any

ITEM_KEYS = {"category": "category", "categories": "category", "sku": "sku",
             "brand": "brand", "brands": "brand"}
ITEM_SKIP = {"of", "is", "=", ":", "the", "a", "an", "named", "called"}
TARGETS = {"order_count": "window_order_count", "total_spend": "window_spend"}
# Marks a rule nl_dates read as "no order in <window>" from a negated period or span
# ("did not … last year", "didn't … in the last 90 days"); the value is the window.
# fold() always pops it: it never reaches the rules JSON.
NEGATED_WINDOW = "negated_window"
# Marks "ordered since <date>" (last_order_at >= date), the value its window from that
# date to today: a count or spend in the clause folds into it ("spent over 5k since
# March"); alone it stays last_order_at >= date. fold() always pops it.
SINCE_WINDOW = "since_window"
# NOT of a comparison on a window field: exact, since window fields are never missing
_NOT_OP = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "=": "!=", "!=": "=", "between": ""}


def fold(c: Any, cond_type: type) -> None:
    """Rewrite the clause's conditions in place (c is an nl_rules.Clause).

    A date span that nl_dates marked {"span_of": "orders"} ("ordered in April", not "last
    ordered in April") is any order in that span: it folds into a count or spend here,
    and otherwise becomes "ordered at all" in it (window_order_count > 0).
    """
    _fold_negated(c, cond_type)
    _fold(c, cond_type)
    for cond in c.conds:
        cond.rule.pop(SINCE_WINDOW, None)
    for k, cond in enumerate(c.conds):
        if cond.rule.pop("span_of", None):
            first, last = cond.rule["value"]
            c.conds[k] = cond_type({"field": "window_order_count", "operator": ">", "value": 0,
                                    "window": {"from": first, "to": last}},
                                   cond.tokens, cond.note)


def _fold_negated(c: Any, cond_type: type) -> None:
    """A negated clause with a count or spend and a window negates the windowed
    comparison: "did not place more than 3 orders last year" is NOT(window_order_count > 3
    in 2025), i.e. at most 3 orders in 2025, none included; "didn't spend over ₹5,000 in
    the last 90 days" is window_spend <= 5000 over the last 90 days. (It was read as "no
    order in the window AND the lifetime comparison", a different audience.) Without a
    count or spend the negated window stays "no order in it" (marker dropped)."""
    marked = next((k for k, cond in enumerate(c.conds) if NEGATED_WINDOW in cond.rule), None)
    if marked is None:
        return
    p = c.conds[marked]
    window = p.rule.pop(NEGATED_WINDOW)
    targets = [k for k, cond in enumerate(c.conds) if k != marked
               and cond.rule.get("field") in TARGETS]
    if not targets:
        return
    items, item_tokens = _items(c)
    match = {"items_match": items} if items else {}
    out = []
    for k, cond in enumerate(c.conds):
        if k == marked:
            continue
        if k in targets:
            r = cond.rule
            rule = {"field": TARGETS[r["field"]], "operator": r["operator"],
                    "value": r["value"], "window": window, **match}
            op = _NOT_OP.get(r["operator"], "")
            negated = {**rule, "operator": op} if op else \
                {"combinator": "and", "not": True, "rules": [rule]}
            out.append(cond_type(negated, sorted({*cond.tokens, *p.tokens, *item_tokens})))
        else:
            out.append(cond)
    c.conds = out
    c.used.update(item_tokens)


def _fold(c: Any, cond_type: type) -> None:
    period = next((k for k, cond in enumerate(c.conds) if _is_period(cond.rule)), None)
    if period is None:
        return
    p = c.conds[period]
    window = _window(p)
    items, item_tokens = _items(c)
    targets = [k for k, cond in enumerate(c.conds) if cond.rule.get("field") in TARGETS
               and k != period]
    if not targets and items is None:
        return
    p.rule.pop("span_of", None)
    match = {"items_match": items} if items else {}
    out = []
    for k, cond in enumerate(c.conds):
        if k == period:
            continue
        if k in targets:
            r = cond.rule
            out.append(cond_type({"field": TARGETS[r["field"]], "operator": r["operator"],
                                  "value": r["value"], "window": window, **match},
                                 sorted({*cond.tokens, *p.tokens, *item_tokens})))
        else:
            out.append(cond)
    if not targets:  # "bought from category shoes in the last 90 days": ordered at all
        out.append(cond_type({"field": "window_order_count", "operator": ">", "value": 0,
                              "window": window, **match}, sorted({*p.tokens, *item_tokens})))
    c.conds = out
    c.used.update(item_tokens)


def _is_period(rule: dict[str, Any]) -> bool:
    """'ordered in the last N days' or 'ordered in <calendar span>' (not a negation)."""
    f, op = rule.get("field"), rule.get("operator")
    if SINCE_WINDOW in rule:
        return True
    return (f == "days_since_last_order" and op in ("<", "<=")) or \
        (f == "last_order_at" and op == "between")


def _window(p: Any) -> dict[str, Any]:
    rule = p.rule
    if SINCE_WINDOW in rule:
        return dict(rule[SINCE_WINDOW])
    if rule["field"] == "last_order_at":
        return {"from": rule["value"][0], "to": rule["value"][1]}
    return {"last_days": int(rule["value"]) + (rule["operator"] == "<=")}


def _items(c: Any) -> tuple[dict[str, str] | None, list[int]]:
    """'category shoes', 'category "Running Shoes"', 'brand of Nike' → items_match."""
    for i, t in enumerate(c.toks):
        if t.kind != "word" or t.text not in ITEM_KEYS:
            continue
        j = i + 1
        while j < len(c.toks) and c.toks[j].text in ITEM_SKIP:
            j += 1
        if j < len(c.toks) and c.toks[j].kind in ("word", "str", "name"):
            value = c.toks[j].value if c.toks[j].kind == "str" else \
                c.toks[j].extra.get("raw", c.toks[j].text)
            if isinstance(value, str) and value.strip():
                return {"key": ITEM_KEYS[t.text], "value": value.strip()}, list(range(i, j + 1))
    return None, []
