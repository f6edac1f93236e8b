"""Campaigns in the browser: the wizard launches a real campaign, the campaign page and
the history follow delivery live (no reload), and a viewer is told at once that they
cannot create campaigns."""

from __future__ import annotations

import re
import time
import uuid
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session, select

from mini_crm.core import formatting
from mini_crm.core.auth.users import invite
from mini_crm.core.segments import service as segment_service
from mini_crm.models import (
    Campaign,
    CommunicationLog,
    Customer,
    DeliveryStatus,
    Segment,
    utcnow,
)
from tests.e2e.conftest import e2e_engine, sign_in

AUDIENCE = 12  # customers in the test segment, before consent and frequency cap
DELIVERY_TIMEOUT_MS = 90_000
AI_TIMEOUT_MS = 60_000


def _small_segment(e2e_env: dict[str, str], name: str) -> dict:
    """A saved segment of about AUDIENCE subscribed big spenders."""
    with Session(e2e_engine(e2e_env)) as s:
        spends = s.exec(select(Customer.total_spend).where(Customer.consent_sms == sa.true())
                        .order_by(Customer.total_spend.desc()).limit(AUDIENCE)).all()
        rules = {"combinator": "and", "not": False, "rules": [
            {"field": "total_spend", "operator": ">=", "value": float(spends[-1])}]}
        segment_service.save_segment(s, name=name, rules=rules)
        s.commit()
    return rules


def _final_counts(e2e_env: dict[str, str], campaign_id: int, timeout: float = 90) -> dict:
    """Wait until every message has its final status, then count them in the database."""
    deadline = time.monotonic() + timeout
    engine = e2e_engine(e2e_env)
    while True:
        with Session(engine) as s:
            rows = dict(s.exec(select(CommunicationLog.status, sa.func.count())
                               .where(CommunicationLog.campaign_id == campaign_id)
                               .group_by(CommunicationLog.status)).all())
        if not rows.get(DeliveryStatus.QUEUED) and not rows.get(DeliveryStatus.SENT) and rows:
            return rows
        assert time.monotonic() < deadline, f"delivery did not finish: {rows}"
        time.sleep(0.5)


def _go_to_review(page: Page, segment: str, name: str) -> None:
    """Audience (new rules tried, then a saved segment) → message → schedule → review."""
    page.get_by_role("radio", name="New rules").click()
    size = page.get_by_test_id("wizard-rules-size")
    expect(size).to_have_text(re.compile(r"^[\d,]+$"))
    expect(page.get_by_test_id("rule-row")).to_have_count(1)
    # The segment editor's builder, plain-English box included, works here too.
    before = size.inner_text()
    page.get_by_test_id("ai-prompt").fill("customers in Mumbai")
    page.get_by_test_id("ai-prompt").press("Enter")
    expect(page.get_by_test_id("ai-explanation")).to_be_visible(timeout=AI_TIMEOUT_MS)
    expect(size).not_to_have_text(before)
    page.screenshot(path="test-results/campaign-wizard-rules.png", full_page=True)
    page.get_by_role("radio", name="Saved segment").click()
    page.get_by_test_id("segment-choice").filter(has_text=segment).click()
    page.get_by_test_id("wizard-next").click()
    page.get_by_test_id("campaign-name-input").fill(name)
    page.get_by_test_id("campaign-template").fill("Hi {first_name}, thanks for shopping in "
                                                  "{city}!")
    page.get_by_test_id("wizard-next").click()
    expect(page.get_by_test_id("schedule-now")).to_be_visible()
    # The suggested send windows schedule the campaign with one click.
    window = page.get_by_test_id("use-window").first
    expect(window).to_be_visible(timeout=AI_TIMEOUT_MS)
    page.screenshot(path="test-results/campaign-wizard-schedule.png", full_page=True)
    window.click()
    expect(page.get_by_test_id("schedule-input")).to_have_value(
        re.compile(r"^\d{4}-\d\d-\d\dT\d\d:00$"))
    page.get_by_test_id("wizard-next").click()
    expect(page.get_by_text("Review and launch")).to_be_visible()
    expect(page.get_by_test_id("review-schedule")).to_contain_text(":00")
    expect(page.get_by_test_id("launch-campaign")).to_contain_text("Schedule campaign")


