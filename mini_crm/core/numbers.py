"""One reading of numbers typed by people: rule values, the AI parser and CSV cells.

`parse_number(value)` returns a `Decimal` or raises `NumberFormatError` (a ValueError)
whose message quotes the input and shows how to write it. Accepted:

- plain digits with an optional decimal point: ``1499``, ``1499.5``, ``-20``;
- grouping with commas, Indian (``1,49,999``, ``1,50,000``, ``12,34,56,789``) or
  international (``149,999``, ``1,499.00``);
- a currency mark before the number: ``₹``, ``Rs``, ``Rs.``, ``INR`` (any case, with or
  without a space), and ``/-`` after it (``Rs 500/-``);
- a multiplier after it: ``k``/``K`` (thousand), ``L``/``lakh``/``lakhs``/``lac``/``lacs``
  (1,00,000), ``cr``/``crore``/``crores`` (1,00,00,000): ``₹10K``, ``1.5 lakh``, ``2cr``.

Refused as ambiguous, because a European writer means something else by them:
``5.000,00`` (dots grouping, comma decimal), ``1.234`` and ``12.500`` (one dot before
exactly three digits reads as a thousands separator in much of the world),
``1.234.567``, ``1,5`` and groupings that are neither Indian nor international
(``1,2,3``, ``12,3456``). Exponents (``1e5``), spaces inside digits, NaN and infinity
are refused too.

`numeric_text(text)` is the narrower reading of a *stored* custom-attribute text as a
number ("12", "-3", "7.50"; not "0400", "+91…", "1,200"): the one predicate the segment
compiler (per dialect, NUMERIC_TEXT_PATTERN), the rule parser and the reference
evaluator share, so `attributes.visits > 3` finds a CSV's "12".

`check_range(value, column)` holds a parsed value to what a database column can take
(`INT32`, `INT64`, `MONEY` = NUMERIC(14,2)) so an out-of-range number becomes a
`NumberRangeError` with a plain message, never a driver OverflowError.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from mini_crm.core import plain_errors

__all__ = [
    "INT32", "INT64", "MONEY", "ColumnRange", "NumberError", "NumberFormatError",
    "NUMERIC_TEXT_PATTERN", "NumberRangeError", "check_range", "numeric_text", "parse_number",
]

MAX_TEXT = 64  # longer than any honest number; keeps Decimal work bounded
HOW_TO_WRITE = ("write digits with an optional '.' for decimals and optional ',' grouping, "
                "e.g. 150000, 1,50,000, 150,000 or 1499.50")

_MULTIPLIERS = {
    "k": Decimal(1_000),
    "l": Decimal(100_000), "lakh": Decimal(100_000), "lakhs": Decimal(100_000),
    "lac": Decimal(100_000), "lacs": Decimal(100_000),
    "cr": Decimal(10_000_000), "crore": Decimal(10_000_000), "crores": Decimal(10_000_000),
}
_CURRENCY = re.compile(r"^(?:₹|rs\.?|inr)\s*", re.IGNORECASE)
_SUFFIX = re.compile(r"\s*(k|lakhs?|lacs?|l|crores?|cr)$", re.IGNORECASE)
_PLAIN = re.compile(r"^\d+(?:\.\d+)?$")
_INTERNATIONAL = re.compile(r"^\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_INDIAN = re.compile(r"^\d{1,2}(?:,\d{2})*,\d{3}(?:\.\d+)?$")
_DOT_THOUSANDS = re.compile(r"^[1-9]\d{0,2}\.\d{3}$")
_EUROPEAN = re.compile(r"^\d{1,3}(?:\.\d{3})+,\d+$|^\d{1,3}(?:\.\d{3}){2,}$")


# A stored text that means a number: plain ASCII digits, an optional minus, no leading
# zero (so ids and zip codes such as "0400" or "007" stay text), no grouping, currency or
# "+" (a phone "+9198…" stays text), and at most 15 significant digits, so that a double
# (how every database compares JSON numbers) holds it exactly and "12" = 12 = "12.0"
# agree on every dialect. Whole numbers: up to 15 digits; decimals: up to 9 digits before
# the point and 6 after. The same text is a POSIX ERE (PostgreSQL), a PCRE (MariaDB) and
# a Python regex; `$` is only the end of the text in PostgreSQL's ERE and in fullmatch,
# and MariaDB's copy ends with \z instead (its `$` also matches before a final newline).
NUMERIC_TEXT_PATTERN = r"^-?([1-9][0-9]{0,14}|0|(0|[1-9][0-9]{0,8})[.][0-9]{1,6})$"
_NUMERIC_TEXT = re.compile(NUMERIC_TEXT_PATTERN[1:-1])


def numeric_text(value: object) -> Decimal | None:
    """The number a stored attribute text means, or None when it is text.

    `numeric_text("12")` → Decimal('12'); "-3.50" → Decimal('-3.50'); "0400", "007",
    "1,200", "+91 98", " 12", "1e5", "12." and non-str values → None. A number never
    fails here: None is the answer for anything that is not plainly one.
    """
    if not isinstance(value, str) or not _NUMERIC_TEXT.fullmatch(value):
        return None
    return Decimal(value)


class NumberError(ValueError):
    """A number that cannot be used as written; `str()` is a message for the user."""


class NumberFormatError(NumberError):
    """Not a number, or one that could be read two ways. `.text` is the input."""

    def __init__(self, text: str, reason: str, hint: str = HOW_TO_WRITE,
                 message: str | None = None) -> None:
        super().__init__(message or f"{text!r} {reason}: {hint}")
        self.text = text
        self.reason = reason
        self.hint = hint


class NumberRangeError(NumberError):
    """A number outside what its column can hold."""


def parse_number(value: object) -> Decimal:
    """A number as people write it → Decimal; see the module docstring for the forms.

    Accepts str, int and finite float (Python's own float, e.g. a JSON number, is taken
    at its shortest repr: 0.1 → Decimal('0.1')) and Decimal. bool is refused (JSON
    true is not 1). Raises NumberFormatError with a how-to-write hint.
    """
    if isinstance(value, bool) or value is None or not isinstance(
            value, int | float | Decimal | str):
        # Shown as JSON spells it (true, null, [1, 2]), not as Python does (True, None).
        raise NumberFormatError(str(value), "is not a number", message=(
            f"{plain_errors.shown(value)} is not a number: {HOW_TO_WRITE}"))
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if math.isinf(value):
            # JSON has no infinity: a parser hands over inf for a literal past float's
            # range (1e400), which the sender wrote as a number, only too large a one.
            raise NumberFormatError(str(value), "is too large", message=(
                "too large a number (past 1.8e308, read as infinity); write it in digits, "
                "e.g. 150000 or 1499.50"))
        if not math.isfinite(value):
            raise NumberFormatError(str(value), "is not a finite number")
        return Decimal(repr(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise NumberFormatError(str(value), "is not a finite number")
        return value
    return _parse_text(value)


def _parse_text(raw: str) -> Decimal:
    text = raw.strip()
    if not text:
        raise NumberFormatError(raw, "is empty")
    if len(text) > MAX_TEXT:
        raise NumberFormatError(text[:20] + "…", f"is longer than {MAX_TEXT} characters")
    body = text.replace("\u2212", "-")  # a typographic minus from a spreadsheet
    sign = 1
    if body[0] in "+-":
        sign, body = (-1 if body[0] == "-" else 1), body[1:].lstrip()
    body = _CURRENCY.sub("", body, count=1)
    if body[:1] in ("+", "-") and sign == 1:  # "₹-500"
        sign, body = (-1 if body[0] == "-" else 1), body[1:].lstrip()
    if body.endswith("/-"):
        body = body[:-2].rstrip()
    multiplier = Decimal(1)
    suffix = _SUFFIX.search(body)
    if suffix and suffix.start() > 0:
        multiplier = _MULTIPLIERS[suffix.group(1).lower()]
        body = body[:suffix.start()]
    digits = _digits(body, raw, has_multiplier=multiplier != 1)
    try:
        number = Decimal(digits) * multiplier * sign
    except InvalidOperation:  # pragma: no cover - the patterns admit only digits
        raise NumberFormatError(raw, "is not a number") from None
    if multiplier == 1:
        return number
    # 1.5 × 1,00,000 is 150000, not Decimal('1.5E+5') or '150000.0'
    return number.quantize(Decimal(1)) if number == number.to_integral_value() \
        else number.normalize()


def _digits(body: str, raw: str, *, has_multiplier: bool) -> str:
    """The digits of `body` without grouping commas, or a NumberFormatError."""
    if _PLAIN.match(body):
        if _DOT_THOUSANDS.match(body) and not has_multiplier:
            whole = body.replace(".", "")
            raise NumberFormatError(
                raw, "is ambiguous (a dot before three digits groups thousands in many "
                "countries)", f"write {whole} or {_group(whole)} for the whole number, or "
                f"{body}0 if you mean a decimal")
        return body
    if _INTERNATIONAL.match(body) or _INDIAN.match(body):
        return body.replace(",", "")
    if _EUROPEAN.match(body):
        meant = body.replace(".", "").replace(",", ".")
        raise NumberFormatError(
            raw, "is ambiguous (dots grouping and a decimal comma)",
            f"use '.' for decimals and ',' only to group digits: write {meant}")
    if re.fullmatch(r"\d+,\d{1,2}", body):
        raise NumberFormatError(raw, "is ambiguous (a decimal comma?)",
                                f"use '.' for decimals: write {body.replace(',', '.')}")
    if re.fullmatch(r"[\d.,]+", body):
        raise NumberFormatError(raw, "has digit grouping that is neither Indian (1,50,000) "
                                "nor international (150,000)", HOW_TO_WRITE)
    raise NumberFormatError(raw, "is not a number", HOW_TO_WRITE)


def _group(whole: str) -> str:
    return f"{int(whole):,}"


@dataclass(frozen=True)
class ColumnRange:
    """What a column can hold: inclusive bounds and, for exact storage, decimal places."""

    name: str
    low: Decimal
    high: Decimal
    places: int  # 0 = whole numbers only

    @property
    def whole(self) -> bool:
        return self.places == 0


INT32 = ColumnRange("a 32-bit whole number", Decimal(-(2**31)), Decimal(2**31 - 1), 0)
INT64 = ColumnRange("a 64-bit whole number", Decimal(-(2**63)), Decimal(2**63 - 1), 0)
MONEY = ColumnRange("an amount (NUMERIC(14,2))", Decimal("-999999999999.99"),
                    Decimal("999999999999.99"), 2)


def check_range(value: Decimal, column: ColumnRange, *, what: str = "the value",
                exact: bool = False) -> Decimal:
    """`value` if `column` can hold it, else NumberRangeError naming `what` and the limit.

    `exact=False` (comparisons in rules) allows more decimal places than the column
    stores, since `total_spend > 99.995` is a fair question; `exact=True` (storing a
    value, e.g. a CSV amount) refuses them. A whole-number column refuses fractions either
    way when exact, and for comparisons the caller decides (a count compared with 2.5 is
    still meaningful).
    """
    if not value.is_finite():
        raise NumberRangeError(f"{what} must be a finite number")
    if value < column.low or value > column.high:
        big = value > column.high
        raise NumberRangeError(
            f"{what} {_plain(value)} is too {'large' if big else 'small'}: the "
            f"{'largest' if big else 'smallest'} allowed is "
            f"{_plain(column.high if big else column.low)} ({column.name})")
    if exact and value != value.quantize(Decimal(1).scaleb(-column.places)):
        unit = "whole numbers" if column.whole else f"{column.places} decimal places"
        raise NumberRangeError(f"{what} {_plain(value)} has more precision than "
                               f"{column.name} keeps ({unit})")
    return value


def _plain(value: Decimal) -> str:
    """A Decimal in plain digits, grouped internationally ("99,999,999,999.99")."""
    if value == value.to_integral_value():
        return f"{int(value):,}"
    return f"{value:,f}"
