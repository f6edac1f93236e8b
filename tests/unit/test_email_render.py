"""Email campaigns: subject and preheader with tokens, a plain-text and an HTML body."""

from __future__ import annotations

from decimal import Decimal

from mini_crm.core.messages.email import (
    default_subject,
    html_body,
    render_email,
    validate_email_fields,
)

ASHA = {"name": "Asha Rao", "city": "Pune", "total_spend": Decimal("5400"), "order_count": 1}
NOBODY = {"name": None, "city": None, "order_count": 3}


def test_subject_and_preheader_take_tokens_fallbacks_and_plurals() -> None:
    email = render_email(subject="{first_name|Friend}, a gift for {order_count:order|orders}",
                         preheader="Only in {city|your city}\nthis week",
                         body="Hi {first_name}!", customer=ASHA)
    assert email.subject == "Asha, a gift for 1 order"
    assert email.preheader == "Only in Pune this week"  # one line
    other = render_email(subject="{first_name|Friend}, a gift for {order_count:order|orders}",
                         preheader=None, body="Hi", customer=NOBODY)
    assert other.subject == "Friend, a gift for 3 orders" and other.preheader == ""


def test_without_a_subject_the_first_line_is_used() -> None:
    email = render_email(subject="", preheader="", body="Big sale today\nCome in",
                         customer=ASHA)
    assert email.subject == "Big sale today" and email.text == "Big sale today\nCome in"


def test_the_html_body_escapes_everything_and_links_urls() -> None:
    page = html_body("Hi <b>Asha</b> & co\nline two\n\nVisit https://shop.example.in/sale.",
                     preheader="Psst <3")
    assert "&lt;b&gt;Asha&lt;/b&gt; &amp; co<br>\nline two</p>" in page
    assert '<a href="https://shop.example.in/sale">https://shop.example.in/sale</a>.' in page
    assert "Psst &lt;3" in page and "display:none" in page
    evil = render_email(subject="x", preheader="", body="Hi {name}",
                        customer={"name": "<script>alert(1)</script>"})
    assert "<script>" not in evil.html and "&lt;script&gt;" in evil.html


def test_email_fields_are_checked() -> None:
    assert validate_email_fields("Hi {first_name|there}", "Psst", "Brand Team") == []
    problems = dict(validate_email_fields("Hi {nmae}", "x" * 301, "Bad <name>"))
    assert set(problems) == {"email_subject", "email_preheader", "sender_name"}
    assert "{nmae}" in problems["email_subject"]


def test_default_subject_is_the_first_non_blank_line_cut_to_78() -> None:
    assert default_subject("\n  Hi {first_name}, 20% off\nsecond line") == \
        "Hi {first_name}, 20% off"
    assert default_subject("x" * 100) == "x" * 78
    assert default_subject("  ") == ""
    # The review shows the same line the send uses.
    assert render_email(subject=None, preheader=None, body="Hello there\nmore",
                        customer=ASHA).subject == default_subject("Hello there\nmore")