def test_wizard_launches_and_counts_move_live(page: Page, app_url: str,
                                              e2e_env: dict[str, str]) -> None:
    tag = uuid.uuid4().hex[:6]
    segment, name = f"Top spenders {tag}", f"Thank-you note {tag}"
    _small_segment(e2e_env, segment)

    page.goto(app_url + "/campaigns")
    page.get_by_test_id("new-campaign").first.click()
    expect(page).to_have_url(re.compile(r"/campaigns/new$"))

    # Step 1: a saved segment. Next without a choice is refused inline.
    page.get_by_test_id("wizard-next").click()
    expect(page.get_by_text("Pick a saved segment, or build new rules.")).to_be_visible()
    choice = page.get_by_test_id("segment-choice").filter(has_text=segment)
    expect(choice).to_contain_text(str(AUDIENCE))
    choice.click()
    page.screenshot(path="test-results/campaign-wizard-audience.png", full_page=True)
    page.get_by_test_id("wizard-next").click()

    # Step 2: name, message with a token chip, live preview for real customers.
    template = page.get_by_test_id("campaign-template")
    expect(template).to_be_visible()
    page.get_by_test_id("wizard-next").click()  # nothing typed: both fields complain
    expect(page.get_by_text("Give the campaign a name.")).to_be_visible()
    page.get_by_test_id("campaign-name-input").fill(name)
    # AI: message variants from an objective, inserted with one click; suggested tags.
    page.get_by_label("Objective").fill("Thank our best customers with 10% off this weekend")
    page.get_by_test_id("suggest-messages").click()
    # The offline engine's classifier may still be training on a cold, busy machine.
    expect(page.get_by_test_id("use-suggestion")).to_have_count(3, timeout=AI_TIMEOUT_MS)
    page.get_by_test_id("use-suggestion").first.click()
    expect(template).not_to_have_value("")
    expect(page.get_by_test_id("template-problem")).to_have_count(0)
    expect(page.get_by_test_id("message-preview")).to_have_count(3)
    expect(page.get_by_test_id("suggested-tag").first).to_be_visible(timeout=AI_TIMEOUT_MS)
    suggested_tag = page.get_by_test_id("suggested-tag").first.inner_text().strip()
    page.get_by_test_id("suggested-tag").first.click()
    page.screenshot(path="test-results/campaign-wizard-ai.png", full_page=True)
    template.fill("Hi {nmae}, ")
    expect(page.get_by_test_id("template-problem")).to_contain_text("unknown token {nmae}")
    template.fill("Hi ")
    page.get_by_test_id("token-chip").filter(has_text="{first_name}").click()
    expect(template).to_have_value("Hi {first_name}")
    # Typed on after the chip, as one input event: key-by-key typing into the slow server
    # is test_wizard_typing's; here 45 keys were 45 round trips (on a loaded machine the
    # preview was still 4 keys behind 10 s later).
    template.press("End")
    page.keyboard.insert_text(", thank you for shopping with us in {city}!")
    expect(page.get_by_test_id("template-problem")).to_have_count(0)
    previews = page.get_by_test_id("message-preview")
    expect(previews).to_have_count(3)
    expect(previews.first).to_contain_text("thank you for shopping with us in")
    expect(previews.first).not_to_contain_text("{first_name}")
    # SMS are counted in segments: "₹" is outside the GSM alphabet, so Unicode (70 a SMS).
    lengths = page.get_by_test_id("sample-length")
    expect(lengths.first).to_contain_text(re.compile(r"characters · 1 SMS$"))
    final_text = template.input_value()
    template.press("End")
    page.keyboard.insert_text(" You have spent {total_spend} with us.")
    expect(lengths.first).to_contain_text("SMS (Unicode because of “₹”")
    template.fill(final_text)
    expect(lengths.first).to_contain_text(re.compile(r"characters · 1 SMS$"))
    page.get_by_label("Add a tag").fill("loyalty")
    page.get_by_label("Add a tag").press("Enter")
    page.screenshot(path="test-results/campaign-wizard-message.png", full_page=True)
    page.get_by_test_id("wizard-next").click()

    # Step 3: send now. Step 4: review shows the recipients after consent and cap.
    expect(page.get_by_test_id("schedule-now")).to_be_visible()
    page.get_by_test_id("wizard-next").click()
    expect(page.get_by_test_id("review-name")).to_have_text(name)
    expect(page.get_by_test_id("review-size")).to_have_text(re.compile(r"^\d+$"))
    recipients = int(page.get_by_test_id("review-size").inner_text())
    assert 0 < recipients <= AUDIENCE
    page.screenshot(path="test-results/campaign-wizard-review.png", full_page=True)

    # A marker on window: it survives client-side navigation but not a reload.
    page.evaluate("window.__noReload = true")
    page.get_by_test_id("launch-campaign").click()
    expect(page).to_have_url(re.compile(r"/campaigns/\d+$"), timeout=30_000)
    campaign_id = int(page.url.rstrip("/").rsplit("/", 1)[-1])
    expect(page.get_by_test_id("campaign-name")).to_have_text(name)
    page.screenshot(path="test-results/campaign-detail-sending.png", full_page=True)

    with Session(e2e_engine(e2e_env)) as s:
        campaign = s.get(Campaign, campaign_id)
        assert campaign is not None and campaign.audience_size == recipients
        assert campaign.tags == list(dict.fromkeys([suggested_tag, "loyalty"]))

    final = _final_counts(e2e_env, campaign_id)
    delivered = final.get(DeliveryStatus.DELIVERED, 0)
    undelivered = final.get(DeliveryStatus.UNDELIVERED, 0)
    failed = final.get(DeliveryStatus.FAILED, 0)
    assert delivered + undelivered + failed == recipients
    sent = delivered + undelivered

    # The campaign page reaches the final figures by itself.
    expect(page.get_by_test_id("stat-sent")).to_have_text(formatting.count(sent),
                                                          timeout=DELIVERY_TIMEOUT_MS)
    expect(page.get_by_test_id("stat-delivered")).to_have_text(formatting.count(delivered),
                                                               timeout=DELIVERY_TIMEOUT_MS)
    expect(page.get_by_test_id("stat-failed")).to_have_text(formatting.count(failed))
    expect(page.get_by_test_id("campaign-status")).to_have_text("completed")
    expect(page.get_by_test_id("log-row")).to_have_count(recipients)
    # The insights follow the receipts too: once they are in, the summary has them.
    expect(page.get_by_test_id("insights-summary")).to_contain_text(
        f"{formatting.count(delivered)} delivered", timeout=DELIVERY_TIMEOUT_MS)
    page.screenshot(path="test-results/campaign-detail-done.png", full_page=True)

    with page.expect_download() as download:
        page.get_by_test_id("export-csv").click()
    lines = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("log_id,customer_external_id")
    assert len(lines) == recipients + 1

    # The history (reached by a client-side link) shows the same figures.
    page.get_by_role("link", name="All campaigns").click()
    row = page.get_by_test_id("campaign-row").filter(has_text=name)
    expect(row.get_by_test_id("row-sent")).to_have_text(f"{formatting.count(sent)} sent")
    expect(row.get_by_test_id("row-delivered")).to_have_text(
        f"{formatting.count(delivered)} delivered")
    expect(row.get_by_test_id("row-status")).to_have_text("completed")
    expect(row).to_contain_text("loyalty")
    page.screenshot(path="test-results/campaign-history.png", full_page=True)
    assert page.evaluate("window.__noReload === true"), "the page was reloaded"

    # A recipient's page lists the message, its campaign and status.
    with Session(e2e_engine(e2e_env)) as s:
        recipient = s.exec(select(Customer.external_id).join(
            CommunicationLog, CommunicationLog.customer_id == Customer.id).where(
            CommunicationLog.campaign_id == campaign_id)).first()
    page.goto(f"{app_url}/customers/{recipient}")
    message = page.get_by_test_id("customer-message").filter(has_text=name)
    expect(message).to_have_count(1)
    expect(message).to_contain_text(re.compile("delivered|undelivered|failed"))


