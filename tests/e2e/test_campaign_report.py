"""The campaign report as a fresh user read it (brief h8), at 1440x900 and 390x844: a
cancel shown apart from failures, the timeline's y-axis whole at 20,000, an empty
audience and a scheduled campaign said in words (no empty chart or 0 % funnel), the
lookalike button's text inside its button, and the status on a phone's history."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect
from sqlmodel import Session

from mini_crm.core import unsubscribe_links as links
from mini_crm.core.segments import service as segment_service
from mini_crm.models import (
    Campaign,
    CommunicationLog,
    Conversion,
    Customer,
    DeliveryStatus,
    Order,
    Segment,
    utcnow,
)
from tests.e2e.conftest import e2e_engine

SIZES = [{"width": 1440, "height": 900}, {"width": 390, "height": 844}]
RECIPIENTS, DELIVERED, UNDELIVERED, REFUSED = 20_000, 1_400, 80, 20
CANCELLED = RECIPIENTS - DELIVERED - UNDELIVERED - REFUSED  # 18,500
CUSTOMER = Customer.__table__
LOG = CommunicationLog.__table__


@pytest.fixture
def cancelled_campaign(e2e_env: dict[str, str]) -> Iterator[tuple[int, str]]:
    """A 20,000-recipient SMS campaign cancelled 0.3 s after it started: 1,480 sent
    (1,400 delivered, 80 undelivered), 20 refused by the vendor and 18,500 stopped by
    the cancel. Its own 20,000 customers are removed afterwards, so the other tests'
    figures are untouched."""
    engine = e2e_engine(e2e_env)
    tag = uuid.uuid4().hex[:6]
    name, city = f"Cancelled early {tag}", f"Reportville {tag}"
    now = utcnow()
    start = now - timedelta(minutes=10)
    with engine.begin() as conn:
        conn.execute(CUSTOMER.insert(), [
            {"external_id": f"h8-{tag}-{i}", "name": f"Shopper {i}", "city": city,
             "phone": f"+9170{i:08d}", "attributes": {}, "is_stub": False,
             "created_at": now, "updated_at": now} for i in range(RECIPIENTS)])
        ids = list(conn.execute(sa.select(CUSTOMER.c.id).where(CUSTOMER.c.city == city)
                                .order_by(CUSTOMER.c.id)).scalars())
    with Session(engine) as s:
        campaign = Campaign(name=name, rules={"combinator": "and", "rules": []},
                            channel="sms", message_template="Hi {name}", status="cancelled",
                            started_at=start, completed_at=start + timedelta(seconds=1),
                            audience_size=RECIPIENTS, created_at=start)
        s.add(campaign)
        s.commit()
        campaign_id = int(campaign.id)
    sent_at, stopped_at = start + timedelta(milliseconds=100), start + timedelta(milliseconds=300)
    plan = ([(DeliveryStatus.DELIVERED, None)] * DELIVERED
            + [(DeliveryStatus.UNDELIVERED, "handset off")] * UNDELIVERED
            + [(DeliveryStatus.FAILED, "vendor refused")] * REFUSED
            + [(DeliveryStatus.FAILED, "cancelled")] * CANCELLED)
    rows = []
    for cid, (status, error) in zip(ids, plan, strict=True):
        was_sent = status in (DeliveryStatus.DELIVERED, DeliveryStatus.UNDELIVERED)
        rows.append({"campaign_id": campaign_id, "customer_id": cid, "status": status,
                     "error": error, "attempts": 1, "message": "Hi",
                     "sent_at": sent_at if was_sent else None,
                     "delivered_at": sent_at + timedelta(seconds=20) if was_sent else None,
                     "created_at": start, "updated_at": stopped_at})
    with engine.begin() as conn:
        conn.execute(LOG.insert(), rows)
    try:
        yield campaign_id, name
    finally:
        with engine.begin() as conn:
            conn.execute(LOG.delete().where(LOG.c.campaign_id == campaign_id))
            conn.execute(Campaign.__table__.delete().where(Campaign.__table__.c.id
                                                           == campaign_id))
            conn.execute(CUSTOMER.delete().where(CUSTOMER.c.city == city))


def _campaign(e2e_env: dict[str, str], name: str, **fields) -> int:
    with Session(e2e_engine(e2e_env)) as s:
        c = Campaign(name=name, rules={"combinator": "and", "rules": []}, channel="sms",
                     message_template="Hi {name}", **fields)
        s.add(c)
        s.commit()
        return int(c.id)


def _inside_its_box(page: Page, test_id: str) -> None:
    """The element's content fits its own box (no text spilling out of a button)."""
    spill = page.get_by_test_id(test_id).evaluate(
        "el => { const b = el.querySelector('button') || el;"
        " return b.scrollWidth - b.clientWidth; }")
    assert spill <= 1, f"{test_id}: content is {spill}px wider than its box"


