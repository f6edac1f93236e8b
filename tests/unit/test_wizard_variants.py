"""The wizard's A/B card state: what it hands the launch and the draft, its errors in
the marketer's words, and a draft's variants restored as typed."""

from __future__ import annotations

import mini_crm.mini_crm  # noqa: F401 - registers every state, as in the running app
from mini_crm.state.wizard_variants import VariantsState


def _state() -> VariantsState:
    s = VariantsState()
    s.reset_variants()
    return s


def test_off_means_no_variants() -> None:
    assert _state().fields("Hi", "sms") == {"variants": None, "ab_test": None}


def test_errors_name_the_variant_and_the_limit() -> None:
    s = _state()
    s.set_enabled(True)
    assert not s.check("Hi {first_name}", "sms") and s.error == "Variant B is empty."
    s.set_variant(0, "Hello {first_name}")
    s.add_variant()
    s.add_variant()
    assert len(s.extra) == 3 and s.can_add is False
    s.add_variant()
    assert s.error == "At most 4 variants: remove one first." and len(s.extra) == 3
    s.use_as_variant("from the AI", "Hi")  # fills the first empty variant (C)
    assert s.extra == ["Hello {first_name}", "from the AI", ""]
    s.set_variant(2, "D text")
    s.use_as_variant("another", "Hi")
    assert s.error.startswith("At most 4 variants") and len(s.extra) == 3
    s.remove_variant(1)
    assert s.extra == ["Hello {first_name}", "D text"] and len(s.subjects) == 2
    s.set_test_hours("0")
    assert not s.check("Hi", "sms") and "test period" in s.error


def test_launch_and_draft_fields_and_restore() -> None:
    s = _state()
    s.set_enabled(True)
    s.set_variant(0, "B text")
    s.set_subject(0, "B subject")
    s.set_test_share("30")
    s.set_test_hours("12")
    s.set_metric("delivery")
    assert s.check("A text", "email")
    launch = s.fields("A text", "email")
    assert launch == {"variants": [{"message": "A text"},
                                   {"message": "B text", "subject": "B subject"}],
                      "ab_test": {"test_percent": 30, "test_hours": 12,
                                  "metric": "delivery"}}
    # Not email: the subject lines are not sent (nor refused).
    assert s.fields("A text", "sms")["variants"][1] == {"message": "B text"}
    draft = s.draft_fields("A text", "email")
    again = _state()
    again.restore([{"key": "A", **draft["variants"][0]}, {"key": "B", **draft["variants"][1]}],
                  draft["ab_test"])
    assert (again.enabled, again.extra, again.subjects, again.test_share, again.test_hours,
            again.metric) == (True, ["B text"], ["B subject"], "30", "12", "delivery")


def test_use_as_variant_fills_variant_a_first_when_the_message_is_empty() -> None:
    s = _state()
    event = s.use_as_variant("from the AI", "  ")
    # A is the wizard's main message: the suggestion goes there, B stays empty to type.
    assert s.enabled and s.extra == [""]
    assert event.handler.fn.__name__ == "use_suggestion"
    assert [a[1]._var_value for a in event.args] == ["from the AI"]
    s.use_as_variant("second idea", "from the AI")
    assert s.extra == ["second idea"]


def test_the_review_lists_variants_b_to_d_with_their_subjects() -> None:
    s = _state()
    assert s.review_rows == []
    s.set_enabled(True)
    s.set_variant(0, "B text")
    s.set_subject(0, " B subject ")
    s.add_variant()
    s.set_variant(1, "C text")
    assert s.review_rows == [{"key": "B", "message": "B text", "subject": "B subject"},
                             {"key": "C", "message": "C text", "subject": ""}]


def test_the_review_warns_of_an_empty_email_subject_and_names_the_default() -> None:
    from mini_crm.state.campaign_wizard import CampaignWizardState

    w = CampaignWizardState()
    w.channel, w.template, w.email_subject = "sms", "Hi {first_name}\nmore", ""
    assert w.subject_review == {"text": "", "who": "", "warning": ""}
    w.channel = "email"
    review = w.subject_review  # no sample yet: rendered for the sample customer
    assert (review["text"], review["who"]) == ("Hi Test", "a sample customer")
    assert review["warning"] == ("No subject line: each email's subject will be the "
                                 "message's first line, for a sample customer “Hi Test”.")
    w.email_subject = "Diwali offers for {first_name}"
    assert w.subject_review == {"text": "Diwali offers for Test", "who": "a sample customer",
                                "warning": ""}
    # The live preview's first customer is the one the review renders the subject for.
    w.samples = [{"name": "Asha Rao", "subject": "Diwali offers for Asha", "text": "Hi Asha"}]
    assert w.subject_review == {"text": "Diwali offers for Asha", "who": "Asha Rao",
                                "warning": ""}


def test_the_review_never_shows_a_token_cut_by_the_first_line_limit() -> None:
    from mini_crm.state.campaign_wizard import CampaignWizardState

    w = CampaignWizardState()
    # The raw first line is cut at 78 characters inside "{total_spend}"; the subject is
    # cut after rendering, as delivery does.
    w.channel, w.email_subject = "email", ""
    w.template = ("Thank you for shopping with us all year long, {first_name}: you spent "
                  "{total_spend}")
    review = w.subject_review
    assert "{" not in review["text"] and review["text"].startswith("Thank you")
    assert "Test: you spent" in review["text"]


def test_a_draft_is_kept_only_once_something_is_chosen_or_typed() -> None:
    """Opening the wizard and leaving (or only switching to "New rules") left an
    "Untitled draft" in the history (drafts.is_untouched decides)."""
    from mini_crm.core.campaigns.drafts import is_untouched
    from mini_crm.core.segments import editing
    from mini_crm.state import wizard_drafts

    def fields(**changed: object) -> dict:
        base = wizard_drafts.fields(
            mode="rules", rules=editing.to_rules(editing.empty_tree()), segment_id="",
            name="", channel="sms", template="", objective="", tags=[], schedule_at=None,
            step=0)
        return {**base, "variants": None, "ab_test": None, **changed}

    assert is_untouched(fields())
    assert is_untouched(fields(rules={}, name="   "))
    for changed in ({"name": "Diwali"}, {"message_template": "Hi"}, {"segment_id": 3},
                    {"tags": ["sale"]}, {"draft_step": 1}, {"objective": "sell"},
                    {"rules": {"combinator": "and", "rules": [
                        {"field": "city", "operator": "=", "value": "Pune"}]}},
                    {"variants": [{"message": ""}, {"message": "B"}]}):
        assert not is_untouched(fields(**changed)), changed
