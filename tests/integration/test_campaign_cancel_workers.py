"""Cancel under load, as deployed: PostgreSQL, Redis, two RQ SimpleWorker processes and
the bundled simulator limited to 200 messages a second (so workers are mid-request,
rate-limited or backing off from 429s when the cancel lands).

The proof comes from the simulator's own request log (GET /vendor/v1/log: when each
request was received and answered, and how many keys it accepted) and its key map:
after the cancel answered, the vendor accepted no more messages than the cancel said
were in flight, and no row marked cancelled was accepted (so none later becomes sent).
"""

from __future__ import annotations

import time
import uuid

import pytest
import sqlalchemy as sa

from mini_crm.core.campaigns import service
from mini_crm.settings import get_settings
from tests.integration.campaign_helpers import (
    LOG,
    add_customers,
    campaign_status,
    status_counts,
    wait_for,
)
from tests.integration.test_campaign_workers import Stack, stack  # noqa: F401 - fixture

pytestmark = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
RATE = 200  # messages a second, at the simulator (and the workers' own limiter)


def _accepted(engine: sa.Engine, campaign_id: int) -> int:
    counts = status_counts(engine, campaign_id)
    return sum(counts.get(s, 0) for s in ("sent", "delivered", "undelivered"))


def test_nothing_is_accepted_after_the_cancel_answered_beyond_what_was_in_flight(
        stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    # Queues, throttle and gate keys of this test's own: other test runs use RQ on the same
    # Redis database (a worker of theirs must never take a job of ours, nor empty our
    # queues). A claim timeout that a busy machine cannot outrun.
    monkeypatch.setenv("REDIS_NAMESPACE", f"t{uuid.uuid4().hex[:8]}:")
    monkeypatch.setenv("DELIVERY_CLAIM_TIMEOUT_SECONDS", "20")
    monkeypatch.setenv("VENDOR_RATE_LIMIT_PER_SECOND", str(RATE))
    get_settings.cache_clear()
    add_customers(stack.engine, 3000)
    stack.sim("POST", "config", json={"rate_limit_per_second": RATE, "latency_ms": 20})
    for _ in range(2):
        stack.start_worker()
    campaign = stack.launch(3000)
    # A few hundred accepted (the machine may be busy: allow it time), then cancel.
    wait_for(lambda: _accepted(stack.engine, campaign.id) >= 300, 180)

    result = service.cancel(campaign.id, settle_seconds=0)
    answered = time.time()
    assert result.cancelled and result.in_flight is not None

    wait_for(lambda: status_counts(stack.engine, campaign.id).get("queued", 0) == 0, 30)
    time.sleep(1.5)  # anything still on its way to the vendor would arrive by now
    log = stack.sim("GET", "log")["requests"]
    after = [r for r in log if r["answered_at"] > answered and r["accepted"]]
    accepted_after = sum(r["accepted"] for r in after)
    assert accepted_after <= result.in_flight, (accepted_after, result, after)
    started_after = [r for r in log if r["received_at"] > answered]
    assert sum(r["accepted"] for r in started_after) <= result.in_flight
    before = sum(r["accepted"] for r in log if r["answered_at"] <= answered)
    assert before >= 300  # the campaign was really under way

    # The vendor's key map against the log rows: every accepted key is a sent row, and no
    # row the cancel (or a refused job) marked "cancelled" was ever accepted.
    accepted = stack.vendor_ids()
    with stack.engine.connect() as conn:
        rows = conn.execute(sa.select(LOG.c.id, LOG.c.status, LOG.c.error)
                            .where(LOG.c.campaign_id == campaign.id)).all()
    cancelled = {str(r.id) for r in rows if r.error == "cancelled"}
    sent = {str(r.id) for r in rows if r.status in ("sent", "delivered", "undelivered")}
    assert not cancelled & set(accepted)
    assert sent == set(accepted) & {str(r.id) for r in rows}
    assert len(cancelled) >= 1000 and len(sent) + len(cancelled) == 3000
    counts = status_counts(stack.engine, campaign.id)
    assert counts.get("queued", 0) == 0
    assert campaign_status(stack.engine, campaign.id) == "cancelled"
    # Still so a while later: nothing turns a cancelled row into sent afterwards.
    time.sleep(2.5)
    with stack.engine.connect() as conn:
        late = conn.execute(sa.select(sa.func.count()).select_from(LOG).where(
            LOG.c.campaign_id == campaign.id, LOG.c.error == "cancelled",
            LOG.c.status != "failed")).scalar_one()
    assert late == 0
    assert sum(r["accepted"] for r in stack.sim("GET", "log")["requests"]) == len(sent)
