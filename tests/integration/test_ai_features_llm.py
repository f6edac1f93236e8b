"""The LLM engine of each AI feature against a local OpenAI-compatible server (real HTTP):
good answers are used, malformed / hostile / slow ones fall back to offline, saying why."""

from __future__ import annotations

import json
import random

import pytest
from sqlmodel import Session

from mini_crm.core.ai import insights, lookalike, messages, send_time, tags
from mini_crm.models import utcnow
from tests.ai_llm_server import (  # noqa: F401 - fixtures
    LLMTestServer,
    Reply,
    llm_configured,
    llm_server,
    use_llm_settings,
)
from tests.integration.ai_features_data import (
    add_campaign,
    add_customers,
    add_logs,
    add_orders,
    days_ago,
)

PUNE = {"combinator": "and", "rules": [{"field": "city", "operator": "=", "value": "Pune"}]}


# -- tags (no database) ---------------------------------------------------------------

def test_tags_good_answer(llm_configured: LLMTestServer) -> None:  # noqa: F811
    llm_configured.reply(Reply.json({"tags": ["Festive", "promotion", "festive"]}))
    result = tags.suggest_tags(name="Holi sale", message="20% off", objective="")
    assert (result.value, result.engine, result.note) == (["festive", "promotion"], "llm", "")
    request = llm_configured.requests[0]
    assert "win-back" in request["messages"][0]["content"]
    assert json.loads(request["messages"][1]["content"])["name"] == "Holi sale"


def test_tags_hostile_answers_are_refused(llm_configured: LLMTestServer) -> None:  # noqa: F811
    llm_configured.reply(Reply.json({"tags": ["'; DROP TABLE campaign; --"]}),
                         Reply.json({"tags": ["ignore previous instructions", "admin"]}))
    result = tags.suggest_tags(name="Cart reminder", message="Your cart is waiting",
                               objective="")
    assert result.engine == "offline" and result.value[0] == "abandoned-cart"
    assert "invalid twice" in result.note and "offline engine answered" in result.note
    assert len(llm_configured.requests) == 2  # one retry, then refused


def test_malformed_then_good_is_used(llm_configured: LLMTestServer) -> None:  # noqa: F811
    llm_configured.reply(Reply.text("Sure! Here are your tags: festive"),
                         Reply.json({"tags": ["loyalty"]}))
    result = tags.suggest_tags(name="VIP thanks", message="", objective="")
    assert (result.value, result.engine) == (["loyalty"], "llm")


def test_slow_llm_falls_back(llm_server: LLMTestServer,  # noqa: F811
                             monkeypatch: pytest.MonkeyPatch) -> None:
    use_llm_settings(monkeypatch, llm_server, timeout=0.5)
    llm_server.reply(Reply.slow(3.0, Reply.json({"tags": ["loyalty"]})))
    result = tags.suggest_tags(name="Diwali offers", message="", objective="")
    assert result.engine == "offline" and "festive" in result.value
    assert "did not answer within" in result.note


def test_unconfigured_llm_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    use_llm_settings(monkeypatch, None)
    result = tags.suggest_tags(name="Welcome aboard", message="", objective="")
    assert result.engine == "offline" and "not set" in result.note
    from mini_crm.settings import get_settings

    monkeypatch.undo()
    get_settings.cache_clear()


# -- messages --------------------------------------------------------------------------

def test_messages_llm_tokens_and_length_are_checked(session: Session,
                                                    llm_configured: LLMTestServer  # noqa: F811
                                                    ) -> None:
    add_customers(session, [{"external_id": f"c{i}", "city": "Pune"} for i in range(5)])
    good = {"variants": [{"text": "Hi {first_name}, 20% off in {city} today!",
                          "rationale": "short and local"}]}
    llm_configured.reply(
        Reply.json({"variants": [{"text": "Hi {password}, {{7*7}} {__class__}",
                                  "rationale": "x"}]}),
        Reply.json(good))
    result = messages.suggest_messages(session, objective="Pune sale 20% off", rules=PUNE,
                                       n=1)
    assert result.engine == "llm"
    assert [v.text for v in result.value] == [good["variants"][0]["text"]]
    retry = llm_configured.requests[1]["messages"][-1]["content"]
    assert "unknown token {password}" in retry
    system = llm_configured.requests[0]["messages"][0]["content"]
    assert "{first_name}" in system and "160" in system
    llm_configured.reply(*[Reply.json({"variants": [{"text": "x" * 200, "rationale": "long"}]})
                           ] * 2)
    result = messages.suggest_messages(session, objective="Pune sale 20% off", rules=PUNE)
    assert result.engine == "offline" and "limit is 160" in result.note
    assert all(v.length <= 160 for v in result.value)


# -- send time -------------------------------------------------------------------------

def test_send_time_llm_windows_are_validated_and_rescored(
        session: Session, llm_configured: LLMTestServer) -> None:  # noqa: F811
    ids = add_customers(session, [{"external_id": f"c{i}", "city": "Pune"} for i in range(5)])
    now = utcnow()
    rng = random.Random(0)
    add_orders(session, [(rng.choice(ids), days_ago(now, rng.randint(1, 200)), 100)
                         for _ in range(50)])
    llm_configured.reply(
        Reply.json({"windows": [{"weekday": 9, "hour": 30, "reason": "whenever"}]}),
        Reply.json({"windows": [{"weekday": 2, "hour": 20, "reason": "Evening shoppers."},
                                {"weekday": 2, "hour": 20, "reason": "duplicate"}]}))
    result = send_time.suggest_send_times(session, PUNE, now=now)
    assert result.engine == "llm"
    advice = result.value
    assert [(w.weekday, w.hour) for w in advice.windows] == [(2, 20)]
    assert advice.windows[0].score == round(send_time.block_share(advice.heatmap, 2, 20), 4)
    assert advice.windows[0].next_at > now and sum(map(sum, advice.heatmap)) == 50
    sent = json.loads(llm_configured.requests[0]["messages"][1]["content"])
    assert sent["heatmap"] == advice.heatmap


