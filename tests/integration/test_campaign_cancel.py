"""Cancel that stops, on SQLite, PostgreSQL and MariaDB (in-process jobs; the RQ worker
and throttled-simulator version is in test_campaign_cancel_workers.py).

A vendor that holds its first request open lets the test cancel while a request is
provably in flight: that request's messages may still be accepted (and end sent), the
cancel answer counts them, and no other vendor request ever starts."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from mini_crm.core import jobs
from mini_crm.core.campaigns import service
from mini_crm.core.delivery import gate, sending
from mini_crm.core.delivery.vendors import OutgoingMessage, SendResult, TransientVendorError
from mini_crm.db import session_scope
from mini_crm.models import Campaign
from mini_crm.settings import get_settings
from tests.integration.campaign_helpers import (
    LOG,
    FakeVendor,
    add_customers,
    campaign_status,
    city_rules,
    status_counts,
    wait_for,
)


class HeldVendor(FakeVendor):
    """Holds every request until `release` is set; records when each one started."""

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.entered = threading.Event()
        self.release = threading.Event()
        self.started = 0

    def send(self, messages: list[OutgoingMessage]) -> list[SendResult]:
        with self.lock:
            self.started += 1
        self.entered.set()
        assert self.release.wait(20)
        return super().send(messages)


@pytest.fixture
def settings_for_cancel(app_settings: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> sa.Engine:
    monkeypatch.setenv("DELIVERY_BATCH_SIZE", "40")
    monkeypatch.setenv("DELIVERY_JOB_THREADS", "1")
    monkeypatch.setenv("DELIVERY_BACKOFF_MAX_SECONDS", "0.01")
    get_settings.cache_clear()
    return app_settings


def _launch() -> Campaign:
    with session_scope() as db:
        return service.create_campaign(
            db, name="Stop me", rules=city_rules("Pune"), segment_id=None,
            message_template="Hi {name}", channel="sms", schedule_at=None, objective=None,
            created_by=None, tags=[])


def test_a_request_in_flight_may_finish_nothing_new_starts(
        settings_for_cancel: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = settings_for_cancel
    vendor = HeldVendor()
    monkeypatch.setattr(sending, "vendor_client", lambda channel: vendor)
    add_customers(engine, 200)  # 5 batches of 40, one request each
    try:
        campaign = _launch()
        assert vendor.entered.wait(20)  # a request is at the vendor (the executor may
        # run a few jobs side by side: each one's request is in flight)
        result = service.cancel(campaign.id, settle_seconds=0)
        flying = result.in_flight or 0
        assert result.cancelled and flying % 40 == 0 and 40 <= flying < 200
        # Left to their workers: the rows in flight, and rows a job had claimed but not yet
        # sent (its next request will be refused).
        assert result.settling >= flying
        assert result.counts == {"queued": result.settling,
                                 "cancelled": 200 - result.settling}
        vendor.release.set()
        wait_for(lambda: status_counts(engine, campaign.id).get("queued", 0) == 0)
    finally:
        vendor.release.set()
        jobs.shutdown_local(wait=True)
    # Only the requests in flight at the cancel ever reached the vendor.
    assert vendor.started * 40 == flying and len(vendor.accepted) == flying
    assert status_counts(engine, campaign.id) == {"sent": flying, "failed": 200 - flying}
    with engine.connect() as conn:
        sent = set(conn.execute(sa.select(LOG.c.id).where(
            LOG.c.campaign_id == campaign.id, LOG.c.status == "sent")).scalars())
        errors = set(conn.execute(sa.select(LOG.c.error).where(
            LOG.c.campaign_id == campaign.id, LOG.c.status == "failed")).scalars())
    assert sent == {int(k) for k in vendor.accepted} and errors == {"cancelled"}
    assert campaign_status(engine, campaign.id) == "cancelled"
    again = service.cancel(campaign.id)
    assert not again.cancelled and again.status == "cancelled"


def test_a_retry_after_the_cancel_never_starts(
        settings_for_cancel: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """The vendor answers 503 with Retry-After; the cancel lands during the backoff: the
    retry is refused at the gate and the job marks its rows cancelled itself."""
    engine = settings_for_cancel
    monkeypatch.setenv("DELIVERY_BACKOFF_MAX_SECONDS", "5")
    get_settings.cache_clear()
    class BusyVendor(FakeVendor):
        def send(self, messages: list[OutgoingMessage]) -> list[SendResult]:
            with self.lock:
                self.calls += 1
            raise TransientVendorError("503 from fake vendor", 3.0)

    vendor = BusyVendor()
    monkeypatch.setattr(sending, "vendor_client", lambda channel: vendor)
    add_customers(engine, 10)
    try:
        campaign = _launch()
        wait_for(lambda: vendor.calls == 1)
        result = service.cancel(campaign.id, settle_seconds=5)
        # The job was sleeping in its backoff: it wakes on the cancel, well before 3 s.
        assert result.final and result.in_flight == 0, result
        assert result.counts == {"cancelled": 10}
    finally:
        jobs.shutdown_local(wait=True)
    assert vendor.calls == 1  # the retry never started
    assert gate.is_stopped(campaign.id)


def test_cancel_answer_and_conflict_over_the_api(api, make_key, settings_for_cancel: sa.Engine,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    vendor = HeldVendor()
    monkeypatch.setattr(sending, "vendor_client", lambda channel: vendor)
    add_customers(settings_for_cancel, 50)
    h = make_key("campaigns", "read")
    try:
        r = api.post("/api/v1/campaigns", headers=h, json={
            "name": "Hold", "rules": city_rules("Pune"), "message": "Hi", "channel": "sms",
            "tags": []})
        cid = r.json()["id"]
        assert vendor.entered.wait(20)
        monkeypatch.setenv("CANCEL_SETTLE_SECONDS", "0")
        get_settings.cache_clear()
        answer = api.post(f"/api/v1/campaigns/{cid}/cancel", headers=h)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["status"] == "cancelled"
        flying = body["cancel"]["in_flight"]
        assert flying in (40, 50)  # one request of 40, maybe also the batch of 10
        settling = body["cancel"]["settling"]
        assert body["cancel"]["final"] is False and flying <= settling <= 50
        # The counters are read after the answer: a job refused meanwhile has settled.
        assert flying <= body["pending"] <= settling
        assert body["failed"] + body["pending"] == 50
        # Every row failed so far was stopped by the cancel: counted apart as well.
        assert body["cancelled"] == body["failed"]
        vendor.release.set()
        wait_for(lambda: status_counts(settings_for_cancel, cid).get("queued", 0) == 0)
    finally:
        vendor.release.set()
        jobs.shutdown_local(wait=True)
    done = api.get(f"/api/v1/campaigns/{cid}", headers=h).json()
    assert (done["sent"], done["failed"], done["pending"]) == (flying, 50 - flying, 0)
    assert done["cancelled"] == 50 - flying  # not failures: the history says the same
    rows = api.get("/api/v1/campaigns", headers=h).json()["items"]
    assert [r["cancelled"] for r in rows if r["id"] == cid] == [50 - flying]
    assert done["delivery_rate"] == 0.0  # sent, no receipt yet: delivered / sent
    again = api.post(f"/api/v1/campaigns/{cid}/cancel", headers=h)
    assert again.status_code == 409
    assert api.post("/api/v1/campaigns/2147483647/cancel", headers=h).status_code == 404