def _fake_running_campaign(e2e_env: dict[str, str], name: str, size: int) -> int:
    """A campaign whose messages are all with the vendor, awaiting receipts: the test then
    plays the receipts into the database itself, at its own pace, so the pages' live
    updates are observed step by step (the simulator is too quick to watch)."""
    now = utcnow()
    with Session(e2e_engine(e2e_env)) as s:
        *ids, held = s.exec(select(Customer.id).order_by(Customer.id).limit(size + 1)).all()
        campaign = Campaign(name=name, rules={"combinator": "and", "rules": []},
                            channel="sms", message_template="Hi {name}", tags=["live-test"],
                            status="sending", started_at=now, audience_size=len(ids) + 1,
                            created_at=now)
        s.add(campaign)
        s.flush()
        for cid in ids:
            s.add(CommunicationLog(campaign_id=campaign.id, customer_id=cid, message="Hi",
                                   status=DeliveryStatus.SENT, sent_at=now, attempts=1,
                                   vendor_message_id=f"live-{campaign.id}-{cid}"))
        # One message a worker is still holding (a fresh claim): the campaign stays
        # "sending", as a real one would, instead of the sweeper completing it mid-test.
        s.add(CommunicationLog(campaign_id=campaign.id, customer_id=held, attempts=1,
                               status=DeliveryStatus.QUEUED,
                               claimed_at=now + timedelta(days=1)))
        s.commit()
        return int(campaign.id)


def _receive(e2e_env: dict[str, str], campaign_id: int, n: int, status: str) -> None:
    with Session(e2e_engine(e2e_env)) as s:
        rows = s.exec(select(CommunicationLog).where(
            CommunicationLog.campaign_id == campaign_id,
            CommunicationLog.status == DeliveryStatus.SENT).order_by(CommunicationLog.id)
            .limit(n)).all()
        for row in rows:
            row.status, row.delivered_at = status, utcnow()
            s.add(row)
        s.commit()


def test_history_and_campaign_page_follow_delivery_live(page: Page, app_url: str,
                                                        e2e_env: dict[str, str]) -> None:
    tag = uuid.uuid4().hex[:6]
    name = f"Live receipts {tag}"
    campaign_id = _fake_running_campaign(e2e_env, name, 20)

    page.goto(app_url + "/campaigns")
    page.evaluate("window.__noReload = true")
    row = page.get_by_test_id("campaign-row").filter(has_text=name)
    expect(row.get_by_test_id("row-sent")).to_have_text("20 sent")
    expect(row.get_by_test_id("row-delivered")).to_have_text("0 delivered")
    _receive(e2e_env, campaign_id, 7, DeliveryStatus.DELIVERED)
    expect(row.get_by_test_id("row-delivered")).to_have_text("7 delivered")
    expect(row.get_by_test_id("row-rate")).to_have_text("35.0%")  # delivered / sent
    _receive(e2e_env, campaign_id, 1, DeliveryStatus.UNDELIVERED)
    expect(row.get_by_test_id("row-sent")).to_have_text("20 sent")
    expect(row.get_by_test_id("row-rate")).to_have_text("35.0%")

    # Search and status filter narrow the history in SQL.
    page.get_by_test_id("campaign-search").fill(f"no such campaign {tag}")
    expect(page.get_by_text("No campaigns match")).to_be_visible()
    page.get_by_test_id("campaign-search").fill(tag)
    expect(page.get_by_test_id("campaign-row")).to_have_count(1)

    row.get_by_test_id("campaign-link").click()
    expect(page.get_by_test_id("campaign-name")).to_have_text(name)
    expect(page.get_by_test_id("stat-delivered")).to_have_text("7")
    _receive(e2e_env, campaign_id, 9, DeliveryStatus.DELIVERED)
    expect(page.get_by_test_id("stat-delivered")).to_have_text("16")
    page.get_by_role("radio", name="Undelivered").click()
    expect(page.get_by_test_id("log-row")).to_have_count(1)
    page.screenshot(path="test-results/campaign-detail-live.png", full_page=True)

    # Cancel (with a confirmation); receipts still due keep arriving on the page.
    page.get_by_test_id("cancel-campaign").click()
    page.get_by_test_id("confirm-cancel").click()
    expect(page.get_by_test_id("campaign-status")).to_have_text("cancelled")
    expect(page.get_by_test_id("cancel-campaign")).to_have_count(0)
    _receive(e2e_env, campaign_id, 10, DeliveryStatus.DELIVERED)
    expect(page.get_by_test_id("stat-delivered")).to_have_text("19")
    assert page.evaluate("window.__noReload === true"), "the page was reloaded"
    with Session(e2e_engine(e2e_env)) as s:
        assert s.get(Campaign, campaign_id).status == "cancelled"
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.screenshot(path="test-results/campaign-detail-phone.png", full_page=True)
    page.get_by_role("link", name="All campaigns").click()
    expect(page.get_by_test_id("campaign-row").first).to_be_visible()
    page.screenshot(path="test-results/campaign-history-phone.png", full_page=True)


