"""Page headers never sit under the sticky top bar, at 1440x900 and 390x844 (issue 14).

A fresh user's full-page screenshot of the wizard's review step at 390x844 showed "New
campaign" across the top bar: Next sits at the bottom of a step, so the new step opened
scrolled down by the old one's height, the page header and the step title under the
sticky bar. A step change now goes back to the top of the page, and the page keeps
what the browser scrolls into view below the bar (components/layout.page_shell). Checked
by the boxes (Playwright's bounding boxes, in viewport coordinates), on every wizard
step and on every sidebar page's header; the screenshots are for a person to look at.
"""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.test_campaigns import _small_segment

SIZES = [(1440, 900), (390, 844)]
# Every sidebar page and its header's title.
PAGES = [("/", "Dashboard"), ("/customers", "Customers"), ("/segments", "Segments"),
         ("/campaigns", "Campaigns"), ("/data", "Data"), ("/settings/team", "Team & audit"),
         ("/settings", "Settings")]


def _box(locator: Locator) -> dict[str, float]:
    box = locator.bounding_box()
    assert box is not None, f"{locator} is not shown"
    return box


def _below_top_bar(page: Page, *locators: Locator) -> None:
    """Each locator's box starts below the top bar's bottom edge, and nothing of the page
    is wider than the window (a sideways scroll would also misplace the bar)."""
    bar = _box(page.get_by_test_id("top-bar"))
    for locator in locators:
        box = _box(locator)
        assert box["y"] >= bar["y"] + bar["height"] - 0.5, (locator, box, bar)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _title(page: Page, text: str) -> Locator:
    return page.get_by_role("heading", name=text, exact=True)


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_wizard_steps_start_below_the_top_bar(page: Page, app_url: str,
                                              e2e_env: dict[str, str], width: int,
                                              height: int) -> None:
    segment = f"Layout audience {uuid.uuid4().hex[:6]}"
    _small_segment(e2e_env, segment)
    page.set_viewport_size({"width": width, "height": height})
    page.goto(app_url + "/campaigns/new")
    page.get_by_test_id("segment-choice").filter(has_text=segment).click()
    steps = [("Who should get it?", "audience"), ("What do you want to say?", "message"),
             ("When should it go out?", "schedule"), ("Review and launch", "review")]
    for i, (title, name) in enumerate(steps):
        expect(_title(page, title)).to_be_visible()
        page.wait_for_function("window.scrollY === 0")  # the step opened at the top
        _below_top_bar(page, _title(page, "New campaign"), _title(page, title))
        page.screenshot(path=f"test-results/layout-wizard-{name}-{width}.png",
                        full_page=True)
        if name == "message":
            page.get_by_test_id("campaign-name-input").fill(f"Layout {width}")
            page.get_by_test_id("campaign-template").fill("Hi {first_name}, see you soon")
        if i < len(steps) - 1:
            # Next is at the bottom of a step: the click scrolls the page down to it.
            page.get_by_test_id("wizard-next").click()
    # Back from the review, too.
    page.get_by_test_id("wizard-back").click()
    expect(_title(page, "When should it go out?")).to_be_visible()
    page.wait_for_function("window.scrollY === 0")
    _below_top_bar(page, _title(page, "New campaign"))


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_page_headers_start_below_the_top_bar(page: Page, app_url: str, width: int,
                                              height: int) -> None:
    page.set_viewport_size({"width": width, "height": height})
    for path, title in PAGES:
        page.goto(app_url + path)
        expect(_title(page, title)).to_be_visible()
        _below_top_bar(page, _title(page, title))
        name = path.strip("/").replace("/", "-") or "dashboard"
        page.screenshot(path=f"test-results/layout-{name}-{width}.png", full_page=True)
