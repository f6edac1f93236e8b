"""Negating a rule and combining the clauses' rules into one group ("or" binds tighter)."""

from __future__ import annotations

from typing import Any

from mini_crm.core.ai.nl.clauses import Clause, tidy
from mini_crm.core.ai.nl.vocab import MAX_DAYS, MAX_VALUE


def negate(rule: dict[str, Any]) -> dict[str, Any]:
    """The opposite rule, kept simple where the meaning is exact."""
    if "rules" in rule:
        return {**rule, "not": not rule.get("not", False)}
    op, f = rule["operator"], rule["field"]
    flips = {"in": "not_in", "not_in": "in", "=": "!=", "!=": "=",
             "contains": "not_contains", "not_contains": "contains",
             "is_null": "is_not_null", "is_not_null": "is_null"}
    # Each negative operator is exactly NOT of its positive twin on every field (missing
    # values included), so the flip is exact.
    if op in flips:
        return {**rule, "operator": flips[op]}
    # total_spend, order_count and the window fields are never null (0 without
    # orders), so the complement is exact (a window rule keeps its window).
    if f in ("total_spend", "order_count", "window_order_count", "window_spend") \
            and op in ("<", "<=", ">", ">="):
        return {**rule, "operator": {"<": ">=", "<=": ">", ">": "<=", ">=": "<"}[op]}
    return {"combinator": "and", "not": True, "rules": [rule]}


# --- combining clauses -----------------------------------------------------------------

ELLIPTIC_FIELDS = ("order_count", "total_spend", "avg_order_value", "days_since_last_order",
                   "days_since_first_order", "days_since_signup")


def fill_elliptic(clauses: list[Clause]) -> None:
    """'more than 2 but fewer than 6 orders': a bare comparison borrows its neighbour's field."""
    for k, c in enumerate(clauses):
        if c.conds:
            continue
        qty = [i for i in c.index("num", "money", "period")
               if i > 0 and c.toks[i - 1].kind == "cmp" and c.toks[i - 1].value != "between"]
        if len(qty) != 1:
            continue
        neighbours = [n for n in (clauses[k - 1] if k else None,
                                  clauses[k + 1] if k + 1 < len(clauses) else None) if n]
        for n in neighbours:
            fields = [cond.rule.get("field") for cond in n.conds]
            field_name = next((f for f in fields if f in ELLIPTIC_FIELDS), None)
            if field_name is None:
                continue
            t = c.toks[qty[0]]
            is_days = field_name.startswith("days_")
            if (t.kind == "period") != is_days:
                continue
            value = int(t.value) if is_days else tidy(t.value)
            if value > (MAX_DAYS if is_days else MAX_VALUE):
                continue
            c.add({"field": field_name, "operator": c.toks[qty[0] - 1].value, "value": value},
                  [qty[0] - 1, qty[0]])
            break

def combine(clauses: list[Clause]) -> dict[str, Any]:
    """AND of OR-runs: 'A who B or C' → A AND (B OR C); exclusions negate their clause.

    A clause joined by "or" is one alternative, all it read together: "spent over 5K or
    ordered 3 times last month in Pune" is never "(spent over 5K OR in Pune) AND 3
    orders", the first condition read taking the "or" alone. A place at the end of the
    last alternative, when nothing before it names a place, applies to the whole run
    ("A or B in Pune" → in Pune AND (A OR B)): read as said, the place ends the sentence."""
    groups: list[list[dict[str, Any]]] = []  # AND of groups; a group is an OR of members
    for c in clauses:
        rules = [cond.rule for cond in c.conds]
        if not rules:
            continue
        if c.joiner == "or" and groups:
            place = _trailing_place(c)
            if place is not None and not any(_has_city(m) for g in groups for m in g):
                rules.remove(place)
                groups[-1].append(_all(rules))
                groups.append([place])
            else:
                groups[-1].append(_all(rules))
            continue
        groups += [[r] for r in rules]
    out: list[dict[str, Any]] = []
    for g in groups:
        out.append(g[0] if len(g) == 1 else {"combinator": "or", "not": False, "rules": g})
    return {"combinator": "and", "not": False, "rules": out}


def _all(rules: list[dict[str, Any]]) -> dict[str, Any]:
    return rules[0] if len(rules) == 1 else {"combinator": "and", "not": False, "rules": rules}


def _has_city(rule: dict[str, Any]) -> bool:
    if "rules" in rule:
        return any(_has_city(r) for r in rule["rules"])
    return rule.get("field") == "city"


def _trailing_place(c: Clause) -> dict[str, Any] | None:
    """The clause's city rule when it comes after everything else the clause read
    ("ordered more than 10 times in Pune"), else None."""
    if len(c.conds) < 2:
        return None
    cities = [k for k, cond in enumerate(c.conds) if cond.rule.get("field") == "city"
              and cond.rule.get("operator") == "in"]
    if len(cities) != 1:
        return None
    place = c.conds[cities[0]]
    others = [i for k, cond in enumerate(c.conds) if k != cities[0] for i in cond.tokens]
    if not place.tokens or not others or min(place.tokens) < max(others):
        return None
    return place.rule
