from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from mini_crm.core.messages.render import TOKENS, first_name, render, validate_template

ASHA = {"name": "Asha Rao", "city": "Pune", "email": "asha@example.in",
        "total_spend": Decimal("123456.40"), "order_count": 12,
        "last_order_at": datetime(2025, 11, 3, 18, 0)}


def test_every_token_renders() -> None:
    text = render("{name}|{first_name}|{city}|{email}|{total_spend}|{order_count}|"
                  "{last_order_date}", ASHA)
    assert text == "Asha Rao|Asha|Pune|asha@example.in|₹1,23,456|12|03 Nov 2025"


def test_missing_values_fall_back() -> None:
    text = render("Hi {first_name} in {city}: {total_spend}, {order_count}, {last_order_date}",
                  {"name": None, "city": "", "total_spend": None, "order_count": None})
    assert text == "Hi there in your city: ₹0, 0, —"


def test_values_are_not_expanded_again_and_cannot_format() -> None:
    evil = {**ASHA, "name": "{email} {0.__class__} {{x}}"}
    assert render("Hello {name}!", evil) == "Hello {email} {0.__class__} {{x}}!"


def test_control_characters_and_newlines_are_flattened_and_values_capped() -> None:
    text = render("[{name}]", {"name": "Asha\n\rRao\u202e\x00  x" + "y" * 300})
    assert "\n" not in text and "\u202e" not in text and "\x00" not in text
    assert text.startswith("[Asha Rao x")
    assert len(text) <= 102


def test_literal_braces() -> None:
    assert render("{{name}} is {name}", ASHA) == "{name} is Asha Rao"
    assert validate_template("{{literal}} {name}") == []


def test_validation_names_unknown_tokens_and_stray_braces() -> None:
    errors = validate_template("Hi {nmae}, {city} {bogus}")
    assert len(errors) == 2 and "{nmae}" in errors[0] and "{bogus}" in errors[1]
    assert any("'{'" in e for e in validate_template("Hi {name"))
    assert validate_template("  ") == ["the message is empty"]
    assert validate_template("x" * 2001)


@pytest.mark.parametrize("token", [t for t, _ in TOKENS])
def test_known_tokens_validate(token: str) -> None:
    assert validate_template(f"Hi {{{token}}} and {{ {token} }}") == []


def test_object_customers_work_too() -> None:
    class C:
        name, city, email, total_spend, order_count, last_order_at = (
            "Ravi", None, None, Decimal("10.5"), 1, None)
    assert render("{name} {city} {total_spend}", C()) == "Ravi your city ₹11"


def test_last_order_date_is_the_brand_calendar_day() -> None:
    # 2026-11-29 01:30 +05:30 is stored as 2026-11-28 20:00 UTC.
    customer = {**ASHA, "last_order_at": datetime(2026, 11, 28, 20, 0)}
    assert render("{last_order_date}", customer) == "29 Nov 2026"
    customer = {**ASHA, "last_order_at": datetime(2026, 11, 28, 18, 29, 59)}  # 23:59:59 IST
    assert render("{last_order_date}", customer) == "28 Nov 2026"


def test_a_fallback_of_the_templates_own_replaces_a_missing_value() -> None:
    nobody = {"name": None, "city": "  ", "email": None, "order_count": None}
    assert render("Hi {first_name|friend} in {city|your town}!", nobody) == \
        "Hi friend in your town!"
    assert render("Hi {first_name|friend} in {city|your town}!", ASHA) == "Hi Asha in Pune!"
    assert render("{ name | dear customer }", nobody) == "dear customer"
    assert render("{last_order_date|not yet}", nobody) == "not yet"
    assert render("Hi {first_name|}!", nobody) == "Hi !"  # an empty fallback is allowed
    assert validate_template("Hi {first_name|friend}, {city|your town}") == []


@pytest.mark.parametrize(("count", "text"), [
    (0, "0 orders"), (1, "1 order"), (3, "3 orders"), (12000, "12,000 orders"),
    (None, "0 orders")])
def test_counts_take_singular_and_plural_nouns(count: int | None, text: str) -> None:
    assert render("{order_count:order|orders}", {"order_count": count}) == text


def test_plural_forms_only_for_counts_and_known_tokens() -> None:
    errors = validate_template("{city:town|towns} and {nmae:a|b}")
    assert any("only {order_count}" in e for e in errors)
    assert any("{nmae}" in e for e in errors)
    assert validate_template("You placed {order_count:order|orders}.") == []


def test_a_fallback_is_not_a_way_in() -> None:
    evil = {"name": None}
    # The fallback is the marketer's text, used as typed; braces cannot hide in it.
    assert render("{name|{email}}", evil) != "asha@example.in"
    assert validate_template("{name|{email}}")


@pytest.mark.parametrize(("name", "first"), [
    ("Dr. अमित Kumar", "अमित"), ("Mrs Priya Shah", "Priya"), ("Smt. Lakshmi", "Lakshmi"),
    ("Er. Ravi Iyer", "Ravi"), ("Er Lin", "Er"), ("Ca Rao", "Ca"), ("Asha", "Asha"),
    ("Dr.", None), ("", None), (None, None)])
def test_first_name_skips_titles(name: str | None, first: str | None) -> None:
    assert first_name(name) == first