def test_launch_error_keeps_everything_typed(page: Page, app_url: str,
                                             e2e_env: dict[str, str]) -> None:
    """The audience vanishes before launch: the wizard says so on the audience step,
    and the message typed earlier is still there."""
    tag = uuid.uuid4().hex[:6]
    segment, name = f"Vanishing {tag}", f"Never launched {tag}"
    _small_segment(e2e_env, segment)
    page.goto(app_url + "/campaigns/new")
    _go_to_review(page, segment, name)
    with Session(e2e_engine(e2e_env)) as s:  # as the Segments page deletes it
        seg = s.exec(select(Segment).where(Segment.name == segment)).one()
        segment_service.delete_segment(s, int(seg.id))
        s.commit()
    page.keyboard.press("Control+Enter")  # the launch shortcut on the review step
    expect(page.get_by_text("That segment no longer exists; pick another.")).to_be_visible()
    expect(page.get_by_test_id("launch-error")).to_be_visible()
    with Session(e2e_engine(e2e_env)) as s:  # still a draft, nothing launched
        assert s.exec(select(Campaign.status).where(Campaign.name == name)).all() == ["draft"]
    # Jumping ahead re-checks the audience first: still refused.
    page.get_by_test_id("wizard-step-1").click()
    expect(page.get_by_text("That segment no longer exists; pick another.")).to_be_visible()

    # Switch to the rules built earlier (still there): the message typed is kept.
    page.get_by_role("radio", name="New rules").click()
    expect(page.get_by_test_id("wizard-rules-size")).to_have_text(re.compile(r"^[\d,]+$"))
    expect(page.get_by_test_id("launch-error")).to_have_count(0)  # cleared by the fix
    page.get_by_test_id("wizard-step-1").click()
    expect(page.get_by_test_id("campaign-name-input")).to_have_value(name)
    expect(page.get_by_test_id("campaign-template")).to_have_value(
        "Hi {first_name}, thanks for shopping in {city}!")
    # ... and so is the schedule chosen from the suggested windows: schedule it for real.
    page.get_by_test_id("wizard-next").click()
    page.get_by_test_id("wizard-next").click()
    expect(page.get_by_test_id("launch-campaign")).to_contain_text("Schedule campaign")
    page.get_by_test_id("launch-campaign").click()
    expect(page).to_have_url(re.compile(r"/campaigns/\d+$"), timeout=30_000)
    expect(page.get_by_test_id("campaign-status")).to_have_text("scheduled")
    expect(page.get_by_test_id("cancel-campaign")).to_be_visible()
    page.screenshot(path="test-results/campaign-detail-scheduled.png", full_page=True)
    with Session(e2e_engine(e2e_env)) as s:
        campaign = s.exec(select(Campaign).where(Campaign.name == name)).one()
        assert campaign.status == "scheduled" and campaign.scheduled_at > utcnow()
        assert campaign.segment_id is None and "Mumbai" in str(campaign.rules)


