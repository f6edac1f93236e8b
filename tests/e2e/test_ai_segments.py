"""Plain English in the rule builder: a prompt fills the rules and the live size follows;
nothing is saved until the marketer saves, and a viewer cannot save at all."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect
from sqlmodel import func, select

from mini_crm.core import formatting, segments
from mini_crm.core.ai import vocabulary
from mini_crm.core.auth import users
from mini_crm.models import Segment
from tests.e2e.conftest import e2e_session, sign_in

PROMPT = "customers in Mumbai or Pune who spent over ₹5K"
RULES = {"combinator": "and", "not": False, "rules": [
    {"field": "city", "operator": "in", "value": ["Mumbai", "Pune"]},
    {"field": "total_spend", "operator": ">", "value": 5000}]}


def test_prompt_fills_the_builder_and_the_size_follows(page: Page, app_url: str,
                                                      e2e_env: dict[str, str]) -> None:
    with e2e_session(e2e_env) as s:
        expected = formatting.count(segments.audience_size(s, RULES))
        saved_before = s.exec(select(func.count()).select_from(Segment)).one()
    page.goto(app_url + "/segments/new")
    size = page.get_by_test_id("audience-size")
    expect(page.get_by_test_id("rule-row")).to_have_count(1)
    assert size.inner_text() != expected

    prompt = page.get_by_test_id("ai-prompt")
    prompt.fill(PROMPT)
    prompt.press("Enter")  # Enter submits

    expect(page.get_by_test_id("ai-engine")).to_have_text("Offline engine")
    rows = page.get_by_test_id("rule-row")
    expect(rows).to_have_count(2)
    expect(rows.nth(0).get_by_label("Field")).to_have_value("city")
    expect(rows.nth(0).get_by_label("Operator")).to_have_value("in")
    expect(rows.nth(0).get_by_test_id("value-chip")).to_have_text(["Mumbai", "Pune"])
    expect(rows.nth(1).get_by_label("Field")).to_have_value("total_spend")
    expect(rows.nth(1).get_by_label("Value")).to_have_value("5000")
    explanation = page.get_by_test_id("ai-explanation")
    expect(explanation).to_contain_text("Customers who are in Mumbai or Pune and spent over "
                                        "₹5,000")
    expect(explanation).to_contain_text("“spent over ₹5K”")
    expect(size).to_have_text(expected)  # the live preview ran on the new rules
    expect(page.get_by_test_id("audience-sentence")).to_contain_text("are in Mumbai or Pune")
    page.screenshot(path="test-results/ai-segment-prompt.png", full_page=True)

    # Words it could not use are named and nothing changes until the marketer confirms;
    # a prompt with no audience is refused clearly.
    prompt.fill("Pune customers who love cricket")
    page.get_by_test_id("ai-submit").click()
    expect(page.get_by_test_id("ai-unused")).to_contain_text("I ignored: love cricket")
    expect(page.get_by_test_id("ai-heading")).to_contain_text("Not applied yet")
    expect(page.get_by_test_id("rule-row")).to_have_count(2)  # the builder is untouched
    page.get_by_test_id("ai-apply-anyway").click()
    expect(page.get_by_test_id("rule-row")).to_have_count(1)
    expect(page.get_by_test_id("ai-unused")).to_have_count(0)
    # Rules that cannot hold together: a "Check: …" of their own, not "I ignored"; held
    # until the marketer says so, and "Reword" keeps the builder as it was.
    prompt.fill("spent less than 500 but more than 1000")
    prompt.press("Enter")
    expect(page.get_by_test_id("ai-warnings")).to_have_text(
        "Check: spent under ₹500 and spent over ₹1,000 cannot both hold: this matches no one")
    expect(page.get_by_test_id("ai-unused")).to_have_count(0)
    expect(page.get_by_test_id("ai-heading")).to_have_text(
        "Not applied yet: check the note below.")
    expect(page.get_by_test_id("ai-note")).to_have_count(0)  # no "Not understood"
    page.get_by_test_id("ai-discard").click()
    expect(page.get_by_test_id("ai-warnings")).to_have_count(0)
    rows = page.get_by_test_id("rule-row")
    expect(rows).to_have_count(1)
    expect(rows.nth(0).get_by_label("Field")).to_have_value("city")
    prompt.fill("hello there")
    prompt.press("Enter")
    expect(page.get_by_role("alert").filter(has_text="Could not find an audience")
           ).to_be_visible()
    with e2e_session(e2e_env) as s:  # AI proposes; nothing was saved
        assert s.exec(select(func.count()).select_from(Segment)).one() == saved_before


def test_a_viewer_can_ask_but_cannot_save(page: Page, browser: Browser, app_url: str,
                                          e2e_env: dict[str, str]) -> None:
    with e2e_session(e2e_env) as s:
        users.invite(s, "ai-viewer@brand.in", role="viewer")
        s.add(Segment(name="Read-only for viewers", rules=RULES))
        s.commit()
        saved_before = s.exec(select(func.count()).select_from(Segment)).one()
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    try:
        viewer = context.new_page()
        viewer.set_default_timeout(20_000)
        sign_in(viewer, app_url, "ai-viewer@brand.in", "/segments/new")
        viewer.get_by_test_id("ai-prompt").fill("gmail users")
        viewer.get_by_test_id("ai-prompt").press("Enter")
        expect(viewer.get_by_test_id("rule-row").nth(0).get_by_label("Field")
               ).to_have_value("email")
        viewer.get_by_test_id("segment-name").fill("Viewer's segment")
        viewer.get_by_test_id("save-segment").click()
        expect(viewer.get_by_role("alert").filter(has_text="Only admins and marketers")
               ).to_be_visible()
        viewer.screenshot(path="test-results/ai-segment-viewer.png", full_page=True)
        # the list: a viewer may not duplicate either
        viewer.goto(app_url + "/segments")
        row = viewer.get_by_role("row").filter(has_text="Read-only for viewers")
        row.get_by_label("Duplicate segment").click()
        expect(viewer.get_by_role("alert").filter(has_text="Only admins and marketers")
               ).to_be_visible()
    finally:
        context.close()
    with e2e_session(e2e_env) as s:
        assert s.exec(select(func.count()).select_from(Segment)).one() == saved_before


def test_lookalikes_keep_the_rules_when_nothing_outside_resembles_them(
        page: Page, app_url: str, e2e_env: dict[str, str]) -> None:
    """A seed defined by order count alone: the model relearns it, so nobody outside it
    resembles it. The page says why and leaves the marketer's rules as they were."""
    from mini_crm.core.ai.lookalike import lookalike

    seed = {"combinator": "and", "not": False,
            "rules": [{"field": "order_count", "operator": ">=", "value": 5}]}
    with e2e_session(e2e_env) as s:
        expected = lookalike(s, rules=seed).value  # deterministic: same data, same tree
        seed_size = formatting.count(segments.audience_size(s, seed))
    assert not expected.found and expected.rules is None
    page.goto(app_url + "/segments/new")
    prompt = page.get_by_test_id("ai-prompt")
    prompt.fill("customers with at least 5 orders")
    prompt.press("Enter")
    rows = page.get_by_test_id("rule-row")
    size = page.get_by_test_id("audience-size")

    def rules_are_the_marketers() -> None:
        expect(rows).to_have_count(1)
        expect(rows.nth(0).get_by_label("Field")).to_have_value("order_count")
        expect(rows.nth(0).get_by_label("Operator")).to_have_value(">=")
        expect(rows.nth(0).get_by_label("Value")).to_have_value("5")
        expect(size).to_have_text(seed_size)

    rules_are_the_marketers()
    expect(page.get_by_test_id("ai-heading")).to_have_text(
        "Rules filled in from your description: review them, then save.")
    page.get_by_test_id("ai-lookalike").click()
    expect(page.get_by_test_id("ai-heading")).to_have_text(
        "No lookalike audience: your rules are unchanged.")
    explanation = page.get_by_test_id("ai-explanation")
    expect(explanation).to_contain_text(
        f"Nothing outside this audience resembles it: its {seed_size} customers are already "
        "described exactly by number of orders")
    expect(explanation).to_contain_text(expected.summary)
    expect(explanation).not_to_contain_text("customers resemble")
    rules_are_the_marketers()
    expect(page.get_by_test_id("ai-lookalike")).to_be_enabled()  # the spinner stopped
    page.screenshot(path="test-results/ai-lookalike-nothing-outside.png", full_page=True)