def test_a_cancel_is_shown_apart_and_the_axis_reads_20k(page: Page, app_url: str,
                                                         cancelled_campaign) -> None:
    campaign_id, name = cancelled_campaign
    for size in SIZES:
        page.set_viewport_size(size)
        page.goto(f"{app_url}/campaigns/{campaign_id}")
        expect(page.get_by_test_id("campaign-name")).to_have_text(name)
        expect(page.get_by_test_id("stat-failed")).to_have_text("20")
        expect(page.get_by_test_id("stat-cancelled")).to_contain_text("18,500 cancelled")
        expect(page.get_by_test_id("funnel-failed")).to_have_text("20")
        expect(page.get_by_test_id("funnel-cancelled")).to_have_text("18,500")
        timeline = page.get_by_test_id("campaign-timeline")
        ticks = timeline.locator('text.recharts-cartesian-axis-tick-value[orientation="left"]')
        expect(ticks.first).to_be_visible()
        texts = ticks.all_text_contents()
        assert "20K" in texts, texts
        # Every tick label starts inside the chart: none is cut at the card's edge.
        chart_left = timeline.locator(".recharts-wrapper").bounding_box()["x"]
        for tick in ticks.all():
            box = tick.bounding_box()
            assert box is not None and box["x"] >= chart_left, (tick.text_content(), box)
        _inside_its_box(page, "buyers-lookalike")
        wide = size["width"] > 1000
        page.screenshot(path=f"test-results/h8-cancelled-{'desktop' if wide else 'phone'}.png",
                        full_page=True)

    page.goto(f"{app_url}/campaigns")
    page.get_by_test_id("campaign-search").fill(name)
    row = page.get_by_test_id("campaign-row").filter(has_text=name)
    expect(row).to_have_count(1)
    # On a phone the status is on screen, under the name.
    status = row.get_by_test_id("row-status-phone")
    expect(status).to_have_text("cancelled")
    box = status.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 390, box
    page.screenshot(path="test-results/h8-history-phone.png", full_page=True)
    page.set_viewport_size(SIZES[0])
    expect(row.get_by_test_id("row-failed")).to_have_text("· 20 failed")
    expect(row.get_by_test_id("row-cancelled")).to_have_text("· 18,500 cancelled")
    expect(row.get_by_test_id("row-status")).to_have_text("cancelled")


