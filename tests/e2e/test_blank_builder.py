"""The rule builder's blank state (every condition removed) is no audience: the size
reads "Add a condition" (never "all customers"), saving is refused, and the campaign
wizard does not go on to launch to everyone (h25)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, Page, expect

RESULTS = Path("test-results")


def test_a_blank_builder_asks_for_a_condition(page: Page, app_url: str) -> None:
    page.goto(app_url + "/segments/new")
    expect(page.get_by_test_id("rule-row")).to_have_count(1)
    page.get_by_label("Remove rule").click()
    expect(page.get_by_test_id("rule-row")).to_have_count(0)
    expect(page.get_by_test_id("audience-size")).to_have_text("Add a condition")
    expect(page.get_by_test_id("audience-sentence")).to_have_text(
        "Add a condition to choose who is in this audience.")
    expect(page.get_by_text("Add a condition to see who matches.")).to_be_visible()
    RESULTS.mkdir(exist_ok=True)
    page.screenshot(path=str(RESULTS / "segment-blank-builder.png"), full_page=True)


def test_the_wizard_does_not_launch_a_blank_builder(page: Page, app_url: str) -> None:
    page.goto(app_url + "/campaigns/new")
    page.get_by_role("radio", name="New rules").click()
    expect(page.get_by_test_id("rule-row")).to_have_count(1)
    page.get_by_label("Remove rule").click()
    expect(page.get_by_test_id("wizard-rules-size")).to_have_text("Add a condition")
    page.get_by_test_id("wizard-next").click()
    expect(page.get_by_text("Add a condition to choose who gets this campaign.")
           ).to_be_visible()
    expect(page.get_by_test_id("campaign-template")).to_have_count(0)  # still on step 1
    RESULTS.mkdir(exist_ok=True)
    page.screenshot(path=str(RESULTS / "wizard-blank-builder.png"), full_page=True)


def test_the_blank_builder_fits_a_phone(browser: Browser, admin_storage: dict,
                                        app_url: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844},
                                  storage_state=admin_storage)
    try:
        phone = context.new_page()
        phone.goto(app_url + "/campaigns/new")
        phone.get_by_role("radio", name="New rules").click()
        phone.get_by_label("Remove rule").click()
        expect(phone.get_by_test_id("wizard-rules-size")).to_have_text("Add a condition")
        # At once, not after the preview's pause: no other audience's words or sample.
        expect(phone.get_by_text("Add a condition to choose who is in this audience.")
               ).to_be_visible()
        expect(phone.get_by_text("Customers who spent over")).to_have_count(0)
        RESULTS.mkdir(exist_ok=True)
        phone.screenshot(path=str(RESULTS / "wizard-blank-builder-phone.png"), full_page=True)
    finally:
        context.close()