def test_launch_saves_the_new_rules_as_a_segment(page: Page, app_url: str,
                                                e2e_env: dict[str, str]) -> None:
    """"Save this audience as a segment" is done by the launch itself (core
    save_audience_as): a name already in use is refused on the audience step with
    nothing saved, and a fresh one gives a segment the campaign points at."""
    tag = uuid.uuid4().hex[:6]
    segment, name = f"Used name {tag}", f"Saved audience {tag}"
    _small_segment(e2e_env, segment)
    page.goto(app_url + "/campaigns/new")
    _go_to_review(page, segment, name)
    page.get_by_test_id("wizard-step-0").click()
    page.get_by_role("radio", name="New rules").click()  # the Mumbai rules typed earlier
    expect(page.get_by_test_id("wizard-rules-size")).to_have_text(re.compile(r"^[\d,]+$"))
    page.get_by_test_id("save-as-segment").click()
    page.get_by_test_id("new-segment-name").fill(segment.upper())
    for _ in range(3):
        page.get_by_test_id("wizard-next").click()
    expect(page.get_by_test_id("launch-campaign")).to_contain_text("Schedule campaign")
    page.get_by_test_id("launch-campaign").click()
    # Said under the segment name (step 1), and in the launch banner.
    expect(page.get_by_role("alert").filter(has_text="already exists; pick another name")
           ).to_have_count(2)
    expect(page.get_by_test_id("launch-error")).to_contain_text(f"“{segment}”")
    expect(page.get_by_test_id("new-segment-name")).to_be_visible()  # back on step 1
    page.screenshot(path="test-results/campaign-wizard-segment-name-used.png",
                    full_page=True)
    with Session(e2e_engine(e2e_env)) as s:  # refused: one segment of that name, a draft
        assert len(s.exec(select(Segment).where(Segment.name.contains(tag))).all()) == 1
        # nothing launched or scheduled (the autosaved draft, if any, stays a draft)
        assert set(s.exec(select(Campaign.status).where(Campaign.name == name)).all()
                   ) <= {"draft"}

    page.get_by_test_id("new-segment-name").fill(f"Mumbai buyers {tag}")
    for _ in range(3):
        page.get_by_test_id("wizard-next").click()
    page.get_by_test_id("launch-campaign").click()
    expect(page).to_have_url(re.compile(r"/campaigns/\d+$"), timeout=30_000)
    expect(page.get_by_test_id("campaign-status")).to_have_text("scheduled")
    with Session(e2e_engine(e2e_env)) as s:
        saved = s.exec(select(Segment).where(Segment.name == f"Mumbai buyers {tag}")).one()
        campaign = s.exec(select(Campaign).where(Campaign.name == name)).one()
        assert campaign.segment_id == saved.id and campaign.status == "scheduled"
        assert saved.rules == campaign.rules and "Mumbai" in str(saved.rules)


def test_viewer_cannot_launch(page: Page, browser: Browser, app_url: str,
                              e2e_env: dict[str, str]) -> None:
    # `page` (the admin) signs in first, so the admin exists before the viewer.
    tag = uuid.uuid4().hex[:6]
    segment = f"Viewer check {tag}"
    _small_segment(e2e_env, segment)
    email = f"viewer-{tag}@brand.in"
    with Session(e2e_engine(e2e_env)) as s:
        invite(s, email, role="viewer")
        s.commit()

    context = browser.new_context(viewport={"width": 1366, "height": 900})
    try:
        viewer = context.new_page()
        viewer.set_default_timeout(20_000)
        sign_in(viewer, app_url, email, "/campaigns/new")
        viewer.goto(app_url + "/campaigns/new")
        # Told up front, instead of walking the wizard to a launch that cannot happen.
        expect(viewer.get_by_test_id("viewer-cannot-create")).to_contain_text(
            "Viewers can't create campaigns")
        expect(viewer.get_by_test_id("wizard-next")).to_have_count(0)
        expect(viewer.get_by_test_id("launch-campaign")).to_have_count(0)
        viewer.screenshot(path="test-results/campaign-viewer-review.png", full_page=True)
    finally:
        context.close()
    with Session(e2e_engine(e2e_env)) as s:
        assert s.exec(select(Campaign).where(Campaign.name == f"Viewer attempt {tag}")
                      ).first() is None


def _draft_id(page: Page) -> int:
    """The draft in the wizard's URL (/campaigns/new?draft=12, then &step=N)."""
    expect(page).to_have_url(re.compile(r"/campaigns/new/?\?draft=\d+(&step=\d)?$"))
    return int(re.search(r"draft=(\d+)", page.url).group(1))