def test_an_empty_audience_and_a_scheduled_campaign_say_so(page: Page, app_url: str,
                                                           e2e_env: dict[str, str]) -> None:
    tag = uuid.uuid4().hex[:6]
    now = utcnow()
    empty = _campaign(e2e_env, f"Nobody {tag}", status="completed", audience_size=0,
                      started_at=now - timedelta(minutes=2), completed_at=now)
    later = _campaign(e2e_env, f"Later {tag}", status="scheduled",
                      scheduled_at=now + timedelta(days=2))
    for size in SIZES:
        page.set_viewport_size(size)
        page.goto(f"{app_url}/campaigns/{empty}")
        expect(page.get_by_test_id("campaign-name")).to_have_text(f"Nobody {tag}")
        expect(page.get_by_test_id("funnel-note")).to_have_text(
            "No one was in the audience, so nothing was sent.")
        expect(page.get_by_test_id("campaign-when")).to_have_text(re.compile(r"^Started "))
        expect(page.get_by_text("sms", exact=True)).to_have_count(0)  # "SMS", one spelling
        expect(page.get_by_test_id("timeline-note")).to_have_text(
            "No one was in the audience, so nothing was sent.")
        expect(page.get_by_test_id("campaign-timeline").locator(".recharts-wrapper")
               ).to_have_count(0)
        expect(page.get_by_text("This campaign has no recipients yet.")).to_have_count(0)
        phone = size["width"] < 1000
        page.screenshot(path=f"test-results/h8-empty-{'phone' if phone else 'desktop'}.png",
                        full_page=True)

        page.goto(f"{app_url}/campaigns/{later}")
        expect(page.get_by_test_id("funnel-note")).to_contain_text("Not started yet")
        expect(page.get_by_text("Recipients", exact=True)).to_have_count(0)
        # Brief h30: the header's date is what it is, and nothing earned is shown (nor a
        # lookalike of its buyers) before the send.
        expect(page.get_by_test_id("campaign-when")).to_have_text(
            re.compile(r"^Scheduled for "))
        expect(page.get_by_test_id("campaign-outcome")).to_have_count(0)
        expect(page.get_by_test_id("buyers-lookalike")).to_have_count(0)
        expect(page.get_by_test_id("outcome-not-started")).to_have_text(
            "What it earned: figures appear once the campaign is sent.")
        page.screenshot(path=f"test-results/h8-scheduled-{'phone' if phone else 'desktop'}"
                        ".png", full_page=True)


def test_a_cancel_before_the_start_and_a_cancelled_ab_test_say_so(
        page: Page, app_url: str, e2e_env: dict[str, str]) -> None:
    """Brief h10: a scheduled A/B campaign cancelled before its time reads "Cancelled
    before it started" (not "No one was in the audience", "Completed" or "the rest got
    variant A"); one cancelled while testing says the test ended, with no winner buttons."""
    tag = uuid.uuid4().hex[:6]
    now = utcnow()
    ab = {"ab_test": {"test_percent": 20, "test_hours": 24, "metric": "conversion"},
          "variants": [{"key": "A", "message": "A: hi"}, {"key": "B", "message": "B: hey"}]}
    early = _campaign(e2e_env, f"Early {tag}", status="cancelled", completed_at=now,
                      scheduled_at=now + timedelta(days=1), **ab)
    cut = _campaign(e2e_env, f"Cut {tag}", status="cancelled", completed_at=now,
                    started_at=now - timedelta(hours=1), audience_size=0,
                    ab_phase="testing", ab_decide_at=now + timedelta(hours=23), **ab)
    for size in SIZES:
        page.set_viewport_size(size)
        phone = "phone" if size["width"] < 1000 else "desktop"
        page.goto(f"{app_url}/campaigns/{early}")
        expect(page.get_by_test_id("campaign-name")).to_have_text(f"Early {tag}")
        expect(page.get_by_test_id("funnel-note")).to_have_text(
            "Cancelled before it started: the audience was never counted, so nothing "
            "was sent.")
        expect(page.get_by_test_id("stat-audience")).to_have_text("—")
        expect(page.get_by_text("Cancelled before it started", exact=True)).to_have_count(1)
        expect(page.get_by_text("No one was in the audience")).to_have_count(0)
        expect(page.get_by_text("Completed", exact=True)).to_have_count(0)
        expect(page.get_by_text("Cancelled", exact=True)).to_have_count(1)
        expect(page.get_by_test_id("ab-headline")).to_have_text(
            "Cancelled before it started: the test never ran")
        expect(page.get_by_test_id("pick-winner")).to_have_count(0)
        page.screenshot(path=f"test-results/h10-early-{phone}.png", full_page=True)

        page.goto(f"{app_url}/campaigns/{cut}")
        expect(page.get_by_test_id("ab-headline")).to_have_text(
            "The test ended with the cancel")
        expect(page.get_by_text("Testing until")).to_have_count(0)
        expect(page.get_by_test_id("pick-winner")).to_have_count(0)
        page.screenshot(path=f"test-results/h10-cut-{phone}.png", full_page=True)


