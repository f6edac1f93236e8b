"""Rules read back as an English sentence, e.g.

"Customers in Mumbai or Pune who spent over ₹5,000 and have not ordered in 180 days".

Negative rules say how missing values are treated ("are not in Mumbai, including
customers with no city"), and windowed rules say their period ("placed more than 3
orders between 1 Jan 2025 and 31 Dec 2025").
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from mini_crm.core.formatting import month_attribute, rupees
from mini_crm.core.segments.fields import NEGATIVE, field_spec, registry
from mini_crm.core.segments.schema import Condition, Group, parse_rules
from mini_crm.core.segments.windows import Window

_WORDS = {"=": "is", "!=": "is not", "<": "is under", "<=": "is at most", ">": "is over",
          ">=": "is at least", "in": "is one of", "not_in": "is none of",
          "contains": "contains", "not_contains": "does not contain",
          "starts_with": "starts with", "ends_with": "ends with", "is_null": "is empty",
          "is_not_null": "is set"}
_DATE_WORDS = {"=": "is on", "!=": "is not on", "<": "is before", "<=": "is on or before",
               ">": "is after", ">=": "is on or after"}


def describe(rules: dict[str, Any] | Group) -> str:
    tree = rules if isinstance(rules, Group) else parse_rules(rules)
    if not tree.rules:
        return "All customers" if tree.combinator == "and" and not tree.negate else "No customers"
    return "Customers who " + _group(tree, top=True)


def _group(g: Group, top: bool = False) -> str:
    # "city != Mumbai AND city is_not_null" (the builder's "exclude unknowns") reads as one
    # phrase: "are not in Mumbai (excluding customers with no city)".
    guarded = {n.field for n in g.rules if isinstance(n, Condition)
               and n.operator == "is_not_null"} if g.combinator == "and" else set()
    negatives = {n.field for n in g.rules if isinstance(n, Condition)
                 and n.operator in NEGATIVE} & guarded
    parts = [_condition(n, excluded=n.field in negatives) if isinstance(n, Condition)
             else _group(n) for n in g.rules
             if not (isinstance(n, Condition) and n.operator == "is_not_null"
                     and n.field in negatives)]
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
    if isinstance(v, date):
        return _day(v)
    if c.field.startswith("attributes.") and (
            month := month_attribute(c.field.split(".", 1)[1], v)) is not None:
        return month
    spec = registry().get(c.field)
    if spec is not None and spec.unit == "money":
        # A threshold in paise is shown in paise: "at least ₹5,001" for 5000.50 was a
        # different audience from the one the rule counts.
        whole = isinstance(v, int) or (isinstance(v, float | Decimal) and v == int(v))
        return rupees(v, paise=not whole)
    if isinstance(v, float | Decimal) and v == int(v):
        return str(int(v))
    if isinstance(v, str):
        return f'"{v}"'
    return str(v)


def _list(c: Condition, values: Any, word: str) -> str:
    items = [_fmt(c, v) for v in values]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f" {word} " + items[-1]


def _day(d: date) -> str:
    return f"{d.day} {d:%b %Y}"


def _condition(c: Condition, excluded: bool = False) -> str:
    text = _phrase(c)
    spec = field_spec(c.field)
    if c.operator in NEGATIVE and spec is not None and spec.nullable:
        missing = spec.missing or f"without {_label(c)}"
        text += f" ({'excluding' if excluded else 'including'} customers {missing})"
    return text


def window_words(window: Window) -> str:
    """'in the last 90 days' / 'between 1 Jan 2025 and 31 Dec 2025' (brand-calendar days)."""
    if window.last_days is not None:
        return "today" if window.last_days == 1 else f"in the last {window.last_days} days"
    assert window.first is not None and window.last is not None
    if window.first == window.last:
        return f"on {_day(window.first)}"
    return f"between {_day(window.first)} and {_day(window.last)}"


def _window(c: Condition) -> str:
    assert c.window is not None
    op, v = c.operator, c.value
    counting = c.field == "window_order_count"
    if op in ("between", "in", "not_in"):
        amount = (f"between {_fmt(c, v[0])} and {_fmt(c, v[1])}" if op == "between" else
                  ("" if op == "in" else "not ") + _list(c, v, "or"))
    else:
        word = {">": "more than", ">=": "at least", "<": "less than", "<=": "at most",
                "=": "exactly", "!=": "other than"}[op]
        if counting and op in ("<", "<="):
            word = {"<": "fewer than", "<=": "at most"}[op]
        if not counting and op in (">", "<"):
            word = {">": "over", "<": "under"}[op]
        amount = f"{word} {_fmt(c, v)}"
    if counting and ((op == "=" and v == 0) or (op == "<" and v == 1)):
        text = "placed no orders"
    elif counting and ((op == ">" and v == 0) or (op == ">=" and v == 1)):
        text = "placed at least one order"
    elif counting:
        single = op not in ("in", "not_in", "between") and v == 1
        text = f"placed {amount} {'order' if single else 'orders'}"
    else:
        text = f"spent {amount}"
    if c.items_match is not None:
        key = c.items_match.key.replace("_", " ")
        text += f" with an item whose {key} is {c.items_match.value}"
    return f"{text} {window_words(c.window)}"


def _phrase(c: Condition) -> str:
    op, v = c.operator, c.value
    if c.kind == "window":
        return _window(c)
    if op == "between" and isinstance(v[0], date) and v[0] == v[1]:
        # one day ("last ordered today"): "on 20 Nov 2026", not "between it and itself"
        c, op, v = replace(c, operator="=", value=v[0]), "=", v[0]
    spec = field_spec(c.field)
    own = spec.phrases.get(op) if spec is not None else None
    if own is not None:  # the field's own words (FieldSpec.phrases)
        return own.format_map(_Slots(c))
    label = _label(c)
    a = f"{'an' if label[:1] in 'aeiou' else 'a'} {label}"
    if op == "is_null":
        return f"have no {label}"
    if op == "is_not_null":
        return f"have {a}"
    if op == "between":
        return f"have {a} between {_fmt(c, v[0])} and {_fmt(c, v[1])}"
    if op in ("in", "not_in"):
        return f"have {a} that {_WORDS[op]} {_list(c, v, 'or')}"
    if isinstance(v, bool) and op in ("=", "!="):
        return f"have {label}: {'yes' if v == (op == '=') else 'no'}"
    words = _DATE_WORDS if isinstance(v, date) else _WORDS
    return f"have {a} that {words[op]} {_fmt(c, v)}"


class _Slots(dict[str, str]):
    """The slots a FieldSpec phrase may use (see FieldSpec.phrases), each worked out
    only when the phrase asks for it."""

    def __init__(self, c: Condition) -> None:
        super().__init__()
        self.c = c

    def __missing__(self, slot: str) -> str:
        c, op, v = self.c, self.c.operator, self.c.value
        if slot == "value":
            return (f"{_fmt(c, v[0])} and {_fmt(c, v[1])}" if op == "between"
                    else _fmt(c, v))
        if slot == "list":
            return _list(c, v if op in ("in", "not_in") else (v,), "or")
        if slot == "days":  # "> 30" is 31 days or more; "<= 6" covers 7 days with today
            return _days(v + (1 if op in (">", "<=") else 0))
        if slot == "orders":
            return "order" if v == 1 else "orders"
        raise KeyError(slot)


def _label(c: Condition) -> str:
    """The field as a marketer says it: "signup date", "loyalty tier" (never the raw
    key `attributes.loyalty_tier`)."""
    spec = registry().get(c.field)
    if spec is not None:
        return spec.label.lower()
    return c.field.split(".", 1)[-1].replace("_", " ")


def _days(n: Any) -> str:
    """ "1 day", "30 days" (n a whole number of days)."""
    return f"{n} {'day' if n == 1 else 'days'}"
