"""From a campaign's page to "customers like those who bought": the insights show who
converted better ("Bought, by …" tables), and the lookalike button opens the segment
builder filled with rules modelled on the campaign's converters. Screenshots at
1440x900 and 390x844."""

from __future__ import annotations

import random
from datetime import UTC, timedelta
from decimal import Decimal

import sqlalchemy as sa
from playwright.sync_api import Page, expect
from sqlmodel import Session

from mini_crm.core.ingestion.schemas import OrderIn
from mini_crm.core.ingestion.upsert import upsert_orders
from mini_crm.models import CommunicationLog, Customer, utcnow
from tests.e2e.conftest import e2e_engine
from tests.integration.ai_features_data import add_campaign, add_logs
from tests.integration.test_ai_features_lookalike import plant


def _campaign_with_buyers(e2e_env: dict[str, str]) -> int:
    with Session(e2e_engine(e2e_env)) as s:
        planted = plant(s)
        campaign = add_campaign(s, "Pilot offer")
        others = random.Random(5).sample(planted["background"], 300)
        add_logs(s, campaign.id, [(cid, "delivered") for cid in planted["pilot"] + others])
        # Sent three days ago, so the buyers' orders (two hours later) are in the past.
        sent = utcnow() - timedelta(days=3)
        s.execute(sa.update(CommunicationLog).where(CommunicationLog.campaign_id == campaign.id)
                  .values(sent_at=sent))
        s.commit()
        ext = dict(s.execute(sa.select(Customer.id, Customer.external_id)
                             .where(Customer.id.in_(planted["pilot"]))).all())
        bought = (sent + timedelta(hours=2)).replace(tzinfo=UTC)
        upsert_orders(s, [OrderIn(external_id=f"buy-{cid}", customer_external_id=ext[cid],
                                  amount=Decimal("500.00"), ordered_at=bought)
                          for cid in planted["pilot"]])
        s.commit()
        return int(campaign.id)


def _shots(page: Page, name: str, test_id: str) -> None:
    for width, height in ((1440, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        section = page.get_by_test_id(test_id)
        section.scroll_into_view_if_needed()
        page.screenshot(path=f"test-results/{name}-{width}.png", full_page=True)
        section.screenshot(path=f"test-results/{name}-section-{width}.png")
    page.set_viewport_size({"width": 1440, "height": 900})


def test_campaign_buyers_lead_to_a_lookalike_audience(page: Page, app_url: str,
                                                      e2e_env: dict[str, str]) -> None:
    campaign_id = _campaign_with_buyers(e2e_env)
    page.goto(f"{app_url}/campaigns/{campaign_id}")
    insights = page.get_by_test_id("insights")
    expect(insights.get_by_text("Bought, by city")).to_be_visible(timeout=30_000)
    expect(insights.get_by_text("Bought, by spend tier")).to_be_visible()
    _shots(page, "buyers-insights", "insights")

    page.get_by_test_id("buyers-lookalike").click()
    expect(page).to_have_url(f"{app_url}/segments/new?like_buyers_of={campaign_id}")
    expect(page.get_by_text("bought because of it").first).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Lookalike audience: review the rules, then save.")).to_be_visible()
    expect(page.get_by_test_id("segment-name")).to_have_value("Like the buyers of Pilot offer")
    # The live preview follows the lookalike's rules, not the starter rule.
    expect(page.get_by_test_id("audience-sentence")).not_to_contain_text(
        "spent over ₹5,000", timeout=30_000)
    expect(page.get_by_test_id("preview-spinner")).to_have_count(0)
    for width, height in ((1440, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=f"test-results/buyers-lookalike-{width}.png", full_page=True)
