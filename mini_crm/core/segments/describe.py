"""Rules read back as an English sentence, e.g.

"Customers in Mumbai or Pune who spent over ₹5,000 and have not ordered in 180 days".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mini_crm.core.formatting import rupees
from mini_crm.core.segments.fields import FIELDS
from mini_crm.core.segments.schema import Condition, Group, parse_rules

_WORDS = {"=": "is", "!=": "is not", "<": "is under", "<=": "is at most", ">": "is over",
          ">=": "is at least", "in": "is one of", "not_in": "is none of",
          "contains": "contains", "not_contains": "does not contain",
          "starts_with": "starts with", "ends_with": "ends with", "is_null": "is empty",
          "is_not_null": "is set"}


def describe(rules: dict[str, Any] | Group) -> str:
    tree = rules if isinstance(rules, Group) else parse_rules(rules)
    if not tree.rules:
        return "All customers" if tree.combinator == "and" and not tree.negate else "No customers"
    return "Customers who " + _group(tree, top=True)


def _group(g: Group, top: bool = False) -> str:
    parts = [_node(n) for n in g.rules]
    if not parts:
        body = "match everyone" if g.combinator == "and" else "match no one"
    else:
        joiner = " and " if g.combinator == "and" else " or "
        body = joiner.join(parts)
        if len(parts) > 1 and not top:
            body = f"({body})"
    return f"do not match [{body}]" if g.negate else body


def _node(n: Condition | Group) -> str:
    return _group(n) if isinstance(n, Group) else _condition(n)


def _fmt(c: Condition, v: Any) -> str:
    if c.field == "city":
        return str(v)
    if isinstance(v, datetime):
        return v.strftime("%d %b %Y")
    if c.field in ("total_spend", "avg_order_value"):
        return rupees(v)
    if isinstance(v, float) and v == int(v):
        return str(int(v))
    if isinstance(v, str):
        return f'"{v}"'
    return str(v)


def _list(c: Condition, values: Any, word: str) -> str:
    items = [_fmt(c, v) for v in values]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f" {word} " + items[-1]


def _condition(c: Condition) -> str:  # noqa: PLR0911 - one phrasing per case
    op, v = c.operator, c.value
    if c.field == "city" and op in ("=", "in"):
        return "are in " + _list(c, v if op == "in" else (v,), "or")
    if c.field == "city" and op in ("!=", "not_in"):
        return "are not in " + _list(c, v if op == "not_in" else (v,), "or")
    if c.field == "total_spend" and op in (">", ">=", "<", "<="):
        word = {">": "over", ">=": "at least", "<": "under", "<=": "at most"}[op]
        return f"spent {word} {_fmt(c, v)}"
    if c.field == "days_since_last_order":
        if op in (">", ">="):
            return f"have not ordered in {v + (1 if op == '>' else 0)} days"
        if op in ("<", "<="):
            return f"ordered in the last {v + (1 if op == '<=' else 0)} days"
        if op == "is_null":
            return "have never ordered"
    if c.field == "order_count" and op in (">", ">=", "<", "<=", "="):
        word = {">": "more than", ">=": "at least", "<": "fewer than", "<=": "at most",
                "=": "exactly"}[op]
        return f"placed {word} {_fmt(c, v)} orders"
    label = FIELDS[c.field].label.lower() if c.field in FIELDS else c.field
    if op == "between":
        return f"have {label} between {_fmt(c, v[0])} and {_fmt(c, v[1])}"
    if op in ("in", "not_in"):
        return f"have {label} {_WORDS[op]} {_list(c, v, 'or')}"
    if op in ("is_null", "is_not_null"):
        return f"have {label} {_WORDS[op]}"
    return f"have {label} {_WORDS[op]} {_fmt(c, v)}"
