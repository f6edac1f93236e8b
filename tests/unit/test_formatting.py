from datetime import date, datetime
from decimal import Decimal

import pytest

from mini_crm.core import formatting
from mini_crm.core.campaigns.reports import _csv_cell


@pytest.mark.parametrize(("n", "text"), [
    (0, "0"), (999, "999"), (1000, "1,000"), (100000, "1,00,000"),
    (12345678, "1,23,45,678"), (-1234567, "-12,34,567"),
])
def test_indian_grouping(n: int, text: str) -> None:
    assert formatting.group_indian(n) == text


def test_rupees() -> None:
    assert formatting.rupees(Decimal("123456.5")) == "₹1,23,457"
    assert formatting.rupees(Decimal("123456.5"), paise=True) == "₹1,23,456.50"
    assert formatting.rupees(None) == "—"


def test_days_ago() -> None:
    now = datetime(2026, 1, 31)
    assert formatting.days_ago(None, now) == "never"
    assert formatting.days_ago(datetime(2026, 1, 30), now) == "yesterday"
    assert formatting.days_ago(datetime(2025, 10, 1), now) == "4 months ago"


def test_rupees_sign_and_rounding() -> None:
    assert formatting.rupees(Decimal("-1234.5")) == "-₹1,235"
    assert formatting.rupees(Decimal("-0.5"), paise=True) == "-₹0.50"
    assert formatting.rupees(Decimal("-0.001"), paise=True) == "₹0"
    assert formatting.rupees(Decimal("99.995"), paise=True) == "₹100"
    assert formatting.rupees(0) == "₹0"


def test_chart_labels() -> None:
    assert formatting.month_label("2025-03") == "Mar '25"
    assert formatting.day_month(date(2026, 11, 2)) == "2 Nov"


def test_dates_shown_are_brand_calendar_days() -> None:
    assert formatting.date(datetime(2026, 11, 28, 20, 0)) == "29 Nov 2026"
    assert formatting.date(datetime(2026, 11, 28, 18, 29)) == "28 Nov 2026"
    assert formatting.date(date(2026, 11, 28)) == "28 Nov 2026"
    assert formatting.date(None) == "—"


def test_csv_exports_show_brand_time_with_its_offset() -> None:
    assert _csv_cell(datetime(2026, 11, 28, 20, 0)) == "2026-11-29 01:30:00+05:30"


def test_times_shown_are_brand_times() -> None:
    assert formatting.date_time(datetime(2026, 11, 28, 20, 0)) == "29 Nov 2026, 01:30"
    local = formatting.brand_time(datetime(2026, 11, 28, 20, 0))
    assert formatting.date_time(local) == "29 Nov 2026, 01:30"
    assert formatting.date_time(None) == "—"


@pytest.mark.parametrize(("part", "whole", "text"), [
    (0, 100, "0%"), (25, 100, "25%"), (1, 8, "12.5%"), (1, 3000, "<0.1%"), (5, 0, "0%"),
    (300, 300, "100%"),
])
def test_share_of_all_customers(part: int, whole: int, text: str) -> None:
    assert formatting.share(part, whole) == text


def test_plurals() -> None:
    assert formatting.plural(1, "message") == "1 message"
    assert formatting.plural(0, "message") == "0 messages"
    assert formatting.plural(12000, "order") == "12,000 orders"
    assert formatting.plural(2, "person", "people") == "2 people"


def test_percent_is_the_one_rate_formatter() -> None:
    from mini_crm.core.formatting import percent

    assert percent(None) == "—"
    assert percent(0.1234) == "12.3%" and percent(0.5) == "50.0%" and percent(0) == "0.0%"
    assert percent(0.5, trim=True) == "50%" and percent(0.1234, trim=True) == "12.3%"
    assert percent(1) == "100.0%" and percent(0.00049) == "0.0%"


