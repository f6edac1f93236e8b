"""Consent in the browser: opt a customer out on their page, see them skipped at launch;
the suppression list on the Data page."""

from __future__ import annotations

import re
import uuid

import sqlalchemy as sa
from playwright.sync_api import Page, expect
from sqlmodel import select

from mini_crm.core.segments import service as segment_service
from mini_crm.models import CommunicationLog, Customer, Suppression
from tests.e2e.conftest import e2e_session

WAIT = 30_000  # ms: a loaded machine (the suite shares two cores) answers slowly
SIZES = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}


def _three_reachable(e2e_env: dict[str, str]) -> list[Customer]:
    """Three customers reachable by SMS whose phones nobody else holds."""
    with e2e_session(e2e_env) as s:
        shared = (select(Customer.phone).where(Customer.phone.is_not(None))
                  .group_by(Customer.phone).having(sa.func.count() > 1))
        suppressed = select(Suppression.address).where(Suppression.channel == "sms")
        return list(s.exec(select(Customer).where(
            Customer.consent_sms == sa.true(), Customer.phone.is_not(None),
            Customer.phone.not_in(shared), Customer.phone.not_in(suppressed),
            Customer.external_id.like("demo-%")).order_by(Customer.id.desc()).limit(3)).all())


def _shoot(page: Page, name: str) -> None:
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        page.wait_for_timeout(300)
        page.screenshot(path=f"test-results/{name}-{size}.png", full_page=True)
    page.set_viewport_size(SIZES["desktop"])


def test_opt_out_on_the_customer_page_is_skipped_at_launch(page: Page, app_url: str,
                                                           e2e_env: dict[str, str]) -> None:
    people = _three_reachable(e2e_env)
    assert len(people) == 3
    tag = uuid.uuid4().hex[:6]
    segment = f"Three phones {tag}"
    with e2e_session(e2e_env) as s:
        segment_service.save_segment(s, name=segment, rules={"combinator": "or", "rules": [
            {"field": "phone", "operator": "=", "value": p.phone} for p in people]})
        s.commit()
    target = people[0]

    page.goto(f"{app_url}/customers/{target.external_id}")
    sms = page.get_by_test_id("consent-sms")
    expect(sms).to_have_attribute("data-state", "checked", timeout=WAIT)
    page.get_by_label("Reason for the consent change").fill("asked at the store")
    sms.click()
    note = page.get_by_test_id("consent-note-sms")
    expect(note).to_contain_text("Opted out", timeout=WAIT)
    expect(note).to_contain_text("admin@brand.in", timeout=WAIT)
    expect(note).to_contain_text("asked at the store", timeout=WAIT)
    expect(sms).to_have_attribute("data-state", "unchecked", timeout=WAIT)
    expect(page.get_by_text("address suppressed")).to_be_visible(timeout=WAIT)
    expect(page.get_by_test_id("customer-reach-badge")).to_contain_text("opted out: SMS",
                                                                        timeout=WAIT)
    _shoot(page, "customer-consent")

    page.goto(app_url + "/campaigns/new")
    page.get_by_test_id("segment-choice").filter(has_text=segment).click()
    page.get_by_test_id("wizard-next").click()
    page.get_by_test_id("campaign-name-input").fill(f"Consent check {tag}")
    page.get_by_test_id("campaign-template").fill("Hi {first_name}. Stop: {unsubscribe_url}")
    expect(page.get_by_test_id("template-problem")).to_have_count(0, timeout=WAIT)
    page.get_by_test_id("wizard-next").click()
    expect(page.get_by_test_id("schedule-now")).to_be_visible(timeout=WAIT)
    page.get_by_test_id("wizard-next").click()
    expect(page.get_by_text("Review and launch")).to_be_visible(timeout=WAIT)
    expect(page.get_by_text(re.compile(r"3 match · 2 will receive · skipped: 1 unsubscribed"))
           ).to_be_visible(timeout=WAIT)
    page.get_by_test_id("launch-campaign").click()
    expect(page).to_have_url(re.compile(r"/campaigns/\d+$"), timeout=2 * WAIT)
    campaign_id = int(page.url.rsplit("/", 1)[1])
    with e2e_session(e2e_env) as s:
        rows = {r.customer_id: r for r in s.exec(select(CommunicationLog).where(
            CommunicationLog.campaign_id == campaign_id)).all()}
    assert rows[target.id].status == "skipped" and rows[target.id].skip_reason == "unsubscribed"
    assert {rows[p.id].status for p in people[1:]} <= {"queued", "sent", "delivered",
                                                       "undelivered", "failed"}


def test_suppression_list_on_the_data_page(page: Page, app_url: str,
                                           e2e_env: dict[str, str]) -> None:
    page.goto(app_url + "/data")
    expect(page.get_by_test_id("suppression-table")).to_be_visible(timeout=WAIT)
    address = f"complaints+{uuid.uuid4().hex[:6]}@Example.in"
    page.get_by_test_id("suppress-address").fill(address)
    page.get_by_label("Reason").fill("complaint by email")
    page.get_by_test_id("suppress-add").click()
    expect(page.get_by_test_id("suppress-notice")).to_contain_text(address.lower(), timeout=WAIT)
    page.get_by_label("Find an address").fill(address.lower())
    row = page.get_by_test_id("suppression-table").get_by_role("row").filter(
        has_text=address.lower())
    expect(row).to_have_count(1, timeout=WAIT)
    expect(row).to_contain_text("complaint by email", timeout=WAIT)
    _shoot(page, "data-suppression")
    row.get_by_role("button", name="Remove").click()
    expect(page.get_by_text("No suppressed address matches")).to_be_visible(timeout=WAIT)
    with e2e_session(e2e_env) as s:
        assert s.exec(select(Suppression).where(
            Suppression.address == address.lower())).first() is None


def test_the_header_badge_says_no_phone_rather_than_subscribed(
        page: Page, app_url: str, e2e_env: dict[str, str]) -> None:
    """A customer with no phone read "subscribed" in the page's header though SMS and
    WhatsApp cannot reach them."""
    external_id = f"no-phone-{uuid.uuid4().hex[:6]}"
    with e2e_session(e2e_env) as s:
        s.add(Customer(external_id=external_id, name="Ravi Kumar", email="ravi@example.in",
                       city="Pune"))
        s.commit()
    page.goto(f"{app_url}/customers/{external_id}")
    expect(page.get_by_test_id("customer-reach-badge")).to_have_text(
        "email only · no phone", timeout=WAIT)
    expect(page.get_by_test_id("consent-unreachable-sms")).to_have_text("No phone number")
    _shoot(page, "customer-no-phone")
