"""Pydantic's validation errors in the user's words: the one translator.

Every door that shows a schema error to a person or an API client goes through
`message()`: ingestion items (API, queued stream, CSV validate and import, the Data
page) and the API's request bodies (api/errors.py). Pydantic's own texts ("Input should
be a valid boolean, unable to interpret input", "Value error, ...") name the library's
notions; these name the field and say what to write instead.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

BOOL_WORDS = "yes/no, true/false or 1/0"
NUMBER_EXAMPLE = "1499.50"
TIMESTAMP_EXAMPLE = "2026-11-29T13:30:00+05:30"

# Field-specific hints where the generic sentence would leave a user guessing.
_LIST_HINTS = {"items": "the order's line items, a list of objects such as "
                        '[{"sku": "S1", "category": "shoes"}]'}


EMPTY_BODY = "the request body is empty; send a JSON object"


def shown(value: Any, limit: int = 40) -> str:
    """The input as the user wrote it: text in quotes, anything else in its JSON spelling
    (true, false, null, [1, 2], {"a": 1}), never Python's (True, None, {'a': 1})."""
    if isinstance(value, str):
        text = repr(value)
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, default=str)
        except (TypeError, ValueError):  # a circular structure: no JSON input holds one
            text = str(value)
    return text if len(text) <= limit else text[:limit] + "…"


# What a field of each kind must hold, in JSON's words: the "<kind>_type" and
# "<kind>_parsing" errors pydantic raises for a wrong type or unreadable text.
_KIND_WORDS = {
    "string": "text", "int": "a whole number", "float": "a number like " + NUMBER_EXAMPLE,
    "decimal": "a number like " + NUMBER_EXAMPLE, "bool": BOOL_WORDS, "list": "a list",
    "tuple": "a list", "set": "a list of distinct values", "frozen_set":
    "a list of distinct values", "iterable": "a list", "dict": "an object",
    "mapping": "an object", "model": "an object", "model_attributes": "an object",
    "dataclass": "an object", "date": "a date such as 2026-11-29",
    "time": "a time of day such as 13:30", "time_delta": "a duration such as 3600 (seconds)",
    "url": "a URL", "uuid": "a UUID", "bytes": "text", "none": "null",
    "complex": "a number", "complex_str": "a number", "fraction": "a number",
    "is_instance_of": "a value of this field's kind", "callable": "a value of this "
    "field's kind", "named_tuple": "a list", "arguments": "an object",
}

# Error types that describe the validator rather than the input (they cannot be fixed
# by the user from pydantic's text): one sentence that shows what was sent.
_INTERNAL = frozenset({
    "needs_python_object", "recursion_loop", "recursion_depth_exceeded", "frozen_field",
    "frozen_instance", "invalid_key", "get_attribute_error", "no_such_attribute",
    "default_factory_not_called", "iteration_error", "set_item_not_hashable",
    "missing_sentinel_error", "ellipsis_error", "dataclass_exact_type", "is_subclass_of",
    "missing_argument", "unexpected_keyword_argument", "missing_keyword_only_argument",
    "unexpected_positional_argument", "missing_positional_only_argument",
    "multiple_argument_values"})

# Pydantic's own words for values and types, and the user's (JSON) words for them: the
# fallback for an error type this module has no sentence of its own for.
_PYDANTIC_WORDS = [
    (r"\bInput should be\b", "must be"), (r"\bInput should\b", "must"),
    (r"\ba valid integer\b", "a whole number"), (r"\ba valid number\b", "a number"),
    (r"\ba valid string\b", "text"), (r"\ba valid boolean\b", "true or false"),
    (r"\ba valid (dictionary|mapping)\b", "an object"), (r"\ba valid list\b", "a list"),
    (r"\bdictionary\b", "object"), (r"\bTrue\b", "true"), (r"\bFalse\b", "false"),
    (r"\bNone\b", "null"), (r"\b[Pp]ython ", ""),
]


def _plain_words(text: str) -> str:
    for pattern, words in _PYDANTIC_WORDS:
        text = re.sub(pattern, words, text)
    return text


def _is_huge(value: Any) -> bool:
    return isinstance(value, float) and math.isinf(value)


