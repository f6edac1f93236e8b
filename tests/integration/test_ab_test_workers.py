"""An A/B campaign with a holdout and a test share end to end on PostgreSQL + Redis:
real RQ worker processes, the bundled vendor simulator and its receipts. The test
share goes out, the rest waits; the winner job (run here as the periodic task would)
sends the rest the winner's message; the simulator's record shows every customer
messaged exactly once and no holdout member ever."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from mini_crm.core.campaigns import ab_test, service
from mini_crm.db import session_scope
from mini_crm.models import Campaign, utcnow
from tests.integration.campaign_helpers import (
    LOG,
    add_customers,
    campaign_status,
    city_rules,
    status_counts,
    wait_for,
)
from tests.integration.test_campaign_workers import (  # noqa: F401 - the fixture
    Stack,
    _assert_vendor_agrees,
    _receipts_done,
    stack,
)

pytestmark = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


def test_test_share_winner_and_rest_with_real_workers(stack: Stack) -> None:  # noqa: F811
    add_customers(stack.engine, 400)
    stack.start_worker()
    with session_scope() as db:
        campaign = service.create_campaign(
            db, name="A/B workers", rules=city_rules("Pune"), segment_id=None,
            message_template="", channel="sms", schedule_at=None, objective=None,
            created_by=None, holdout_percent=10,
            variants=[{"message": "A: Hi {first_name}"}, {"message": "B: Yo {first_name}"}],
            ab_settings={"test_percent": 40, "test_hours": 1, "metric": "delivery"})
    cid = campaign.id
    wait_for(lambda: "queued" not in status_counts(stack.engine, cid), 30)
    counts = status_counts(stack.engine, cid)
    assert counts.get("waiting", 0) > 150 and campaign_status(stack.engine, cid) == "sending"
    with stack.engine.connect() as conn:
        waiting = {str(i) for i in conn.execute(sa.select(LOG.c.id).where(
            LOG.c.campaign_id == cid, LOG.c.status == "waiting")).scalars()}
    assert not waiting & set(stack.vendor_ids())  # none sent before the winner
    assert ab_test.decide_due(utcnow() + timedelta(hours=2)) == [cid]
    wait_for(lambda: campaign_status(stack.engine, cid) == "completed", 30)
    wait_for(lambda: _receipts_done(stack.engine, cid), 20)
    _assert_vendor_agrees(stack, cid)
    with stack.engine.connect() as conn:
        rows = conn.execute(sa.select(LOG.c.id, LOG.c.customer_id, LOG.c.status,
                                      LOG.c.variant, LOG.c.message)
                            .where(LOG.c.campaign_id == cid)).all()
    accepted = set(stack.vendor_ids())
    held = {str(r.id) for r in rows if r.status == "holdout"}
    assert held and not held & accepted
    assert accepted == {str(r.id) for r in rows if r.status != "holdout"}
    assert len({r.customer_id for r in rows}) == len(rows) == 400  # one row per customer
    with session_scope() as db:
        decided = db.get(Campaign, cid)
        rest_key = decided.winner_detail["rest_variant"]
    for r in rows:
        if str(r.id) in waiting:
            assert r.variant == rest_key and r.message.startswith(f"{rest_key}: ")
        elif r.status != "holdout":
            assert r.message.startswith(f"{r.variant}: ")
