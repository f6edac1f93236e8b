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