def test_a_draft_survives_refresh_and_back_and_can_be_deleted(page: Page, app_url: str,
                                                              e2e_env: dict[str, str]) -> None:
    tag = uuid.uuid4().hex[:6]
    segment, name = f"Draft audience {tag}", f"Half-written {tag}"
    _small_segment(e2e_env, segment)
    page.goto(app_url + "/campaigns")
    page.get_by_test_id("new-campaign").first.click()
    page.get_by_test_id("segment-choice").filter(has_text=segment).click()
    draft_id = _draft_id(page)  # saved from the first step
    page.get_by_test_id("wizard-next").click()
    page.get_by_test_id("campaign-name-input").fill(name)
    page.get_by_test_id("campaign-template").fill("Hi {first_name}, almost ready!")
    expect(page.get_by_test_id("draft-note")).to_have_text("Draft saved.")
    with Session(e2e_engine(e2e_env)) as s:
        draft = s.get(Campaign, draft_id)
        assert (draft.status, draft.name, draft.draft_step) == ("draft", name, 1)

    # The step is in the URL: Back and Forward move between the wizard's steps.
    expect(page).to_have_url(re.compile(rf"\?draft={draft_id}&step=1$"))
    page.get_by_test_id("wizard-next").click()
    expect(page.get_by_test_id("schedule-now")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"\?draft={draft_id}&step=2$"))
    # A step change that follows the URL never writes it: a late write pushed a stale
    # step after Forward and cut the Forward history off (CI, stop 20). Watch the writes.
    page.evaluate("""() => { const write = window.__mcWizardStepUrl; window.__urlWrites = [];
        window.__mcWizardStepUrl = (n, r) => { window.__urlWrites.push(n); write(n, r); }; }""")
    page.go_back()
    expect(page.get_by_test_id("campaign-template")).to_have_value(
        "Hi {first_name}, almost ready!")
    page.go_forward()
    expect(page.get_by_test_id("schedule-now")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"\?draft={draft_id}&step=2$"))
    expect(page.locator("#wizard-step-title")).to_be_focused()  # the step's script ran
    assert page.evaluate("window.__urlWrites") == []

    page.reload()  # a refresh lands on the same step of the same draft
    # Resuming re-checks the steps before (a count on the database): allow a loaded
    # machine its time.
    expect(page.get_by_test_id("schedule-now")).to_be_visible(timeout=30_000)
    expect(page).to_have_url(re.compile(rf"\?draft={draft_id}&step=2$"))
    page.go_back()  # everything typed is still there
    expect(page.get_by_test_id("campaign-name-input")).to_have_value(name, timeout=30_000)
    expect(page.get_by_test_id("campaign-template")).to_have_value(
        "Hi {first_name}, almost ready!")

    page.go_back()  # the first step, then out of the wizard
    expect(page).to_have_url(re.compile(rf"/campaigns/new/?\?draft={draft_id}&step=0$"))
    expect(page.get_by_test_id("segment-choice").first).to_be_visible()
    page.go_back()  # out of the wizard; the draft is in the history
    expect(page).to_have_url(re.compile(r"/campaigns/?$"))
    row = page.get_by_test_id("campaign-row").filter(has_text=name)
    expect(row.get_by_test_id("row-status")).to_have_text("draft")
    row.get_by_test_id("campaign-link").click()  # resumes where it was left: step 0
    expect(page.get_by_test_id("segment-choice").first).to_be_visible()
    page.get_by_test_id("wizard-next").click()
    expect(page.get_by_test_id("campaign-name-input")).to_have_value(name)
    page.screenshot(path="test-results/campaign-draft-resumed.png", full_page=True)

    page.get_by_test_id("delete-draft").click()  # asks first; nothing deleted yet
    expect(page.get_by_role("alertdialog")).to_contain_text("Delete this draft?")
    with Session(e2e_engine(e2e_env)) as s:
        assert s.get(Campaign, draft_id) is not None
    page.get_by_test_id("confirm-delete-draft").click()
    expect(page).to_have_url(re.compile(r"/campaigns/?$"))
    expect(page.get_by_test_id("campaign-row").filter(has_text=name)).to_have_count(0)
    with Session(e2e_engine(e2e_env)) as s:
        assert s.get(Campaign, draft_id) is None


def test_review_says_who_another_campaign_messaged_lately(
        browser: Browser, admin_storage: dict, app_url: str, e2e_env: dict[str, str]
        ) -> None:
    """A duplicate launched again messaged the same people minutes later, with only the
    frequency cap to stop it: the review says how many and from which campaign, above
    the button, and the campaign can still be launched. At 1440x900 and 390x844."""
    tag = uuid.uuid4().hex[:6]
    earlier, segment = f"Diwali sale {tag}", f"Lately messaged {tag}"
    now = utcnow()
    with Session(e2e_engine(e2e_env)) as s:
        # The lowest spenders with an SMS number: other tests message the big spenders.
        ids_spends = s.exec(select(Customer.id, Customer.total_spend)
                            .where(Customer.consent_sms == sa.true(),
                                   Customer.phone.is_not(None))
                            .order_by(Customer.total_spend, Customer.id).limit(8)).all()
        rules = {"combinator": "and", "not": False, "rules": [
            {"field": "total_spend", "operator": "<=",
             "value": float(ids_spends[-1][1])}]}
        segment_service.save_segment(s, name=segment, rules=rules)
        campaign = Campaign(name=earlier, rules=rules, channel="sms", message_template="Hi",
                            status="completed", started_at=now, completed_at=now,
                            audience_size=len(ids_spends), created_at=now)
        s.add(campaign)
        s.flush()
        for cid, _spend in ids_spends:
            s.add(CommunicationLog(campaign_id=campaign.id, customer_id=cid, message="Hi",
                                   status=DeliveryStatus.DELIVERED, sent_at=now, attempts=1,
                                   created_at=now,
                                   vendor_message_id=f"lately-{campaign.id}-{cid}"))
        s.commit()
        segment_id = s.exec(select(Segment.id).where(Segment.name == segment)).one()
    for width, height in ((1440, 900), (390, 844)):
        context = browser.new_context(viewport={"width": width, "height": height},
                                      storage_state=admin_storage)
        try:
            pg = context.new_page()
            pg.goto(f"{app_url}/campaigns/new?segment={segment_id}")
            expect(pg.get_by_test_id("segment-choice").filter(has_text=segment)
                   ).to_be_visible()
            pg.get_by_test_id("wizard-next").click()
            pg.get_by_test_id("campaign-name-input").fill(f"{earlier} (copy)")
            pg.get_by_test_id("campaign-template").fill("Hi {first_name}, it's Diwali!")
            pg.get_by_test_id("wizard-next").click()
            expect(pg.get_by_test_id("schedule-now")).to_be_visible()
            pg.get_by_test_id("wizard-next").click()
            warning = pg.get_by_test_id("review-recently-messaged")
            expect(warning).to_have_text(re.compile(
                rf"^\d+ of these people got a message (from “{earlier}” in the last 24 h|"
                rf"in the last 24 h: \d+ from “{earlier}”).*; launching messages them "
                r"again \(the frequency cap leaves out only those with \d+ messages in "
                r"\d+ days\)\.$"))
            expect(pg.get_by_test_id("launch-campaign")).to_be_enabled()  # said, not refused
            pg.screenshot(path=f"test-results/campaign-review-recent-{width}.png",
                          full_page=True)
        finally:
            context.close()


