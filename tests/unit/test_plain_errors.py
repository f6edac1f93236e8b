"""core.plain_errors over every pydantic error type: each reads in plain words with JSON
spellings (true/false/null, "a whole number", "an object"), never pydantic's phrasing or
Python's spellings (True, None, {'a': 1}, "Input should be a valid integer")."""

from __future__ import annotations

import re
import typing
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import PydanticKnownError
from pydantic_core.core_schema import ErrorType

from mini_crm.core import plain_errors

# Placeholders for every error type's message template.
CTX: dict[str, Any] = {
    "error": "invalid character", "expected": "'sms', 'email' or 'whatsapp'", "min_length": 2,
    "max_length": 5, "actual_length": 7, "gt": 0, "ge": 0, "lt": 9, "le": 9,
    "multiple_of": 2, "pattern": "^[A-Z]{3}$", "decimal_places": 2, "max_digits": 3,
    "whole_digits": 1, "class_name": "Item", "class_type": "Item", "attribute": "a",
    "field_type": "List", "tag": "t", "discriminator": "'kind'", "expected_tags": "'a'",
    "scheme": "https", "reason": "bad", "type_name": "int", "max_bits": 0,
    "expected_schemes": "'https'", "expected_length": 1, "actual_size": 1, "min_size": 1,
    "max_size": 2, "expected_plural": "items", "version": 4, "expected_version": 4,
    "method_name": "m", "encoding": "base64", "encoding_unit": "character",
    "tz_expected": 0, "tz_actual": 3600, "class": "Item", "encoding_error": "bad"}
INPUTS = [True, False, None, {"a": 1}, [True, None], 1.5, "text"]
PYTHON = re.compile(r"\bTrue\b|\bFalse\b|\bNone\b|\{'|\['|Input should|valid integer|"
                    r"dictionary|Value error|Assertion failed|[Pp]ython")


def _error(kind: str, value: Any) -> dict[str, Any]:
    known = PydanticKnownError(kind, CTX)
    return {"type": kind, "loc": ("body", "holdout_percent"), "msg": known.message(),
            "input": value, "ctx": CTX}


@pytest.mark.parametrize("kind", typing.get_args(ErrorType))
def test_every_error_type_reads_in_plain_words(kind: str) -> None:
    for value in INPUTS:
        text = plain_errors.message(_error(kind, value))
        assert not PYTHON.search(text), (kind, value, text)
        assert text.strip()


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    count: int = Field(default=1, ge=1, le=10)
    share: float = 0
    # As the ingestion item's amount: lax (text such as "1,499.50" is read elsewhere).
    amount: Decimal = Field(default=Decimal(0), decimal_places=2, strict=False)
    name: str = Field(default="x", max_length=3)
    flag: bool = False
    channel: Literal["sms", "email"] = "sms"
    tags: list[str] = []
    at: datetime | None = None


@pytest.mark.parametrize(("body", "expected"), [
    ({"count": True}, "count must be a whole number, not true"),
    ({"count": "12"}, "count must be a whole number, not '12'"),
    ({"count": None}, "count must be a whole number, not null"),
    ({"count": 1.5}, "count must be a whole number, not 1.5"),
    ({"count": 0}, "count must be at least 1, not 0"),
    ({"share": False}, "share must be a number like 1499.50, not false"),
    ({"amount": True}, "amount must be a number like 1499.50, not true"),
    ({"amount": 1.234}, "amount has more than 2 decimal places"),
    ({"name": {"a": 1}}, 'name must be text, not {"a": 1}'),
    ({"name": "abcd"}, "name is 4 characters; at most 3"),
    ({"flag": 2}, "flag must be yes/no, true/false or 1/0, not 2"),
    ({"channel": None}, "channel must be 'sms' or 'email', not null"),
    ({"tags": {"x": True}}, "tags must be a list"),
    ({"tags": [None]}, "tags.0 must be text, not null"),
    ({"at": [1]}, "at must be an ISO 8601 timestamp such as 2026-11-29T13:30:00+05:30"),
    ({"other": 1}, "other is not a known field"),
])
def test_real_errors_in_the_users_words(body: dict[str, Any], expected: str) -> None:
    with pytest.raises(ValidationError) as caught:
        _Body.model_validate(body)
    assert [plain_errors.message(dict(e)) for e in caught.value.errors()] == [expected]


def test_a_missing_body_says_it_is_empty() -> None:
    assert plain_errors.message({"type": "missing", "loc": ("body",), "msg": "Field required",
                                 "input": None}) == plain_errors.EMPTY_BODY
    assert plain_errors.message({"type": "missing", "loc": ("body", "name"),
                                 "msg": "Field required", "input": {}}) == "name is required"
