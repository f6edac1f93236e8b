"""Campaign insights on planted delivery results."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from sqlmodel import Session

from mini_crm.core.ai import insights as ins
from mini_crm.core.ai import insights_guard as guard
from mini_crm.models import utcnow
from tests.integration.ai_features_data import add_campaign, add_customers, add_logs, days_ago

CITIES = ["Mumbai", "Delhi", "Bengaluru", "Chennai"]


def statuses(n: int, delivered: float, pending: int = 0) -> list[str]:
    d = round(n * delivered)
    failed = (n - d) // 2
    return (["delivered"] * d + ["failed"] * failed + ["undelivered"] * (n - d - failed)
            + ["sent"] * pending)


def plant(session: Session) -> tuple[int, dict[str, list[int]]]:
    """Pune: 200 messages at 50% delivered; 4 other cities × 200 at 95%. Three earlier
    campaigns at 90%, 92% and 94% (median 92%)."""
    now = utcnow()
    base = now - timedelta(days=30)
    earlier_customers = add_customers(session, [{"external_id": f"e{i}", "city": "Delhi",
                                                 "created_at": days_ago(now, 900)}
                                                for i in range(50)])
    for k, rate in enumerate([0.90, 0.92, 0.94]):
        c = add_campaign(session, f"Earlier {k}", created_at=base + timedelta(days=k))
        add_logs(session, c.id, list(zip(earlier_customers, statuses(50, rate), strict=True)))
    rows, groups = [], {}
    for city in ["Pune", *CITIES]:
        for i in range(200):
            rows.append({"external_id": f"{city}{i}", "city": city,
                         "total_spend": 1500 if i % 2 else 25000,
                         "created_at": days_ago(now, 400 + i)})
    ids = add_customers(session, rows)
    for j, city in enumerate(["Pune", *CITIES]):
        groups[city] = ids[j * 200:(j + 1) * 200]
    campaign = add_campaign(session, "Diwali 2026", created_at=now)
    logs = []
    for city, members in groups.items():
        logs += list(zip(members, statuses(200, 0.5 if city == "Pune" else 0.95), strict=True))
    add_logs(session, campaign.id, logs, error="handset unreachable")
    return campaign.id, groups


def test_pune_is_highlighted_and_figures_are_exact(session: Session) -> None:
    campaign_id, _ = plant(session)
    result = ins.campaign_insights(session, campaign_id)
    assert result.engine == "offline"
    got = result.value
    assert got.overall["messages"] == 1000 and got.overall["delivered"] == 860
    assert got.overall["rate"] == pytest.approx(0.86)
    by_city = {r["label"]: r for r in got.by_city}
    assert by_city["Pune"]["rate"] == pytest.approx(0.5)
    assert by_city["Pune"]["rest_rate"] == pytest.approx(0.95)
    assert by_city["Pune"]["significant"] and by_city["Pune"]["z"] < -10
    # The other cities are not flagged just because Pune pulls "the rest" down.
    assert [r["label"] for r in got.by_city if r["significant"]] == ["Pune"]
    assert got.highlights[0].startswith("City Pune: 50% delivered vs 95%")
    assert len(got.highlights) == 1
    # Spend tiers: every city is half ₹1,500 and half ₹25,000 → no tier stands out.
    tiers = {r["label"]: r for r in got.by_spend_tier}
    assert set(tiers) == {"Under ₹2,000", "₹10,000–₹50,000"}
    assert tiers["Under ₹2,000"]["final"] == 500 and not tiers["Under ₹2,000"]["significant"]
    assert sum(r["final"] for r in got.by_tenure) == 1000
    # Comparison with the three earlier campaigns.
    assert got.comparison["previous_campaigns"] == 3
    assert got.comparison["median_rate"] == pytest.approx(0.92)
    assert got.comparison["difference_points"] == pytest.approx(-6.0)
    assert got.top_errors == [{"error": "handset unreachable", "count": 140}]
    summary = got.summary
    assert "“Diwali 2026” went to 1,000 customers by sms" in summary
    assert "a delivery rate of 86%" in summary
    assert "Pune" in summary and "lagged" in summary
    assert "6.0 points below the median of the previous 3 campaigns (92%)" in summary
    assert "handset unreachable" in summary


def test_tenure_band_stands_out(session: Session) -> None:
    now = utcnow()
    new = add_customers(session, [{"external_id": f"n{i}", "city": "Pune",
                                   "created_at": days_ago(now, 5)} for i in range(100)])
    old = add_customers(session, [{"external_id": f"o{i}", "city": "Pune",
                                   "created_at": days_ago(now, 1000)} for i in range(300)])
    c = add_campaign(session, "Welcome")
    add_logs(session, c.id, list(zip(new, statuses(100, 0.6), strict=True))
             + list(zip(old, statuses(300, 0.97), strict=True)))
    got = ins.campaign_insights(session, c.id).value
    flagged = [r["label"] for r in got.by_tenure if r["significant"]]
    # Two groups only: both differ from each other, the smaller, worse one leads.
    assert "Under 30 days" in flagged
    assert got.highlights[0].startswith("Tenure Under 30 days: 60% delivered")
    assert "no earlier campaign" in got.summary.lower()


def test_small_groups_are_never_significant(session: Session) -> None:
    ids = add_customers(session, [{"external_id": f"s{i}", "city": "Goa" if i < 10 else "Pune"}
                                  for i in range(100)])
    c = add_campaign(session, "Tiny")
    add_logs(session, c.id, list(zip(ids[:10], ["failed"] * 10, strict=True))
             + list(zip(ids[10:], ["delivered"] * 90, strict=True)))
    got = ins.campaign_insights(session, c.id).value
    goa = next(r for r in got.by_city if r["label"] == "Goa")
    assert goa["rate"] == 0 and not goa["significant"]  # 10 messages < MIN_GROUP


def test_pending_and_empty_campaigns(session: Session) -> None:
    ids = add_customers(session, [{"external_id": f"q{i}"} for i in range(10)])
    c = add_campaign(session, "In flight", status="sending")
    add_logs(session, c.id, list(zip(ids, statuses(6, 0.5, pending=4), strict=True)))
    got = ins.campaign_insights(session, c.id).value
    assert got.overall["pending"] == 4 and got.overall["rate"] == pytest.approx(0.5)
    assert "4 messages are still awaiting a final status" in got.summary
    assert got.by_city[0]["label"] == "Unknown city"
    empty = add_campaign(session, "Draft", status="draft")
    got = ins.campaign_insights(session, empty.id).value
    assert got.overall["messages"] == 0 and "no messages yet" in got.summary
    with pytest.raises(LookupError):
        ins.campaign_insights(session, 999_999)


def test_skipped_customers_are_reported_apart_and_never_blamed(session: Session) -> None:
    """An SMS campaign to 4 customers of whom 3 had no phone: one message, delivered."""
    ids = add_customers(session, [{"external_id": f"s{i}"} for i in range(4)])
    c = add_campaign(session, "Mostly unreachable")
    add_logs(session, c.id, [(ids[0], "delivered"), *[(i, "skipped") for i in ids[1:]]])
    got = ins.campaign_insights(session, c.id).value
    assert (got.overall["messages"], got.overall["failed"], got.overall["rate"],
            got.overall["skipped"]) == (1, 0, 1.0, 3)
    assert "went to 1 customer by" in got.summary and "100%" in got.summary
    assert "3 matching customers were skipped at launch" in got.summary
    assert got.top_errors == []


def test_rows_the_cancel_stopped_are_not_failures(session: Session) -> None:
    """A campaign cancelled early: 9 delivered, 1 undelivered, 20 stopped by the cancel
    (failed, error "cancelled") and 2 refused by the vendor. The rate is the campaign's
    own (9 of 12 final), never 9 of 32 as if the cancel were the campaign's failure."""
    ids = add_customers(session, [{"external_id": f"x{i}"} for i in range(32)])
    c = add_campaign(session, "Cancelled early", status="cancelled")
    add_logs(session, c.id, [*[(i, "delivered") for i in ids[:9]], (ids[9], "undelivered")])
    add_logs(session, c.id, [(i, "failed") for i in ids[10:30]], error="cancelled")
    add_logs(session, c.id, [(i, "failed") for i in ids[30:]], error="vendor refused")
    got = ins.campaign_insights(session, c.id).value
    assert (got.overall["messages"], got.overall["failed"], got.overall["cancelled"]) == (
        12, 2, 20)
    assert got.overall["rate"] == pytest.approx(0.75)
    assert "20 messages were stopped by the cancel" in got.summary
    assert "went to 12 customers" in got.summary
    assert sum(r["cancelled"] for r in got.by_city) == 20


def test_two_proportion_z() -> None:
    # Textbook: 45/100 vs 30/100 → pooled 0.375, z ≈ 2.19.
    assert ins.two_proportion_z(45, 100, 30, 100) == pytest.approx(2.19, abs=0.01)
    assert ins.two_proportion_z(0, 0, 5, 10) == 0
    assert ins.two_proportion_z(10, 10, 10, 10) == 0
    assert math.isfinite(ins.two_proportion_z(0, 50, 50, 50))


def test_number_check_for_llm_text() -> None:
    allowed = guard.allowed_numbers({"rate": 0.8612, "count": 1000, "name": "Diwali 2026"})
    assert guard.unsupported_numbers("86.1% of 1,000 messages in Diwali 2026", allowed) == []
    assert guard.unsupported_numbers("a rate of 97% across 1,200 people", allowed) == [
        "97", "1,200"]