def test_an_untouched_wizard_leaves_no_draft(page: Page, app_url: str,
                                            e2e_env: dict[str, str]) -> None:
    """Opening the wizard (and only switching to "New rules") then leaving left an
    "Untitled draft" in the history; a draft exists once something is chosen or typed,
    and goes again when that is undone."""
    def drafts() -> set[int]:
        with Session(e2e_engine(e2e_env)) as s:
            return set(s.exec(select(Campaign.id).where(Campaign.status == "draft")).all())

    # A saved segment to start on (with none, the wizard opens on "New rules").
    _small_segment(e2e_env, f"Untouched {uuid.uuid4().hex[:6]}")
    before = drafts()
    dirty = page.locator("#wizard-dirty")
    page.goto(app_url + "/campaigns")
    page.get_by_test_id("new-campaign").first.click()
    expect(page.get_by_test_id("segment-choice").first).to_be_visible()  # opened
    # Every value the page's unsaved-edit marker takes, however briefly.
    page.evaluate("""() => {
        const marker = document.getElementById('wizard-dirty');
        window.__dirtySeen = [];
        new MutationObserver(() => window.__dirtySeen.push(marker.dataset.dirty))
            .observe(marker, {attributes: true, attributeFilter: ['data-dirty']});
    }""")
    page.get_by_role("radio", name="New rules").click()
    expect(page.get_by_test_id("wizard-rules-size")).to_be_visible()
    # The switch is an edit: marked, then settled by the autosave, which keeps nothing.
    page.wait_for_function("window.__dirtySeen.includes('true') && "
                           "document.getElementById('wizard-dirty').dataset.dirty === 'false'")
    expect(page).to_have_url(re.compile(r"/campaigns/new/?$"))
    assert drafts() == before

    # A rule of their own is a choice: the draft is saved; put back, it goes again.
    value = page.get_by_test_id("rule-row").first.get_by_label("Value")
    value.fill("7000")
    draft_id = _draft_id(page)
    assert drafts() == before | {draft_id}
    value.fill("5000")  # the builder's own starting rule
    expect(page).to_have_url(re.compile(r"/campaigns/new/?$"))
    expect(dirty).to_have_attribute("data-dirty", "false")
    assert drafts() == before

    page.goto(app_url + "/campaigns")  # leaving asks nothing and leaves nothing behind
    expect(page.get_by_test_id("new-campaign").first).to_be_visible()
    assert drafts() == before


def test_scheduled_campaign_edit_reschedule_send_now_and_duplicate(
        page: Page, app_url: str, e2e_env: dict[str, str]) -> None:
    from mini_crm.core.campaigns import service

    tag = uuid.uuid4().hex[:6]
    segment, name = f"Scheduled audience {tag}", f"Weekend promo {tag}"
    _small_segment(e2e_env, segment)
    with Session(e2e_engine(e2e_env)) as s:
        seg = s.exec(select(Segment).where(Segment.name == segment)).one()
        campaign = service.create_campaign(
            s, name=name, rules=None, segment_id=seg.id, message_template="Hi {first_name}",
            channel="sms", schedule_at=utcnow() + timedelta(days=3), objective=None,
            created_by=None, tags=["weekend"])
        s.commit()
        campaign_id = int(campaign.id)

    page.goto(f"{app_url}/campaigns/{campaign_id}")
    expect(page.get_by_test_id("campaign-status")).to_have_text("scheduled")
    page.get_by_test_id("edit-campaign").click()
    expect(page.get_by_test_id("draft-note")).to_contain_text("Editing a scheduled campaign")
    page.get_by_test_id("wizard-next").click()
    template = page.get_by_test_id("campaign-template")
    expect(template).to_have_value("Hi {first_name}")
    # One input event for the whole edit: typed key by key, a keystroke's server echo can
    # land while later keys are in flight on a loaded machine (a known race, see the
    # closing note of this round); this test is about saving a scheduled campaign's edit.
    template.fill("Hi {first_name}, see you this weekend")
    # The server has the whole text once the live preview (rendered server-side from it)
    # shows it; only then move on, as a person would after reading the preview.
    expect(page.get_by_test_id("message-preview").first).to_contain_text(
        "see you this weekend", timeout=20_000)
    # Unsaved edits of a scheduled campaign: leaving asks first.
    expect(page.locator("#wizard-dirty")).to_have_attribute("data-dirty", "true")
    # The page's own beforeunload listener, asked directly: dispatching the event would
    # also run Reflex's, which drops the websocket.
    asked = page.evaluate("""() => { const e = new Event('beforeunload', {cancelable: true});
                                     window.__mcLeaveGuard(e); return e.defaultPrevented; }""")
    assert asked, "leaving with unsaved edits must ask first"
    page.get_by_test_id("wizard-next").click()
    expect(page.get_by_test_id("schedule-input")).to_be_visible()
    page.get_by_test_id("wizard-next").click()
    expect(page.get_by_test_id("launch-campaign")).to_have_text("Save changes")
    page.get_by_test_id("launch-campaign").click()
    expect(page).to_have_url(re.compile(rf"/campaigns/{campaign_id}$"), timeout=30_000)
    with Session(e2e_engine(e2e_env)) as s:
        saved = s.get(Campaign, campaign_id)
        assert saved.status == "scheduled"
        assert saved.message_template == "Hi {first_name}, see you this weekend"

    page.get_by_test_id("reschedule").click()
    later = (formatting.brand_time(utcnow() + timedelta(days=5))).strftime("%Y-%m-%dT%H:%M")
    page.get_by_test_id("reschedule-at").fill(later)
    page.get_by_test_id("reschedule-save").click()
    expect(page.get_by_text("Rescheduled.")).to_be_visible()
    with Session(e2e_engine(e2e_env)) as s:
        when = s.get(Campaign, campaign_id).scheduled_at
        assert formatting.brand_time(when).strftime("%Y-%m-%dT%H:%M") == later
    page.screenshot(path="test-results/campaign-scheduled-actions.png", full_page=True)

    page.get_by_test_id("send-now").click()
    page.get_by_test_id("confirm-send-now").click()
    expect(page.get_by_test_id("campaign-status")).not_to_have_text("scheduled")
    with Session(e2e_engine(e2e_env)) as s:
        assert s.get(Campaign, campaign_id).status in ("sending", "completed")

    page.get_by_test_id("duplicate-campaign").click()
    copy_id = _draft_id(page)
    assert copy_id != campaign_id
    page.get_by_test_id("wizard-next").click()
    expect(page.get_by_test_id("campaign-name-input")).to_have_value(f"Copy of {name}")
    with Session(e2e_engine(e2e_env)) as s:
        assert s.get(Campaign, copy_id).status == "draft"


