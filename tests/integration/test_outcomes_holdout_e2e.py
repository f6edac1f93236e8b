"""A holdout campaign end to end on PostgreSQL + Redis: real RQ workers, the bundled
vendor simulator and receipts. The simulator's own record of what it accepted shows no
holdout member was ever messaged."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from mini_crm.core.campaigns import reports, service
from mini_crm.db import session_scope
from tests.integration.campaign_helpers import (
    LOG,
    add_customers,
    campaign_status,
    city_rules,
    wait_for,
)
from tests.integration.test_campaign_workers import (  # noqa: F401 - the fixture
    Stack,
    _receipts_done,
    stack,
)

pytestmark = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


def test_holdout_members_are_never_sent(stack: Stack) -> None:  # noqa: F811
    add_customers(stack.engine, 300)
    stack.start_worker()
    with session_scope() as db:
        campaign = service.create_campaign(
            db, name="With holdout", rules=city_rules("Pune"), segment_id=None,
            message_template="Hi {first_name}", channel="sms", schedule_at=None,
            objective=None, created_by=None, holdout_percent=25)
    wait_for(lambda: campaign_status(stack.engine, campaign.id) == "completed", 30)
    wait_for(lambda: _receipts_done(stack.engine, campaign.id), 20)
    with stack.engine.connect() as conn:
        rows = conn.execute(sa.select(LOG.c.id, LOG.c.status, LOG.c.vendor_message_id,
                                      LOG.c.sent_at)
                            .where(LOG.c.campaign_id == campaign.id)).all()
    held = {str(r.id) for r in rows if r.status == "holdout"}
    assert 40 < len(held) < 110
    assert all(r.vendor_message_id is None and r.sent_at is None for r in rows
               if r.status == "holdout")
    accepted = set(stack.vendor_ids())  # idempotency keys (log ids) the simulator saw
    assert accepted and not accepted & held
    assert accepted == {str(r.id) for r in rows if r.status != "holdout"}
    with session_scope() as db:
        s = reports.get_campaign(db, campaign.id)
    assert s.audience_size == 300 and s.pending == 0
    assert s.sent == 300 - len(held)