def test_the_email_review_renders_the_subject_and_each_customers_link(
        page: Page, app_url: str, e2e_env: dict[str, str]) -> None:
    """No subject line: the review shows the subject the first previewed customer gets
    (the raw first line cut at 78 characters ended "…you spent {total_s"), and the live
    preview's {unsubscribe_url} is each customer's own email link."""
    tag = uuid.uuid4().hex[:6]
    segment = f"Email readers {tag}"
    with Session(e2e_engine(e2e_env)) as s:
        spends = s.exec(sa.select(Customer.total_spend).where(Customer.email.is_not(None))
                        .order_by(Customer.total_spend.desc()).limit(5)).scalars().all()
        segment_service.save_segment(s, name=segment, rules={
            "combinator": "and", "not": False, "rules": [
                {"field": "total_spend", "operator": ">=", "value": float(spends[-1])}]})
        s.commit()
    page.goto(app_url + "/campaigns/new")
    page.get_by_role("radio", name="Saved segment").click()
    page.get_by_test_id("segment-choice").filter(has_text=segment).click()
    page.get_by_test_id("wizard-next").click()
    page.get_by_test_id("campaign-name-input").fill(f"Thanks {tag}")
    page.get_by_test_id("channel-email").click()
    page.get_by_test_id("campaign-template").fill(
        "Thank you for shopping with us all year long, {first_name}: you spent "
        "{total_spend}\nStop these emails: {unsubscribe_url}")
    samples = page.get_by_test_id("sample-text")
    expect(samples.first).to_contain_text("/unsubscribe/")
    expect(samples.first).not_to_contain_text("{")
    found = set()
    for text in samples.all_text_contents():
        token = re.search(r"/unsubscribe/(\S+)", text).group(1)
        found.add(links.verify(token))
    assert len(found) == samples.count() and all(r.channel == "email" for r in found), found
    page.get_by_test_id("wizard-next").click()
    expect(page.get_by_test_id("schedule-now")).to_be_visible()
    page.get_by_test_id("wizard-next").click()
    subject = page.get_by_test_id("review-subject")
    expect(subject).to_contain_text("you spent ₹")
    expect(subject).not_to_contain_text("{")
    expect(page.get_by_test_id("review-subject-warning")).to_contain_text("you spent ₹")
    page.screenshot(path="test-results/h8-email-review.png", full_page=True)
    with e2e_engine(e2e_env).begin() as conn:  # the autosaved draft and its segment go
        conn.execute(Campaign.__table__.delete().where(
            Campaign.__table__.c.name == f"Thanks {tag}"))
    with Session(e2e_engine(e2e_env)) as s:
        saved = s.exec(sa.select(Segment.id).where(Segment.name == segment)).scalar_one()
        segment_service.delete_segment(s, int(saved))
        s.commit()


