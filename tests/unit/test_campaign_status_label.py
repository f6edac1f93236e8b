"""How a campaign's status reads while receipts are still due (no DB involved)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from mini_crm.core.campaigns.reports import CampaignStats
from mini_crm.models import utcnow
from mini_crm.state.campaign_common import RECEIPT_WAIT, stats_view


def _stats(**kw: Any) -> CampaignStats:
    base = {"id": 7, "name": "Diwali", "status": "completed", "channel": "sms", "tags": [],
            "created_by_email": None, "created_at": utcnow(), "scheduled_at": None,
            "started_at": None, "audience_size": 10, "queued": 0, "sent": 9, "failed": 1,
            "delivered": 0, "undelivered": 0, "completed_at": utcnow(), "delivery_rate": 0.0}
    return CampaignStats(**{**base, **kw})


def test_a_finished_send_awaits_its_receipts_instead_of_reading_zero() -> None:
    view = stats_view(_stats())
    assert view["status_label"] == "sent · awaiting receipts"
    assert view["rate"] == "—" and view["active"]


def test_some_receipts_in_show_the_rate_so_far_and_still_await() -> None:
    view = stats_view(_stats(delivered=4, undelivered=1, delivery_rate=4 / 6))
    assert view["status_label"] == "sent · awaiting receipts"
    assert view["rate"] == "66.7%"


def test_all_receipts_in_or_the_window_passed_reads_completed() -> None:
    done = stats_view(_stats(delivered=8, undelivered=1, delivery_rate=0.8))
    assert (done["status_label"], done["rate"]) == ("completed", "80.0%")
    late = stats_view(_stats(completed_at=utcnow() - RECEIPT_WAIT - timedelta(seconds=1)))
    assert late["status_label"] == "completed" and late["rate"] == "0.0%"


def test_a_draft_links_to_the_wizard_and_others_to_their_page() -> None:
    assert stats_view(_stats(status="draft", sent=0, failed=0))["href"] == \
        "/campaigns/new?draft=7"
    assert stats_view(_stats(status="sending"))["href"] == "/campaigns/7"


def test_an_ab_test_names_the_held_rows_and_measures_progress_over_the_test_share() -> None:
    from datetime import datetime

    # 179 recipients: 27 in the test share (all sent), 152 held for the winner.
    view = stats_view(_stats(status="sending", audience_size=179, queued=0,
                             waiting=152, sent=27, failed=0, completed_at=None,
                             ab_decide_at=datetime(2026, 11, 30, 12, 30)))
    assert view["pending_text"].startswith("152 waiting for the A/B winner (decided at ")
    assert "queued" not in view["pending_text"]
    assert (view["progress"], view["progress_label"]) == (100, "Progress of the A/B test share")
    mixed = stats_view(_stats(status="sending", audience_size=179, queued=10,
                              waiting=152, sent=17, failed=0, completed_at=None))
    assert mixed["pending_text"] == "10 queued, 152 waiting for the A/B winner"
    assert mixed["progress"] == 63  # 17 of the 27 in the test share
    # Launched too small for an automatic winner: no decision is promised.
    by_hand = stats_view(_stats(status="sending", audience_size=48, queued=0, waiting=38,
                                sent=10, failed=0, completed_at=None,
                                ab_settings={"test_percent": 20, "auto_winner": False},
                                ab_decide_at=datetime(2026, 11, 30, 12, 30)))
    assert by_hand["pending_text"].startswith("38 waiting for you to pick the A/B winner "
                                              "(variant A at ")
    assert "decided at" not in by_hand["pending_text"]
    plain = stats_view(_stats(status="sending", queued=5, sent=5, failed=0, completed_at=None))
    assert (plain["pending_text"], plain["progress"], plain["progress_label"]) == \
        ("5 queued", 50, "Progress")


def test_an_ab_test_holding_the_rest_reads_as_testing_not_sending() -> None:
    """19 of 94 sent and 75 waiting for the winner read as "sending" with a full bar."""
    view = stats_view(_stats(status="sending", completed_at=None, audience_size=94,
                             queued=0, sent=19, failed=0, waiting=75))
    assert view["status_label"] == "A/B testing" and view["has_waiting"]
    assert view["waiting"] == "75" and view["progress"] == 100
    plain = stats_view(_stats(status="sending", completed_at=None, queued=5, sent=5, failed=0))
    assert plain["status_label"] == "sending" and not plain["has_waiting"]
