"""Message suggestions: facts from the data, objective details, tones, channel limits."""

from __future__ import annotations

import itertools

import pytest
from sqlmodel import Session

from mini_crm.core.ai import messages as msg
from mini_crm.core.messages import render
from mini_crm.models import utcnow
from tests.integration.ai_features_data import add_customers, days_ago

LAPSED_PUNE = {"combinator": "and", "rules": [
    {"field": "city", "operator": "=", "value": "Pune"}]}


def plant(session: Session) -> None:
    now = utcnow()
    add_customers(session, [{"external_id": f"p{i}", "city": "Pune", "total_spend": 30000,
                             "order_count": 6, "last_order_at": days_ago(now, 200)}
                            for i in range(30)])
    add_customers(session, [{"external_id": f"n{i}", "city": "Thiruvananthapuram",
                             "created_at": days_ago(now, 3)} for i in range(20)])
    add_customers(session, [{"external_id": f"r{i}", "city": "Delhi", "total_spend": 800,
                             "order_count": 1, "last_order_at": days_ago(now, 4)}
                            for i in range(10)])


def test_audience_facts_come_from_the_data(session: Session) -> None:
    plant(session)
    facts = msg.audience_facts(session, LAPSED_PUNE)
    assert facts.size == 30 and facts.top_city == "Pune" and facts.top_city_share == 1
    assert facts.lapsed_share == 1 and facts.recent_share == 0 and facts.never_share == 0
    assert facts.avg_spend == pytest.approx(30000)
    everyone = msg.audience_facts(session, None)
    assert everyone.size == 60
    assert everyone.never_share == pytest.approx(20 / 60)
    assert everyone.recent_share == pytest.approx(10 / 60)
    assert msg.audience_facts(session, {"combinator": "or", "rules": []}).size == 0


def test_objective_details_are_read() -> None:
    o = msg.read_objective("Diwali sale: flat ₹500 off on silk sarees till Sunday, "
                           "code DIWALI500")
    assert (o.offer, o.code, o.festival, o.product, o.deadline) == (
        "₹500 off", "DIWALI500", "Diwali", "silk sarees", "till sunday")
    o = msg.read_objective("Announce our new monsoon collection with free delivery")
    assert o.intent == "new-arrivals" and o.product == "monsoon collection"
    assert o.offer == "free delivery"
    o = msg.read_objective("Bring back lapsed buyers, 20 percent discount this weekend")
    assert o.intent == "win-back" and o.offer == "20% off" and o.deadline == "this weekend"
    assert o.product == ""  # "lapsed buyers" is an audience, not a product


def test_messages_reflect_audience_objective_and_tone(session: Session) -> None:
    plant(session)
    got = msg.suggest_messages(session, objective="Win back lapsed big spenders with 20% off",
                               tone="friendly", rules=LAPSED_PUNE).value
    assert len(got) == 3 and len({v.text for v in got}) == 3
    assert all("20% off" in v.text for v in got)
    joined = " ".join(v.text for v in got)
    # 100% of this audience is in Pune and spends ₹30,000 on average: both facts are used.
    assert "{city}" in joined and "{total_spend}" in joined
    assert any("lives in Pune" in v.rationale for v in got)
    new = msg.suggest_messages(session, objective="Welcome new signups", tone="playful",
                               rules={"combinator": "and", "rules": [
                                   {"field": "order_count", "operator": "=", "value": 0}]}
                               ).value
    assert not {v.text for v in new} & {v.text for v in got}
    assert all(v.intent == "welcome" and v.tone == "playful" for v in new)
    assert any(opener.split("{")[0].strip(", ") in new[0].text
               for opener in msg.OPENERS["playful"])
    assert "20% off" not in " ".join(v.text for v in new)  # nothing promised


@pytest.mark.parametrize("tone", msg.TONES)
def test_every_variant_fits_an_sms_and_uses_known_tokens(session: Session, tone: str) -> None:
    plant(session)
    objectives = ["Diwali sale: flat ₹500 off on silk sarees and designer lehengas till "
                  "Sunday, code DIWALI500", "Thank our loyal customers", "Ask for reviews",
                  "Remind shoppers about the items left in their cart, free delivery"]
    audiences = [None, LAPSED_PUNE, {"combinator": "and", "rules": [
        {"field": "city", "operator": "=", "value": "Thiruvananthapuram"}]}]
    for objective, rules in itertools.product(objectives, audiences):
        variants = msg.suggest_messages(session, objective=objective, tone=tone, rules=rules,
                                        n=5).value
        assert len(variants) >= 3, (objective, tone)
        facts = msg.audience_facts(session, rules)
        for v in variants:
            assert render.validate_template(v.text) == []
            rendered = render.render(v.text, msg._typical(facts))
            assert len(rendered) == v.length <= 160, v.text


def test_long_channels_and_unknown_tone(session: Session) -> None:
    result = msg.suggest_messages(session, objective="Holi sale 30% off", tone="Sarcastic",
                                  channel="email", n=2)
    assert len(result.value) == 2 and "used friendly" in result.note
    assert all(v.tone == "friendly" for v in result.value)
    assert msg.image_suggestion("anything").url is None
