"""A/B tests on SQLite, PostgreSQL and MariaDB: stable assignment in the launch's own
statement (the SQL buckets are the Python twins), the test share held back, the winner
picked once and the rest sent the winner's message, by hand or by the periodic task,
and the API's create validation."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from mini_crm.core import jobs
from mini_crm.core.auth import audit
from mini_crm.core.campaigns import ab_test, launch, reports, service, split
from mini_crm.core.campaigns.errors import CampaignError
from mini_crm.core.delivery import claims, enqueue, sending
from mini_crm.db import session_scope
from mini_crm.models import AuditEvent, Campaign, utcnow
from mini_crm.settings import get_settings
from mini_crm.state.admin import _details as admin_details
from tests.integration.campaign_helpers import (
    LOG,
    FakeVendor,
    add_customers,
    campaign_status,
    city_rules,
    status_counts,
    wait_for,
)

VARIANTS = [{"message": "A: Hi {first_name}"}, {"message": "B: {first_name}, 20% off"}]


@pytest.fixture
def vendor(app_settings: sa.Engine, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DELIVERY_BATCH_SIZE", "100")
    monkeypatch.setenv("DELIVERY_JOB_THREADS", "1")
    get_settings.cache_clear()
    fake = FakeVendor()
    monkeypatch.setattr(sending, "vendor_client", lambda channel: fake)
    yield fake
    jobs.shutdown_local(wait=True)


def _create(**kw) -> Campaign:
    args = {"name": "A/B", "rules": city_rules("Pune"), "segment_id": None,
            "message_template": "", "channel": "sms", "schedule_at": None,
            "objective": None, "created_by": None, "tags": ["test"],
            "variants": VARIANTS}
    args.update(kw)
    with session_scope() as db:
        return service.create_campaign(db, **args)


def _rows(engine: sa.Engine, campaign_id: int) -> list[sa.Row]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(LOG.c.id, LOG.c.customer_id, LOG.c.status,
                                           LOG.c.variant, LOG.c.message)
                                 .where(LOG.c.campaign_id == campaign_id)
                                 .order_by(LOG.c.id)).all())


def test_the_split_deals_exact_even_groups_in_a_stable_random_order() -> None:
    # The tester's case: 23 in a 2-variant test get 12 and 11 (not 9 and 14).
    assert split.sizes(23, 0, 2, 100) == split.Sizes(0, 23, 0, [12, 11])
    # The holdout first (round half up), then the test share of the rest, dealt evenly.
    assert split.sizes(108, 10, 2, 20) == split.Sizes(11, 19, 78, [10, 9])
    assert split.sizes(1000, 0, 3, 100).per_variant == [334, 333, 333]
    assert split.sizes(3, 50) == split.Sizes(2, 1, 0, [])
    assert split.sizes(0, 20, 4, 30) == split.Sizes(0, 0, 0, [0, 0, 0, 0])
    ids = list(range(1, 2001))
    got = split.assign(9, ids, 10, 3, 40)
    assert Counter(got.values()) == {("holdout", None): 200, ("queued", "A"): 240,
                                     ("queued", "B"): 240, ("queued", "C"): 240,
                                     ("waiting", None): 1080}
    # Random, not by id: the holdout is spread over the ids, and each variant too.
    held = sorted(c for c, (s, _) in got.items() if s == "holdout")
    assert held[0] < 100 and held[-1] > 1900
    in_a = [c for c, v in got.items() if v == ("queued", "A")]
    assert abs(sum(in_a) / len(in_a) - 1000) < 150
    # A different campaign draws a different order.
    other = split.assign(10, ids, 10, 3, 40)
    assert {c for c, v in other.items() if v[0] == "holdout"} != set(held)


def test_launch_assigns_stable_variants_and_holds_the_rest(
        engine: sa.Engine, app_settings: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(enqueue, "enqueue_campaign", lambda campaign_id: None)
    ids = add_customers(engine, 500)
    c = _create(variants=[*VARIANTS, {"message": "C: hello {city}"}], holdout_percent=10,
                ab_settings={"test_percent": 40, "test_hours": 6})
    # 60 per variant in the test: too few for the winner rule, so launched "by hand".
    assert c.ab_phase == "testing" and c.ab_test == {"test_percent": 40, "test_hours": 6,
                                                     "metric": "conversion",
                                                     "auto_winner": False}
    assert c.ab_decide_at == c.started_at + timedelta(hours=6)
    assert c.message_template == VARIANTS[0]["message"]
    rows = {r.customer_id: r for r in _rows(engine, c.id)}
    assert set(rows) == set(ids)
    # The SQL deals exactly as its Python twin: 50 held out, 180 in the test (60 per
    # variant), 270 waiting.
    assert {cust: (r.status, r.variant) for cust, r in rows.items()} == split.assign(
        c.id, ids, 10, 3, 40)
    counts = Counter((r.status, r.variant) for r in rows.values())
    assert counts == {("holdout", None): 50, ("queued", "A"): 60, ("queued", "B"): 60,
                      ("queued", "C"): 60, ("waiting", None): 270}
    counts = Counter(r.status for r in rows.values())
    # A re-run after a killed launch (rows rolled back) picks exactly the same split.
    before = {cust: (r.status, r.variant) for cust, r in rows.items()}
    with Session(engine) as db:
        db.execute(LOG.delete().where(LOG.c.campaign_id == c.id))
        launch.fill_log(db, c.id, city_rules("Pune"), utcnow(), "sms", 10, 3, 40)
        again = {int(a): (b, v) for a, b, v in db.execute(
            sa.select(LOG.c.customer_id, LOG.c.status, LOG.c.variant)
            .where(LOG.c.campaign_id == c.id)).all()}
        db.rollback()
    assert again == before
    # Waiting rows are never claimed, and keep the campaign from completing.
    with engine.begin() as conn:
        first, last = conn.execute(sa.select(sa.func.min(LOG.c.id), sa.func.max(LOG.c.id))
                                   .where(LOG.c.campaign_id == c.id)).one()
        assert claims.claim(conn, c.id, first, last, utcnow()) == counts["queued"]
        conn.execute(LOG.update().where(LOG.c.campaign_id == c.id,
                                        LOG.c.status == "queued").values(status="sent"))
        assert not claims.complete_if_done(conn, c.id, utcnow())
    with session_scope() as db:
        stats = reports.get_campaign(db, c.id)
    assert stats.waiting == counts["waiting"] and stats.unsent == counts["waiting"]
    assert stats.pending == 0  # pending = queued: the waiting rows are counted apart
    assert [v["key"] for v in stats.variants] == ["A", "B", "C"]
    assert sum(v["recipients"] for v in stats.variants) == counts["queued"]
    assert stats.as_dict()["ab_test"]["live"]["winner"] is None


def _plant_delivery(engine: sa.Engine, campaign_id: int, rates: dict[str, float]) -> None:
    """Receipts as if variant k's messages were delivered at rates[k] (every n-th)."""
    for key, rate in rates.items():
        with engine.begin() as conn:
            ids = conn.execute(sa.select(LOG.c.id).where(
                LOG.c.campaign_id == campaign_id, LOG.c.variant == key,
                LOG.c.status == "sent").order_by(LOG.c.id)).scalars().all()
            chosen = [i for n, i in enumerate(ids) if (n * rate) % 1 + rate >= 1]
            if chosen:
                conn.execute(LOG.update().where(LOG.c.id.in_(chosen))
                             .values(status="delivered", delivered_at=utcnow()))


