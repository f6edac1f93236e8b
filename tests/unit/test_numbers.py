"""The shared number reader (mini_crm.core.numbers): the forms people write, refusals."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mini_crm.core.numbers import (
    INT32,
    INT64,
    MONEY,
    NumberFormatError,
    NumberRangeError,
    check_range,
    parse_number,
)


@pytest.mark.parametrize(("text", "expected"), [
    ("1499", "1499"), ("1499.5", "1499.5"), ("0.125", "0.125"), ("-20", "-20"),
    ("1,49,999", "149999"), ("1,50,000", "150000"), ("12,34,56,789", "123456789"),
    ("149,999", "149999"), ("1,499.00", "1499.00"), ("1,499", "1499"),
    ("1,234,567.89", "1234567.89"), ("₹2,500", "2500"), ("₹ 2,500", "2500"),
    ("Rs 500", "500"), ("Rs.500", "500"), ("rs. 1,50,000", "150000"), ("INR 750", "750"),
    ("inr750", "750"), ("Rs 500/-", "500"), ("-₹500", "-500"), ("₹-500", "-500"),
    ("10K", "10000"), ("10k", "10000"), ("₹10K", "10000"), ("1.5 lakh", "150000"),
    ("2 lakhs", "200000"), ("3lac", "300000"), ("5L", "500000"), ("2 crore", "20000000"),
    ("1.25cr", "12500000"), ("2 crores", "20000000"), ("1.234k", "1234"),
    ("  42 ", "42"), ("\u2212 5", "-5"),
])
def test_reads_indian_and_international_forms(text: str, expected: str) -> None:
    assert parse_number(text) == Decimal(expected)


def test_multiplied_values_are_plain_decimals() -> None:
    assert str(parse_number("1.5 lakh")) == "150000"
    assert str(parse_number("1.2345k")) == "1234.5"


@pytest.mark.parametrize(("value", "expected"), [
    (5, Decimal(5)), (0.1, Decimal("0.1")), (Decimal("12.50"), Decimal("12.50")),
    (99999999999999999999999, Decimal("99999999999999999999999")),
])
def test_non_text_values(value: object, expected: Decimal) -> None:
    assert parse_number(value) == expected


@pytest.mark.parametrize(("text", "hint"), [
    ("5.000,00", "write 5000.00"),
    ("1.234", "write 1234 or 1,234"),
    ("12.500", "write 12500 or 12,500"),
    ("1.234.567", "write 1234567"),
    ("1,2,3", "1,50,000"),
    ("12,3456", "1,50,000"),
    ("1,5", "write 1.5"),
    ("1,50,00", "1,50,000"),
])
def test_ambiguous_values_are_refused_with_how_to_write_them(text: str, hint: str) -> None:
    with pytest.raises(NumberFormatError) as caught:
        parse_number(text)
    assert hint in str(caught.value)
    assert repr(text) in str(caught.value)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("value", ["", "   ", "abc", "1e5", "1 234", "nan", "inf", "₹",
                                   "lakh", "12abc", True, None, float("nan"),
                                   float("inf"), [1], "9" * 65])
def test_non_numbers_are_refused(value: object) -> None:
    with pytest.raises(NumberFormatError):
        parse_number(value)


def test_range_check_names_the_limit() -> None:
    with pytest.raises(NumberRangeError, match="too large.*999,999,999,999.99"):
        check_range(Decimal("99999999999999999999999"), MONEY, what="total spend")
    with pytest.raises(NumberRangeError, match="2,147,483,647"):
        check_range(Decimal(2**31), INT32, what="order count")
    with pytest.raises(NumberRangeError, match="too small"):
        check_range(Decimal(-(2**63) - 1), INT64)
    assert check_range(Decimal(2**31 - 1), INT32) == 2**31 - 1
    assert check_range(Decimal("999999999999.99"), MONEY) == Decimal("999999999999.99")


def test_exact_range_check_refuses_extra_places_only_for_storage() -> None:
    assert check_range(Decimal("99.995"), MONEY) == Decimal("99.995")
    assert check_range(Decimal("99.990"), MONEY, exact=True) == Decimal("99.990")
    with pytest.raises(NumberRangeError, match="2 decimal places"):
        check_range(Decimal("99.995"), MONEY, exact=True)
    with pytest.raises(NumberRangeError, match="whole numbers"):
        check_range(Decimal("2.5"), INT32, exact=True)