def test_a_month_attribute_reads_as_its_month_in_the_rule_sentence() -> None:
    """The builder's sentence read "have a birthday month that is one of 3 or 4"."""
    from decimal import Decimal

    from mini_crm.core.formatting import month_attribute
    from mini_crm.core.segments.describe import describe

    assert [month_attribute("birthday_month", v) for v in (3, "12", Decimal("4"), 4.0)] == [
        "March", "December", "April", "April"]
    assert [month_attribute(k, v) for k, v in (("birthday_month", 13), ("birthday_month", 0),
                                               ("tier", 3), ("birthday_month", True))] == [
        None, None, None, None]

    def rule(op: str, value: object) -> dict:
        return {"combinator": "and", "rules": [
            {"field": "attributes.birthday_month", "operator": op, "value": value}]}

    assert describe(rule("in", [3, 4])) == (
        "Customers who have a birthday month that is one of March or April")
    assert describe(rule("=", 3)) == "Customers who have a birthday month that is March"
    assert describe(rule(">", 13)) == "Customers who have a birthday month that is over 13"


@pytest.mark.parametrize(("name", "expected"), [
    ('Vikram "Vicky" Rao', "VR"),      # quotes are not initials
    ("Anita D'Souza", "AD"),
    ("priya", "P"),
    ("विक्रम राव", "विरा"),            # a Devanagari letter keeps its vowel sign
    ("  - Raj  (VIP)", "RV"),
    ("", "?"),
    (None, "?"),
    ("1234", "?"),
])
def test_initials_letters_only(name: str | None, expected: str) -> None:
    assert formatting.initials(name) == expected


@pytest.mark.parametrize(("key", "stored", "shown"), [
    ("acquisition_source", "google_ads", "Google Ads"),
    ("language", "hi", "Hindi"),
    ("preferred_language", "en-IN", "English"),
    ("loyalty_tier", "platinum", "Platinum"),
    ("source", "whatsapp", "WhatsApp"),
    ("note", "Call after 6pm", "Call after 6pm"),   # a sentence is kept as typed
    ("alt_email", "me@brand.in", "me@brand.in"),
    ("sku", "abc123", "abc123"),
    ("language", "xx", "Xx"),                       # an unknown code still reads as a word
])
def test_code_label_is_for_display_only(key: str, stored: str, shown: str) -> None:
    assert formatting.code_label(key, stored) == shown


def test_customer_profile_shows_labels() -> None:
    from mini_crm.state.customers import _attr
    assert _attr("google_ads", "acquisition_source") == "Google Ads"
    assert _attr(["hi", "en"], "languages") == "Hindi, English"
    assert _attr(7, "birthday_month") == "July"


def test_one_money_rule_paise_only_when_there_are_some() -> None:
    # Brief h30: an order read "₹2,000.00" in the orders table and "₹2,000" elsewhere.
    assert formatting.rupees(Decimal("2000.00"), paise=True) == "₹2,000"
    assert formatting.rupees(Decimal("2000"), paise=False) == "₹2,000"
    assert formatting.rupees(Decimal("2499.5"), paise=True) == "₹2,499.50"
    assert formatting.rupees(Decimal("-12.05"), paise=True) == "-₹12.05"


def test_phones_read_in_the_international_format() -> None:
    assert formatting.phone("+917457262035") == "+91 74572 62035"
    assert formatting.phone("+912223456789") == "+91 22 2345 6789"
    assert formatting.phone("not a phone") == "not a phone"  # shown as stored
    assert formatting.phone(None) == "—"
    assert formatting.address("sms", "+917457262035") == "+91 74572 62035"
    assert formatting.address("whatsapp", "+917457262035") == "+91 74572 62035"
    assert formatting.address("email", "asha@example.in") == "asha@example.in"
    assert formatting.address("sms", None) == ""


def test_one_channel_label() -> None:
    assert [formatting.channel_label(c) for c in ("sms", "email", "whatsapp")] == \
        ["SMS", "Email", "WhatsApp"]
    assert formatting.channel_label("SMS") == "SMS"


def test_the_campaign_header_names_its_date() -> None:
    from datetime import datetime

    from mini_crm.state.campaign_common import when_text

    made, at = datetime(2026, 11, 30, 17, 2), datetime(2026, 11, 30, 17, 12)
    assert when_text("sending", made, None, at).startswith("Started ")
    assert when_text("completed", made, None, at) == when_text("sending", made, None, at)
    assert when_text("scheduled", made, at, None).startswith("Scheduled for ")
    assert when_text("draft", made, None, None).startswith("Draft created ")
    assert when_text("cancelled", made, at, None).startswith("Created ")
