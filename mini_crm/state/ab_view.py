"""A campaign's A/B test (core/campaigns/reports.CampaignStats.ab_dict and variant
figures) as the campaign page shows it: one display row per variant, and the decision
or the live reading in words."""

from __future__ import annotations

from typing import Any

from mini_crm.core import formatting
from mini_crm.core.campaigns.reports import CampaignStats
from mini_crm.models import CampaignStatus
from mini_crm.state.campaign_common import local_text


def _rate(rate: float | None) -> str:
    return formatting.percent(rate)


def ab_view(stats: CampaignStats) -> dict[str, Any]:
    """{"has": bool, "rows": [...], "phase", "testing", "headline", "reason", "detail",
    "keys"}: strings ready for the page; `has` False for a single-message campaign."""
    ab = stats.ab_dict()
    if not ab:
        return {"has": False, "rows": [], "keys": [], "testing": False, "ended": False,
                "headline": "", "reason": "", "detail": "", "settings": "", "pick_note": ""}
    winner = stats.winner
    rows = [{"key": v["key"], "message": v["message"],
             "recipients": formatting.count(v["recipients"]),
             "sent": formatting.count(v["sent"]), "delivered": formatting.count(v["delivered"]),
             "conversions": formatting.count(v["conversions"]),
             "conv_rate": _rate(v["conversion_rate"]),
             "delivery_rate": _rate(v["delivery_rate"]),
             "revenue": formatting.rupees(v["revenue"]),
             "winner": v["key"] == winner} for v in stats.variants]
    # A cancel ends the test where it stood: no winner is picked after it (the core
    # refuses one), so nothing may read as still testing or as "the rest got A".
    ended = str(stats.status) == CampaignStatus.CANCELLED and not winner
    testing = ab["phase"] == "testing" and not ended
    metric = f"{ab.get('metric', 'conversion')} rate"
    share = ("all at once" if ab.get("test_percent") == 100
             else f"{ab.get('test_percent')}% test share")
    settings = f"{share} · {ab.get('test_hours')} h test · winner by {metric}"
    if ended:
        started = stats.started_at is not None
        headline = ("The test ended with the cancel" if started
                    else "Cancelled before it started: the test never ran")
        reason = ("No winner was picked; whoever still waited for one was not sent "
                  "a message." if started else "")
        detail = ""
    elif testing:
        live = ab.get("live") or {}
        waiting = formatting.plural(ab.get("waiting") or 0, "recipient waits",
                                    "recipients wait")
        if ab.get("auto_winner", True):
            headline = (f"Testing until {local_text(ab.get('decide_at'))}"
                        + (f": {waiting} for the winner's message"
                           if ab.get("waiting") else ""))
            reason = "So far: " + (live.get("reason") or "no messages sent yet.")
        else:
            # Launched too small for the rule: promise no automatic decision, say what
            # happens at the end instead (core ab_test.by_hand_plan).
            rest = (f"{waiting} for your pick; variant A goes to them at "
                    f"{local_text(ab.get('decide_at'))} if nobody picks"
                    if ab.get("waiting") else
                    f"the test ends at {local_text(ab.get('decide_at'))} with no winner "
                    "if nobody picks")
            headline = f"Pick the winner yourself: {rest}"
            # Not the rule's "not enough data yet": more data is not coming.
            reason = ("Too few people in the test for an automatic winner (at least 100 "
                      "per variant): compare the variants below and pick one.")
        detail = ""
    else:
        by = "picked by hand" if ab.get("decided_by") == "manual" else "picked automatically"
        headline = (f"Winner: variant {winner} ({by})" if winner
                    else f"No winner: the rest got variant {ab.get('rest_variant') or 'A'}")
        reason = ab.get("reason") or ""
        p = ab.get("p_value")
        detail = (f"{ab.get('method') or ''}; p = {p:.4f}" if p is not None
                  else (ab.get("method") or ""))
    n_waiting = int(ab.get("waiting") or 0) if testing else 0
    # What the pick-the-winner dialog says happens: the variant goes to this many at once.
    pick_note = (f"{formatting.count(n_waiting)} "
                 f"{'person' if n_waiting == 1 else 'people'} waiting for the winner "
                 "will be sent this variant at once. This cannot be undone."
                 if n_waiting else
                 "Nobody is waiting for the winner; the test ends and this variant is "
                 "recorded as the winner. This cannot be undone.")
    return {"has": True, "rows": rows, "keys": [r["key"] for r in rows], "testing": testing,
            "ended": ended, "headline": headline, "reason": reason, "detail": detail,
            "settings": settings, "pick_note": pick_note}
