"""The rule builder's Lookalikes button against a real database: a lookalike that finds
no one leaves the marketer's rules as they were and shows why; one that finds customers
replaces the rules for review."""

from __future__ import annotations

import asyncio
import copy

import sqlalchemy as sa
from sqlmodel import Session

from mini_crm.core.ai import lookalike as lk
from mini_crm.core.segments import editing
from mini_crm.state.segments import SegmentEditorState
from tests.integration.test_ai_features_lookalike import ORDERS_5, PILOT, plant
from tests.integration.test_campaign_ui_states import _connected, _run


def _builder(engine: sa.Engine, rules: dict) -> SegmentEditorState:
    state = _connected(SegmentEditorState, engine, "marketer")
    state.tree = editing.from_rules(rules)
    return state


def test_nothing_found_leaves_the_rules_and_says_why(app_settings: sa.Engine) -> None:
    with Session(app_settings) as s:
        plant(s)
        expected = lk.lookalike(s, rules=ORDERS_5).value
    assert not expected.found
    state = _builder(app_settings, ORDERS_5)
    before = copy.deepcopy(state.tree)
    events = asyncio.run(_run(SegmentEditorState.find_lookalikes, state))
    assert events == []  # no preview refresh: nothing in the builder changed
    assert state.tree == before and editing.to_rules(state.tree) == editing.to_rules(
        editing.from_rules(ORDERS_5)
    )
    assert state.ai_source == "lookalike_none" and state.ai_error == ""
    assert state.ai_explanation[0] == expected.summary
    assert state.ai_explanation[0].startswith("Nothing outside this audience resembles it")
    assert not state.ai_busy


def test_found_replaces_the_rules_for_review(app_settings: sa.Engine) -> None:
    with Session(app_settings) as s:
        plant(s)
        expected = lk.lookalike(s, rules=PILOT).value
    assert expected.found and expected.rules is not None and expected.size > 0
    state = _builder(app_settings, PILOT)
    events = asyncio.run(_run(SegmentEditorState.find_lookalikes, state))
    assert len(events) == 1  # the live preview follows the new rules
    assert state.ai_source == "lookalike"
    assert state.tree == editing.from_rules(expected.rules)
    assert state.ai_explanation[0] == expected.summary


def _campaign_with_buyers(session: Session) -> int:
    """The pilot cohort bought within the window after a campaign (conversions through
    the real ingestion path); 300 other recipients did not."""
    import random
    from datetime import UTC, timedelta
    from decimal import Decimal

    from mini_crm.core.ingestion.schemas import OrderIn
    from mini_crm.core.ingestion.upsert import upsert_orders
    from mini_crm.models import CommunicationLog, Customer
    from tests.integration.ai_features_data import add_campaign, add_logs

    planted = plant(session)
    campaign = add_campaign(session, "Pilot offer")
    others = random.Random(5).sample(planted["background"], 300)
    add_logs(session, campaign.id, [(cid, "delivered") for cid in planted["pilot"] + others])
    ext = dict(session.execute(sa.select(Customer.id, Customer.external_id)
                               .where(Customer.id.in_(planted["pilot"]))).all())
    sent = session.execute(sa.select(sa.func.max(CommunicationLog.sent_at))).scalar_one()
    bought = (sent + timedelta(hours=2)).replace(tzinfo=UTC)
    upsert_orders(session, [OrderIn(external_id=f"buy-{cid}", customer_external_id=ext[cid],
                                    amount=Decimal("500.00"), ordered_at=bought)
                            for cid in planted["pilot"]])
    session.commit()
    return int(campaign.id)


async def _run_with(handler, state, *args) -> list:  # noqa: ANN001
    from tests.integration.test_campaign_ui_states import _Proxy

    return [event async for event in handler.fn(_Proxy(state), *args)]


def test_customers_like_those_who_bought_fill_the_builder(app_settings: sa.Engine) -> None:
    with Session(app_settings) as s:
        campaign_id = _campaign_with_buyers(s)
        expected = lk.lookalike(s, campaign_id=campaign_id).value
    assert expected.found and "bought because of it" in expected.seed
    state = _connected(SegmentEditorState, app_settings, "marketer")
    events = asyncio.run(_run_with(SegmentEditorState.find_buyer_lookalikes, state,
                                   campaign_id))
    assert len(events) == 1  # the live preview follows the new rules
    assert state.ai_source == "lookalike" and state.ai_error == ""
    assert state.tree == editing.from_rules(expected.rules)
    assert state.name == "Like the buyers of Pilot offer"
    assert any("bought because of it" in line for line in state.ai_explanation)
    assert state.segment_id == 0  # a new segment: saving it creates one


def test_buyers_of_a_missing_campaign_is_a_clear_error(app_settings: sa.Engine) -> None:
    state = _connected(SegmentEditorState, app_settings, "marketer")
    events = asyncio.run(_run_with(SegmentEditorState.find_buyer_lookalikes, state, 424242))
    assert events == [] and not state.ai_busy
    assert state.ai_error == ("Campaign 424242 does not exist, so there are no buyers to "
                              "model.")


def test_the_campaign_page_link_opens_the_builder_on_that_lookalike(
        app_settings: sa.Engine) -> None:
    from reflex.istate.data import RouterData

    state = _connected(SegmentEditorState, app_settings, "marketer")
    headers = {"cookie": state.router.headers.cookie}
    state.router = RouterData.from_router_data({
        "headers": headers, "pathname": "/segments/new", "query": {"like_buyers_of": "7"}})
    events = asyncio.run(_run_with(SegmentEditorState.open, state))
    assert len(events) == 2 and "find_buyer_lookalikes" in str(events[1])
    assert "7" in str(events[1])


def test_an_answer_for_a_builder_started_afresh_is_dropped(app_settings: sa.Engine,
                                                            monkeypatch) -> None:  # noqa: ANN001
    """A lookalike takes seconds: when the marketer opens another segment meanwhile (the
    builder starts afresh), the answer must not replace that segment's rules."""
    from mini_crm.state import segment_assist

    with Session(app_settings) as s:
        plant(s)
    state = _builder(app_settings, PILOT)
    other = editing.from_rules(ORDERS_5)

    def slow_lookalike(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        state.reset_editor()  # the marketer moved on while the answer was computed
        state.tree = copy.deepcopy(other)
        return lk_answer(*args, **kwargs)

    lk_answer = segment_assist.lookalike_rules
    monkeypatch.setattr(segment_assist, "lookalike_rules", slow_lookalike)
    events = asyncio.run(_run(SegmentEditorState.find_lookalikes, state))
    assert events == [] and state.tree == other
    assert state.ai_source == "" and not state.ai_busy
