"""The campaign wizard's message and review steps say what will be sent: boxes the server
empties show empty (tags, the test send's address), the test list's refusal speaks to a
marketer, the review's preview shows real samples, and the SMS counter counts the
message as sent, not its template."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.test_wizard_typing import SLOW_SOCKET, _open_message_step


def test_tag_and_test_boxes_show_empty_once_used(page: Page, app_url: str,
                                                 e2e_env: dict[str, str]) -> None:
    # A slow link: the server's answer to Enter lands after the next tag is typed.
    page.add_init_script(SLOW_SOCKET)
    _open_message_step(page, app_url, e2e_env)
    page.get_by_test_id("campaign-name-input").fill("Winter win-back")
    page.get_by_test_id("channel-email").click()
    page.get_by_test_id("campaign-template").fill("Hi {first_name}, we miss you!")
    # The email's preview reads as the inbox does: sender, subject, preheader, body.
    page.get_by_test_id("email-subject").fill("A gift for you, {first_name|friend}")
    page.get_by_test_id("email-preheader").fill("Only this week in {city|your city}")
    page.get_by_test_id("sender-name").fill("Asha from Brand")
    preview = page.get_by_test_id("message-preview").first
    expect(preview.get_by_test_id("sample-sender")).to_have_text("From Asha from Brand",
                                                                 timeout=20_000)
    expect(preview.get_by_test_id("sample-subject")).to_contain_text("A gift for you, ",
                                                                     timeout=20_000)
    expect(preview.get_by_test_id("sample-preheader")).to_contain_text("Only this week in ",
                                                                       timeout=20_000)
    expect(preview.get_by_test_id("sample-text")).to_contain_text("we miss you!")
    page.screenshot(path="test-results/wizard-sends-email-1440.png", full_page=True)
    tag_box = page.locator("#campaign-tag-input")
    tag_box.click()
    page.keyboard.type("winback", delay=20)
    page.keyboard.press("Enter")
    expect(tag_box).to_have_value("")
    expect(tag_box).to_be_focused()
    page.keyboard.type("Q4 2026", delay=20)
    page.keyboard.press("Enter")
    expect(tag_box).to_have_value("")
    chips = page.get_by_test_id("tag-chip")
    expect(chips).to_have_count(2)
    expect(chips.nth(1)).to_contain_text("q4 2026")

    to = page.get_by_test_id("test-to")
    to.fill("stranger@brand.in")
    page.get_by_test_id("send-test").click()
    error = page.get_by_test_id("test-error")
    expect(error).to_contain_text("not on your team's test list; ask an admin to add it")
    expect(error).to_contain_text("TEST_SEND_RECIPIENTS setting")  # the admin sees it
    to.fill("")
    page.get_by_test_id("send-test").click()  # an empty box: to my own address
    expect(page.get_by_test_id("test-ok")).to_contain_text("Test sent to admin@brand.in")
    expect(to).to_have_value("")
    to.click()
    page.keyboard.type("x")
    expect(to).to_have_value("x")


def test_review_and_counter_show_the_message_as_sent(page: Page, app_url: str,
                                                     e2e_env: dict[str, str]) -> None:
    _open_message_step(page, app_url, e2e_env)
    page.get_by_test_id("campaign-name-input").fill("Counter check")
    template = "Hi {first_name}, your {city} store has 10% off this weekend!"
    page.get_by_test_id("campaign-template").fill(template)
    samples = page.get_by_test_id("sample-text")
    expect(samples.first).to_be_visible(timeout=20_000)
    expect(samples).to_have_count(3)
    lengths = [len(t) for t in samples.all_inner_texts()]
    span = (str(lengths[0]) if min(lengths) == max(lengths)
            else f"{min(lengths)}–{max(lengths)}")
    counter = page.get_by_test_id("message-length")
    expect(counter).to_contain_text(f"about {span} characters once personalised · 1 SMS")
    expect(counter).to_contain_text(f"(template: {len(template)})")
    for width, height in ((1440, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        counter.scroll_into_view_if_needed()
        page.screenshot(path=f"test-results/wizard-sends-message-{width}.png")
    page.set_viewport_size({"width": 1440, "height": 900})

    page.get_by_test_id("wizard-next").click()  # schedule
    page.get_by_test_id("wizard-next").click()  # review
    expect(page.get_by_test_id("launch-campaign")).to_be_visible()
    preview = page.get_by_test_id("sample-text")
    expect(preview).to_have_count(3, timeout=20_000)
    assert sorted(len(t) for t in preview.all_inner_texts()) == sorted(lengths)
    # A reload on the review step loads them too.
    page.reload()
    expect(page.get_by_test_id("launch-campaign")).to_be_visible()
    expect(page.get_by_test_id("sample-text")).to_have_count(3, timeout=20_000)
    for width, height in ((1440, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=f"test-results/wizard-sends-review-{width}.png", full_page=True)
