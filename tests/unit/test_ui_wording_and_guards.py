"""Fresh-user findings on layout and wording, checked on the compiled components and the
plain functions behind them: tables scroll sideways with a visible sign, the dashboard's
partial period is really dashed, words instead of internal names, and the guards
(confirm before deleting a draft, input limits, a viewer told up front)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import reflex as rx

from mini_crm.components.ui import responsive_table
from mini_crm.core import formatting
from mini_crm.core.auth import audit
from mini_crm.core.campaigns import service as campaign_service
from mini_crm.core.segments import service as segment_service
from mini_crm.state.admin import _details
from mini_crm.state.customers import _attr


def _rendered(component: rx.Component) -> str:
    return json.dumps(component.render(), default=str)


def test_tables_scroll_sideways_with_a_visible_sign() -> None:
    table = responsive_table(rx.table.body(), width="100%", min_width="560px")
    out = _rendered(table)
    assert "overflow-x" in str(table.children[0].style) or "overflowX" in out
    assert "table-scroll" in out and "table-scroll-hint" in out
    assert "Swipe sideways" in out
    # Shadows at the scrollable edges: the affordance a phone user sees.
    assert "radial-gradient" in str(table.children[0].style)


def test_every_page_table_goes_through_the_shared_wrapper() -> None:
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[2] / "mini_crm"
    direct = [str(p.relative_to(root)) for p in root.rglob("*.py")
              if "rx.table.root(" in p.read_text() and p.name != "ui.py"]
    assert direct == []


def test_partial_period_is_drawn_dashed() -> None:
    from mini_crm.pages.dashboard import _revenue_chart

    out = _rendered(_revenue_chart())
    assert "strokeDasharray" in out and "5 4" in out


def test_audit_details_read_as_words() -> None:
    event = SimpleNamespace(action=audit.CONSENT_CHANGED, details={
        "changes": {"sms": False, "email": True}, "source": "ui", "reason": None,
        "external_id": "c-7"})
    words = _details(event)
    assert words == "SMS off, email on, source: ui, external id: c-7"
    assert "None" not in words and "{" not in words and "False" not in words
    refused = SimpleNamespace(action=audit.SIGNIN_REFUSED, details={"reason": None})
    assert _details(refused) == ""


def test_month_attributes_show_the_month_name() -> None:
    assert _attr(7, "birthday_month") == "July"
    assert _attr("12", "anniversary_month") == "December"
    assert _attr(13, "birthday_month") == "13"
    assert _attr(7, "pets") == "7"
    assert _attr(True, "trial_month") == "Yes"


def test_sentence_keeps_what_the_user_typed() -> None:
    assert formatting.sentence("“Stranger@evil.com” is not on the test list") == \
        "“Stranger@evil.com” is not on the test list."
    assert formatting.sentence("no customer has the email “Me@Brand.in”") == \
        "No customer has the email “Me@Brand.in”."
    assert formatting.sentence("done.") == "Done."


def test_wizard_guards_and_limits() -> None:
    from mini_crm.pages.campaign_wizard import campaign_wizard_page
    from mini_crm.pages.segments import segment_editor_page

    out = _rendered(campaign_wizard_page())
    assert "Viewers can't create campaigns" in out
    # Delete draft asks first: the delete handler is on the dialog's confirm button.
    assert "Delete this draft?" in out and "confirm-delete-draft" in out
    # The inputs stop at the limit the core checks, instead of taking 300 then refusing.
    for limit in (campaign_service.MAX_NAME, campaign_service.MAX_OBJECTIVE,
                  campaign_service.MAX_SUBJECT, campaign_service.MAX_SENDER_NAME,
                  campaign_service.MAX_TAG):
        assert f"maxLength:{limit}" in out, limit
    assert "docs/" not in out
    seg = _rendered(segment_editor_page())
    assert f"maxLength:{segment_service.MAX_NAME}" in seg


def test_the_message_counter_counts_the_message_as_sent() -> None:
    from mini_crm.core.campaigns.figures import sent_length_note
    template = "Hi {first_name}, see you in {city}!"
    assert sent_length_note(template, [], "sms") == (
        f"{len(template)} characters in the template · an SMS holds 160, or 70 with ₹ or "
        "other Unicode")
    texts = ["Hi Asha, see you in Pune!", "Hi Priyanka, see you in Mumbai!"]
    assert sent_length_note(template, texts, "sms") == (
        f"about 25–31 characters once personalised · 1 SMS (template: {len(template)})")
    assert sent_length_note(template, ["x" * 170], "email") == (
        f"about 170 characters once personalised (template: {len(template)})")
    assert sent_length_note(template, ["x" * 170], "sms").startswith(
        "about 170 characters once personalised · 2 SMS")
