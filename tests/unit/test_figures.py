"""How pre-launch and segment figures read (core/campaigns/figures, core/segments/figures):
the words the wizard, the Segments pages and the API share, built from core/formatting."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest

from mini_crm.core.ai.send_time import SendTimeAdvice, SendWindow
from mini_crm.core.campaigns import figures
from mini_crm.core.campaigns.reach import Reach, empty_skips
from mini_crm.core.segments import figures as segment_figures
from mini_crm.core.segments.service import SegmentSummary
from mini_crm.settings import get_settings


@pytest.fixture
def kolkata(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("BRAND_TIMEZONE", "Asia/Kolkata")
    get_settings.cache_clear()
    yield
    monkeypatch.delenv("BRAND_TIMEZONE")
    get_settings.cache_clear()


def _skips(**counts: int) -> dict[str, int]:
    return {**empty_skips(), **counts}


def test_skipped_reasons_name_the_channels_address_and_leave_out_zeros() -> None:
    skipped = _skips(unsubscribed=31, no_address=22, duplicate_address=1200)
    assert figures.skipped_text(skipped, "sms") == \
        "31 unsubscribed, 22 no mobile number, 1,200 duplicate address"
    assert figures.skipped_text(skipped, "whatsapp").startswith("31 unsubscribed, 22 no phone")
    assert "22 no email" in figures.skipped_text(skipped, "email")
    assert figures.skipped_text(_skips(), "sms") == ""


def test_reach_reads_as_one_line_and_says_when_nobody_is_skipped() -> None:
    counted = Reach(matching=148000, recipients=140200,
                    skipped=_skips(unsubscribed=7800))
    view = figures.reach_view(counted, "email")
    assert view["text"] == "1,48,000 match · 1,40,200 will receive · skipped: 7,800 unsubscribed"
    assert view["skipped_text"] == "7,800 unsubscribed"
    assert (view["size"], view["eligible"], view["skipped"]["unsubscribed"]) == \
        (148000, 140200, 7800)
    assert figures.reach_text(3, 3, _skips(), "sms") == "3 match · 3 will receive · nobody skipped"


def test_a_holdout_keeps_about_its_share_of_the_eligible() -> None:
    assert figures.held_out(234, 20) == 47
    assert figures.held_out(-1, 20) == 0 and figures.held_out(234, 0) == 0
    assert figures.receive_text(-1, 20) == ""  # not counted yet
    assert figures.receive_text(234, 0) == "234"
    assert figures.receive_text(234, 20) == "about 187"
    assert figures.receive_text(123456, 10) == "about 1,11,110"
    assert figures.held_text(234, 20) == " About 47 of the 234 eligible are held out."
    assert figures.held_text(234, 0) == "" and figures.held_text(-1, 20) == ""


def test_the_smallest_detectable_uplift_leads_with_plain_words() -> None:
    option = {"mde_absolute": 0.00843, "mde_relative": 0.351, "measurable": True}
    assert figures.detectable_text(option) == (
        "It can show the message worked if it lifts buying by about 35% or more "
        "(135 buyers for every 100 who would have bought anyway).")
    assert figures.detectable_stats(option) == (
        "Smallest detectable uplift 0.84 points (35% of the base rate), 80% power, "
        "5% significance")
    # The marketer's case: 9.63 points, 892% of the base rate.
    huge = {"mde_absolute": 0.0963, "mde_relative": 8.92, "measurable": True}
    assert "buy about 9.9× as often as the holdout" in figures.detectable_text(huge)
    assert "points" not in figures.detectable_text(huge)
    assert "892% of the base rate" in figures.detectable_stats(huge)
    few = {"mde_absolute": 0.05, "mde_relative": None, "measurable": False}
    assert figures.detectable_text(few).startswith("Too few people")
    none = {"mde_absolute": None, "mde_relative": None}
    assert figures.detectable_text(none).startswith("Too few people")
    assert figures.detectable_stats(none) == ""


def test_a_sample_message_counts_its_length_and_sms() -> None:
    first = figures.message_sample({"name": "Asha", "city": "Pune", "external_id": "c-1"},
                                   "Hi Asha, ₹100 off", "Asha, your offer")
    assert first["text"] == "Hi Asha, ₹100 off" and first["chars"] == "17"
    assert first["subject"] == "Asha, your offer"
    assert first["sms"].startswith(" · 1 SMS (Unicode because of “₹”")
    blank = figures.message_sample({"name": "", "city": None, "external_id": None}, "Hi")
    assert (blank["name"], blank["city"], blank["external_id"], blank["subject"]) == \
        ("(no name)", "—", "", "")
    assert blank["sms"] == " · 1 SMS"


def test_send_time_advice_reads_in_the_brand_zone_with_one_percentage(kolkata: None) -> None:
    grid = [[0] * 24 for _ in range(7)]
    grid[4][18], grid[4][19], grid[0][9] = 40, 20, 10  # Friday evening is the peak
    advice = SendTimeAdvice(heatmap=grid, windows=[SendWindow(
        weekday=4, hour=18, score=0.2345, reason="busiest", next_at=datetime(2030, 1, 18, 12, 30))],
        notes=["From 70 orders."])
    view = figures.send_time_view(advice)
    assert [row["day"] for row in view["heat"]] == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat",
                                                    "Sun"]
    friday = view["heat"][4]["cells"]
    assert (friday[18]["level"], friday[19]["level"], friday[18]["count"]) == ("4", "2", "40")
    assert view["heat"][0]["cells"][9]["level"] == "1" and friday[0]["level"] == "0"
    [window] = view["windows"]
    assert window == {"label": "Fri 18:00", "when": "18 Jan 2030, 18:00",
                      "value": "2030-01-18T18:00", "reason": "busiest",
                      "score": "23.4% of orders"}
    assert view["notes"] == ["From 70 orders."]
    empty = figures.send_time_view(SimpleNamespace(heatmap=[[0] * 24] * 7, windows=[]))
    assert {c["level"] for row in empty["heat"] for c in row["cells"]} == {"0"}


def test_a_segments_size_and_its_share_of_all_customers() -> None:
    assert segment_figures.size_text(123456) == "1,23,456"
    assert segment_figures.size_text(None) == "—"
    assert segment_figures.share_text(375, 3000) == "12.5% of 3,000 customers"
    assert segment_figures.share_text(1, 200000) == "<0.1% of 2,00,000 customers"
    assert segment_figures.share_text(0, 3000) == "0% of 3,000 customers"
    assert segment_figures.share_text(1, 1) == "100% of 1 customer"
    assert segment_figures.share_text(0, 0) == ""  # no customers yet: nothing to share


def test_preview_samples_and_saved_segments_list_alike(kolkata: None) -> None:
    [row] = segment_figures.sample_rows([{"external_id": "c-9", "name": None, "city": "",
                                          "total_spend": Decimal("123456.5")}])
    assert row == {"external_id": "c-9", "href": "/customers/c-9", "name": "(no name)",
                   "city": "—", "spend": "₹1,23,457"}
    valid = SegmentSummary(7, "Lapsed", "Customers who …", 1500, datetime(2026, 11, 28, 20))
    assert segment_figures.listed(valid) == {
        "id": "7", "name": "Lapsed", "sentence": "Customers who …", "size": "1,500",
        "count": "1500", "valid": "1", "updated": "29 Nov 2026"}
    broken = SegmentSummary(8, "Old", "Invalid rules: x", None, datetime(2026, 1, 1), "x")
    listed = segment_figures.listed(broken)
    assert (listed["size"], listed["count"], listed["valid"]) == ("—", "0", "")
