"""The dashboard and customers pages show what the database holds."""

from __future__ import annotations

import re

import sqlalchemy as sa
from playwright.sync_api import Page, expect
from sqlmodel import select

from mini_crm.core import dashboard, formatting
from mini_crm.models import Customer
from tests.e2e.conftest import e2e_session


def test_dashboard_shows_the_seeded_figures(page: Page, app_url: str,
                                            e2e_env: dict[str, str]) -> None:
    with e2e_session(e2e_env) as s:
        ov = dashboard.overview(s)
        top_city = dashboard.top_cities(s, limit=1)[0][0]
    assert ov.customers >= 300 and ov.orders > 0
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(app_url + "/")
    expect(page.get_by_test_id("stat-customers")).to_have_text(formatting.count(ov.customers))
    expect(page.get_by_test_id("stat-orders")).to_have_text(formatting.count(ov.orders))
    expect(page.get_by_test_id("stat-revenue")).to_have_text(formatting.rupees(ov.revenue))
    expect(page.get_by_test_id("stat-campaigns")).to_have_text(formatting.count(ov.campaigns))
    expect(page.get_by_role("heading", name="Revenue", exact=True)).to_be_visible()
    expect(page.get_by_role("cell", name=top_city).first).to_be_visible()
    expect(page.locator(".recharts-area-area").first).to_be_visible()
    # Compact rupees on the money axis, as on the campaign page ("₹20K", "₹1.5L").
    ticks = page.get_by_test_id("revenue-chart").locator(
        'text.recharts-cartesian-axis-tick-value[orientation="left"]')
    expect(ticks.first).to_be_visible()
    texts = ticks.all_text_contents()
    assert texts and all(re.match(r"^₹\d+(\.\d)?(K|L|Cr)?$", t) for t in texts), texts
    # The running month (and week) is marked partial, drawn dashed, not read as a drop.
    expect(page.get_by_test_id("partial-note")).to_contain_text("This month is still in")
    page.get_by_role("radio", name="Weekly").click()
    expect(page.get_by_test_id("partial-note")).to_contain_text("This week is still in")
    page.screenshot(path="test-results/dashboard.png", full_page=True)
    page.get_by_test_id("revenue-chart").screenshot(path="test-results/h13-dashboard-chart-"
                                                         "desktop.png")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: figures shown whole
    revenue = page.get_by_test_id("stat-revenue")
    expect(revenue).to_have_text(formatting.rupees(ov.revenue))
    assert revenue.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), "revenue is cut"
    box = revenue.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 390
    page.screenshot(path="test-results/dashboard-phone.png", full_page=True)
    page.get_by_test_id("revenue-chart").screenshot(path="test-results/h13-dashboard-chart-"
                                                         "phone.png")


def test_customers_search_paginate_and_open_detail(page: Page, app_url: str,
                                                   e2e_env: dict[str, str]) -> None:
    with e2e_session(e2e_env) as s:
        someone = s.exec(select(Customer).where(Customer.order_count > 2)
                         .order_by(Customer.id)).first()
        assert someone is not None and someone.name
        pages = -(-s.exec(select(sa.func.count()).select_from(Customer)).one() // 25)
    page.goto(app_url + "/customers")
    table = page.get_by_test_id("customer-table")
    expect(table.locator("tbody tr")).to_have_count(25)
    expect(page.get_by_text(f"Page 1 of {pages}")).to_be_visible()
    page.get_by_role("button", name="Next page").click()
    expect(page.get_by_text(f"Page 2 of {pages}")).to_be_visible()

    # The sort menu and the column headers agree, whichever was used last.
    sort_menu = page.get_by_role("combobox", name="Sort customers")
    page.get_by_role("button", name="Sort by total spend").click()
    expect(sort_menu).to_have_text("Top spenders")
    page.get_by_role("button", name="Sort by total spend").click()
    expect(sort_menu).to_have_text("Lowest spend first")
    expect(page.get_by_role("columnheader", name="Sort by total spend")
           ).to_have_attribute("aria-sort", "ascending")
    sort_menu.click()
    page.get_by_role("option", name="Name Z–A").click()
    expect(page.get_by_role("columnheader", name="Sort by name")
           ).to_have_attribute("aria-sort", "descending")

    page.get_by_test_id("customer-search").fill(someone.email)
    expect(table.locator("tbody tr")).to_have_count(1)
    page.get_by_role("link", name=someone.name).click()
    expect(page).to_have_url(re.compile(f"/customers/{someone.external_id}$"))
    expect(page.get_by_role("heading", name=someone.name)).to_be_visible()
    expect(page.get_by_text(formatting.rupees(someone.total_spend)).first).to_be_visible()
    expect(page.get_by_role("heading", name="Orders")).to_be_visible()
    page.screenshot(path="test-results/customer.png", full_page=True)

    page.goto(app_url + "/customers/no-such-id")
    expect(page.get_by_text("Customer not found")).to_be_visible()


def test_settings_creates_a_key_shown_once_that_works(page: Page, app_url: str) -> None:
    import httpx

    page.goto(app_url + "/settings")
    page.get_by_test_id("key-name").fill("Shop backend (dashboard test)")
    page.get_by_test_id("create-key").click()
    secret = page.get_by_test_id("new-secret").inner_text()
    assert secret.startswith("mc_")
    r = httpx.get(f"{app_url}/api/v1/customers", params={"limit": 1},
                  headers={"Authorization": f"Bearer {secret}"})
    assert r.status_code == 200 and len(r.json()["items"]) == 1
    page.get_by_role("button", name="Done").click()
    expect(page.get_by_test_id("new-secret")).to_have_count(0)
    expect(page.get_by_role("rowheader", name="Shop backend (dashboard test)")).to_be_visible()
    page.screenshot(path="test-results/settings.png", full_page=True)
    row = page.get_by_role("row").filter(has_text="Shop backend (dashboard test)")
    row.get_by_role("button", name="Revoke").click()
    expect(row.get_by_text("revoked")).to_be_visible()
    r = httpx.get(f"{app_url}/api/v1/customers", headers={"Authorization": f"Bearer {secret}"})
    assert r.status_code == 401