def test_lookalikes_replace_the_rules_with_a_modelled_audience(page: Page, app_url: str,
                                                               e2e_env: dict[str, str]
                                                               ) -> None:
    from mini_crm.core.ai.lookalike import lookalike
    from mini_crm.core.segments import editing

    seed = {"combinator": "and", "not": False,
            "rules": [{"field": "avg_order_value", "operator": ">", "value": 2000}]}
    with e2e_session(e2e_env) as s:
        expected = lookalike(s, rules=seed).value
    assert expected.found and expected.rules is not None and expected.size > 0
    page.goto(app_url + "/segments/new")
    prompt = page.get_by_test_id("ai-prompt")
    prompt.fill("customers with an average order value over ₹2,000")
    prompt.press("Enter")
    expect(page.get_by_test_id("rule-row")).to_have_count(1)
    expect(page.get_by_test_id("rule-row").nth(0).get_by_label("Field")
           ).to_have_value("avg_order_value")
    page.get_by_test_id("ai-lookalike").click()
    expect(page.get_by_test_id("ai-heading")).to_have_text(
        "Lookalike audience: review the rules, then save.")
    expect(page.get_by_test_id("ai-explanation")).to_contain_text(expected.summary)
    rules = [r for r in editing.flatten(editing.from_rules(expected.rules))
             if r["kind"] == "rule"]
    expect(page.get_by_test_id("rule-row")).to_have_count(len(rules))
    expect(page.get_by_test_id("audience-size")).to_have_text(formatting.count(expected.size))
    page.screenshot(path="test-results/ai-lookalike.png", full_page=True)