def test_history_shows_a_campaign_launched_elsewhere_and_awaiting_receipts(
        page: Page, app_url: str, e2e_env: dict[str, str]) -> None:
    tag = uuid.uuid4().hex[:6]
    name = f"Launched elsewhere {tag}"
    page.goto(app_url + "/campaigns")
    expect(page.get_by_test_id("campaign-row").first).to_be_visible()
    page.evaluate("window.__noReload = true")
    # Another tab (or the API) sends one: every message handed over, no receipt yet.
    now = utcnow()
    with Session(e2e_engine(e2e_env)) as s:
        ids = s.exec(select(Customer.id).order_by(Customer.id).limit(5)).all()
        campaign = Campaign(name=name, rules={"combinator": "and", "rules": []},
                            channel="sms", message_template="Hi", status="completed",
                            started_at=now, completed_at=now, audience_size=5,
                            created_at=now)
        s.add(campaign)
        s.flush()
        for cid in ids:
            s.add(CommunicationLog(campaign_id=campaign.id, customer_id=cid, message="Hi",
                                   status=DeliveryStatus.SENT, sent_at=now, attempts=1,
                                   vendor_message_id=f"elsewhere-{campaign.id}-{cid}"))
        s.commit()
        campaign_id = int(campaign.id)
    row = page.get_by_test_id("campaign-row").filter(has_text=name)
    expect(row).to_be_visible(timeout=20_000)  # the open tab polls the history
    expect(row.get_by_test_id("row-status")).to_have_text("sent · awaiting receipts")
    expect(row.get_by_test_id("row-rate")).to_have_text("—")
    page.screenshot(path="test-results/campaign-history-awaiting.png", full_page=True)
    _receive(e2e_env, campaign_id, 5, DeliveryStatus.DELIVERED)
    expect(row.get_by_test_id("row-status")).to_have_text("completed")
    expect(row.get_by_test_id("row-rate")).to_have_text("100.0%")
    assert page.evaluate("window.__noReload === true"), "the page was reloaded"


def test_wizard_and_suppression_list_fit_a_phone(browser: Browser, admin_storage: dict,
                                                  app_url: str, e2e_env: dict[str, str]
                                                  ) -> None:
    """390 px wide: no wizard step overflows the page sideways (step bar, channel cards,
    the audience toggle), and a wide table scrolls inside its own box with a hint."""
    segment = f"Phone check {uuid.uuid4().hex[:6]}"
    _small_segment(e2e_env, segment)
    context = browser.new_context(viewport={"width": 390, "height": 844},
                                  storage_state=admin_storage)
    try:
        pg = context.new_page()
        pg.set_default_timeout(20_000)
        pg.goto(app_url + "/campaigns/new")
        pg.get_by_role("radio", name="New rules").click()
        expect(pg.get_by_test_id("wizard-step-3")).to_be_visible()
        overflow = "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        assert pg.evaluate(overflow) <= 0
        pg.screenshot(path="test-results/campaign-wizard-phone-audience.png")
        pg.get_by_role("radio", name="Saved segment").click()
        pg.get_by_test_id("segment-choice").filter(has_text=segment).click()
        pg.get_by_test_id("wizard-next").click()
        expect(pg.get_by_test_id("channel-whatsapp")).to_be_visible()
        assert pg.evaluate(overflow) <= 0
        box = pg.get_by_test_id("channel-whatsapp").bounding_box()
        assert box is not None and box["x"] + box["width"] <= 390
        pg.screenshot(path="test-results/campaign-wizard-phone-message.png")
        pg.goto(app_url + "/data")
        expect(pg.get_by_test_id("suppression-table")).to_be_visible()
        assert pg.evaluate(overflow) <= 0
        expect(pg.locator(".table-scroll-hint").first).to_be_visible()
        pg.screenshot(path="test-results/data-phone.png", full_page=True)
    finally:
        context.close()