def message(error: dict[str, Any], label: str | None = None, *,
            missing: str = "is required") -> str:
    """One pydantic error (an item of `ValidationError.errors()`) as a sentence.

    `label` is how the user names the field (a CSV column such as "Customer ID"; by
    default the dotted field path, e.g. "customer_external_id" or "consent.sms").
    `missing` completes "<label> ..." for a required field that is absent ("is empty"
    when the absence is a blank CSV cell; a missing body itself is EMPTY_BODY). Inputs
    are shown in JSON's spelling (true, null); error types without a sentence here keep
    pydantic's text in JSON's words, without its "Value error, " prefix.
    """
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    value = error.get("input")
    loc = [str(p) for p in error.get("loc", ()) if p != "body"]
    name = label or ".".join(loc) or "the body"
    last = loc[-1] if loc else ""
    text = str(error.get("msg", "")).removeprefix("Value error, ").removeprefix(
        "Assertion failed, ")
    if kind == "value_error" or kind == "assertion_error":
        return text
    if kind == "missing":
        return EMPTY_BODY if not loc and label is None else f"{name} {missing}"
    if kind == "json_invalid":
        return f"the body is not valid JSON: {ctx.get('error', text)}"
    if kind in ("model_attributes_type", "model_type", "dict_type") and not loc:
        return "the body must be a JSON object"
    if kind == "extra_forbidden":
        return f"{name} is not a known field"
    # A length limit on text (pydantic names it string_too_* or, through an Annotated
    # constraint, too_*): counted in characters, the user's unit.
    if kind == "string_too_short" or (kind == "too_short" and isinstance(value, str)):
        if ctx.get("min_length") == 1:
            return f"{name} is empty"
        return f"{name} is {len(str(value))} characters; at least {ctx.get('min_length')}"
    if kind == "string_too_long" or (kind == "too_long" and isinstance(value, str)):
        return f"{name} is {len(str(value))} characters; at most {ctx.get('max_length')}"
    if kind in ("too_long", "too_short"):
        bound = "at most" if kind == "too_long" else "at least"
        limit = ctx.get("max_length" if kind == "too_long" else "min_length")
        return f"{name} has {ctx.get('actual_length')} entries; {bound} {limit}"
    if kind in ("bool_type", "bool_parsing"):
        return f"{name} must be {BOOL_WORDS}, not {shown(value)}"
    if kind == "none_required":
        return f"{name} must be null, not {shown(value)}"
    if _is_huge(value) or kind == "finite_number":
        return f"{name} is too large a number"
    if kind.startswith(("decimal_", "float_", "int_")) or kind in (
            "greater_than", "greater_than_equal", "less_than", "less_than_equal",
            "multiple_of"):
        return _number(kind, name, value, ctx)
    if kind in ("string_type", "string_unicode"):
        return f"{name} must be text, not {shown(value)}"
    if kind == "string_pattern_mismatch":
        return f"{name} {shown(value)} is not in the expected form ({ctx.get('pattern')})"
    if kind == "list_type":
        hint = _LIST_HINTS.get(last)
        return f"{name} must be {hint}" if hint else f"{name} must be a list"
    if kind in ("dict_type", "model_attributes_type", "model_type"):
        return f"{name} must be an object, e.g. {{\"key\": \"value\"}}"
    if kind.startswith(("datetime_", "date_", "timezone_")):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return (f"{name} {shown(value)} is not a Unix time (seconds, or milliseconds "
                    f"above 20,000,000,000); write e.g. {TIMESTAMP_EXAMPLE}")
        return f"{name} must be an ISO 8601 timestamp such as {TIMESTAMP_EXAMPLE}"
    return _other(kind, name, value, text, ctx)


ADDRESS = "(in the address)"


def address_message(error: dict[str, Any], name: str, *, low: int | None = None,
                    high: int | None = None, hint: str | None = None) -> str:
    """One pydantic error about a query or path parameter, in the words of a request
    body's errors: the parameter by the name the client wrote in the URL, marked
    "(in the address)" so it is not looked for in the body.

    A whole-number parameter names its whole range, whatever was wrong ("limit (in the
    address) must be a whole number from 1 to 500, not 0"; `low`/`high` are its bounds,
    from the route). A value of the wrong form says what the parameter is (`hint`, e.g.
    "the id POST /api/v1/imports answered with"). The value is shown as written in the
    URL: everything there is text, so a number is shown bare and other text quoted.
    """
    kind = str(error.get("type", ""))
    value = error.get("input")
    label = f"{name} {ADDRESS}"
    written = "" if value is None else str(value)
    bounded = low is not None or high is not None
    if kind.startswith("int_") or (bounded and kind in (
            "greater_than_equal", "less_than_equal", "greater_than", "less_than")):
        if low is not None and high is not None:
            wanted = f"a whole number from {low} to {high}"
        elif low is not None:
            wanted = f"a whole number of at least {low}"
        else:
            wanted = "a whole number" + (f" of at most {high}" if high is not None else "")
        if not written.strip():
            return f"{label} is empty; write {wanted}"
        shown_value = written if re.fullmatch(r"-?\d+(\.\d+)?", written) else shown(written)
        return f"{label} must be {wanted}, not {shown_value}"
    if kind == "string_pattern_mismatch" and hint:
        return f"{label} {shown(written)} is not {hint[:1].lower()}{hint[1:]}"
    return message(error, label)


def _other(kind: str, name: str, value: Any, text: str, ctx: dict[str, Any]) -> str:
    """Choices, and the error types request bodies rarely meet: by kind, else
    pydantic's sentence in JSON's words."""
    if kind in ("literal_error", "enum"):
        return f"{name} must be {ctx.get('expected')}, not {shown(value)}"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return f"{name} is not one of the shapes this field takes, not {shown(value)}"
    if kind in _INTERNAL:
        return f"{name} cannot take the value {shown(value)}"
    base = kind.removesuffix("_type").removesuffix("_parsing")
    if (base != kind or kind == "is_instance_of") and (words := _KIND_WORDS.get(base)):
        return f"{name} must be {words}, not {shown(value)}"
    text = _plain_words(text)
    return f"{name}: {text}" if name != "the body" else text


def _number(kind: str, name: str, value: Any, ctx: dict[str, Any]) -> str:
    if isinstance(value, bool):
        if kind.startswith("int_"):
            return f"{name} must be a whole number, not {shown(value)}"
        return f"{name} must be a number like {NUMBER_EXAMPLE}, not {shown(value)}"
    bounds = {"greater_than": ("more than", "gt"), "greater_than_equal": ("at least", "ge"),
              "less_than": ("less than", "lt"), "less_than_equal": ("at most", "le")}
    if kind in bounds:
        words, key = bounds[kind]
        return f"{name} must be {words} {ctx.get(key)}, not {shown(value)}"
    if kind == "decimal_max_places":
        return f"{name} has more than {ctx.get('decimal_places')} decimal places"
    if kind in ("decimal_max_digits", "decimal_whole_digits"):
        return f"{name} is too large a number"
    if kind.startswith("int_"):
        return f"{name} must be a whole number, not {shown(value)}"
    return f"{name} must be a number like {NUMBER_EXAMPLE}, not {shown(value)}"