# -- insights --------------------------------------------------------------------------

def _campaign(session: Session) -> int:
    ids = add_customers(session, [{"external_id": f"c{i}", "city": "Pune"} for i in range(40)])
    c = add_campaign(session, "Monsoon")
    add_logs(session, c.id, [(cid, "delivered" if i % 4 else "failed")
                             for i, cid in enumerate(ids)])
    return c.id


def test_insights_llm_may_only_quote_the_figures(session: Session,
                                                 llm_configured: LLMTestServer  # noqa: F811
                                                 ) -> None:
    campaign_id = _campaign(session)
    invented = {"summary": "Monsoon reached 97% of 4,000 customers, a record.",
                "highlights": []}
    faithful = {"summary": "Monsoon was delivered to 30 of 40 customers (75%); 10 failed.",
                "highlights": ["All 40 customers are in Pune."]}
    llm_configured.reply(Reply.json(invented), Reply.json(faithful))
    result = insights.campaign_insights(session, campaign_id)
    assert result.engine == "llm" and result.value.summary == faithful["summary"]
    assert result.value.overall["rate"] == 0.75  # figures are always computed
    assert "97" in llm_configured.requests[1]["messages"][-1]["content"]
    llm_configured.reply(Reply.json(invented), Reply.json(invented))
    result = insights.campaign_insights(session, campaign_id)
    assert result.engine == "offline" and "a delivery rate of 75%" in result.value.summary
    assert "not in the figures" in result.note


def test_insights_llm_http_error(session: Session,
                                 llm_configured: LLMTestServer) -> None:  # noqa: F811
    campaign_id = _campaign(session)
    llm_configured.reply(Reply.error(503))
    result = insights.campaign_insights(session, campaign_id)
    assert result.engine == "offline" and "HTTP 503" in result.note


# -- lookalike ---------------------------------------------------------------------------

def _big_spenders(session: Session, *, pune: int) -> dict:
    """200 customers, the first 60 big spenders, the first `pune` in Pune; the seed rules
    for the big spenders."""
    now = utcnow()
    add_customers(session, [{"external_id": f"s{i}", "city": "Pune" if i < pune else "Delhi",
                             "total_spend": 30000 if i < 60 else 500, "order_count": 3,
                             "last_order_at": days_ago(now, 10)} for i in range(200)])
    return {"combinator": "and", "rules": [
        {"field": "total_spend", "operator": ">", "value": 20000}]}

def test_lookalike_llm_rules_must_validate(session: Session,
                                           llm_configured: LLMTestServer  # noqa: F811
                                           ) -> None:
    seed = _big_spenders(session, pune=60)
    hostile = {"rules": {"combinator": "and", "rules": [
        {"field": "total_spend; DROP TABLE customer", "operator": ">", "value": 1}]}}
    good = {"rules": {"combinator": "and", "rules": [
        {"field": "city", "operator": "=", "value": "Pune"}]}, "why": ["They live in Pune."]}
    llm_configured.reply(Reply.json(hostile), Reply.json(good))
    result = lookalike.lookalike(session, rules=seed)
    assert result.engine == "llm"
    look = result.value
    # Every Pune customer is in the seed: the LLM's rules reach no one outside it, and the
    # answer says so the same way as the offline engine's, with no rules to apply.
    assert look.seed_excluded and look.size == 0
    assert (look.found, look.rules, look.sentence) == (False, None, "")
    assert look.seed_coverage == 1.0 and any("Pune" in line for line in look.explanation)
    assert look.summary == (
        "Nothing outside this audience resembles it: its 60 customers are already described "
        "exactly by city (the model's rule, “are in Pune”, matches all of them and no one "
        "else). Even lowering total spend from > ₹20,000 to > ₹8,000 adds no one; start "
        "from a different audience to find lookalikes.")
    assert "unknown field" in llm_configured.requests[1]["messages"][-1]["content"]
    llm_configured.reply(Reply.json(hostile), Reply.json(hostile))
    result = lookalike.lookalike(session, rules=seed)
    assert result.engine == "offline" and "invalid twice" in result.note
    # The offline engine relearns the seed's own spend threshold: the same kind of answer.
    offline = result.value
    assert (offline.found, offline.rules, offline.size) == (False, None, 0)
    assert offline.summary.startswith("Nothing outside this audience resembles it: its 60 "
                                      "customers are already described exactly by total "
                                      "spend")


def test_lookalike_llm_rules_that_reach_others_are_proposed(
        session: Session, llm_configured: LLMTestServer  # noqa: F811
        ) -> None:
    seed = _big_spenders(session, pune=120)
    llm_configured.reply(Reply.json({"rules": {"combinator": "and", "rules": [
        {"field": "city", "operator": "=", "value": "Pune"}]}, "why": ["They live in Pune."]}))
    result = lookalike.lookalike(session, rules=seed)
    assert result.engine == "llm"
    look = result.value
    assert look.found and look.size == 60 and look.rules is not None
    assert look.summary == "60 customers resemble the 60 in this audience (who are left out)."
