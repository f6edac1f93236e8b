"""Pydantic's validation errors in the user's words: the one translator.

Every door that shows a schema error to a person or an API client goes through
`message()`: ingestion items (API, queued stream, CSV validate and import, the Data
page) and the API's request bodies (api/errors.py). Pydantic's own texts ("Input should
be a valid boolean, unable to interpret input", "Value error, ...") name the library's
notions; these name the field and say what to write instead.
"""

from __future__ import annotations

import math
from typing import Any

BOOL_WORDS = "yes/no, true/false or 1/0"
NUMBER_EXAMPLE = "1499.50"
TIMESTAMP_EXAMPLE = "2026-11-29T13:30:00+05:30"

# Field-specific hints where the generic sentence would leave a user guessing.
_LIST_HINTS = {"items": "the order's line items, a list of objects such as "
                        '[{"sku": "S1", "category": "shoes"}]'}


def _shown(value: Any, limit: int = 40) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[:limit] + "…"


def _is_huge(value: Any) -> bool:
    return isinstance(value, float) and math.isinf(value)


def message(error: dict[str, Any], label: str | None = None, *,
            missing: str = "is required") -> str:
    """One pydantic error (an item of `ValidationError.errors()`) as a sentence.

    `label` is how the user names the field (a CSV column such as "Customer ID"; by
    default the dotted field path, e.g. "customer_external_id" or "consent.sms").
    `missing` completes "<label> ..." for a required field that is absent ("is empty"
    when the absence is a blank CSV cell). Unknown error types keep pydantic's text,
    without its "Value error, " prefix.
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
        return f"{name} {missing}"
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
        return f"{name} must be {BOOL_WORDS}, not {_shown(value)}"
    if _is_huge(value) or kind == "finite_number":
        return f"{name} is too large a number"
    if kind.startswith(("decimal_", "float_", "int_")) or kind in (
            "greater_than", "greater_than_equal", "less_than", "less_than_equal",
            "multiple_of"):
        return _number(kind, name, value, ctx)
    if kind in ("string_type", "string_unicode"):
        return f"{name} must be text, not {_shown(value)}"
    if kind == "string_pattern_mismatch":
        return f"{name} {_shown(value)} is not in the expected form ({ctx.get('pattern')})"
    if kind == "list_type":
        hint = _LIST_HINTS.get(last)
        return f"{name} must be {hint}" if hint else f"{name} must be a list"
    if kind in ("dict_type", "model_attributes_type", "model_type"):
        return f"{name} must be an object, e.g. {{\"key\": \"value\"}}"
    if kind.startswith(("datetime_", "date_", "timezone_")):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return (f"{name} {_shown(value)} is not a Unix time (seconds, or milliseconds "
                    f"above 20,000,000,000); write e.g. {TIMESTAMP_EXAMPLE}")
        return f"{name} must be an ISO 8601 timestamp such as {TIMESTAMP_EXAMPLE}"
    if kind in ("literal_error", "enum"):
        return f"{name} must be {ctx.get('expected')}, not {_shown(value)}"
    return f"{name}: {text}" if name != "the body" else text


def _number(kind: str, name: str, value: Any, ctx: dict[str, Any]) -> str:
    if isinstance(value, bool):
        return f"{name} must be a number like {NUMBER_EXAMPLE}, not true/false"
    bounds = {"greater_than": ("more than", "gt"), "greater_than_equal": ("at least", "ge"),
              "less_than": ("less than", "lt"), "less_than_equal": ("at most", "le")}
    if kind in bounds:
        words, key = bounds[kind]
        return f"{name} must be {words} {ctx.get(key)}, not {_shown(value)}"
    if kind == "decimal_max_places":
        return f"{name} has more than {ctx.get('decimal_places')} decimal places"
    if kind in ("decimal_max_digits", "decimal_whole_digits"):
        return f"{name} is too large a number"
    if kind.startswith("int_"):
        return f"{name} must be a whole number, not {_shown(value)}"
    return f"{name} must be a number like {NUMBER_EXAMPLE}, not {_shown(value)}"
