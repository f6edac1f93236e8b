"""The wizard's review step shows who a launch leaves out: a customer opted out through
the API (the customer page's consent toggle is not built yet), one without a phone, one
with a landline (no SMS can arrive) and a second record of the same handset are counted
as skipped, by reason."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal

import httpx
from playwright.sync_api import Page, expect
from sqlmodel import Session

from mini_crm.core import apikeys, contacts
from mini_crm.core.auth.audit import Actor
from mini_crm.core.segments import service as segment_service
from mini_crm.models import Customer, utcnow
from tests.e2e.conftest import e2e_engine


def _api_key(e2e_env: dict[str, str]) -> str:
    """A key made by the core call `mini-crm apikey create` makes (the command itself
    imports the whole app: 3-7 s of this test on a busy machine)."""
    with Session(e2e_engine(e2e_env)) as s:
        key = apikeys.create_key(s, "skips", ["ingest", "campaigns", "read"],
                                 actor=Actor(label="e2e"))
        s.commit()
        return key.secret


def _customers(e2e_env: dict[str, str], city: str, tag: str) -> None:
    now = utcnow()
    # the last: a Mumbai landline, which no SMS can reach (skipped as no_address)
    phones = ["+919812300001", None, "+919812300003", "+919812300003", "+912223456789"]
    with Session(e2e_engine(e2e_env)) as s:
        for i, phone in enumerate(phones):
            s.add(Customer(external_id=f"skip-{tag}-{i}", name=f"Skip {i}", city=city,
                           phone=phone, phone_type=contacts.phone_type(phone),
                           email=f"skip{i}.{tag}@example.in",
                           total_spend=Decimal("100"), created_at=now, updated_at=now))
        segment_service.save_segment(s, name=f"Skips {tag}", rules={
            "combinator": "and", "rules": [{"field": "city", "operator": "=", "value": city}]})
        s.commit()


def test_review_shows_an_opted_out_customer_as_skipped(page: Page, app_url: str,
                                                       e2e_env: dict[str, str]) -> None:
    tag = uuid.uuid4().hex[:6]
    city = f"Skipton{tag}"
    _customers(e2e_env, city, tag)
    r = httpx.post(f"{app_url}/api/v1/customers/skip-{tag}-0/unsubscribe",
                   headers={"Authorization": f"Bearer {_api_key(e2e_env)}"},
                   json={"channels": ["sms"], "reason": "texted STOP"}, timeout=30)
    assert r.status_code == 200, r.text

    page.goto(app_url + "/campaigns")
    page.get_by_test_id("new-campaign").first.click()
    expect(page).to_have_url(re.compile(r"/campaigns/new$"))
    page.get_by_test_id("segment-choice").filter(has_text=f"Skips {tag}").click()
    page.get_by_test_id("wizard-next").click()
    page.get_by_test_id("campaign-name-input").fill(f"Skips {tag}")
    page.get_by_test_id("campaign-template").fill("Hi {first_name}!")
    page.get_by_test_id("wizard-next").click()
    expect(page.get_by_test_id("schedule-now")).to_be_visible()
    page.get_by_test_id("wizard-next").click()

    breakdown = page.get_by_test_id("review-breakdown")
    expect(breakdown).to_have_text(
        "5 match · 1 will receive · skipped: 1 unsubscribed, 2 no mobile number, "
        "1 duplicate address", timeout=20_000)
    expect(page.get_by_test_id("review-size")).to_have_text("1")
    page.set_viewport_size({"width": 1440, "height": 900})
    page.screenshot(path="test-results/launch-skips-review-1440.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    expect(breakdown).to_be_visible()
    page.screenshot(path="test-results/launch-skips-review-390.png", full_page=True)

    # The landline's customer page says why SMS leaves it out.
    page.goto(f"{app_url}/customers/skip-{tag}-4")
    expect(page.get_by_text("+91 22 2345 6789 · landline, no SMS")).to_be_visible(timeout=20_000)
    page.screenshot(path="test-results/launch-skips-landline-390.png", full_page=True)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.screenshot(path="test-results/launch-skips-landline-1440.png", full_page=True)
