"""A cancel is not a failure: the rows it stopped are their own count everywhere a
campaign's figures are read (read model, API dict, page view, timeline, insights)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session

from mini_crm.api.campaign_schemas import VariantOut
from mini_crm.core.ai import insights as ins
from mini_crm.core.campaigns import reports, service
from mini_crm.core.campaigns import timeline as campaign_timeline
from mini_crm.db import session_scope
from mini_crm.models import Campaign, CommunicationLog, Customer, utcnow
from mini_crm.state.ab_view import ab_view
from mini_crm.state.campaign_common import stats_view
from tests.integration.campaign_helpers import city_rules


def _plant(engine: sa.Engine) -> int:
    """A cancelled SMS campaign of 20: 2 delivered, 1 sent (no receipt yet), 2 refused by
    the vendor and 15 stopped by the cancel (failed, error "cancelled")."""
    now = utcnow()
    with Session(engine) as s:
        customers = [Customer(external_id=f"k{i}", name=f"K {i}", city="Pune",
                              phone=f"+9190000001{i:02d}") for i in range(20)]
        s.add_all(customers)
        c = Campaign(name="Stopped early", rules={"combinator": "and", "rules": []},
                     message_template="Hi", status="cancelled", channel="sms",
                     started_at=now - timedelta(minutes=5), completed_at=now,
                     audience_size=20)
        s.add(c)
        s.flush()
        plan = (["delivered"] * 2 + ["sent"] + [("failed", "vendor refused")] * 2
                + [("failed", "cancelled")] * 15)
        for customer, what in zip(customers, plan, strict=True):
            status, error = what if isinstance(what, tuple) else (what, None)
            s.add(CommunicationLog(
                campaign_id=c.id, customer_id=customer.id, status=status, error=error,
                sent_at=now - timedelta(minutes=4) if status in ("sent", "delivered") else None,
                delivered_at=now - timedelta(minutes=3) if status == "delivered" else None,
                updated_at=now - timedelta(minutes=2)))
        s.commit()
        return int(c.id)


def test_the_read_model_counts_the_cancelled_apart(app_settings: sa.Engine) -> None:
    cid = _plant(app_settings)
    with Session(app_settings) as s:
        one = reports.get_campaign(s, cid)
        listed, _ = reports.list_campaigns(s)
        points = campaign_timeline.timeline(s, cid)
    assert one is not None
    assert (one.failed, one.cancelled, one.failed_sending, one.recipients) == (17, 15, 2, 20)
    [row] = [r for r in listed if r.id == cid]
    assert (row.failed, row.cancelled) == (17, 15)
    # The API keeps `failed` as documented (cancelled included) and adds `cancelled`.
    api = one.as_dict()
    assert (api["failed"], api["cancelled"], api["sent"]) == (17, 15, 3)
    # Pages show the real failures, and the cancelled as their own stage.
    view = stats_view(one)
    assert (view["failed"], view["cancelled"], view["has_cancelled"]) == ("2", "15", True)
    assert (view["failed_only_pct"], view["cancelled_pct"], view["sent_pct"]) == (10, 75, 15)
    assert (sum(p["failed"] for p in points), sum(p["cancelled"] for p in points)) == (2, 15)


def test_a_campaign_never_cancelled_has_no_cancelled_stage(app_settings: sa.Engine) -> None:
    cid = _plant(app_settings)
    with Session(app_settings) as s:
        s.execute(sa.update(CommunicationLog).where(CommunicationLog.error == "cancelled")
                  .values(error="handset unreachable"))
        s.commit()
        one = reports.get_campaign(s, cid)
    assert one is not None and (one.failed, one.cancelled, one.failed_sending) == (17, 0, 17)
    view = stats_view(one)
    assert (view["failed"], view["has_cancelled"]) == ("17", False)


def test_insights_never_call_the_cancel_a_failure(app_settings: sa.Engine) -> None:
    cid = _plant(app_settings)
    with Session(app_settings) as s:
        got = ins.campaign_insights(s, cid).value
    assert got.top_errors == [{"error": "vendor refused", "count": 2}]
    assert (got.overall["failed"], got.overall["cancelled"]) == (2, 15)
    assert "“cancelled”" not in got.summary
    assert "The most common failure was “vendor refused” (2 messages)" in got.summary
    assert "15 messages were stopped by the cancel" in got.summary


def test_a_finished_campaign_with_no_one_to_message_says_why(app_settings: sa.Engine) -> None:
    now = utcnow()
    with Session(app_settings) as s:
        c = Campaign(name="Nobody", rules={"combinator": "and", "rules": []},
                     message_template="Hi", status="completed", channel="sms",
                     started_at=now, completed_at=now, audience_size=0)
        s.add(c)
        s.commit()
        got = ins.campaign_insights(s, int(c.id)).value
        view = stats_view(reports.get_campaign(s, int(c.id)))
    assert got.summary == ("“Nobody” sent no messages (status completed): no one was in "
                           "its audience, so there is nothing to summarise.")
    assert view["nobody_note"] == "No one was in the audience, so nothing was sent."


VARIANTS = [{"message": "A: Hi {first_name}"}, {"message": "B: {first_name}, 20% off"}]


def test_a_campaign_cancelled_before_it_started_says_so(app_settings: sa.Engine) -> None:
    """Scheduled A/B campaign, cancelled before its time: its audience was never counted,
    so nothing reads as "no one was in the audience", "completed" or "the rest got A"."""
    with session_scope() as db:
        c = service.create_campaign(
            db, name="Too early", rules=city_rules("Pune"), segment_id=None,
            message_template="", channel="sms", schedule_at=utcnow() + timedelta(days=1),
            objective=None, created_by=None, tags=[], variants=VARIANTS)
        cid = int(c.id)
    with session_scope() as db:
        assert service.cancel_campaign(db, cid) is not None
    with Session(app_settings) as s:
        stats = reports.get_campaign(s, cid)
        got = ins.campaign_insights(s, cid).value
    assert stats is not None and stats.status == "cancelled" and stats.started_at is None
    view, ab = stats_view(stats), ab_view(stats)
    assert view["nobody_note"] == ("Cancelled before it started: the audience was never "
                                   "counted, so nothing was sent.")
    assert (view["audience"], view["never_started"], view["completed_label"]) == (
        "—", True, "Cancelled")
    assert got.summary == ("“Too early” sent no messages (status cancelled): it was "
                           "cancelled before it started (its audience was never "
                           "counted), so there is nothing to summarise.")
    assert (ab["testing"], ab["ended"]) == (False, True)
    assert ab["headline"] == "Cancelled before it started: the test never ran"
    assert "No winner" not in ab["headline"]


def test_a_cancel_ends_the_ab_test_with_no_winner(app_settings: sa.Engine) -> None:
    """An A/B campaign cancelled while testing: the test is over (no "Testing until",
    no winner to pick), and the messages it sent still count."""
    now = utcnow()
    with Session(app_settings) as s:
        customers = [Customer(external_id=f"t{i}", name=f"T {i}", city="Pune",
                              phone=f"+9190000002{i:02d}") for i in range(4)]
        s.add_all(customers)
        c = Campaign(name="Cut short", rules={"combinator": "and", "rules": []},
                     message_template="", status="cancelled", channel="sms",
                     started_at=now - timedelta(hours=1), completed_at=now,
                     audience_size=4, ab_phase="testing",
                     ab_decide_at=now + timedelta(hours=23),
                     ab_test={"test_percent": 50, "test_hours": 24,
                              "metric": "conversion"},
                     variants=[{"key": "A", **VARIANTS[0]}, {"key": "B", **VARIANTS[1]}])
        s.add(c)
        s.flush()
        plan = [("sent", None, "A"), ("sent", None, "B"), ("failed", "cancelled", "A"),
                ("failed", "cancelled", "B")]
        for customer, (status, error, key) in zip(customers, plan, strict=True):
            s.add(CommunicationLog(campaign_id=c.id, customer_id=customer.id, status=status,
                                   error=error, variant=key,
                                   sent_at=now if status == "sent" else None))
        s.commit()
        stats = reports.get_campaign(s, int(c.id))
    assert stats is not None
    view, ab = stats_view(stats), ab_view(stats)
    assert (view["nobody_note"], view["completed_label"], view["audience"]) == (
        "", "Cancelled", "4")
    assert (ab["testing"], ab["ended"]) == (False, True)
    assert ab["headline"] == "The test ended with the cancel"
    assert [r["winner"] for r in ab["rows"]] == [False, False]
    # A row cancelled before "ended" was stored still reads as ended, never "testing".
    assert stats.ab_dict()["phase"] == "ended"


def test_a_winner_picked_before_the_cancel_stays_the_winner(app_settings: sa.Engine
                                                             ) -> None:
    now = utcnow()
    with Session(app_settings) as s:
        c = Campaign(name="Decided", rules={"combinator": "and", "rules": []},
                     message_template="", status="cancelled", channel="sms",
                     started_at=now - timedelta(hours=1), completed_at=now,
                     audience_size=0, ab_phase="decided", winner="B",
                     winner_detail={"decided_by": "manual"},
                     ab_test={"test_percent": 50, "test_hours": 24,
                              "metric": "conversion"},
                     variants=[{"key": "A", **VARIANTS[0]}, {"key": "B", **VARIANTS[1]}])
        s.add(c)
        s.commit()
        stats = reports.get_campaign(s, int(c.id))
    assert stats is not None
    ab = ab_view(stats)
    assert (ab["testing"], ab["ended"]) == (False, False)
    assert ab["headline"] == "Winner: variant B (picked by hand)"


def test_each_variant_counts_the_cancel_apart_from_its_failures(app_settings: sa.Engine
                                                                ) -> None:
    """An A/B test cancelled mid-test: per variant, `failed` are the vendor's refusals
    only and the rows the cancel stopped are `cancelled` (the campaign's vocabulary);
    the rows waiting for the winner (no variant) are the campaign's, not a variant's."""
    now = utcnow()
    plan = ([("sent", None, "A")] * 2 + [("failed", "vendor refused", "A")]
            + [("failed", "cancelled", "A")] * 3 + [("delivered", None, "B")]
            + [("failed", "cancelled", "B")] * 4 + [("failed", "cancelled", None)] * 2)
    with Session(app_settings) as s:
        customers = [Customer(external_id=f"v{i}", name=f"V {i}", city="Pune",
                              phone=f"+9190000003{i:02d}") for i in range(len(plan))]
        s.add_all(customers)
        c = Campaign(name="Split stopped", rules={"combinator": "and", "rules": []},
                     message_template="", status="cancelled", channel="sms",
                     started_at=now - timedelta(hours=1), completed_at=now,
                     audience_size=len(plan), ab_phase="testing",
                     ab_decide_at=now + timedelta(hours=23),
                     ab_test={"test_percent": 50, "test_hours": 24, "metric": "conversion"},
                     variants=[{"key": "A", **VARIANTS[0]}, {"key": "B", **VARIANTS[1]}])
        s.add(c)
        s.flush()
        for customer, (status, error, key) in zip(customers, plan, strict=True):
            s.add(CommunicationLog(campaign_id=c.id, customer_id=customer.id, status=status,
                                   error=error, variant=key,
                                   sent_at=now if status in ("sent", "delivered") else None))
        s.commit()
        stats = reports.get_campaign(s, int(c.id))
    assert stats is not None
    got = {v["key"]: (v["recipients"], v["sent"], v["failed"], v["cancelled"], v["pending"])
           for v in stats.variants}
    assert got == {"A": (6, 2, 1, 3, 0), "B": (5, 1, 0, 4, 0)}
    # The same rows, read as the campaign: its real failures and its cancelled add up.
    assert (stats.failed_sending, stats.cancelled) == (1, 9)
    assert sum(v["failed"] for v in stats.variants) == stats.failed_sending
    # The API's variants[] carries `cancelled` (additive) and the narrower `failed`.
    api = [VariantOut(**v).model_dump() for v in stats.as_dict()["variants"]]
    assert [(v["key"], v["failed"], v["cancelled"]) for v in api] == [("A", 1, 3),
                                                                      ("B", 0, 4)]
