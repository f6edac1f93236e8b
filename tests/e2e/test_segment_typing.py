"""The segment builder never loses what is typed to a server answer that arrives later:
the answer to a field change (which clears the value on the server) or to the editor's
opening lands while keys are still being typed, and the marketer's latest text wins, in
the box and in the audience the server counts."""

from __future__ import annotations

import uuid

from playwright.sync_api import Page, expect
from sqlmodel import select

from mini_crm.core import formatting, segments
from mini_crm.core.segments import service
from mini_crm.models import Segment
from tests.e2e.conftest import e2e_session
from tests.e2e.test_wizard_typing import SERVER_LATENCY_MS, SLOW_SOCKET

# Keys this far apart: a word takes longer than the server's answer to the change made
# just before it, so the answer lands while the word is half typed (a typing speed, not
# a wait for anything).
KEY_DELAY_MS = SERVER_LATENCY_MS // 4


def _size(e2e_env: dict[str, str], rule: dict) -> str:
    with e2e_session(e2e_env) as s:
        return formatting.count(segments.audience_size(
            s, {"combinator": "and", "rules": [rule]}))


def test_keys_typed_right_after_a_field_change_stay_in_the_box_and_the_count(
        page: Page, app_url: str, e2e_env: dict[str, str]) -> None:
    page.add_init_script(SLOW_SOCKET)
    page.goto(app_url + "/segments/new")
    size = page.get_by_test_id("audience-size")
    expect(size).to_have_text(_size(e2e_env, {"field": "total_spend", "operator": ">",
                                              "value": 5000}))
    row = page.get_by_test_id("rule-row").first
    value = row.get_by_label("Value", exact=True)
    # Spend → city: the server's answer clears the value (₹5000 is no city) and makes the
    # box a city box; the marketer types the city before that answer arrives.
    row.get_by_label("Field").select_option("city")
    value.fill("M")
    value.press_sequentially("umbai", delay=KEY_DELAY_MS)
    expect(value).to_have_value("Mumbai")
    expect(value).to_have_attribute("list", "known-cities")  # the answer did arrive
    expect(size).to_have_text(_size(e2e_env, {"field": "city", "operator": "=",
                                              "value": "Mumbai"}))
    expect(page.get_by_test_id("audience-sentence")).to_contain_text("in Mumbai")
    expect(value).to_have_value("Mumbai")
    # The same for an operator change that keeps the value: "is" → "is not", then more.
    row.get_by_label("Operator").select_option("!=")
    value.press_sequentially(" Suburban", delay=KEY_DELAY_MS)
    expect(value).to_have_value("Mumbai Suburban")
    expect(page.get_by_test_id("audience-sentence")).to_contain_text("Mumbai Suburban")
    expect(size).to_have_text(_size(e2e_env, {"field": "city", "operator": "!=",
                                              "value": "Mumbai Suburban"}))
    expect(value).to_have_value("Mumbai Suburban")


def test_text_typed_while_the_editor_opens_survives_the_open(
        page: Page, app_url: str, e2e_env: dict[str, str]) -> None:
    page.add_init_script(SLOW_SOCKET)
    page.goto(app_url + "/segments")
    new = page.get_by_role("button", name="New segment").first
    expect(new).to_be_visible()
    # A move inside the app: the editor shows at once, and its opening (on_load, which
    # starts the editor afresh) is still on its way while the marketer types.
    new.click()
    name_box = page.get_by_test_id("segment-name")
    value = page.get_by_test_id("rule-row").first.get_by_label("Value", exact=True)
    value.fill("7000")
    name = f"Early {uuid.uuid4().hex[:8]}"
    name_box.press_sequentially(name, delay=KEY_DELAY_MS // 2)
    expect(page.get_by_test_id("audience-size")).to_have_text(_size(
        e2e_env, {"field": "total_spend", "operator": ">", "value": 7000}))
    expect(name_box).to_have_value(name)
    expect(value).to_have_value("7000")
    page.get_by_test_id("save-segment").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    with e2e_session(e2e_env) as s:
        saved = s.exec(select(Segment).where(Segment.name == name)).one()
        assert segments.parse_rules(saved.rules) == segments.parse_rules(
            {"combinator": "and", "rules": [{"field": "total_spend", "operator": ">",
                                             "value": 7000}]})
        # Not left in the shared list, where other tests look for their own sizes.
        service.delete_segment(s, int(saved.id))
        s.commit()
