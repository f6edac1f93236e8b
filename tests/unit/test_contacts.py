"""Contact normalisation against the shapes real customer data arrives in."""

from __future__ import annotations

import pytest

from mini_crm.core.contacts import (
    InvalidContact,
    blank_to_none,
    normalise_address,
    normalise_email,
    normalise_phone,
)

ASHA = "+919876543210"

PHONES = [
    # Indian mobiles as people and shop backends write them
    ("+91 98765 43210", ASHA),
    ("9876543210", ASHA),
    ("098765-43210", ASHA),  # trunk prefix 0
    ("(0)98765 43210", ASHA),
    ("91 98765 43210", ASHA),  # country code without +
    ("919876543210", ASHA),
    ("0091 98765 43210", ASHA),  # India's international prefix
    ("+91-98765-43210", ASHA),
    ("+91.98765.43210", ASHA),
    ("  +91 98765 43210\t", ASHA),
    ("98765–43210", ASHA),  # an en dash pasted from a document
    ("919876543210.0", ASHA),  # a float column that kept every digit
    ("٩٨٧٦٥٤٣٢١٠", ASHA),  # Arabic-Indic digits
    # Indian landlines
    ("022 2345 6789", "+912223456789"),
    ("+91 22 2345 6789", "+912223456789"),
    # foreign numbers with their country code
    ("+1 (415) 555-2671", "+14155552671"),
    ("+44 20 7946 0958", "+442079460958"),
    ("+971 50 123 4567", "+971501234567"),
    ("+65 8123 4567", "+6581234567"),
    ("+61 4 1234 5678", "+61412345678"),
]

BAD_PHONES = [
    ("call me", "contains letters"),
    ("9.19877E+11", "scientific notation"),
    ("9,19877E+11", "scientific notation"),
    ("9.19877e11", "scientific notation"),
    ("12345", "not a valid phone number for IN"),
    ("98765 4321", "not a valid phone number"),  # nine digits
    ("+9198765432100", "not a valid phone number"),  # eleven digits
    ("+91 98765 43210 ext 12", "contains letters"),
    ("N/A", "contains letters"),
    ("-", "not a phone number"),
    ("+", "not a phone number"),
]


@pytest.mark.parametrize(("raw", "expected"), PHONES)
def test_phone_shapes_become_e164(raw: str, expected: str) -> None:
    assert normalise_phone(raw, "IN") == expected


@pytest.mark.parametrize(("raw", "reason"), BAD_PHONES)
def test_bad_phones_are_refused_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidContact, match=reason) as caught:
        normalise_phone(raw, "IN")
    assert isinstance(caught.value, ValueError)
    assert repr(raw.strip()) in str(caught.value)  # the marketer sees which value


def test_the_region_reads_numbers_without_country_code() -> None:
    assert normalise_phone("(415) 555-2671", "US") == "+14155552671"
    assert normalise_phone("020 7946 0958", "GB") == "+442079460958"
    assert normalise_phone("020 7946 0958", "IN") == "+912079460958"  # Pune, read as Indian
    # A number with its own country code ignores the region.
    assert normalise_phone("+91 98765 43210", "US") == ASHA


def test_default_region_is_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from mini_crm.settings import get_settings

    monkeypatch.delenv("DEFAULT_PHONE_REGION", raising=False)
    get_settings.cache_clear()
    try:
        assert normalise_phone("98765 43210") == ASHA  # IN by default
        monkeypatch.setenv("DEFAULT_PHONE_REGION", "us")
        get_settings.cache_clear()
        assert get_settings().default_phone_region == "US"
        assert normalise_phone("415 555 2671") == "+14155552671"
    finally:
        monkeypatch.delenv("DEFAULT_PHONE_REGION")
        get_settings.cache_clear()


EMAILS = [
    ("Asha.Rao@Example.in", "asha.rao@example.in"),
    ("  asha.rao@example.in \n", "asha.rao@example.in"),
    ("ASHA@GMAIL.COM", "asha@gmail.com"),
    ("user+promo@gmail.com", "user+promo@gmail.com"),
    ("r.k.sharma@company.co.in", "r.k.sharma@company.co.in"),
    ("o'brien@example.ie", "o'brien@example.ie"),
    ("José@Exämple.de", "josé@exämple.de"),  # internationalised
    ("a@b.co", "a@b.co"),
]

BAD_EMAILS = [
    ("asha@@example.in", "after the @-sign"),
    ("asha.example.in", "@-sign"),
    ("asha@example", "period"),
    ("asha rao@example.in", "SPACE"),
    ("asha.@example.in", "period"),
    ("asha@example..in", "period"),
    ("asha@localhost", "period"),
    ("asha@x.test", "special-use"),
    ("a" * 250 + "@example.in", "longer than 254"),
]


@pytest.mark.parametrize(("raw", "expected"), EMAILS)
def test_emails_are_trimmed_and_lower_cased(raw: str, expected: str) -> None:
    assert normalise_email(raw) == expected


@pytest.mark.parametrize(("raw", "reason"), BAD_EMAILS)
def test_bad_emails_are_refused_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidContact, match=reason):
        normalise_email(raw)


@pytest.mark.parametrize("blank", [None, "", " ", "\t\n ", "\u00a0"])
def test_blank_is_none_everywhere(blank: str | None) -> None:
    assert blank_to_none(blank) is None
    assert normalise_email(blank) is None
    assert normalise_phone(blank) is None


def test_blank_to_none_trims_real_text() -> None:
    assert blank_to_none("  Pune ") == "Pune"


def test_address_by_channel() -> None:
    assert normalise_address("sms", "98765 43210") == ASHA
    assert normalise_address("whatsapp", "+91 98765 43210") == ASHA
    assert normalise_address("email", "Asha@Example.in") == "asha@example.in"
    with pytest.raises(ValueError, match="unknown channel"):
        normalise_address("fax", "123")


def test_inbox_key_reads_gmail_dots_and_plus_tags() -> None:
    from mini_crm.core.contacts import address_key, inbox_key

    for spelling in ("Asha.Rao.Test@gmail.com", "asharaotest@gmail.com",
                     "asharaotest+promo@gmail.com", "asharaotest@googlemail.com",
                     " a.s.h.a.r.a.o.t.e.s.t+x+y@GoogleMail.com "):
        assert inbox_key(spelling) == "asharaotest@gmail.com"
    assert inbox_key("asha+news@outlook.com") == "asha@outlook.com"
    # A company's own server: dots and "+" may tell two people apart.
    assert inbox_key("a.rao+team@example.in") == "a.rao+team@example.in"
    assert inbox_key("+promo@gmail.com") == "+promo@gmail.com"  # no name before the tag
    assert inbox_key(None) is None
    assert address_key("sms", "+919876543210") == "+919876543210"
    assert address_key("email", "A.B@gmail.com") == "ab@gmail.com"
