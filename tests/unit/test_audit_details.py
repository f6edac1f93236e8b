"""The audit trail's details column (state/admin._details): a launch names its
recipients (rows to send), not the matching audience; a hand-picked A/B winner reads
as its own action."""

from __future__ import annotations

from mini_crm.core.auth import audit
from mini_crm.models import AuditEvent
from mini_crm.state.admin import _details


def _event(action: str, **details: object) -> AuditEvent:
    return AuditEvent(action=action, details=details)


def test_launch_names_recipients_and_the_matching_audience_apart() -> None:
    e = _event(audit.CAMPAIGN_LAUNCHED, name="Diwali", audience_size=246, recipients=179)
    assert _details(e) == "“Diwali” to 179 recipients (246 matching)"
    same = _event(audit.CAMPAIGN_LAUNCHED, name="Diwali", audience_size=40, recipients=40)
    assert _details(same) == "“Diwali” to 40 recipients"


def test_older_launch_entries_do_not_call_the_matching_audience_recipients() -> None:
    e = _event(audit.CAMPAIGN_LAUNCHED, name="Old", audience_size=246)
    assert _details(e) == "“Old” (246 matching)"
    assert _details(_event(audit.CAMPAIGN_SCHEDULED, name="Later",
                           scheduled_at="2026-12-01T10:00:00")) == "“Later”"


def test_hand_picked_winner_has_its_own_words() -> None:
    e = _event(audit.AB_WINNER_PICKED, winner="B", decided_by="manual")
    assert audit.label(e.action) == "A/B winner picked"
    assert _details(e) == "B (by hand)"


def test_automatic_decision_reads_as_words() -> None:
    won = _event(audit.AB_WINNER_DECIDED, winner="B", decided_by="auto",
                 metric="conversion", p_value=0.01234, rest_variant="B", released=1200)
    assert audit.label(won.action) == "A/B test decided"
    assert _details(won) == "B won on conversion rate (p = 0.0123); the other 1,200 get B"
    none = _event(audit.AB_WINNER_DECIDED, winner=None, decided_by="auto",
                  metric="delivery", p_value=None, rest_variant="A", released=160)
    assert _details(none) == "no clear winner on delivery rate; the other 160 get A " \
                             "(the control)"