def test_test_share_then_winner_then_rest_end_to_end(
        vendor: FakeVendor, app_settings: sa.Engine) -> None:
    engine = app_settings
    add_customers(engine, 1000)
    c = _create(holdout_percent=10, ab_settings={"test_percent": 50, "test_hours": 2,
                                                  "metric": "delivery"})
    # Only the test share goes out; the rest waits, the campaign stays sending.
    wait_for(lambda: "queued" not in status_counts(engine, c.id), 30)
    counts = status_counts(engine, c.id)
    assert set(counts) == {"sent", "waiting", "holdout"}
    assert campaign_status(engine, c.id) == "sending"
    assert len(vendor.accepted) == counts["sent"]
    # Not due yet: the periodic task leaves it alone.
    assert ab_test.decide_due(utcnow()) == []
    _plant_delivery(engine, c.id, {"A": 0.6, "B": 0.95})
    later = utcnow() + timedelta(hours=3)
    assert ab_test.decide_due(later) == [c.id]
    assert ab_test.decide_due(later) == []  # exactly once
    with session_scope() as db:
        campaign = db.get(Campaign, c.id)
        assert campaign.winner == "B" and campaign.ab_phase == "decided"
        assert campaign.winner_detail["decided_by"] == "auto"
        assert campaign.winner_detail["released"] == counts["waiting"]
        assert campaign.winner_detail["p_value"] < 0.05
        # The automatic decision is an audit entry by "system", once, in words.
        events = db.exec(select(AuditEvent).where(
            AuditEvent.target == f"campaign:{c.id}",
            AuditEvent.action.in_((audit.AB_WINNER_DECIDED, audit.AB_WINNER_PICKED)))).all()
        assert [(e.action, e.actor_label, e.actor_user_id) for e in events] \
            == [(audit.AB_WINNER_DECIDED, "system", None)]
        words = audit.label(events[0].action) + ": " + admin_details(events[0])
        assert words.startswith("A/B test decided: B won on delivery rate (p = ")
        assert words.endswith(f"the other {counts['waiting']:,} get B")
        with pytest.raises(CampaignError, match="already decided"):
            ab_test.pick_winner(db, c.id, "A")
    wait_for(lambda: campaign_status(engine, c.id) == "completed", 30)
    rows = _rows(engine, c.id)
    held = {str(r.id) for r in rows if r.status == "holdout"}
    sendable = {str(r.id) for r in rows if r.status != "holdout"}
    # Every non-holdout customer messaged exactly once (one log row per customer, one
    # vendor acceptance per row), and no holdout member ever.
    assert set(vendor.received) == sendable and set(vendor.received.values()) == {1}
    assert not held & set(vendor.received)
    dealt = split.assign(c.id, [r.customer_id for r in rows], c.holdout_percent, 2, 50)
    test_ids = {r.id for r in rows if dealt[r.customer_id][0] == "queued"}
    for r in rows:
        if r.status == "holdout":
            assert r.variant is None and r.message is None
        elif r.id in test_ids:
            assert r.variant == dealt[r.customer_id][1]
            assert vendor.bodies[str(r.id)].startswith(f"{r.variant}: ")
        else:
            assert r.variant == "B" and vendor.bodies[str(r.id)].startswith("B: ")
    with session_scope() as db:
        d = reports.get_campaign(db, c.id).as_dict()
    assert d["winner"] == "B" and d["ab_test"]["rest_variant"] == "B"
    assert "B wins on delivery rate" in d["ab_test"]["reason"]


