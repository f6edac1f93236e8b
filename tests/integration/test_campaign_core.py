"""Campaign core on SQLite, PostgreSQL and MariaDB: launch, consent, cap, delivery
with a fake vendor on the in-process executor, retries, cancel, schedule, reports."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from mini_crm.core import jobs, periodic_tasks
from mini_crm.core.campaigns import launch, reports, service, sweeper
from mini_crm.core.campaigns import timeline as campaign_timeline
from mini_crm.core.campaigns.errors import CampaignError
from mini_crm.core.delivery import claims, enqueue, job, sending
from mini_crm.db import session_scope
from mini_crm.models import AuditEvent, Campaign, Segment, utcnow
from mini_crm.settings import get_settings
from tests.integration.campaign_helpers import (
    LOG,
    FakeVendor,
    add_customers,
    add_history,
    campaign_status,
    city_rules,
    status_counts,
    wait_for,
)


@pytest.fixture
def vendor(app_settings: sa.Engine, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DELIVERY_BACKOFF_MAX_SECONDS", "0.01")
    monkeypatch.setenv("DELIVERY_BATCH_SIZE", "7")
    monkeypatch.setenv("DELIVERY_JOB_THREADS", "1")  # one vendor call per batch: countable
    get_settings.cache_clear()
    fake = FakeVendor()
    monkeypatch.setattr(sending, "vendor_client", lambda channel: fake)
    yield fake
    jobs.shutdown_local(wait=True)


def _create(**kw) -> Campaign:
    args = {"name": "Diwali", "rules": city_rules("Pune"), "segment_id": None,
            "message_template": "Hi {first_name}, {total_spend} spent", "channel": "sms",
            "schedule_at": None, "objective": None, "created_by": None, "tags": ["festive"]}
    args.update(kw)
    with session_scope() as db:
        return service.create_campaign(db, **args)


def test_launch_applies_consent_and_frequency_cap(app_settings: sa.Engine,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "enqueue_after_commit", lambda *a: None)
    engine = app_settings
    ids = add_customers(engine, 12)
    unsub = add_customers(engine, 2, start=100, consent_sms=False)
    add_customers(engine, 3, city="Mumbai", start=200)
    with session_scope() as db:
        old = Campaign(name="old", message_template="x", status="completed")
        db.add(old)
        db.flush()
        old_id = old.id
    now = utcnow()
    capped, failed_only, stale = ids[:2], ids[2], ids[3]
    add_history(engine, old_id, capped, now - timedelta(days=1))  # 1 row each
    with session_scope() as db:  # second and third messages in another campaign
        other = Campaign(name="other", message_template="x", status="completed")
        third = Campaign(name="third", message_template="x", status="completed")
        db.add_all([other, third])
        db.flush()
        other_id, third_id = other.id, third.id
    add_history(engine, other_id, [*capped, failed_only, stale], now - timedelta(days=2))
    add_history(engine, third_id, capped, now - timedelta(days=3), status="delivered")
    add_history(engine, third_id, [failed_only], now - timedelta(days=3), status="failed")
    add_history(engine, old_id, [failed_only], now - timedelta(days=3), status="failed")
    add_history(engine, third_id, [stale], now - timedelta(days=30))
    with session_scope() as db:  # rows of a fourth campaign: older than the window
        fourth = Campaign(name="fourth", message_template="x", status="completed")
        db.add(fourth)
        db.flush()
    add_history(engine, fourth.id, [stale], now - timedelta(days=20))

    campaign = _create()
    assert campaign.status == "sending" and campaign.audience_size == 14
    with engine.connect() as conn:
        got = set(conn.execute(sa.select(LOG.c.customer_id)
                               .where(LOG.c.campaign_id == campaign.id,
                                      LOG.c.status == "queued")).scalars())
        skipped = dict(conn.execute(sa.select(LOG.c.customer_id, LOG.c.skip_reason)
                                    .where(LOG.c.campaign_id == campaign.id,
                                           LOG.c.status == "skipped")).all())
    assert got == set(ids) - set(capped)
    assert skipped == {**dict.fromkeys(unsub, "unsubscribed"),
                       **dict.fromkeys(capped, "frequency_cap")}
    # Idempotent: the same INSERT ... SELECT again adds nothing.
    with session_scope() as db:
        assert launch.fill_log(db, campaign.id, campaign.rules, utcnow(), "sms") == (14, 10)
    with Session(engine) as db:
        events = db.exec(sa.select(AuditEvent.action)).scalars().all()
    assert "campaign_launched" in events


def test_full_delivery_in_process(vendor: FakeVendor, app_settings: sa.Engine,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DELIVERY_JOB_THREADS", "3")  # a batch's parts go out side by side
    get_settings.cache_clear()
    engine = app_settings
    add_customers(engine, 30)
    add_customers(engine, 2, start=50, phone=None)
    vendor.reject = lambda m: "invalid recipient" if m.to.endswith("00003") else None
    campaign = _create()
    wait_for(lambda: campaign_status(engine, campaign.id) == "completed")
    counts = status_counts(engine, campaign.id)
    assert counts == {"sent": 29, "failed": 1, "skipped": 2}  # no phone: skipped at launch
    assert len(vendor.accepted) == 29 and set(vendor.accepted.values()) == {1}
    with engine.connect() as conn:
        rows = conn.execute(sa.select(LOG.c.id, LOG.c.status, LOG.c.error, LOG.c.message,
                                      LOG.c.vendor_message_id)
                            .where(LOG.c.campaign_id == campaign.id)).all()
    for r in rows:
        if r.status == "sent":
            assert r.vendor_message_id == f"v-{r.id}"
            assert r.message.startswith("Hi Customer,") and "₹1,500 spent" in r.message
        elif r.status == "failed":
            assert r.error == "invalid recipient"
    with session_scope() as db:
        stats = reports.get_campaign(db, campaign.id)
    assert (stats.audience_size, stats.recipients, stats.sent, stats.failed,
            stats.pending) == (32, 30, 29, 1, 0)
    assert stats.skipped["no_address"] == 2
    assert stats.completed_at is not None and stats.delivery_rate == 0.0


def test_email_campaigns_send_their_subject_preheader_and_html(
        vendor: FakeVendor, app_settings: sa.Engine) -> None:
    engine = app_settings
    add_customers(engine, 3)
    sent: list = []
    vendor.reject = lambda m: sent.append(m)  # records each message, rejects none
    campaign = _create(channel="email", message_template="Hi {first_name}, see you <soon>",
                       email_subject="{first_name|Friend}: {order_count:order|orders}",
                       email_preheader="Only in {city}", sender_name="Brand Team")
    wait_for(lambda: campaign_status(engine, campaign.id) == "completed")
    assert len(sent) == 3
    first = sent[0]
    assert first.subject == "Customer: 2 orders" and first.sender_name == "Brand Team"
    assert first.body == "Hi Customer, see you <soon>"
    assert "see you &lt;soon&gt;" in first.html and "Only in Pune" in first.html


def test_transient_errors_are_retried(vendor: FakeVendor, app_settings: sa.Engine) -> None:
    add_customers(app_settings, 5)
    vendor.fail_calls, vendor.retry_after = 2, 0.05
    campaign = _create()
    wait_for(lambda: campaign_status(app_settings, campaign.id) == "completed")
    assert status_counts(app_settings, campaign.id) == {"sent": 5}
    assert vendor.calls == 3


def test_outage_leaves_rows_queued_then_sweeper_resumes(
        vendor: FakeVendor, app_settings: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DELIVERY_VENDOR_RETRIES", "1")
    monkeypatch.setenv("DELIVERY_CLAIM_TIMEOUT_SECONDS", "1")
    get_settings.cache_clear()
    add_customers(app_settings, 5)
    vendor.fail_calls = 10**6
    campaign = _create()
    wait_for(lambda: vendor.calls >= 2)
    jobs.shutdown_local(wait=True)
    with app_settings.connect() as conn:
        errors = set(conn.execute(sa.select(LOG.c.error).where(
            LOG.c.campaign_id == campaign.id, LOG.c.status == "queued")).scalars())
    assert errors == {"vendor unavailable: 503 from fake vendor"}
    vendor.fail_calls = 0  # recovery
    assert enqueue.resume_sending() == 0  # claims are still fresh
    time.sleep(1.1)
    assert enqueue.resume_sending() == 1
    wait_for(lambda: campaign_status(app_settings, campaign.id) == "completed")
    assert status_counts(app_settings, campaign.id) == {"sent": 5}


def test_rows_fail_after_max_attempts(vendor: FakeVendor, app_settings: sa.Engine,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DELIVERY_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("DELIVERY_VENDOR_RETRIES", "0")
    monkeypatch.setenv("DELIVERY_CLAIM_TIMEOUT_SECONDS", "1")
    get_settings.cache_clear()
    monkeypatch.setattr(service, "enqueue_after_commit", lambda *a: None)
    add_customers(app_settings, 3)
    vendor.fail_calls = 1
    campaign = _create()
    with app_settings.connect() as conn:
        first, last = conn.execute(sa.select(sa.func.min(LOG.c.id), sa.func.max(LOG.c.id))
                                   .where(LOG.c.campaign_id == campaign.id)).one()
    assert job.deliver_batch(campaign.id, first, last)["sent"] == 0
    assert job.deliver_batch(campaign.id, first, last)["claimed"] == 0  # claim fresh
    time.sleep(1.1)
    assert job.deliver_batch(campaign.id, first, last)["failed"] == 3
    with app_settings.connect() as conn:
        errors = set(conn.execute(sa.select(LOG.c.error)
                                  .where(LOG.c.campaign_id == campaign.id)).scalars())
    assert errors == {"gave up after 1 attempts: vendor unavailable: 503 from fake vendor"}
    assert campaign_status(app_settings, campaign.id) == "completed"


def test_cancel_stops_claims_and_fails_queued_rows(
        vendor: FakeVendor, app_settings: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "enqueue_after_commit", lambda *a: None)
    add_customers(app_settings, 4)
    campaign = _create()
    with app_settings.connect() as conn:
        ids = list(conn.execute(sa.select(LOG.c.id).where(LOG.c.campaign_id == campaign.id)
                                .order_by(LOG.c.id)).scalars())
    with session_scope() as db:
        result = service.cancel_campaign(db, campaign.id)
        assert result is not None and result.in_flight == 0
        assert service.cancel_campaign(db, campaign.id) is None
    assert job.deliver_batch(campaign.id, ids[0], ids[-1])["claimed"] == 0
    assert vendor.calls == 0
    assert status_counts(app_settings, campaign.id) == {"failed": 4}
    # A row a cancel marked is never turned into sent afterwards.
    with app_settings.begin() as conn:
        n_sent, _ = claims.mark(conn, [claims.Outcome(ids[0], "v-late", None)],
                                  {ids[0]: "hi"}, utcnow())
    assert n_sent == 0
    assert status_counts(app_settings, campaign.id) == {"failed": 4}
    assert campaign_status(app_settings, campaign.id) == "cancelled"


def test_scheduled_campaign_starts_when_due_once(vendor: FakeVendor,
                                                 app_settings: sa.Engine) -> None:
    add_customers(app_settings, 6)
    at = utcnow() + timedelta(minutes=10)
    campaign = _create(schedule_at=at)
    assert campaign.status == "scheduled" and campaign.scheduled_at == at
    assert status_counts(app_settings, campaign.id) == {}
    assert sweeper.start_due() == []
    assert sweeper.start_due(now=at + timedelta(seconds=1)) == [campaign.id]
    assert sweeper.start_due(now=at + timedelta(seconds=2)) == []
    wait_for(lambda: campaign_status(app_settings, campaign.id) == "completed")
    assert status_counts(app_settings, campaign.id) == {"sent": 6}


def test_the_periodic_tasks_start_a_scheduled_campaign_within_seconds(
        vendor: FakeVendor, app_settings: sa.Engine) -> None:
    """Not at the next 15-s delivery sweep: a check of its own every
    schedule_check_seconds (2 s) launches it."""
    assert get_settings().schedule_check_seconds < get_settings().delivery_sweep_seconds
    add_customers(app_settings, 3)
    campaign = _create(schedule_at=utcnow() + timedelta(seconds=1))
    stop = periodic_tasks.start_in_thread()  # the first round runs now, before it is due
    try:
        # Well inside the 15-s sweep interval: only the schedule check can have started it.
        wait_for(lambda: campaign_status(app_settings, campaign.id) != "scheduled",
                 timeout=get_settings().schedule_check_seconds + 5)
    finally:
        stop.set()
    wait_for(lambda: campaign_status(app_settings, campaign.id) == "completed")


def test_validation_errors_name_the_field(app_settings: sa.Engine) -> None:
    cases = [({"message_template": "Hi {nmae}"}, "message"),
             ({"rules": {"combinator": "and", "rules": [{"field": "nope", "operator": "=",
                                                         "value": 1}]}}, "rules"),
             ({"rules": None, "segment_id": 999}, "segment_id"),
             ({"rules": None}, "rules"),
             ({"name": "  "}, "name"),
             ({"channel": "fax"}, "channel"),
             ({"tags": ['a"b']}, "tags")]
    for kwargs, field in cases:
        with pytest.raises(CampaignError) as exc:
            _create(**kwargs)
        assert exc.value.field == field, kwargs


def test_segment_rules_are_snapshotted(app_settings: sa.Engine,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "enqueue_after_commit", lambda *a: None)
    add_customers(app_settings, 3)
    with session_scope() as db:
        seg = Segment(name="pune", rules=city_rules("Pune"))
        db.add(seg)
        db.flush()
        seg_id = seg.id
    campaign = _create(rules=None, segment_id=seg_id)
    assert campaign.rules == city_rules("Pune") and campaign.audience_size == 3


def test_reports(app_settings: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "enqueue_after_commit", lambda *a: None)
    add_customers(app_settings, 5)
    a = _create(name="Alpha sale", tags=["festive", "sale"])
    b = _create(name="Beta 100%_off", tags=["sale"], rules=city_rules("Nowhere"))
    c = _create(name="Gamma", tags=[], schedule_at=utcnow() + timedelta(days=1))
    with app_settings.begin() as conn:
        ids = list(conn.execute(sa.select(LOG.c.id).where(LOG.c.campaign_id == a.id)
                                .order_by(LOG.c.id)).scalars())
        now = utcnow()
        conn.execute(LOG.update().where(LOG.c.id == ids[0])
                     .values(status="delivered", sent_at=now, delivered_at=now))
        conn.execute(LOG.update().where(LOG.c.id == ids[1])
                     .values(status="undelivered", sent_at=now, delivered_at=now))
        conn.execute(LOG.update().where(LOG.c.id == ids[2]).values(status="sent", sent_at=now))
        conn.execute(LOG.update().where(LOG.c.id == ids[3])
                     .values(status="failed", error="=cmd|x", updated_at=now))
    with session_scope() as db:
        page, total = reports.list_campaigns(db)
        assert total == 3 and [s.id for s in page] == [c.id, b.id, a.id]
        sa_ = page[2]
        assert (sa_.audience_size, sa_.queued, sa_.sent, sa_.failed, sa_.delivered,
                sa_.undelivered) == (5, 1, 3, 1, 1, 1)
        assert sa_.delivery_rate == round(1 / 3, 4)
        assert page[1].status == "completed" and page[1].audience_size == 0
        assert [s.id for s in reports.list_campaigns(db, tag="sale")[0]] == [b.id, a.id]
        assert [s.id for s in reports.list_campaigns(db, tag="festive")[0]] == [a.id]
        assert [s.id for s in reports.list_campaigns(db, search="100%")[0]] == [b.id]
        assert reports.list_campaigns(db, search="_")[1] == 1
        assert reports.list_campaigns(db, status="scheduled")[1] == 1
        assert [s.id for s in reports.list_campaigns(db, limit=1, offset=1)[0]] == [b.id]
        rows, n = reports.log_page(db, a.id, status="failed")
        assert n == 1 and rows[0]["error"] == "=cmd|x" and rows[0]["customer_name"]
        assert reports.log_page(db, a.id, limit=2, offset=4)[0][0]["id"] == ids[4]
        points = campaign_timeline.timeline(db, a.id, buckets=10)
        assert len(points) == 10
        assert sum(p["sent"] for p in points) == 3
        assert sum(p["delivered"] for p in points) == 1
        assert sum(p["undelivered"] for p in points) == 1
        assert sum(p["failed"] for p in points) == 1
        # Round slices for the chart's axis: the same counts, in whole-unit steps.
        rounded = campaign_timeline.timeline(db, a.id, buckets=10, round_steps=True)
        assert 1 <= len(rounded) <= 10
        assert sum(p["sent"] for p in rounded) == 3
        assert sum(p["delivered"] + p["undelivered"] for p in rounded) == 2
        steps = {(b["at"] - a_["at"]).total_seconds()
                 for a_, b in zip(rounded, rounded[1:], strict=False)}
        assert steps <= set(campaign_timeline.NICE_STEPS)
    monkeypatch.setattr(reports, "CSV_CHUNK", 2)
    text = "".join(reports.iter_log_csv(app_settings, a.id))
    lines = text.strip().splitlines()
    assert len(lines) == 6 and lines[0].startswith("log_id,customer_external_id")
    assert "'=cmd|x" in text


def test_big_launch_analyses_a_customer_table_the_planner_has_not_seen(
        app_settings: sa.Engine, dialect: str) -> None:
    """Stale customer statistics made each delivery batch scan every customer; a launch
    of ANALYZE_AFTER_ROWS or more rows refreshes them (PostgreSQL only: the others join
    by nested loops and keep no such statistics)."""
    if dialect != "postgresql":
        pytest.skip("PostgreSQL planner statistics")

    def last_analyze() -> object:
        with app_settings.connect() as conn:
            return conn.execute(sa.text(
                "SELECT last_analyze FROM pg_stat_user_tables "
                "WHERE relid = 'customer'::regclass")).scalar()

    with app_settings.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("SELECT pg_stat_reset_single_table_counters("
                             "'customer'::regclass)"))
    assert last_analyze() is None
    launch.refresh_statistics(app_settings, launch.ANALYZE_AFTER_ROWS - 1)
    assert last_analyze() is None  # a small launch leaves the statistics alone
    launch.refresh_statistics(app_settings, launch.ANALYZE_AFTER_ROWS)
    assert last_analyze() is not None
