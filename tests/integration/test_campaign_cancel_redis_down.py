"""A cancel while Redis is down, on SQLite, PostgreSQL and MariaDB, with a private Redis
the test stops (never the shared one): the in-flight count cannot be known, and the
answer says so in words ("unknown: Redis unreachable") instead of a bare null or, worse,
a count of only what this process saw."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from mini_crm.core import redis_conn
from mini_crm.core.campaigns import service
from mini_crm.core.delivery import gate
from mini_crm.db import session_scope
from mini_crm.models import Campaign
from mini_crm.settings import get_settings
from mini_crm.state.campaign_common import cancel_text
from tests.integration.campaign_helpers import add_customers, city_rules, status_counts
from tests.private_services import private_redis


@pytest.fixture
def no_enqueue(app_settings: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> sa.Engine:
    # No worker runs: rows stay queued, as in a campaign whose workers are elsewhere.
    monkeypatch.setattr(service, "enqueue_after_commit", lambda *a: None)
    return app_settings


def _launch(name: str) -> Campaign:
    with session_scope() as db:
        return service.create_campaign(
            db, name=name, rules=city_rules("Pune"), segment_id=None,
            message_template="Hi {name}", channel="sms", schedule_at=None, objective=None,
            created_by=None, tags=[])


def test_cancel_with_redis_down_reports_the_in_flight_count_as_unknown(
        no_enqueue: sa.Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        api, make_key) -> None:
    engine = no_enqueue
    add_customers(engine, 10)
    headers = make_key("campaigns", "read")
    monkeypatch.setenv("CANCEL_SETTLE_SECONDS", "0")
    with private_redis(tmp_path / "redis", appendonly=False) as server:
        monkeypatch.setenv("REDIS_URL", server.url)
        get_settings.cache_clear()
        redis_conn.reset_cache()
        up, cached, probed = _launch("up"), _launch("cached client"), _launch("probed")
        # Redis up: the count is known, and it is a number even when nothing is in flight.
        request = gate.open_request(up.id, 1, 4, 4)
        assert request is not None
        known = service.cancel(up.id, settle_seconds=0)
        assert (known.in_flight, known.in_flight_note) == (4, None)
        server.stop()
        # The process still holds a client from when Redis answered: its call fails.
        lost = service.cancel(cached.id, settle_seconds=0)
        assert lost.cancelled and lost.in_flight is None
        assert lost.in_flight_note == "unknown: Redis unreachable"
        # Asked afresh, nothing answers at REDIS_URL: the gate falls back to this process,
        # which cannot see other processes' requests, so the count is still unknown.
        redis_conn.reset_cache()
        assert redis_conn.get_redis() is None
        body = api.post(f"/api/v1/campaigns/{probed.id}/cancel", headers=headers)
        assert body.status_code == 200, body.text
        assert body.json()["status"] == "cancelled"
        assert body.json()["cancel"]["in_flight"] is None
        assert body.json()["cancel"]["in_flight_note"] == "unknown: Redis unreachable"
    # The cancel still stopped every unsent row nobody held.
    for campaign in (cached, probed):
        assert status_counts(engine, campaign.id) == {"failed": 10}
    text = cancel_text({"cancelled": 10}, None, 0, "unknown: Redis unreachable")
    assert "unknown: Redis unreachable" in text and "final counts" in text
    assert "0 sent, 10 stopped before sending" in text and "failed" not in text
    # A real failure is its own count, never merged with the stopped rows.
    assert "3 sent, 10 stopped before sending, 2 failed" in cancel_text(
        {"sent": 3, "cancelled": 10, "failed": 2}, 0, 0)


def test_without_redis_configured_the_count_is_this_process_and_known(
        no_enqueue: sa.Engine) -> None:
    """Embedded mode (no REDIS_URL): every job runs in this process, so its count is
    the whole count."""
    add_customers(no_enqueue, 3)
    campaign = _launch("embedded")
    assert gate.open_request(campaign.id, 1, 2, 2) is not None
    result = service.cancel(campaign.id, settle_seconds=0)
    assert (result.in_flight, result.in_flight_note) == (2, None)
    assert "2 were already with the vendor" in cancel_text(result.counts, 2, 0, None)