def test_no_winner_sends_the_rest_variant_a_and_manual_pick_wins(
        app_settings: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "enqueue_after_commit", lambda *a: None)
    add_customers(app_settings, 200)
    first = _create(ab_settings={"test_percent": 20})
    with session_scope() as db:
        detail = ab_test.decide_campaign(db, first.id, utcnow())
    assert detail is not None and detail["winner"] is None
    assert "Not enough data" in detail["reason"] and "gets variant A" in detail["reason"]
    with session_scope() as db:  # "no winner" is a decision too, and audited
        event = db.exec(select(AuditEvent).where(
            AuditEvent.action == audit.AB_WINNER_DECIDED,
            AuditEvent.target == f"campaign:{first.id}")).one()
        assert event.actor_label == "system"
        assert admin_details(event) == (f"no clear winner on conversion rate; the other "
                                        f"{detail['released']} get A (the control)")
    assert "waiting" not in status_counts(app_settings, first.id)
    with app_settings.connect() as conn:
        rest = conn.execute(sa.select(sa.func.count()).where(
            LOG.c.campaign_id == first.id, LOG.c.variant == "A")).scalar()
    assert rest > 100  # the 80 % rest plus A's half of the test share
    second = _create(name="Manual", variants=[*VARIANTS, {"message": "C: yo"}],
                     ab_settings={"test_percent": 10, "test_hours": 48})
    with session_scope() as db:
        with pytest.raises(CampaignError, match="one of A, B, C"):
            ab_test.pick_winner(db, second.id, "D")
        detail = ab_test.pick_winner(db, second.id, "c")
    assert detail["decided_by"] == "manual" and detail["rest_variant"] == "C"
    with app_settings.connect() as conn:
        waiting_left = conn.execute(sa.select(sa.func.count()).where(
            LOG.c.campaign_id == second.id, LOG.c.status == "waiting")).scalar()
    assert waiting_left == 0
    with session_scope() as db:
        assert ab_test.decide_campaign(db, second.id, utcnow() + timedelta(days=3)) is None
        # Its own audit entry (not "scheduled campaign edited"), in the admin's words.
        event = db.exec(select(AuditEvent).where(
            AuditEvent.action == audit.AB_WINNER_PICKED,
            AuditEvent.target == f"campaign:{second.id}")).one()
        assert audit.label(event.action) + ": " + admin_details(event) \
            == "A/B winner picked: C (by hand)"


