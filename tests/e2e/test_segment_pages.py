"""The segment editor's page-level behaviour: the Field menu after "Fill rules" when many
newer customers carry no attributes, a missing segment's address, and the leave guard
that asks before unsaved work is lost."""

from __future__ import annotations

import re

from playwright.sync_api import Dialog, Page, expect
from sqlmodel import delete

from mini_crm.models import Customer, Segment, utcnow
from tests.e2e.conftest import e2e_session

PROMPT = "women in Chennai who spent over ₹5K"


def test_fill_rules_shows_the_attribute_field_after_a_batch_without_attributes(
        page: Page, app_url: str, e2e_env: dict[str, str]) -> None:
    now = utcnow()
    with e2e_session(e2e_env) as s:  # the newest 500 customers now hold no attribute
        s.add_all(Customer(external_id=f"bare-{i}", city="Chennai", created_at=now,
                           updated_at=now) for i in range(600))
        s.commit()
    try:
        _fill_and_check(page, app_url)
    finally:  # the other browser tests count the seeded customers
        with e2e_session(e2e_env) as s:
            s.execute(delete(Customer).where(Customer.external_id.like("bare-%")))
            s.commit()


def _fill_and_check(page: Page, app_url: str) -> None:
    page.goto(app_url + "/segments/new")
    expect(page.get_by_test_id("rule-row")).to_have_count(1)
    labels = page.get_by_test_id("rule-row").first.get_by_label("Field").locator("option")
    expect(labels.filter(has_text="Gender")).to_have_count(1)
    expect(labels.filter(has_text="Loyalty tier")).to_have_count(1)

    prompt = page.get_by_test_id("ai-prompt")
    prompt.fill(PROMPT)
    prompt.press("Enter")
    expect(page.get_by_test_id("ai-engine")).to_have_text("Offline engine")
    gender = page.get_by_test_id("rule-row").filter(
        has=page.locator("select[aria-label='Field'] option:checked", has_text="Gender"))
    expect(gender).to_have_count(1)
    expect(gender.get_by_label("Field")).to_have_value("attributes.gender")
    page.screenshot(path="test-results/segment-fill-gender.png", full_page=True)


def test_a_rule_on_a_field_outside_the_list_shows_its_own_field(
        page: Page, app_url: str, e2e_env: dict[str, str]) -> None:
    rules = {"combinator": "and", "not": False, "rules": [
        {"field": "attributes.shoe_size", "operator": "=", "value": "9"}]}
    with e2e_session(e2e_env) as s:
        seg = Segment(name="Shoe size nine (e2e)", rules=rules)
        s.add(seg)
        s.commit()
        seg_id = seg.id
    try:
        # The name box first appears holding the saved name: no blank editor to type into
        # while the segment is read (what was typed there got mixed into its rules).
        page.add_init_script("""new MutationObserver(() => {
            const box = document.querySelector('[data-testid="segment-name"]');
            if (box && window.__firstName === undefined) window.__firstName = box.value;
        }).observe(document, {subtree: true, childList: true});""")
        page.goto(f"{app_url}/segments/{seg_id}")
        expect(page.get_by_test_id("segment-name")).to_have_value("Shoe size nine (e2e)")
        assert page.evaluate("window.__firstName") == "Shoe size nine (e2e)"
        field = page.get_by_test_id("rule-row").first.get_by_label("Field")
        expect(field).to_have_value("attributes.shoe_size")
        expect(field.locator("option:checked")).to_have_text("Shoe size")
    finally:
        with e2e_session(e2e_env) as s:
            s.execute(delete(Segment).where(Segment.id == seg_id))
            s.commit()


def test_a_missing_segment_says_so(page: Page, app_url: str) -> None:
    for ref in ("9999", "abc"):
        page.goto(f"{app_url}/segments/{ref}")
        card = page.get_by_test_id("segment-not-found")
        expect(card).to_contain_text("Segment not found")
        expect(page.get_by_test_id("segment-name")).to_have_count(0)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.screenshot(path="test-results/segment-not-found.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path="test-results/segment-not-found-phone.png", full_page=True)
    card.get_by_role("link", name="All segments").click()
    expect(page).to_have_url(re.compile(r"/segments/?$"))


def test_leaving_with_unsaved_edits_asks_first(page: Page, app_url: str) -> None:
    page.goto(app_url + "/segments/new")
    expect(page.get_by_test_id("rule-row")).to_have_count(1)
    customers = page.get_by_role("link", name="Customers").first
    customers.click()  # nothing typed yet: no question
    expect(page).to_have_url(re.compile(r"/customers/?$"))

    page.goto(app_url + "/segments/new")
    expect(page.get_by_test_id("rule-row")).to_have_count(1)
    page.get_by_test_id("segment-name").fill("Half-made audience")
    page.get_by_test_id("rule-row").first.get_by_label("Value").fill("7000")
    expect(page.locator("#segment-dirty")).to_have_attribute("data-dirty", "true")
    asked: list[str] = []

    def stay(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", stay)
    customers.click()
    expect(page).to_have_url(re.compile(r"/segments/new/?$"))  # stayed, work kept
    assert asked and "without saving" in asked[0]
    expect(page.get_by_test_id("segment-name")).to_have_value("Half-made audience")

    page.once("dialog", lambda d: d.accept())
    customers.click()
    expect(page).to_have_url(re.compile(r"/customers/?$"))


def test_back_and_forward_with_unsaved_edits_ask_first(page: Page, app_url: str) -> None:
    page.goto(app_url + "/segments")
    page.get_by_role("link", name="New segment").first.click()  # inside the app
    expect(page).to_have_url(re.compile(r"/segments/new/?$"))
    # The editor has opened (it starts afresh, then offers the data's attribute fields):
    # typed before that, the name would be emptied by the opening.
    field = page.get_by_test_id("rule-row").first.get_by_label("Field")
    expect(field.locator("option[value^='attributes.']").first).to_be_attached()
    name = page.get_by_test_id("segment-name")
    name.fill("Half-made audience")
    expect(page.locator("#segment-dirty")).to_have_attribute("data-dirty", "true")

    with page.expect_event("dialog") as asked:
        page.go_back(wait_until="commit")
    assert "without saving" in asked.value.message
    asked.value.dismiss()  # stay
    expect(page).to_have_url(re.compile(r"/segments/new/?$"))
    expect(name).to_have_value("Half-made audience")
    expect(page.get_by_test_id("rule-row")).to_have_count(1)

    page.once("dialog", lambda d: d.accept())  # leave
    page.go_back(wait_until="commit")
    expect(page).to_have_url(re.compile(r"/segments/?$"))
    expect(page.get_by_role("heading", name="Segments", exact=True)).to_be_visible()
    expect(name).to_have_count(0)
