"""A server's script that lands after the tab has moved on leaves the new page alone.

The wizard saves a draft a second after the last edit, then puts the draft's id in the
address bar (history.replaceState). A marketer who picked an audience and went straight
to another page had that page's address rewritten to the wizard's when the save landed
(the router never saw it), so a refresh there reopened the wizard."""

from __future__ import annotations

import re
import time
import uuid

from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from mini_crm.models import Campaign, Customer, Segment
from tests.e2e.conftest import e2e_engine
from tests.e2e.test_campaigns import _small_segment
from tests.e2e.test_wizard_typing import SLOW_SOCKET


def _draft_for(e2e_env: dict[str, str], segment: str, timeout: float = 30) -> int:
    """The draft the wizard saved for `segment`, once it is in the database."""
    deadline = time.monotonic() + timeout
    while True:
        with Session(e2e_engine(e2e_env)) as s:
            draft = s.exec(select(Campaign.id).join(Segment, Campaign.segment_id == Segment.id)
                           .where(Segment.name == segment, Campaign.status == "draft")).first()
        if draft is not None:
            return int(draft)
        assert time.monotonic() < deadline, "the wizard saved no draft"
        time.sleep(0.2)


def test_a_draft_saved_after_leaving_the_wizard_keeps_the_new_address(
        page: Page, app_url: str, e2e_env: dict[str, str]) -> None:
    tag = uuid.uuid4().hex[:6]
    segment = f"Left behind {tag}"
    _small_segment(e2e_env, segment)
    with Session(e2e_engine(e2e_env)) as s:
        names = [n for n in s.exec(select(Customer.name).order_by(Customer.id)).all()
                 if n and len(n) >= 10]
    name = next(n for n in names if names.count(n) == 1)  # one customer's rows only
    # Every server message reaches the page 800 ms late: the save's script arrives at
    # least 1.8 s after the audience is picked, well after the tab has left.
    page.add_init_script(SLOW_SOCKET)
    page.goto(app_url + "/campaigns/new")
    page.get_by_test_id("segment-choice").filter(has_text=segment).click()
    assert "draft=" not in page.url  # the save has not answered yet
    page.get_by_role("link", name="Customers", exact=True).first.click()
    expect(page.get_by_test_id("customer-table")).to_be_visible()
    _draft_for(e2e_env, segment)
    # A search answered after the save: the socket keeps the server's messages in order,
    # so once its rows show, the save's script has run too.
    page.get_by_test_id("customer-search").fill(name)
    rows = page.get_by_test_id("customer-table").locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(name)
    expect(page).to_have_url(re.compile(r"/customers/?(\?.*)?$"))
    page.reload()
    expect(page.get_by_test_id("customer-table")).to_be_visible()
    expect(page.get_by_test_id("segment-choice")).to_have_count(0)