def test_cancel_fails_the_waiting_rows(app_settings: sa.Engine,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "enqueue_after_commit", lambda *a: None)
    add_customers(app_settings, 50)
    c = _create(ab_settings={"test_percent": 30})
    result = service.cancel(c.id, settle_seconds=0)
    assert result.cancelled
    counts = status_counts(app_settings, c.id)
    assert set(counts) == {"failed"} and counts["failed"] == 50
    assert ab_test.decide_due(utcnow() + timedelta(days=2)) == []
    with Session(app_settings) as s:  # the test ended with the cancel (it read "testing")
        assert s.get(Campaign, c.id).ab_phase == ab_test.ENDED
        assert reports.get_campaign(s, c.id).ab_dict()["phase"] == "ended"


def test_one_message_under_two_subject_lines_is_an_email_test(
        app_settings: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "enqueue_after_commit", lambda *a: None)
    c = _create(channel="email", variants=[{"message": "Hi {name}", "subject": "20% off"},
                                           {"message": "Hi {name}", "subject": "Your gift"}])
    assert [v["subject"] for v in c.variants] == ["20% off", "Your gift"]
    with pytest.raises(CampaignError, match="same message and subject"):
        _create(channel="email", variants=[{"message": "Hi", "subject": "Sale "},
                                           {"message": "Hi ", "subject": "Sale"}])


def test_create_validation(app_settings: sa.Engine) -> None:
    cases = [
        ({"variants": [{"message": "only one"}]}, "at least 2 variants"),
        ({"variants": [{"message": f"v{i}"} for i in range(5)]}, "at most 4 variants"),
        ({"variants": [{"message": "a"}, {"message": "  "}]}, "variant B is empty"),
        ({"variants": [{"message": "a"}, {"message": "b {nope}"}]}, "variant B:"),
        ({"variants": VARIANTS, "message_template": "x"}, "either a message or variants"),
        ({"message_template": "x", "variants": None, "ab_settings": {"test_percent": 20}},
         "needs 2 to 4"),
        ({"ab_settings": {"test_percent": 0}}, "test share"),
        ({"ab_settings": {"test_hours": 500}}, "test period"),
        ({"ab_settings": {"metric": "clicks"}}, "conversion or delivery"),
        ({"variants": [{"message": "a", "subject": "s"}, {"message": "b"}]}, "email only"),
        ({"variants": [{"message": "same"}, {"message": "same"}]}, "same message"),
        ({"variants": [{"message": " a  b "}, {"message": "a b"}]}, "same message"),
    ]
    for kw, words in cases:
        with pytest.raises(CampaignError, match=words) as err:
            _create(**kw)
        assert err.value.field in ("variants", "ab_test", "message")


