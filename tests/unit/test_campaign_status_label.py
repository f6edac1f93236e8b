"""How a campaign's status reads while receipts are still due (no DB involved)."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from mini_crm.models import utcnow
from mini_crm.state.campaign_common import RECEIPT_WAIT, stats_view


def _stats(**kw: object) -> SimpleNamespace:
    base = {"id": 7, "name": "Diwali", "status": "completed", "audience_size": 10,
            "queued": 0, "sent": 9, "failed": 1, "delivered": 0, "undelivered": 0,
            "completed_at": utcnow(), "delivery_rate": 0.0}
    return SimpleNamespace(**{**base, **kw})


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
