"""The field catalogue: every field a rule may name, its kind and its operators.

Kinds decide value types and operators:
- number: total_spend, order_count, avg_order_value (₹ or counts)
- days:   days_since_* (whole days elapsed before the query's `now`)
- date:   timestamps compared by calendar day in the brand's zone (BRAND_TIMEZONE)
- text:   compared case-insensitively
- attribute: `attributes.<key>`, typed by the rule's value (text, number or boolean)
- window: counted orders (not cancelled or refunded) within a period given by the rule's
          `window` key, optionally only orders with an item matching `items_match`;
          never missing (a customer without orders in the period has 0)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

COMPARE = ("=", "!=", "<", "<=", ">", ">=", "between")
SET = ("in", "not_in")
TEXT_MATCH = ("contains", "not_contains", "starts_with", "ends_with")
NULLS = ("is_null", "is_not_null")
ALL_OPERATORS = (*COMPARE, *SET, *TEXT_MATCH, *NULLS)
# The operators that read "not …": each is NOT of its positive twin, so it matches
# customers whose value is missing (DESIGN.md, "Missing values").
NEGATIVE = {"!=": "=", "not_in": "in", "not_contains": "contains"}
WINDOW_FIELDS = ("window_order_count", "window_spend")

OPERATORS_BY_KIND: dict[str, tuple[str, ...]] = {
    "number": (*COMPARE, *SET, *NULLS),
    "days": (*COMPARE, *NULLS),
    "date": (*COMPARE, *NULLS),
    "text": ("=", "!=", *SET, *TEXT_MATCH, *NULLS),
    "attribute": ALL_OPERATORS,
    "window": (*COMPARE, *SET),
}

ATTRIBUTE_PREFIX = "attributes."
ATTRIBUTE_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: str
    label: str
    unit: str = ""

    @property
    def operators(self) -> tuple[str, ...]:
        return OPERATORS_BY_KIND[self.kind]


FIELDS: dict[str, FieldSpec] = {f.name: f for f in (
    FieldSpec("total_spend", "number", "Total spend", "₹"),
    FieldSpec("order_count", "number", "Number of orders"),
    FieldSpec("avg_order_value", "number", "Average order value", "₹"),
    FieldSpec("days_since_last_order", "days", "Days since last order", "days"),
    FieldSpec("days_since_first_order", "days", "Days since first order", "days"),
    FieldSpec("days_since_signup", "days", "Days since signup", "days"),
    FieldSpec("last_order_at", "date", "Last order date"),
    FieldSpec("first_order_at", "date", "First order date"),
    FieldSpec("created_at", "date", "Signup date"),
    FieldSpec("city", "text", "City"),
    FieldSpec("email", "text", "Email"),
    FieldSpec("name", "text", "Name"),
    FieldSpec("phone", "text", "Phone"),
    FieldSpec("window_order_count", "window", "Orders in a period"),
    FieldSpec("window_spend", "window", "Spend in a period", "₹"),
)}


def field_spec(name: str) -> FieldSpec | None:
    """The spec of a catalogue field or of `attributes.<key>`; None if unknown."""
    if name in FIELDS:
        return FIELDS[name]
    if name.startswith(ATTRIBUTE_PREFIX):
        key = name[len(ATTRIBUTE_PREFIX):]
        if ATTRIBUTE_KEY.match(key):
            return FieldSpec(name, "attribute", key.replace("_", " ").capitalize())
    return None


def catalogue() -> list[dict[str, object]]:
    """The field list as data, for the UI and for AI prompts.

    Window fields also carry `"window": "required"` and `"items_match": "optional"`.
    """
    return [{"name": f.name, "kind": f.kind, "label": f.label, "unit": f.unit,
             "operators": list(f.operators),
             **({"window": "required", "items_match": "optional"} if f.kind == "window"
                else {})} for f in FIELDS.values()] + [{
        "name": "attributes.<key>", "kind": "attribute", "label": "Custom attribute",
        "unit": "", "operators": list(OPERATORS_BY_KIND["attribute"])}]
