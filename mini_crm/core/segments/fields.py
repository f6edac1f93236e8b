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

Each `FieldSpec` carries everything a field means, so a field on an existing column is
one entry here (plus the plain-Python reference evaluator in tests/segment_reference.py
that the property test holds the three databases to): the column or SQL expression the
compiler reads, the unit of its values (money values read as ₹ in sentences), whether a
value can be missing, and its words (the builder's label, who has no value).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from mini_crm.models import Customer

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


UNITS = ("money", "count", "days", "date", "text", "")  # "" = typed by the rule's value
_SYMBOLS = {"money": "₹", "days": "days"}  # the badge the builder shows beside a value


@dataclass(frozen=True)
class FieldSpec:
    """What a rule field means.

    kind: decides value types and operators (see OPERATORS_BY_KIND).
    label: the builder's label; sentences say "have <label, lower-case> is …".
    unit: what a value measures, one of UNITS; "money" values read as ₹ amounts.
    column: the `customer` column or SQL expression the compiler reads (for `days`
        fields the timestamp the days are counted from); None for attribute and window
        fields, which compile through their own modules.
    nullable: whether a value can be missing (a NOT NULL column or a window count
        cannot, so negative rules on it say nothing about missing values).
    missing: who has no value, in words, for negative rules ("with no city").
    phrases: the field's own words in the rule sentence (core/segments/describe), by
        operator, e.g. {">": "spent over {value}"}; an operator without one reads
        "have a <label> that is over …". Slots: {value} (as the sentence writes it: ₹
        for money, "1 Jan 2025 and 31 Dec 2025" for between), {list} (values joined
        with "or"), {days} ("31 days": a days value, +1 for ">" and "<=", which count
        the day itself), {orders} ("order" or "orders" after the value).
    """

    name: str
    kind: str
    label: str
    unit: str = ""
    column: Any = field(default=None, compare=False, repr=False)
    nullable: bool = True
    missing: str = ""
    phrases: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def operators(self) -> tuple[str, ...]:
        return OPERATORS_BY_KIND[self.kind]

    @property
    def symbol(self) -> str:
        """"₹", "days" or "": the unit as the builder shows it beside a value."""
        return _SYMBOLS.get(self.unit, "")


# total_spend / order_count rounded to 2 decimals; NULL (missing) without orders.
AVG_ORDER_VALUE = sa.func.round(Customer.total_spend * sa.literal(Decimal("1.0"))
                                / sa.func.nullif(Customer.order_count, 0), 2)
_NEVER_ORDERED = "who never ordered"


def _order_dates(which: str) -> dict[str, str]:
    return {"is_null": "have never ordered", "<": f"{which} ordered before {{value}}",
            ">=": f"{which} ordered on or after {{value}}", "=": f"{which} ordered on {{value}}",
            "between": f"{which} ordered between {{value}}"}


_SPEND = {">": "spent over {value}", ">=": "spent at least {value}",
          "<": "spent under {value}", "<=": "spent at most {value}"}
_ORDERS = {">": "placed more than {value} {orders}", ">=": "placed at least {value} {orders}",
           "<": "placed fewer than {value} {orders}", "<=": "placed at most {value} {orders}",
           "=": "placed exactly {value} {orders}"}
_RECENCY = {">": "have not ordered in {days}", ">=": "have not ordered in {days}",
            "<": "ordered in the last {days}", "<=": "ordered in the last {days}",
            "is_null": "have never ordered", "is_not_null": "have ordered at least once"}
_TENURE = {">": "have been customers for at least {days}",
           ">=": "have been customers for at least {days}",
           "<": "signed up in the last {days}", "<=": "signed up in the last {days}"}
_CITY = {"=": "are in {list}", "in": "are in {list}", "!=": "are not in {list}",
         "not_in": "are not in {list}"}

FIELDS: dict[str, FieldSpec] = {f.name: f for f in (
    FieldSpec("total_spend", "number", "Total spend", "money", Customer.total_spend,
              nullable=False, phrases=_SPEND),
    FieldSpec("order_count", "number", "Number of orders", "count", Customer.order_count,
              nullable=False, phrases=_ORDERS),
    FieldSpec("avg_order_value", "number", "Average order value", "money", AVG_ORDER_VALUE,
              missing="without orders"),
    FieldSpec("days_since_last_order", "days", "Days since last order", "days",
              Customer.last_order_at, missing=_NEVER_ORDERED, phrases=_RECENCY),
    FieldSpec("days_since_first_order", "days", "Days since first order", "days",
              Customer.first_order_at, missing=_NEVER_ORDERED),
    FieldSpec("days_since_signup", "days", "Days since signup", "days", Customer.created_at,
              nullable=False, phrases=_TENURE),
    FieldSpec("last_order_at", "date", "Last order date", "date", Customer.last_order_at,
              missing=_NEVER_ORDERED, phrases=_order_dates("last")),
    FieldSpec("first_order_at", "date", "First order date", "date", Customer.first_order_at,
              missing=_NEVER_ORDERED, phrases=_order_dates("first")),
    FieldSpec("created_at", "date", "Signup date", "date", Customer.created_at,
              nullable=False),
    FieldSpec("city", "text", "City", "text", Customer.city, missing="with no city",
              phrases=_CITY),
    FieldSpec("email", "text", "Email", "text", Customer.email, missing="with no email"),
    FieldSpec("name", "text", "Name", "text", Customer.name, missing="with no name"),
    FieldSpec("phone", "text", "Phone", "text", Customer.phone, missing="with no phone"),
    FieldSpec("window_order_count", "window", "Orders in a period", "count", nullable=False),
    FieldSpec("window_spend", "window", "Spend in a period", "money", nullable=False),
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
    return [{"name": f.name, "kind": f.kind, "label": f.label, "unit": f.symbol,
             "operators": list(f.operators),
             **({"window": "required", "items_match": "optional"} if f.kind == "window"
                else {})} for f in FIELDS.values()] + [{
        "name": "attributes.<key>", "kind": "attribute", "label": "Custom attribute",
        "unit": "", "operators": list(OPERATORS_BY_KIND["attribute"])}]
