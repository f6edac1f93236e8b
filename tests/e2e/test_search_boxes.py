"""The three search boxes (Campaigns, Customers, the suppression list) keep every key on a
slow server, and their rows follow the last text (issue 14).

They were Reflex's `rx.debounce_input` over a controlled input: an answer to an earlier
search landing after a later key was sent put the older text back into the box. They are
`components/text_field` boxes now, and the server waits for a pause before it searches
(state/pager.py). Here every server message reaches the page 800 ms late while a query
is typed key by key, with pauses longer than the search's debounce in between, so
searches are answered while keys are still being typed.
"""

from __future__ import annotations

import uuid

from playwright.sync_api import Locator, Page, expect
from sqlmodel import Session, select

from mini_crm.models import Campaign, Customer, Suppression, utcnow
from tests.e2e.conftest import e2e_engine
from tests.e2e.test_wizard_typing import SLOW_SOCKET

KEY_MS = 90  # between keys within a burst
BURST = 3  # keys typed before a pause
PAUSE_MS = 500  # longer than the server's 300 ms search debounce: a search goes out


def _type_in_bursts(page: Page, box: Locator, text: str) -> None:
    box.click()
    for i in range(0, len(text), BURST):
        for key in text[i:i + BURST]:
            page.keyboard.type(key)
            page.wait_for_timeout(KEY_MS)
        page.wait_for_timeout(PAUSE_MS)


def test_customer_search_keeps_every_key(page: Page, app_url: str,
                                         e2e_env: dict[str, str]) -> None:
    with Session(e2e_engine(e2e_env)) as s:
        names = [n for n in s.exec(select(Customer.name).order_by(Customer.id)).all()
                 if n and len(n) >= 10]
    # A name only one customer has, so the rows narrow to that one customer.
    query = next(n for n in names if names.count(n) == 1)
    page.add_init_script(SLOW_SOCKET)
    page.goto(app_url + "/customers")
    table = page.get_by_test_id("customer-table")
    expect(table.locator("tbody tr").first).to_be_visible()
    box = page.get_by_test_id("customer-search")
    _type_in_bursts(page, box, query)
    expect(box).to_have_value(query)
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table.locator("tbody tr").first).to_contain_text(query)
    # The clear button empties the box (the server replaced the text) and every
    # customer comes back.
    page.get_by_role("button", name="Clear search").click()
    expect(box).to_have_value("")
    expect(table.locator("tbody tr")).not_to_have_count(1)


def test_campaign_search_keeps_every_key(page: Page, app_url: str,
                                         e2e_env: dict[str, str]) -> None:
    tag = uuid.uuid4().hex[:6]
    wanted = f"Diwali sale {tag}"
    now = utcnow()
    with Session(e2e_engine(e2e_env)) as s:
        for name in (wanted, f"Diwali reminder {tag}", f"Monsoon {tag}"):
            s.add(Campaign(name=name, rules={"combinator": "and", "rules": []},
                           channel="sms", message_template="Hi {name}", status="completed",
                           started_at=now, completed_at=now, audience_size=0,
                           created_at=now))
        s.commit()
    page.add_init_script(SLOW_SOCKET)
    page.goto(app_url + "/campaigns")
    expect(page.get_by_test_id("campaign-link").first).to_be_visible()
    box = page.get_by_test_id("campaign-search")
    _type_in_bursts(page, box, wanted)
    expect(box).to_have_value(wanted)
    links = page.get_by_test_id("campaign-link")
    expect(links).to_have_count(1)
    expect(links.first).to_have_text(wanted)


def test_suppression_search_keeps_every_key(page: Page, app_url: str,
                                            e2e_env: dict[str, str]) -> None:
    tag = uuid.uuid4().hex[:6]
    wanted = f"quiet.{tag}@example.com"
    with Session(e2e_engine(e2e_env)) as s:
        for address in (wanted, f"quieter.{tag}@example.com"):
            s.add(Suppression(channel="email", address=address, reason="test",
                                    source="ui", created_at=utcnow()))
        s.commit()
    page.add_init_script(SLOW_SOCKET)
    page.goto(app_url + "/data")
    table = page.get_by_test_id("suppression-table")
    expect(table.locator("tbody tr").first).to_be_visible()
    box = page.get_by_label("Find an address")
    _type_in_bursts(page, box, wanted)
    expect(box).to_have_value(wanted)
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table.locator("tbody tr").first).to_contain_text(wanted)


def test_a_customer_with_any_printable_id_opens_from_the_list(page: Page, app_url: str,
                                                                e2e_env: dict[str, str]) -> None:
    """Ids like "gid://shop/Customer/7001" are readable over the API; their link in the
    list led nowhere (the slashes made it several path segments)."""
    odd = f"gid://shop/Customer/{uuid.uuid4().hex[:6]} a?b#c"
    name = f"Slash Id {uuid.uuid4().hex[:6]}"
    with Session(e2e_engine(e2e_env)) as s:
        s.add(Customer(external_id=odd, name=name, city="Pune"))
        s.commit()
    page.goto(app_url + "/customers")
    box = page.get_by_test_id("customer-search")
    box.fill(name)
    table = page.get_by_test_id("customer-table")
    expect(table.locator("tbody tr")).to_have_count(1)
    table.get_by_test_id("customer-link").click()
    expect(page.get_by_text(odd)).to_be_visible()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
