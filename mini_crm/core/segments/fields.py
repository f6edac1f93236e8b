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
value can be missing, and its words (the builder's label, who has no value, its own
phrasings in the rule sentence, the words the plain-English parser reads as the field).

The fields live in a `FieldRegistry`; `registry()` is the one in use (the built-in
`FIELDS` unless a test activated another with `using(FIELDS.plus(spec))`), and the
compiler, validation, the rule sentence, the builder and the parser all read it, so a
test can add a throwaway field without touching any other module.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
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
# Operators in words, as the rule builder shows them (the stored rules keep the symbols:
# the API contract); rule errors name an operator this way too.
OPERATOR_LABELS = {
    "=": "is", "!=": "is not", "<": "is less than", "<=": "is at most",
    ">": "is more than", ">=": "is at least", "between": "is between", "in": "is any of",
    "not_in": "is none of", "contains": "contains", "not_contains": "does not contain",
    "starts_with": "starts with", "ends_with": "ends with", "is_null": "is empty",
    "is_not_null": "is not empty",
}
DATE_OPERATOR_LABELS = {**OPERATOR_LABELS, "=": "is on", "<": "is before",
                        "<=": "is on or before", ">": "is after", ">=": "is on or after"}


def operator_label(op: str, kind: str = "") -> str:
    """The operator as the builder names it, quoted for a message: "“is any of”" for
    "in", "“is before”" for "<" on a field of kind "date"; an unknown operator as
    written."""
    labels = DATE_OPERATOR_LABELS if kind == "date" else OPERATOR_LABELS
    return f"“{labels.get(op, op)}”"


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
    words: what the plain-English parser (core/ai/nl) reads as naming this field, in
        lower case: a word ("aov"), or several words that name it when all of them are
        in one clause ("order value"). Text fields are read with text operators and
        missing values ("town starts with Pu", "no town"); money fields with an amount
        ("clv over 5000"); days and date fields with a period or date ("joined in
        March"; a days field's date twin is the date field on the same column). Words
        about several fields ("ordered", "orders", "lapsed") are the grammar's, in
        core/ai/nl/vocab.py.
    """

    name: str
    kind: str
    label: str
    unit: str = ""
    column: Any = field(default=None, compare=False, repr=False)
    nullable: bool = True
    missing: str = ""
    phrases: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)
    words: frozenset[str] = field(default=frozenset(), compare=False, repr=False)

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

# The parser's words per field (FieldSpec.words).
_SPEND_WORDS = frozenset({
    "spent", "spend", "spends", "spending", "spender", "spenders", "worth", "ltv", "lifetime",
    "revenue", "value", "paid", "pay", "bought", "purchases", "total", "sales", "gmv"})
_AOV_WORDS = frozenset({"average", "avg", "aov", "basket", "ticket", "per", "each", "typical",
                        "mean", "order value"})
_SIGNUP_WORDS = frozenset({
    "joined", "join", "joining", "signed", "signup", "signups", "sign", "registered",
    "register", "registration", "registrations", "onboarded", "acquired", "enrolled",
    "created", "tenure", "subscribed", "new"})


class FieldRegistry(Mapping[str, FieldSpec]):
    """Rule fields by name, in catalogue order (a read-only mapping of FieldSpec)."""

    def __init__(self, specs: Iterable[FieldSpec]) -> None:
        self._specs = {s.name: s for s in specs}

    def __getitem__(self, name: str) -> FieldSpec:
        return self._specs[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)

    def plus(self, *specs: FieldSpec) -> FieldRegistry:
        """A new registry: these fields added after the others (a same-named one replaced)."""
        return FieldRegistry([*self._specs.values(), *specs])


FIELDS = FieldRegistry((
    FieldSpec("total_spend", "number", "Total spend", "money", Customer.total_spend,
              nullable=False, phrases=_SPEND, words=_SPEND_WORDS),
    FieldSpec("order_count", "number", "Number of orders", "count", Customer.order_count,
              nullable=False, phrases=_ORDERS),
    FieldSpec("avg_order_value", "number", "Average order value", "money", AVG_ORDER_VALUE,
              missing="without orders", words=_AOV_WORDS),
    FieldSpec("days_since_last_order", "days", "Days since last order", "days",
              Customer.last_order_at, missing=_NEVER_ORDERED, phrases=_RECENCY),
    FieldSpec("days_since_first_order", "days", "Days since first order", "days",
              Customer.first_order_at, missing=_NEVER_ORDERED),
    FieldSpec("days_since_signup", "days", "Days since signup", "days", Customer.created_at,
              nullable=False, phrases=_TENURE, words=_SIGNUP_WORDS),
    FieldSpec("last_order_at", "date", "Last order date", "date", Customer.last_order_at,
              missing=_NEVER_ORDERED, phrases=_order_dates("last")),
    FieldSpec("first_order_at", "date", "First order date", "date", Customer.first_order_at,
              missing=_NEVER_ORDERED, phrases=_order_dates("first")),
    FieldSpec("created_at", "date", "Signup date", "date", Customer.created_at,
              nullable=False, words=_SIGNUP_WORDS),
    FieldSpec("city", "text", "City", "text", Customer.city, missing="with no city",
              phrases=_CITY, words=frozenset({"city", "cities"})),
    FieldSpec("email", "text", "Email", "text", Customer.email, missing="with no email",
              words=frozenset({"email", "emails", "e", "mail"})),
    FieldSpec("name", "text", "Name", "text", Customer.name, missing="with no name",
              words=frozenset({"name", "names"})),
    FieldSpec("phone", "text", "Phone", "text", Customer.phone, missing="with no phone",
              words=frozenset({"phone", "phones", "mobile"})),
    FieldSpec("window_order_count", "window", "Orders in a period", "count", nullable=False),
    FieldSpec("window_spend", "window", "Spend in a period", "money", nullable=False),
))

_ACTIVE: ContextVar[FieldRegistry] = ContextVar("field_registry", default=FIELDS)


def registry() -> FieldRegistry:
    """The fields in use: the built-in `FIELDS`, or the one `using()` activated."""
    return _ACTIVE.get()


@contextmanager
def using(fields: FieldRegistry) -> Iterator[FieldRegistry]:
    """Within the block (this thread or task only), every reader of the field catalogue
    sees `fields`: how a test proves a new field needs only its FieldSpec."""
    token = _ACTIVE.set(fields)
    try:
        yield fields
    finally:
        _ACTIVE.reset(token)


def field_spec(name: str) -> FieldSpec | None:
    """The spec of a catalogue field or of `attributes.<key>`; None if unknown."""
    fields = registry()
    if name in fields:
        return fields[name]
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
                else {})} for f in registry().values()] + [{
        "name": "attributes.<key>", "kind": "attribute", "label": "Custom attribute",
        "unit": "", "operators": list(OPERATORS_BY_KIND["attribute"])}]
