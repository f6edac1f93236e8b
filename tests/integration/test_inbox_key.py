"""Gmail's spellings of one inbox are one address for the launch's dedupe and the
suppression list, on SQLite, PostgreSQL and MariaDB; messages still go to the address
as the customer wrote it."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from mini_crm.core import consent, suppression
from mini_crm.core.campaigns import service
from mini_crm.core.ingestion.schemas import CustomerIn
from mini_crm.core.ingestion.upsert import ingest_customers
from mini_crm.db import session_scope
from mini_crm.models import Customer, Suppression
from tests.integration.campaign_helpers import city_rules
from tests.integration.test_consent_api import _inbound

SPELLINGS = ["Asha.Rao.Test@gmail.com", "asharaotest@gmail.com",
             "asharaotest+promo@gmail.com", "asharaotest@googlemail.com"]
PUNE = city_rules("Pune")


def _four(unsubscribed: int | None = None) -> None:
    ingest_customers([CustomerIn.model_validate(
        {"external_id": f"a{i}", "email": email, "city": "Pune",
         **({"unsubscribed": True} if i == unsubscribed else {})})
        for i, email in enumerate(SPELLINGS)])


def _preview() -> tuple[int, dict[str, int]]:
    with session_scope() as db:
        r = service.preview_campaign(db, rules=PUNE, segment_id=None, channel="email")
        return r.recipients, r.skipped


def test_four_spellings_of_one_inbox_get_one_message(app_settings: sa.Engine) -> None:
    _four()
    recipients, skipped = _preview()
    assert recipients == 1 and skipped["duplicate_address"] == 3
    with Session(app_settings) as s:
        stored = {c.external_id: (c.email, c.email_key) for c in s.exec(select(Customer))}
    # Sent as typed (lower-cased), compared by the inbox.
    assert stored["a0"] == ("asha.rao.test@gmail.com", "asharaotest@gmail.com")
    assert stored["a2"] == ("asharaotest+promo@gmail.com", "asharaotest@gmail.com")
    assert {key for _, key in stored.values()} == {"asharaotest@gmail.com"}


def test_one_spelling_opted_out_blocks_the_inbox(app_settings: sa.Engine) -> None:
    _four(unsubscribed=1)
    recipients, skipped = _preview()
    assert recipients == 0
    assert (skipped["unsubscribed"], skipped["suppressed"]) == (1, 3)
    with Session(app_settings) as s:
        rows = [(r.address, r.channel) for r in s.exec(select(Suppression))]
        assert ("asharaotest@gmail.com", "email") in rows
        # Any spelling finds the row; the customer page shows every record suppressed.
        assert suppression.find(s, "asha.rao.test+x@googlemail.com", "email") is not None
        customers = list(s.exec(select(Customer).order_by(Customer.id)))
        assert all(flags["email"] for flags in
                   consent.suppressed_channels(s, customers).values())


def test_admin_suppression_and_inbound_stop_use_the_inbox(api: TestClient,
                                                          app_settings: sa.Engine) -> None:
    _four()
    with session_scope() as db:
        row, created = suppression.add(db, "ASHA.RAOTEST+list@googlemail.com", "email")
        assert created and row.address == "asharaotest@gmail.com"
        _, again = suppression.add(db, "asharaotest@gmail.com", "email")
        assert again is False
        db.delete(row)
    r = _inbound(api, [{"from": "Asha <asha.rao.test+news@gmail.com>", "channel": "email",
                        "body": "STOP"}])
    assert r.status_code == 202 and r.json()["opted_out"] == 1, r.text
    with Session(app_settings) as s:
        assert [c.consent_email for c in s.exec(select(Customer))] == [False] * 4
