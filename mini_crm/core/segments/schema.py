"""The rules tree (react-querybuilder's JSON shape), parsed and validated.

`parse_rules(obj)` turns untrusted JSON into typed `Group`/`Condition` objects or
raises `RulesError` naming the rule by its path (e.g. `rules[1].rules[0]`), the
field and what was expected. Everything downstream (SQL, Python evaluation,
sentences) works on the parsed tree only.

Values are normalised here, so the compiler never sees text it must guess at:
numbers are `Decimal` read by `mini_crm.core.numbers` (Indian or international
grouping, ₹/Rs/INR, k/lakh/crore; "5.000,00" and "1.234" are refused) and range-checked
for their column; dates are `date` (a brand-calendar day); text values must not be
blank (a blank is a missing value: use `is_null`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from mini_crm.core import brand_time, contacts, numbers, text_checks
from mini_crm.core.plain_errors import shown
from mini_crm.core.segments.fields import (
    ALL_OPERATORS,
    NULLS,
    SET,
    FieldSpec,
    field_spec,
    operator_label,
)
from mini_crm.core.segments.windows import (
    ItemsMatch,
    Window,
    WindowError,
    parse_items_match,
    parse_window,
)

MAX_DEPTH = 6
MAX_RULES = 200
MAX_LIST = 500
MAX_TEXT = 200
MAX_DAYS = 36_500
# What a numeric field's column (or aggregate) can be compared with, by its unit:
# money columns are NUMERIC(14, 2), counts 32-bit integers.
RANGES = {"money": numbers.MONEY, "count": numbers.INT32}
# Attribute numbers are JSON numbers compared as doubles: exact up to 2**53.
ATTRIBUTE_NUMBER = numbers.ColumnRange("a custom attribute number (up to 2**53)",
                                       Decimal(-(2**53)), Decimal(2**53), 0)
# Several numbers in one text: "1,50,000; 2,00,000" or "100, 200"; a bare "1,50,000"
# is one number.
_LIST_SEPARATOR = re.compile(r"\s*(?:;|\n|,\s+)\s*")


class RulesError(ValueError):
    def __init__(self, path: str, message: str, field_name: str | None = None) -> None:
        where = f"{path or 'rules'}"
        if field_name:
            where += f" (field '{field_name}')"
        super().__init__(f"{where}: {message}")
        self.path = path or "rules"
        self.field = field_name
        self.reason = message

    def as_detail(self) -> dict[str, Any]:
        return {"path": self.path, "field": self.field, "message": self.reason}


Scalar = str | float | int | bool | datetime


@dataclass(frozen=True)
class Condition:
    field: str
    kind: str
    operator: str
    value: Any  # normalised: Decimal, date (brand day), str, bool, tuple, or pair
    value_type: str  # "number" | "text" | "bool" | "date" | "none"
    window: Window | None = None  # window fields only
    items_match: ItemsMatch | None = None


@dataclass(frozen=True)
class Group:
    combinator: str
    negate: bool = False
    rules: tuple[Condition | Group, ...] = field(default_factory=tuple)


def parse_rules(obj: Any) -> Group:
    counter = [0]
    return _group(obj, "", 1, counter)


def parse_audience(obj: Any) -> Group:
    """parse_rules for rules that choose whom to send to or save as a segment: a group
    without conditions is refused too (RulesError naming the group), since it silently
    matches every customer ("and") or nobody ("or"). A blank rule builder or `{}` used
    to launch to the whole customer base without a word. Drafts and the builder's live
    preview keep parse_rules: an audience may be unfinished there."""
    tree = parse_rules(obj)
    _require_conditions(tree, "")
    return tree


def _require_conditions(group: Group, path: str) -> None:
    if not group.rules:
        everyone = (group.combinator == "and") != group.negate
        raise RulesError(path, "this group has no conditions, so it would match "
                         f"{'every customer' if everyone else 'no one'}: add a condition "
                         "(to mean every customer, say so: Total spend is at least 0)")
    for i, node in enumerate(group.rules):
        if isinstance(node, Group):
            _require_conditions(node, f"{path}.rules[{i}]" if path else f"rules[{i}]")


def _group(obj: Any, path: str, depth: int, counter: list[int]) -> Group:
    if not isinstance(obj, dict):
        raise RulesError(path, "expected a group object with 'combinator' and 'rules'")
    if depth > MAX_DEPTH:
        raise RulesError(path, f"groups may nest at most {MAX_DEPTH} deep")
    unknown = set(obj) - {"combinator", "not", "rules", "id"}
    if unknown:
        raise RulesError(path, f"unknown key(s) {', '.join(sorted(unknown))} in a group")
    _check_id(obj, path)
    combinator = str(obj.get("combinator", "and")).lower()
    if combinator not in ("and", "or"):
        raise RulesError(path, "combinator must be 'and' or 'or', not "
                         f"{shown(obj.get('combinator'))}")
    negate = obj.get("not", False)
    if not isinstance(negate, bool):
        raise RulesError(path, "'not' must be true or false")
    rules = obj.get("rules", [])
    if not isinstance(rules, list):
        raise RulesError(path, "'rules' must be a list")
    parsed: list[Condition | Group] = []
    for i, item in enumerate(rules):
        child = f"{path}.rules[{i}]" if path else f"rules[{i}]"
        counter[0] += 1
        if counter[0] > MAX_RULES:
            raise RulesError(child, f"at most {MAX_RULES} rules in one segment")
        if isinstance(item, dict) and "rules" in item:
            parsed.append(_group(item, child, depth + 1, counter))
        else:
            parsed.append(_condition(item, child))
    return Group(combinator=combinator, negate=negate, rules=tuple(parsed))


def _condition(obj: Any, path: str) -> Condition:
    if not isinstance(obj, dict):
        raise RulesError(path, "expected a rule object with 'field', 'operator' and 'value'")
    unknown = set(obj) - {"field", "operator", "value", "id", "valueSource", "window",
                          "items_match"}
    if unknown:
        raise RulesError(path, f"unknown key(s) {', '.join(sorted(unknown))} in a rule")
    _check_id(obj, path)
    name = obj.get("field")
    if not isinstance(name, str) or not name:
        raise RulesError(path, "a rule needs a 'field'")
    spec = field_spec(name)
    if spec is None:
        raise RulesError(path, "unknown field; use a catalogue field or attributes.<key> "
                         "(letters, digits, underscore)", name)
    op = obj.get("operator")
    if op not in ALL_OPERATORS:
        raise RulesError(path, f"unknown operator {shown(op)}; expected one of "
                         f"{', '.join(ALL_OPERATORS)}", name)
    if op not in spec.operators:
        # named in words and by the code the API takes (only an API client can send it)
        label = operator_label(op, spec.kind)
        code = "" if label == f"“{op}”" else f" ({op})"
        raise RulesError(path, f"{label}{code} does not apply to a {spec.kind} field; use "
                         f"one of {', '.join(spec.operators)}", name)
    window, items = _window(spec, obj, path)
    if op in NULLS:
        return Condition(name, spec.kind, op, None, "none")
    if "value" not in obj:
        raise RulesError(path, f"{operator_label(op, spec.kind)} needs a value", name)
    value, value_type = _value(spec, op, obj["value"], path)
    return Condition(name, spec.kind, op, value, value_type, window, items)


def _check_id(obj: dict[str, Any], path: str) -> None:
    # react-querybuilder's "id" is stored with the rules, so it obeys the stored-text rule
    problem = text_checks.control_problem(obj.get("id"), "the id")
    if problem:
        raise RulesError(path, problem)


def _window(spec: FieldSpec, obj: dict[str, Any], path: str
            ) -> tuple[Window | None, ItemsMatch | None]:
    if spec.kind != "window":
        extra = {"window", "items_match"} & set(obj)
        if extra:
            raise RulesError(path, f"'{sorted(extra)[0]}' applies only to window_order_count "
                             "and window_spend", spec.name)
        return None, None
    if "window" not in obj:
        raise RulesError(path, 'needs a "window": {"last_days": N} or {"from": '
                         '"YYYY-MM-DD", "to": "YYYY-MM-DD"}', spec.name)
    try:
        window = parse_window(obj["window"])
        items = parse_items_match(obj["items_match"]) if obj.get("items_match") else None
    except WindowError as exc:
        raise RulesError(path, str(exc), spec.name) from None
    return window, items


def _value(spec: FieldSpec, op: str, raw: Any, path: str) -> tuple[Any, str]:
    value, vtype = _value_as_written(spec, op, raw, path)
    if spec.name == "phone" and op in ("=", "!=", "in", "not_in") and vtype == "text":
        # Phones are stored in E.164: "+91 94444 55555" and "09444455555" must find
        # "+919444455555" as they would at ingest. Text that is not a whole phone number
        # stays as written (it can only match a stored value spelled the same).
        value = tuple(_e164(v) for v in value) if isinstance(value, tuple) else _e164(value)
    return value, vtype


def _e164(value: str) -> str:
    try:
        return contacts.normalise_phone(value) or value
    except contacts.InvalidContact:
        return value


def _value_as_written(spec: FieldSpec, op: str, raw: Any, path: str) -> tuple[Any, str]:
    # errors name the operator as the builder shows it ("“is any of”", not 'in')
    label = operator_label(op, spec.kind)
    if op == "between":
        pair = _split_list(raw, spec)
        if len(pair) == 1 and isinstance(raw, str) and raw.count(",") == 1:
            pair = [part.strip() for part in raw.split(",")]  # react-querybuilder's "lo,hi"
        if len(pair) != 2:
            raise RulesError(path, f"{label} needs two values, low and high", spec.name)
        (lo, t1), (hi, t2) = (_scalar(spec, v, path) for v in pair)
        if t1 != t2 or t1 in ("text", "bool"):
            raise RulesError(path, f"{label} needs two numbers or two dates", spec.name)
        if lo > hi:
            raise RulesError(path, f"{label}: the low value {pair[0]} is above the high "
                             f"{pair[1]}", spec.name)
        return (lo, hi), t1
    if op in SET:
        items = _split_list(raw, spec)
        if not items:
            raise RulesError(path, f"{label} needs at least one value", spec.name)
        if len(items) > MAX_LIST:
            raise RulesError(path, f"{label} takes at most {MAX_LIST} values", spec.name)
        parsed = [_scalar(spec, v, path) for v in items]
        types = {t for _, t in parsed}
        if spec.kind == "attribute" and types == {"number", "text"}:
            # "is any of A1, 12" (or ["A1", 12]): labels, some of them number-like. The
            # list stays text, and the compiler also matches a number-like label as a
            # number (list_numbers): "12" finds 12 stored as a number or as text, as
            # ["12"] alone does, and "A1" finds "A1".
            parsed = [(v if t == "text" else _number_label(raw_item), "text")
                      for (v, t), raw_item in zip(parsed, items, strict=True)]
            types = {"text"}
        if len(types) != 1 or types & {"date", "bool"}:
            raise RulesError(path, f"{label} values must all be numbers or all be text",
                             spec.name)
        return tuple(v for v, _ in parsed), types.pop()
    value, vtype = _scalar(spec, raw, path)
    if op in ("contains", "not_contains", "starts_with", "ends_with") and vtype == "number" \
            and spec.kind == "attribute" and isinstance(raw, str):
        # "starts with 98" asks about the text: a number-looking value stays text here
        value, vtype = _text(raw, spec, path), "text"
    if op in ("contains", "not_contains", "starts_with", "ends_with") and vtype != "text":
        raise RulesError(path, f"{label} needs a text value", spec.name)
    if op in ("<", "<=", ">", ">=") and vtype in ("text", "bool"):
        raise RulesError(path, f"{label} needs a number or a date", spec.name)
    if vtype == "text" and op in ("contains", "not_contains", "starts_with", "ends_with") \
            and value == "":
        raise RulesError(path, f"{label} needs a non-empty text", spec.name)
    return value, vtype


def _number_label(raw: Any) -> str:
    """A number in a list of labels, as text: "12" as written, 12 → "12", 7.50 → "7.5"."""
    if isinstance(raw, str):
        return raw.strip()
    return format(Decimal(str(raw)).normalize(), "f")


def list_numbers(values: tuple[str, ...]) -> tuple[Decimal, ...]:
    """The number-like labels of a text list on an attribute ("12" of "A1, 12"), as
    numbers: `in` also matches them against a stored number or number-like text, as a
    list of numbers alone would (compiler and reference evaluator share this)."""
    found = (numbers.numeric_text(v.strip()) for v in values)
    return tuple(n for n in found if n is not None)


def _split_list(raw: Any, spec: FieldSpec | None = None) -> list[Any]:
    # react-querybuilder sends multi-values as "a,b" strings; the API sends lists. For a
    # number field commas also group digits, so "1,50,000" stays one value.
    if isinstance(raw, str):
        if spec is not None and spec.kind in ("number", "days", "window"):
            return [part for part in _LIST_SEPARATOR.split(raw.strip()) if part]
        return [part.strip() for part in raw.split(",") if part.strip()]
    if isinstance(raw, list | tuple):
        return list(raw)
    return [raw]


def _scalar(spec: FieldSpec, raw: Any, path: str) -> tuple[Any, str]:
    if spec.kind in ("number", "days", "window"):
        return _numeric(spec, raw, path), "number"
    if spec.kind == "date":
        try:  # ISO, or "29/11/2026" as typed in the builder, in DATE_ORDER
            day = _date(raw)
        except brand_time.TimestampError as exc:
            raise RulesError(path, str(exc), spec.name) from None
        if day is None:
            raise RulesError(path, f"expected a date like 2025-01-31 or "
                             f"{_people_example()}, got {shown(raw)}", spec.name)
        try:
            brand_time.check_supported(day)
        except brand_time.TimestampError as exc:
            raise RulesError(path, str(exc), spec.name) from None
        return day, "date"
    if spec.kind == "text":
        if not isinstance(raw, str | int) or isinstance(raw, bool):
            raise RulesError(path, f"expected text, got {shown(raw)}", spec.name)
        return _text(str(raw), spec, path), "text"
    # attribute: typed by the value itself
    if isinstance(raw, bool):
        return raw, "bool"
    if isinstance(raw, int | float):
        value = _read_number(raw, spec, path)
        _check(value, ATTRIBUTE_NUMBER, spec, path)
        return value, "number"
    if isinstance(raw, str):
        # "12" means 12, as a CSV cell "12" does when stored (core.numbers.numeric_text):
        # `attributes.visits > "3"` and `= "12"` agree with `> 3` and `= 12`.
        number = numbers.numeric_text(raw.strip())
        if number is not None:
            return number, "number"
        return _text(raw, spec, path), "text"
    raise RulesError(path, f"expected text, a number or true/false, got {shown(raw)}", spec.name)


def _numeric(spec: FieldSpec, raw: Any, path: str) -> Decimal:
    value = _read_number(raw, spec, path)
    if spec.kind == "days":
        if not (0 <= value <= MAX_DAYS and value == value.to_integral_value()):
            raise RulesError(path, f"expected a whole number of days from 0 to {MAX_DAYS}, "
                             f"got {shown(raw)}", spec.name)
        return value
    if value < 0:
        raise RulesError(path, f"expected a number ≥ 0, got {shown(raw)}", spec.name)
    _check(value, RANGES[spec.unit], spec, path)
    return value


def _read_number(raw: Any, spec: FieldSpec, path: str) -> Decimal:
    try:
        return numbers.parse_number(raw)
    except numbers.NumberFormatError as exc:
        if isinstance(raw, str) and exc.reason in ("is empty", "is not a number"):
            # Typed into the builder: said as a marketer would, without quoting an empty
            # box or spelling out the number grammar (the API's JSON values keep theirs).
            shown_text = raw.strip()
            raise RulesError(path, "enter a number, e.g. 5000 or 1499.50" if not shown_text
                             else f"“{shown_text[:40]}” is not a number: write it in digits, "
                             f"e.g. 5000, 1,50,000 or 1499.50", spec.name) from None
        raise RulesError(path, f"expected a number: {exc}", spec.name) from None


def _check(value: Decimal, column: numbers.ColumnRange, spec: FieldSpec, path: str) -> None:
    try:
        numbers.check_range(value, column, what="the value")
    except numbers.NumberRangeError as exc:
        raise RulesError(path, str(exc), spec.name) from None


def _text(value: str, spec: FieldSpec, path: str) -> str:
    # PostgreSQL cannot compare a text holding NUL (the driver refuses the statement)
    problem = text_checks.control_problem(value, "the value")
    if problem:
        raise RulesError(path, problem, spec.name)
    if len(value) > MAX_TEXT:
        raise RulesError(path, f"text values are at most {MAX_TEXT} characters", spec.name)
    if not value.strip():
        raise RulesError(path, f"a blank value means a missing one: use "
                         f"{operator_label('is_null')} or {operator_label('is_not_null')}",
                         spec.name)
    return value


def _people_example() -> str:
    return "31/01/2025" if brand_time.date_order() == "DMY" else "01/31/2025"


def _date(raw: Any) -> date | None:
    """A calendar day in the brand's zone (brand_time.read_day: "2026-11-29", a longer
    ISO text cut to it, or "29/11/2026"); TimestampError for a day the calendar lacks."""
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    if isinstance(raw, str):
        return brand_time.read_day(raw)
    return None
