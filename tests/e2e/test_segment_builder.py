"""Build a nested rule in the browser and watch the audience size follow the database."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlmodel import select

from mini_crm.core import formatting, segments
from mini_crm.models import Segment
from tests.e2e.conftest import e2e_session


def _size(e2e_env: dict[str, str], rules: dict) -> str:
    with e2e_session(e2e_env) as s:
        return formatting.count(segments.audience_size(s, rules))


def test_nested_rules_update_the_preview_and_save(page: Page, app_url: str,
                                                  e2e_env: dict[str, str]) -> None:
    page.goto(app_url + "/segments/new")
    size = page.get_by_test_id("audience-size")
    spend = {"combinator": "and", "not": False, "rules": [
        {"field": "total_spend", "operator": ">", "value": 5000}]}
    expect(size).to_have_text(_size(e2e_env, spend))

    # Add an OR group: (city = Mumbai OR order_count >= 3)
    page.get_by_test_id("add-group").first.click()
    rows = page.get_by_test_id("rule-row")
    expect(rows).to_have_count(2)
    group_rule = rows.nth(1)
    group_rule.get_by_label("Field").select_option("city")
    # Typed once the server's answer has put the city's box (cities suggested) in place
    # of the amount's: keys typed into a box as it is replaced are lost (one cold run).
    expect(group_rule.get_by_label("Value")).to_have_attribute("list", "known-cities")
    group_rule.get_by_label("Operator").select_option("=")
    group_rule.get_by_label("Value").fill("Mumbai")
    page.get_by_test_id("add-rule").nth(1).click()
    expect(rows).to_have_count(3)
    third = rows.nth(2)
    third.get_by_label("Field").select_option("order_count")
    third.get_by_label("Operator").select_option(">=")
    third.get_by_label("Value").fill("3")

    nested = {"combinator": "and", "not": False, "rules": [
        {"field": "total_spend", "operator": ">", "value": 5000},
        {"combinator": "or", "not": False, "rules": [
            {"field": "city", "operator": "=", "value": "Mumbai"},
            {"field": "order_count", "operator": ">=", "value": 3}]}]}
    expected = _size(e2e_env, nested)
    assert expected != _size(e2e_env, spend)
    expect(size).to_have_text(expected)
    expect(page.get_by_test_id("audience-sentence")).to_contain_text("are in Mumbai")

    # An empty value is unfinished, not wrong: a quiet hint on its box, no red error,
    # and the size counts the other rules and says one is left out.
    third.get_by_label("Value").fill("")
    expect(third.get_by_test_id("rule-hint")).to_have_text("enter a value")
    expect(third.get_by_role("alert")).to_have_count(0)
    without_third = {**nested, "rules": [nested["rules"][0], {
        **nested["rules"][1], "rules": nested["rules"][1]["rules"][:1]}]}
    expect(size).to_have_text(_size(e2e_env, without_third))
    expect(page.get_by_test_id("audience-uncounted")).to_have_text("1 rule not counted yet")
    # An invalid value is flagged inline, on the rule that has it.
    third.get_by_label("Value").fill("lots")
    expect(third.get_by_role("alert")).to_contain_text("not a number")
    third.get_by_label("Value").fill("3")
    expect(third.get_by_role("alert")).to_have_count(0)
    expect(size).to_have_text(expected)

    page.get_by_test_id("segment-name").fill("Big spenders: Mumbai or loyal")
    page.get_by_test_id("save-segment").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/segments/\d+$"))
    expect(size).to_have_text(expected)
    page.screenshot(path="test-results/segment-builder.png", full_page=True)
    with e2e_session(e2e_env) as s:
        saved = s.exec(select(Segment).where(Segment.name == "Big spenders: Mumbai or loyal")
                       ).one()
        assert segments.parse_rules(saved.rules) == segments.parse_rules(nested)
        saved_id = saved.id

    page.goto(app_url + "/segments")
    expect(page.get_by_role("link", name="Big spenders: Mumbai or loyal")).to_be_visible()
    expect(page.get_by_role("cell", name=expected, exact=True)).to_be_visible()

    # Deleting asks first, keyboard first: focus lands on Cancel and Escape backs out.
    row = page.get_by_role("row").filter(has_text="Big spenders: Mumbai or loyal")
    row.get_by_role("button", name="Delete segment").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text("Delete this segment?")
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    page.set_viewport_size({"width": 1440, "height": 900})
    page.screenshot(path="test-results/confirm-dialog.png")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.screenshot(path="test-results/confirm-dialog-phone.png")
    # Back to a wide screen: a phone shows segment cards, not the table's rows.
    page.set_viewport_size({"width": 1440, "height": 900})
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(row).to_have_count(1)
    row.get_by_role("button", name="Delete segment").click()
    dialog.get_by_role("button", name="Delete", exact=True).click()
    # While the dialog is open the page behind it is aria-hidden (no "row" to find), so
    # the row is counted once the dialog has gone and the list has said so.
    expect(dialog).to_have_count(0)
    expect(page.get_by_text("Segment deleted.")).to_be_visible()
    expect(row).to_have_count(0)
    with e2e_session(e2e_env) as s:
        assert s.get(Segment, saved_id) is None


def test_city_list_is_chips_added_with_enter_and_removed_with_x(page: Page, app_url: str,
                                                                e2e_env: dict[str, str]
                                                                ) -> None:
    page.goto(app_url + "/segments/new")
    row = page.get_by_test_id("rule-row").first
    # The builder speaks words: operators and attribute names, not symbols and keys.
    expect(row.get_by_label("Operator").locator("option[value='>=']")).to_have_text(
        "is at least")
    expect(row.get_by_label("Operator").locator("option[value='!=']")).to_have_text("is not")
    attributes = row.get_by_label("Field").locator("option[value^='attributes.']")
    expect(attributes.first).to_be_attached()
    assert not any(t.startswith(("Attribute", "attributes.")) or "_" in t
                   for t in attributes.all_inner_texts())
    row.get_by_label("Field").select_option("city")
    row.get_by_label("Operator").select_option("=")
    expect(row.get_by_label("Operator").locator("option[value='is_null']")).to_have_text(
        "is empty")
    # A city nobody lives in: "did you mean …?" puts the known one in.
    row.get_by_label("Value").fill("Mumbay")
    page.get_by_test_id("did-you-mean").click()
    expect(row.get_by_label("Value")).to_have_value("Mumbai")
    expect(page.get_by_test_id("did-you-mean")).to_have_count(0)
    row.get_by_label("Operator").select_option("in")
    draft = row.get_by_label("Add a value")
    draft.fill("Mumbai")
    draft.press("Enter")
    chips = row.get_by_test_id("value-chip")
    expect(chips).to_have_text(["Mumbai"])
    expect(draft).to_have_value("")
    draft.press_sequentially("pune,")  # typed key by key: the comma adds it
    expect(chips).to_have_text(["Mumbai", "Pune"])  # the data's spelling
    expect(draft).to_have_value("")  # not "pune," left behind
    two = {"combinator": "and", "not": False,
           "rules": [{"field": "city", "operator": "in", "value": ["Mumbai", "Pune"]}]}
    expect(page.get_by_test_id("audience-size")).to_have_text(_size(e2e_env, two))
    draft.fill("Mumbai")  # already there: not added twice
    draft.press("Enter")
    expect(chips).to_have_count(2)
    draft.fill("Chennai; Hyderabad, Delhi")  # as a paste arrives: one value per chip
    expect(chips).to_have_text(["Mumbai", "Pune", "Chennai", "Hyderabad", "Delhi"])
    expect(draft).to_have_value("")
    # A city nobody lives in is kept as typed, with the known one offered beside it.
    draft.press_sequentially("Bengaluur")
    draft.blur()  # leaving the box adds it too
    expect(chips).to_have_count(6)
    expect(draft).to_have_value("")
    fix = row.get_by_test_id("did-you-mean").filter(has_text="Bengaluru")
    expect(fix).to_have_text("Bengaluru?")
    expect(chips.nth(5)).to_have_text("Bengaluur")
    page.set_viewport_size({"width": 1440, "height": 900})
    page.screenshot(path="test-results/segment-list-did-you-mean.png")
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path="test-results/segment-list-did-you-mean-phone.png", full_page=True)
    page.set_viewport_size({"width": 1366, "height": 900})
    fix.click()
    expect(chips.nth(5)).to_have_text("Bengaluru")
    expect(fix).to_have_count(0)
    page.get_by_role("button", name="Remove Mumbai").click()
    expect(chips).to_have_count(5)
    rest = {"combinator": "and", "not": False, "rules": [
        {"field": "city", "operator": "in",
         "value": ["Pune", "Chennai", "Hyderabad", "Delhi", "Bengaluru"]}]}
    expect(page.get_by_test_id("audience-size")).to_have_text(_size(e2e_env, rest))
    page.screenshot(path="test-results/segment-city-chips.png")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    prompt = page.get_by_test_id("ai-prompt")
    box = prompt.bounding_box()
    # The row's whole width inside the card (390 less the page and card padding).
    assert box is not None and box["width"] >= 280, f"the plain-English box is {box}"
    page.screenshot(path="test-results/segment-builder-phone.png", full_page=True)


def test_window_rule_and_exclude_unknowns(page: Page, app_url: str,
                                          e2e_env: dict[str, str]) -> None:
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(app_url + "/segments/new")
    size = page.get_by_test_id("audience-size")
    sentence = page.get_by_test_id("audience-sentence")
    row = page.get_by_test_id("rule-row").first
    row.get_by_label("Field").select_option("window_order_count")
    row.get_by_label("Operator").select_option(">")
    row.get_by_label("Value", exact=True).fill("1")
    row.get_by_label("Number of days").fill("90")
    window = {"field": "window_order_count", "operator": ">", "value": 1,
              "window": {"last_days": 90}}
    expect(sentence).to_contain_text("placed more than 1 order in the last 90 days")
    expect(size).to_have_text(_size(e2e_env, {"combinator": "and", "rules": [window]}))

    page.get_by_test_id("add-rule").first.click()
    rows = page.get_by_test_id("rule-row")
    city = rows.nth(1)
    city.get_by_label("Field").select_option("city")
    city.get_by_label("Operator").select_option("!=")
    city.get_by_label("Value", exact=True).fill("Mumbai")
    not_mumbai = {"field": "city", "operator": "!=", "value": "Mumbai"}
    expect(sentence).to_contain_text("including customers with no city")
    expect(size).to_have_text(_size(e2e_env, {"combinator": "and",
                                              "rules": [window, not_mumbai]}))
    page.screenshot(path="test-results/segment-window-1440.png", full_page=True)

    city.get_by_test_id("exclude-unknowns").click()
    expect(rows).to_have_count(3)
    known = {"combinator": "and", "rules": [window, not_mumbai,
                                            {"field": "city", "operator": "is_not_null"}]}
    expect(size).to_have_text(_size(e2e_env, known))
    expect(page.get_by_test_id("exclude-unknowns")).to_have_count(0)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path="test-results/segment-window-390.png", full_page=True)


def test_a_huge_number_is_a_message_on_the_page_and_the_spinner_stops(
        page: Page, app_url: str) -> None:
    page.goto(app_url + "/segments/new")
    size = page.get_by_test_id("audience-size")
    expect(size).not_to_have_text("")
    row = page.get_by_test_id("rule-row").first
    row.get_by_label("Value").fill("99999999999999999999999")
    # Said on the page (on the rule, or at the top when it got past validation), in
    # words; never Reflex's "An error occurred" toast, and nothing keeps spinning.
    message = page.get_by_role("alert").filter(has_text=re.compile("too large|too big|digits"))
    expect(message.first).to_be_visible()
    expect(page.get_by_text("An error occurred")).to_have_count(0)
    expect(page.get_by_text("Contact the website administrator")).to_have_count(0)
    expect(page.get_by_test_id("preview-spinner")).to_have_count(0)
    # The stale size is not shown as if it were this audience's.
    expect(size).to_have_count(0)
    expect(row.get_by_label("Value")).to_have_value("99999999999999999999999")
    page.screenshot(path="test-results/segment-huge-number.png")

    # Fixing the value clears the message and the size comes back.
    row.get_by_label("Value").fill("5000")
    expect(message).to_have_count(0)
    expect(size).to_be_visible()

