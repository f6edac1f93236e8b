"""Counted nouns in generated text agree with their number ("1 recipient", never "1
recipients"): every count-noun sentence goes through formatting.plural."""

from __future__ import annotations

import re
from decimal import Decimal

from mini_crm.core.ai import insights, send_time
from mini_crm.core.auth import audit
from mini_crm.core.outcomes.reports import Outcome
from mini_crm.core.outcomes.story import incremental_parts, outcome_summary
from mini_crm.models import AuditEvent, Campaign
from mini_crm.state.admin import _details
from mini_crm.state.outcome_view import outcome_view

WRONG = re.compile(r"\b1 (recipients|customers|orders|messages|people|hours|days|campaigns"
                   r"|matching customers|extra orders|attributed orders)\b")


def test_audit_launch_to_one_recipient() -> None:
    e = AuditEvent(action=audit.CAMPAIGN_LAUNCHED,
                   details={"name": "Solo", "audience_size": 3, "recipients": 1})
    assert _details(e) == "“Solo” to 1 recipient (3 matching)"


def test_outcome_story_with_ones() -> None:
    o = Outcome(sent=1, conversions=1, converters=1, revenue=Decimal("500"),
                holdout_size=1, holdout_converters=0)
    text = outcome_summary(o, "Tiny", window_hours=1)
    assert "from 1 attributed order: 1 of 1 recipient bought" in text, text
    assert "1 person was held back as a control group" in text, text
    assert "within 1 hour before ordering" in text, text
    assert not WRONG.search(text), text
    none = outcome_summary(Outcome(sent=1), "Tiny", window_hours=24)
    assert "from its 1 recipient." in none and "1 day" in none, none
    assert not WRONG.search(none), none


def test_insights_summary_with_ones() -> None:
    campaign = Campaign(name="Tiny", channel="sms", status="completed")
    overall = {"messages": 1, "delivered": 0, "failed": 0, "undelivered": 0, "final": 0,
               "rate": None, "cancelled": 1, "skipped": 1, "pending": 1}
    comparison = {"median_rate": None, "difference_points": None, "previous_campaigns": 0}
    text = insights._summary(campaign, overall, [], comparison,
                             [{"error": "vendor said no", "count": 1}], {})
    for part in ("went to 1 customer by sms", "1 message was stopped by the cancel",
                 "1 matching customer was skipped at launch",
                 "1 message is still awaiting a final status", "(1 message)."):
        assert part in text, (part, text)
    assert not WRONG.search(text), text


def test_send_time_few_orders() -> None:
    assert send_time._few(0) == "no orders"
    assert send_time._few(1) == "only 1 order"
    assert send_time._few(7) == "only 7 orders"


def test_outcome_story_without_holdout_or_with_a_shortfall() -> None:
    """A fresh tester read "the holdout was picked at random" on a campaign without one,
    and "-₹7,981 of revenue the campaign added" when recipients bought less."""
    plain = outcome_summary(Outcome(sent=200, conversions=4, converters=4,
                                    revenue=Decimal("4000")), "No control", window_hours=120)
    assert "There was no holdout" in plain and "holdout was picked" not in plain, plain
    assert plain.endswith("within 5 days before ordering."), plain
    worse = Outcome(sent=1000, conversions=50, converters=50, revenue=Decimal("50000"),
                    holdout_size=1000, holdout_conversions=80, holdout_converters=80,
                    holdout_revenue=Decimal("57981"),
                    uplift={"absolute": -0.03, "relative": -0.375, "ci_low": -0.05,
                            "ci_high": -0.01, "incremental_orders": -30.0,
                            "incremental_revenue": -7981.0})
    text = outcome_summary(worse, "Backfired", window_hours=120)
    assert "-₹" not in text and "the campaign added" not in text, text
    assert "about 30 fewer orders and ₹7,981 less revenue than if they had bought like " \
           "the holdout" in text, text
    assert "The whole interval is below zero" in text and "picked at random" in text


def test_the_uplift_card_says_fewer_and_less_for_a_shortfall() -> None:
    assert incremental_parts(12.4, 8400) == ("12 extra orders", "₹8,400 extra revenue")
    assert incremental_parts(1, 10) == ("1 extra order", "₹10 extra revenue")
    assert incremental_parts(-30.2, -7981) == ("30 fewer orders", "₹7,981 less revenue")
    worse = Outcome(sent=1000, converters=50, holdout_size=1000, holdout_converters=80,
                    uplift={"absolute": -0.03, "relative": -0.375, "ci_low": -0.05,
                            "ci_high": -0.01, "incremental_orders": -30.0,
                            "incremental_revenue": -7981.0})
    assert outcome_view(worse, 1000)["incremental"] == "≈ 30 fewer orders, ₹7,981 less revenue"