def test_lookalikes_of_a_saved_segment_save_as_a_new_one(page: Page, app_url: str,
                                                         e2e_env: dict[str, str]) -> None:
    from mini_crm.core.auth import audit
    from mini_crm.core.segments import service
    from mini_crm.models import AuditEvent

    seed = {"combinator": "and", "not": False,
            "rules": [{"field": "avg_order_value", "operator": ">", "value": 2000}]}
    with e2e_session(e2e_env) as s:
        original = service.save_segment(s, name="High AOV", rules=seed)
        s.commit()
        original_id = int(original.id)
    page.goto(f"{app_url}/segments/{original_id}")
    expect(page.get_by_test_id("segment-name")).to_have_value("High AOV")
    expect(page.get_by_test_id("save-segment")).to_have_text("Save segment")
    page.get_by_test_id("ai-lookalike").click()
    # The model trains on the spot: seconds on a busy machine.
    expect(page.get_by_test_id("segment-name")).to_have_value("Lookalike of High AOV",
                                                             timeout=60_000)
    expect(page.get_by_test_id("save-segment")).to_have_text("Save as new segment")
    expect(page.get_by_test_id("use-in-campaign")).to_have_count(0)  # not saved yet
    page.get_by_test_id("save-segment").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    with e2e_session(e2e_env) as s:
        assert s.get(Segment, original_id).rules == seed  # the original is untouched
        copy = s.exec(select(Segment).where(Segment.name == "Lookalike of High AOV")).one()
        assert copy.id != original_id and copy.rules != seed
        actions = s.exec(select(AuditEvent.action).where(
            AuditEvent.target == f"segment:{copy.id}")).all()
        assert audit.SEGMENT_CREATED in actions
    expect(page).to_have_url(f"{app_url}/segments/{copy.id}")
    # Segment detail → "Use in a campaign" opens the wizard with it chosen.
    page.get_by_test_id("use-in-campaign").click()
    expect(page).to_have_url(f"{app_url}/campaigns/new?segment={copy.id}")
    expect(page.get_by_test_id("segment-choice").filter(has_text="Lookalike of High AOV")
           ).to_have_attribute("data-state", "checked")


ONE_LAKH = '{"combinator": "and", "not": false, "rules": [' \
    '{"field": "total_spend", "operator": ">=", "value": 100000}]}'


def test_vocabulary_definitions_are_edited_in_settings_and_used(
        page: Page, app_url: str, e2e_env: dict[str, str]) -> None:
    try:
        page.goto(app_url + "/settings")
        vip = page.get_by_test_id("term-vip")
        expect(vip.get_by_test_id("term-sentence")).to_contain_text("₹50,000")
        vip.get_by_test_id("term-edit").click()
        vip.get_by_test_id("term-rules").fill('{"combinator": "and", "rules": [{"field": '
                                             '"total_spend", "operator": "about"}]}')
        vip.get_by_test_id("term-save").click()
        expect(vip.get_by_test_id("term-error")).to_contain_text("not valid")
        vip.get_by_test_id("term-rules").fill(ONE_LAKH)
        vip.get_by_test_id("term-description").fill("₹1 lakh or more")
        vip.get_by_test_id("term-save").click()
        expect(page.get_by_test_id("term-saved")).to_contain_text("₹1,00,000")
        expect(vip).to_contain_text("edited")
        vip.scroll_into_view_if_needed()
        page.screenshot(path="test-results/settings-vocabulary.png", full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path="test-results/settings-vocabulary-phone.png", full_page=True)
        page.set_viewport_size({"width": 1440, "height": 900})

        page.goto(app_url + "/segments/new")
        prompt = page.get_by_test_id("ai-prompt")
        prompt.fill("VIP customers who love cricket")
        prompt.press("Enter")
        expect(page.get_by_test_id("ai-unused")).to_contain_text("love cricket")
        expect(page.get_by_test_id("ai-explanation")).to_contain_text("₹1 lakh or more")
        page.screenshot(path="test-results/ai-unused-confirm.png", full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path="test-results/ai-unused-confirm-phone.png", full_page=True)
        page.set_viewport_size({"width": 1440, "height": 900})
        page.get_by_test_id("ai-apply-anyway").click()
        row = page.get_by_test_id("rule-row").nth(0)
        expect(row.get_by_label("Field")).to_have_value("total_spend")
        expect(row.get_by_label("Value")).to_have_value("100000")

        page.goto(app_url + "/settings")
        page.get_by_test_id("term-vip").get_by_test_id("term-reset").click()
        expect(page.get_by_test_id("term-saved")).to_contain_text("back to its default")
        expect(page.get_by_test_id("term-vip").get_by_test_id("term-sentence")
               ).to_contain_text("₹50,000")
    finally:
        with e2e_session(e2e_env) as s:  # other tests see the documented default
            vocabulary.reset_term(s, "vip")