@pytest.fixture
def earning_campaign(e2e_env: dict[str, str]) -> Iterator[tuple[int, str]]:
    """A delivered SMS campaign whose recipients bought ₹12,50,000 within hours of the
    send (and its holdout ₹4,00,000): money figures far wider than the chart's axis."""
    engine = e2e_engine(e2e_env)
    tag = uuid.uuid4().hex[:6]
    name, city = f"Big earner {tag}", f"Earnville {tag}"
    start = utcnow() - timedelta(hours=30)
    with engine.begin() as conn:
        conn.execute(CUSTOMER.insert(), [
            {"external_id": f"h13-{tag}-{i}", "name": f"Buyer {i}", "city": city,
             "phone": f"+9171{i:08d}", "attributes": {}, "is_stub": False,
             "created_at": start, "updated_at": start} for i in range(6)])
        ids = list(conn.execute(sa.select(CUSTOMER.c.id).where(CUSTOMER.c.city == city)
                                .order_by(CUSTOMER.c.id)).scalars())
    with Session(engine) as s:
        campaign = Campaign(name=name, rules={"combinator": "and", "rules": []},
                            channel="sms", message_template="Hi {name}", status="completed",
                            started_at=start, completed_at=start + timedelta(minutes=1),
                            audience_size=6, holdout_percent=33, created_at=start)
        s.add(campaign)
        s.commit()
        campaign_id = int(campaign.id)
    held = ids[4:]
    with engine.begin() as conn:
        for cid in ids:
            status = DeliveryStatus.HOLDOUT if cid in held else DeliveryStatus.DELIVERED
            sent = None if cid in held else start + timedelta(seconds=5)
            conn.execute(LOG.insert().values(
                campaign_id=campaign_id, customer_id=cid, status=status, attempts=1,
                message=None if cid in held else "Hi", sent_at=sent, delivered_at=sent,
                created_at=start, updated_at=start))
        logs = dict(conn.execute(sa.select(LOG.c.customer_id, LOG.c.id)
                                 .where(LOG.c.campaign_id == campaign_id)).all())
        for k, cid in enumerate(ids):
            for j in range(3):
                at = start + timedelta(hours=1 + 5 * j + k)
                amount = Decimal("200000") if cid in held else Decimal("104166.67")
                order_id = conn.execute(Order.__table__.insert().values(
                    external_id=f"h13-{tag}-o{k}-{j}", customer_id=cid, amount=amount,
                    currency="INR", status="completed", ordered_at=at, created_at=at,
                    updated_at=at)).inserted_primary_key[0]
                conn.execute(Conversion.__table__.insert().values(
                    order_id=order_id, campaign_id=campaign_id, log_id=logs[cid],
                    customer_id=cid, amount=amount, ordered_at=at, attributed_at=at,
                    holdout=cid in held))
    try:
        yield campaign_id, name
    finally:
        with engine.begin() as conn:
            conn.execute(Conversion.__table__.delete().where(
                Conversion.__table__.c.campaign_id == campaign_id))
            conn.execute(Order.__table__.delete().where(
                Order.__table__.c.customer_id.in_(ids)))
            conn.execute(LOG.delete().where(LOG.c.campaign_id == campaign_id))
            conn.execute(Campaign.__table__.delete().where(Campaign.__table__.c.id
                                                           == campaign_id))
            conn.execute(CUSTOMER.delete().where(CUSTOMER.c.city == city))


COMPACT_RUPEES = re.compile(r"^₹\d+(\.\d)?(K|L|Cr)?$")


def test_the_revenue_axis_reads_compact_rupees(page: Page, app_url: str,
                                               earning_campaign) -> None:
    """The revenue chart's axis was 56 px of full numbers, clipped ("50000" as "0000"):
    it reads "₹1.5L" like the timeline's "20K", every label inside the chart."""
    campaign_id, name = earning_campaign
    for size in SIZES:
        page.set_viewport_size(size)
        page.goto(f"{app_url}/campaigns/{campaign_id}")
        expect(page.get_by_test_id("campaign-name")).to_have_text(name)
        outcome = page.get_by_test_id("campaign-outcome")
        ticks = outcome.locator('text.recharts-cartesian-axis-tick-value[orientation="left"]')
        expect(ticks.first).to_be_visible()
        texts = ticks.all_text_contents()
        assert texts and all(t == "₹0" or COMPACT_RUPEES.match(t) for t in texts), texts
        assert any(t.endswith("L") for t in texts), texts
        chart_left = outcome.locator(".recharts-wrapper").bounding_box()["x"]
        for tick in ticks.all():
            box = tick.bounding_box()
            assert box is not None and box["x"] >= chart_left, (tick.text_content(), box)
        wide = size["width"] > 1000
        outcome.screenshot(path=f"test-results/h13-revenue-{'desktop' if wide else 'phone'}"
                                ".png")