def test_api_create_detail_and_winner(api: TestClient, make_key, app_settings: sa.Engine,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "enqueue_after_commit", lambda *a: None)
    add_customers(app_settings, 120)
    h = make_key("campaigns", "read")
    base = {"name": "API A/B", "rules": city_rules("Pune"), "channel": "email"}
    bad = [
        ({"message": "x", "variants": VARIANTS}, "either a message or variants"),
        ({"variants": [{"message": "x"}]}, "at least 2 variants"),
        ({"variants": [{"message": str(i)} for i in range(5)]}, "at most 4 variants"),
        ({"variants": [{"message": "x"}, {"message": ""}]}, "variant B is empty"),
        ({"variants": VARIANTS, "ab_test": {"test_percent": 0}}, None),
        ({"variants": VARIANTS, "ab_test": {"metric": "opens"}}, None),
        ({}, None),
    ]
    for extra, words in bad:
        r = api.post("/api/v1/campaigns", headers=h, json={**base, **extra})
        assert r.status_code == 422, (extra, r.text)
        if words:
            assert words in r.text
    r = api.post("/api/v1/campaigns", headers=h, json={
        **base, "holdout_percent": 10,
        "variants": [{"message": "A {name}", "subject": "Sub A"}, {"message": "B {name}"}],
        "ab_test": {"test_percent": 25, "test_hours": 12, "metric": "conversion"}})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["message"] == "A {name}" and body["winner"] is None and body["is_ab"]
    assert [v["key"] for v in body["variants"]] == ["A", "B"]
    assert body["variants"][0]["subject"] == "Sub A"
    assert set(body["variants"][0]) >= {"key", "message", "recipients", "sent",
                                        "delivered", "conversions", "revenue"}
    assert body["ab_test"]["phase"] == "testing" and body["ab_test"]["waiting"] > 50
    cid = body["id"]
    assert api.post(f"/api/v1/campaigns/{cid}/winner", headers=h,
                    json={"variant": "Z"}).status_code == 422
    r = api.post(f"/api/v1/campaigns/{cid}/winner", headers=h, json={"variant": "B"})
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["winner"] == "B" and got["ab_test"]["decided_by"] == "manual"
    assert got["ab_test"]["waiting"] == 0 and got["pending"] > 50
    again = api.post(f"/api/v1/campaigns/{cid}/winner", headers=h, json={"variant": "A"})
    assert again.status_code == 409 and "already decided" in again.text
    plain = api.post("/api/v1/campaigns", headers=h,
                     json={**base, "name": "plain", "message": "Hi"}).json()
    assert plain["variants"] == [] and plain["winner"] is None and plain["ab_test"] is None
    r = api.post(f"/api/v1/campaigns/{plain['id']}/winner", headers=h, json={"variant": "A"})
    assert r.status_code == 409 and "not an A/B test" in r.text
    listed = api.get("/api/v1/campaigns", headers=h).json()["items"]
    assert {i["name"]: i["is_ab"] for i in listed} == {"API A/B": True, "plain": False}


def test_a_draft_keeps_its_variants_and_launches_as_an_ab_test(
        api: TestClient, make_key, app_settings: sa.Engine,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "enqueue_after_commit", lambda *a: None)
    add_customers(app_settings, 40)
    h = make_key("campaigns", "read")
    r = api.post("/api/v1/campaigns/drafts", headers=h, json={
        "name": "Draft A/B", "rules": city_rules("Pune"), "message": "A first",
        "variants": [{"message": "A first"}, {"message": ""}],
        "ab_test": {"test_percent": 30}})
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    launched = api.post(f"/api/v1/campaigns/{cid}/launch", headers=h, json={})
    assert launched.status_code == 422 and "variant B is empty" in launched.text
    assert api.patch(f"/api/v1/campaigns/{cid}", headers=h, json={
        "variants": [{"message": "A first"}, {"message": "B second"}]}).status_code == 200
    launched = api.post(f"/api/v1/campaigns/{cid}/launch", headers=h, json={})
    assert launched.status_code == 200, launched.text
    body = launched.json()
    assert [v["key"] for v in body["variants"]] == ["A", "B"]
    assert body["ab_test"]["test_percent"] == 30 and body["ab_test"]["phase"] == "testing"
    assert body["ab_test"]["waiting"] > 0


def test_email_variants_send_their_own_subject_lines(vendor: FakeVendor,
                                                     app_settings: sa.Engine) -> None:
    subjects: dict[str, str | None] = {}
    send = vendor.send

    def recording(messages):
        subjects.update({m.idempotency_key: m.subject for m in messages})
        return send(messages)

    vendor.send = recording
    add_customers(app_settings, 40)
    c = _create(channel="email", email_subject="Campaign subject for {first_name}",
                variants=[{"message": "A body"}, {"message": "B body", "subject": "B only"}])
    wait_for(lambda: campaign_status(app_settings, c.id) == "completed", 30)
    rows = _rows(app_settings, c.id)
    assert {r.variant for r in rows} == {"A", "B"}
    for r in rows:
        if r.variant == "A":
            assert subjects[str(r.id)].startswith("Campaign subject for Customer")
            assert vendor.bodies[str(r.id)] == "A body"
        else:
            assert subjects[str(r.id)] == "B only" and vendor.bodies[str(r.id)] == "B body"
