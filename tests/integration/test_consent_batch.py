"""One ingest batch is read as if its items had been sent one after another: consent
included. Property: for random item sequences, a batch leaves the same consent flags,
suppression list, contacts and audit trail as the same items sent one by one, on
SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from mini_crm.core.ingestion.schemas import CustomerIn
from mini_crm.core.ingestion.upsert import ingest_customers
from mini_crm.models import AuditEvent, Customer, Suppression
from tests.conftest import empty_all_tables

ABSENT = object()
_field = st.sampled_from


def _item(ext: str, email: Any, phone: Any, unsubscribed: Any, consent: Any
          ) -> dict[str, Any]:
    item: dict[str, Any] = {"external_id": ext}
    if unsubscribed is not ABSENT:
        consent = ABSENT  # the two keys together must agree; one of them is enough here
    for key, value in (("email", email), ("phone", phone), ("unsubscribed", unsubscribed),
                       ("consent", consent)):
        if value is not ABSENT:
            item[key] = value
    return item


ITEMS = st.lists(st.builds(
    _item, _field(["c-1", "c-2"]),
    _field([ABSENT, ABSENT, "a@example.in", "B@Example.in", None]),
    _field([ABSENT, ABSENT, "+919876543210", "98765 43211"]),
    _field([ABSENT, True, False]),
    st.one_of(st.just(ABSENT), st.fixed_dictionaries({}, optional={
        "sms": st.booleans(), "email": st.booleans(), "whatsapp": st.booleans()}))),
    min_size=1, max_size=6)
# What is stored before the batch arrives: nothing, or c-1 opted out of sms.
BEFORE = st.sampled_from([[], [{"external_id": "c-1", "email": "old@example.in",
                                "phone": "+919000000001", "consent": {"sms": False}}]])


def _state(engine: sa.Engine) -> dict[str, Any]:
    with Session(engine) as s:
        customers = {c.external_id: (c.email, c.phone, c.consent_sms, c.consent_email,
                                     c.consent_whatsapp)
                     for c in s.exec(select(Customer)).all()}
        suppressed = {(r.address, r.channel) for r in s.exec(select(Suppression)).all()}
        # Per customer, in order (a batch writes its customers in id order).
        changes: dict[str, list[dict[str, bool]]] = {}
        for e in s.exec(select(AuditEvent).where(AuditEvent.action == "consent_changed")
                        .order_by(AuditEvent.id)).all():
            changes.setdefault(e.target, []).append(e.details["changes"])
    return {"customers": customers, "suppressed": suppressed, "changes": changes}


def _run(engine: sa.Engine, before: list[dict[str, Any]], items: list[dict[str, Any]],
         one_by_one: bool) -> dict[str, Any]:
    empty_all_tables(engine)
    if before:
        ingest_customers([CustomerIn.model_validate(i) for i in before], engine)
    parsed = [CustomerIn.model_validate(i) for i in items]
    if one_by_one:
        for item in parsed:
            ingest_customers([item], engine)
    else:
        ingest_customers(parsed, engine)
    return _state(engine)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=BEFORE, items=ITEMS)
def test_a_batch_is_the_same_as_its_items_one_by_one(engine: sa.Engine,
                                                     before: list[dict[str, Any]],
                                                     items: list[dict[str, Any]]) -> None:
    assert _run(engine, before, items, one_by_one=False) == _run(engine, before, items,
                                                                 one_by_one=True)


def test_opt_out_then_opt_in_in_one_batch_keeps_the_suppression(api: TestClient, make_key,
                                                                 app_settings: sa.Engine
                                                                 ) -> None:
    """The tester's case: the opt-in that follows in the same batch sets the flags back
    (an explicit opt-in) but, ingest never lifting a suppression, the address stays
    listed, as when the two items come in two requests."""
    headers = make_key("ingest", "read")
    r = api.post("/api/v1/customers", headers=headers, json={"items": [
        {"external_id": "c-10", "email": "c10@example.in", "unsubscribed": True},
        {"external_id": "c-10", "unsubscribed": False}]})
    assert r.status_code in (200, 202), r.text
    state = _state(app_settings)
    assert state["customers"]["c-10"][2:] == (True, True, True)
    assert ("c10@example.in", "email") in state["suppressed"]
    assert state["changes"]["customer:c-10"] == [
        {"sms": False, "email": False, "whatsapp": False},
        {"sms": True, "email": True, "whatsapp": True}]


def test_an_opt_out_lists_the_address_held_at_that_point_of_the_batch(engine: sa.Engine
                                                                      ) -> None:
    ingest_customers([CustomerIn.model_validate(
        {"external_id": "c-1", "email": "old@example.in"})], engine)
    ingest_customers([CustomerIn.model_validate(i) for i in (
        {"external_id": "c-1", "unsubscribed": True},
        {"external_id": "c-1", "email": "new@example.in"})], engine)
    state = _state(engine)
    assert state["suppressed"] == {("old@example.in", "email")}
    assert state["customers"]["c-1"][0] == "new@example.in"
