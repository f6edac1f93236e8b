"""Consent from the API, ingestion, CSV and inbound replies; the suppression list; on every DB."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from mini_crm.core import suppression
from mini_crm.core.delivery import signing
from mini_crm.core.ingestion import csv_import, stream
from mini_crm.models import AuditEvent, Suppression
from mini_crm.settings import get_settings

ASHA = {"external_id": "asha", "name": "Asha Rao", "email": "Asha.Rao@Example.in",
        "phone": "+91 98765 43210"}
ALL_IN = {"sms": True, "email": True, "whatsapp": True}


@pytest.fixture
def ingest(make_key) -> dict[str, str]:
    return make_key("ingest", "read")


def _consent(api: TestClient, headers: dict[str, str], ext: str = "asha") -> dict[str, bool]:
    r = api.get(f"/api/v1/customers/{ext}", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["consent"]


def _suppressed(engine: sa.Engine) -> set[tuple[str, str]]:
    with Session(engine) as s:
        return {(r.address, r.channel) for r in s.exec(select(Suppression)).all()}


def _consent_events(engine: sa.Engine) -> list[AuditEvent]:
    with Session(engine) as s:
        return list(s.exec(select(AuditEvent).where(AuditEvent.action == "consent_changed")
                           .order_by(AuditEvent.id)).all())


def test_unsubscribe_and_subscribe_endpoints(api: TestClient, ingest,
                                             app_settings: sa.Engine) -> None:
    api.post("/api/v1/customers", headers=ingest, json=ASHA)
    assert _consent(api, ingest) == ALL_IN
    r = api.post("/api/v1/customers/asha/unsubscribe", headers=ingest,
                 json={"channels": ["sms"], "reason": "asked on the phone"})
    assert r.status_code == 200, r.text
    assert r.json() == {"external_id": "asha", "consent": {**ALL_IN, "sms": False}}
    assert _suppressed(app_settings) == {("+919876543210", "sms")}
    [event] = _consent_events(app_settings)
    assert event.target == "customer:asha" and event.actor_label.startswith("api key test")
    assert event.details["changes"] == {"sms": False}
    assert event.details["source"] == "api" and event.details["reason"] == "asked on the phone"
    # Again: nothing changes, nothing new in the trail.
    api.post("/api/v1/customers/asha/unsubscribe", headers=ingest, json={"channels": ["sms"]})
    assert len(_consent_events(app_settings)) == 1
    # No body: every channel.
    r = api.post("/api/v1/customers/asha/unsubscribe", headers=ingest)
    assert r.json()["consent"] == {"sms": False, "email": False, "whatsapp": False}
    assert _suppressed(app_settings) == {("+919876543210", "sms"), ("+919876543210", "whatsapp"),
                                         ("asha.rao@example.in", "email")}
    # An explicit opt-in takes the address off the list for that channel only.
    r = api.post("/api/v1/customers/asha/subscribe", headers=ingest, json={"channels": ["sms"]})
    assert r.json()["consent"] == {"sms": True, "email": False, "whatsapp": False}
    assert ("+919876543210", "sms") not in _suppressed(app_settings)
    assert ("+919876543210", "whatsapp") in _suppressed(app_settings)

    assert api.post("/api/v1/customers/nobody/unsubscribe", headers=ingest).status_code == 404
    bad = api.post("/api/v1/customers/asha/unsubscribe", headers=ingest,
                   json={"channels": ["fax"]})
    assert bad.status_code == 422 and "fax" in bad.json()["error"]["message"]
    assert api.post("/api/v1/customers/asha/subscribe", headers=ingest,
                    json={}).status_code == 422  # an opt-in must name its channels
    reader = api.post("/api/v1/customers/asha/unsubscribe", headers=api_read(api, ingest))
    assert reader.status_code == 403


def api_read(api: TestClient, _ingest: dict[str, str]) -> dict[str, str]:
    from mini_crm.core import apikeys
    from mini_crm.db import session_scope

    with session_scope() as s:
        key = apikeys.create_key(s, "reader", ["read"])
    return {"Authorization": f"Bearer {key.secret}"}


def test_opt_out_wins_over_later_ingest_without_consent(api: TestClient, ingest,
                                                        app_settings: sa.Engine) -> None:
    r = api.post("/api/v1/customers", headers=ingest, json={**ASHA, "unsubscribed": True})
    assert r.json()["accepted"] == 1, r.text
    none = {"sms": False, "email": False, "whatsapp": False}
    assert _consent(api, ingest) == none
    assert len(_suppressed(app_settings)) == 3
    # The shop backend re-sends the customer (new city, no consent keys): still opted out.
    api.post("/api/v1/customers", headers=ingest, json={**ASHA, "city": "Pune"})
    api.post("/api/v1/customers", headers=ingest, json={"items": [{"external_id": "asha"}]})
    assert _consent(api, ingest) == none
    # A per-channel opt-in sets that channel's flag only, and leaves the address on the
    # suppression list: a shop's nightly sync that knows nothing of the STOP and sends
    # consent: true must not undo it (a fresh tester re-subscribed a STOP this way).
    api.post("/api/v1/customers", headers=ingest,
             json={"external_id": "asha", "consent": {"email": True}})
    assert _consent(api, ingest) == {**none, "email": True}
    assert ("asha.rao@example.in", "email") in _suppressed(app_settings)
    read = api.get("/api/v1/customers/asha", headers=ingest).json()
    assert read["suppressed"] == {"sms": True, "email": True, "whatsapp": True}
    # The subscribe endpoint is the explicit way back.
    api.post("/api/v1/customers/asha/subscribe", headers=ingest, json={"channels": ["email"]})
    assert ("asha.rao@example.in", "email") not in _suppressed(app_settings)
    # Contradictions are a per-item error; the rest of the batch is kept.
    body = api.post("/api/v1/customers", headers=ingest, json={"items": [
        {"external_id": "x1", "unsubscribed": True, "consent": {"sms": True}},
        {"external_id": "x2", "consent": {"sms": False, "fax": False}},
        {"external_id": "x3", "consent": {"whatsapp": False}}]}).json()
    assert body["accepted"] == 1 and body["rejected"] == 2
    assert "consent.sms is true" in body["errors"][0]["message"]
    assert _consent(api, ingest, "x3") == {**ALL_IN, "whatsapp": False}
    sources = {e.details["source"] for e in _consent_events(app_settings)}
    assert sources == {"api"}


def test_a_sync_with_consent_true_does_not_undo_a_stop_reply(api: TestClient, ingest, make_key,
                                                              app_settings: sa.Engine) -> None:
    api.post("/api/v1/customers", headers=ingest, json=ASHA)
    _inbound(api, [{"from": "+919876543210", "channel": "sms", "body": "STOP"}])
    assert ("+919876543210", "sms") in _suppressed(app_settings)
    for body in ({**ASHA, "consent": ALL_IN}, {**ASHA, "unsubscribed": False}):
        assert api.post("/api/v1/customers", headers=ingest, json=body).status_code == 202
        read = api.get("/api/v1/customers/asha", headers=ingest).json()
        assert read["consent"]["sms"] is True  # the flag says what the sync said...
        assert read["suppressed"]["sms"] is True  # ...and the STOP still blocks sending
        assert ("+919876543210", "sms") in _suppressed(app_settings)
    preview = api.post("/api/v1/campaigns/preview", headers=make_key("campaigns", "read"), json={
        "rules": {"combinator": "and", "rules": [
            {"field": "total_spend", "operator": ">=", "value": 0}]}, "channel": "sms"})
    assert preview.status_code == 200, preview.text
    assert preview.json()["skipped"]["suppressed"] == 1
    # START from the handset is the person's own way back.
    _inbound(api, [{"from": "+919876543210", "channel": "sms", "body": "START"}])
    assert ("+919876543210", "sms") not in _suppressed(app_settings)


def test_suppression_follows_the_address_to_another_record(api: TestClient, ingest,
                                                           app_settings: sa.Engine) -> None:
    api.post("/api/v1/customers", headers=ingest, json=ASHA)
    api.post("/api/v1/customers/asha/unsubscribe", headers=ingest, json={"channels": ["sms"]})
    # The same handset arrives under another record, written another way.
    api.post("/api/v1/customers", headers=ingest,
             json={"external_id": "asha-2", "phone": "098765-43210"})
    assert _consent(api, ingest, "asha-2") == ALL_IN  # its own flags say nothing...
    with Session(app_settings) as s:  # ...but its address is on the list
        assert suppression.listed(s, [("+919876543210", "sms"), ("+919876543210", "whatsapp")]
                                  ) == {("+919876543210", "sms")}
    # The read says so, rather than looking reachable (a fresh user was misled by it).
    read = api.get("/api/v1/customers/asha-2", headers=ingest).json()
    assert read["suppressed"] == {"sms": True, "email": False, "whatsapp": False}
    listed = api.get("/api/v1/customers", headers=ingest).json()["items"]
    assert {c["external_id"]: c["suppressed"]["sms"] for c in listed} == {
        "asha": True, "asha-2": True}
    # A nightly sync that says consent: true for everyone does not undo the STOP...
    api.post("/api/v1/customers", headers=ingest,
             json={"external_id": "asha-2", "consent": {"sms": True}})
    assert ("+919876543210", "sms") in _suppressed(app_settings)
    # ...but the explicit opt-in endpoint does, as documented, with an audit entry.
    r = api.post("/api/v1/customers/asha-2/subscribe", headers=ingest, json={"channels": ["sms"]})
    assert r.status_code == 200, r.text
    assert ("+919876543210", "sms") not in _suppressed(app_settings)
    read = api.get("/api/v1/customers/asha-2", headers=ingest).json()
    assert read["suppressed"]["sms"] is False
    with Session(app_settings) as s:
        removed = s.exec(select(AuditEvent).where(
            AuditEvent.action == "suppression_removed")).all()
    assert [(e.details["address"], e.details["source"]) for e in removed] == [
        ("+919876543210", "api")]
    assert removed[0].actor_label.startswith("api key ")


def test_suppressions_api(api: TestClient, ingest, app_settings: sa.Engine) -> None:
    r = api.post("/api/v1/suppressions", headers=ingest,
                 json={"address": " Spam.Trap@Example.COM ", "channel": "email",
                       "reason": "complaint"})
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["address"] == "spam.trap@example.com" and first["source"] == "api"
    again = api.post("/api/v1/suppressions", headers=ingest,
                     json={"address": "spam.trap@example.com", "channel": "email"})
    assert again.status_code == 200 and again.json()["id"] == first["id"]
    for address in ("9876543210", "+91 98765 00001", "+44 20 7946 0958"):
        assert api.post("/api/v1/suppressions", headers=ingest,
                        json={"address": address, "channel": "sms"}).status_code == 201
    bad = api.post("/api/v1/suppressions", headers=ingest,
                   json={"address": "call me", "channel": "sms"})
    assert bad.status_code == 422 and "not a phone number" in bad.json()["error"]["message"]
    assert api.post("/api/v1/suppressions", headers=ingest,
                    json={"address": "a@b.in", "channel": "fax"}).status_code == 422

    page1 = api.get("/api/v1/suppressions?limit=3", headers=ingest).json()
    assert [i["address"] for i in page1["items"]] == ["+442079460958", "+919876500001",
                                                      "+919876543210"]
    page2 = api.get(f"/api/v1/suppressions?limit=3&cursor={page1['next_cursor']}",
                    headers=ingest).json()
    assert [i["address"] for i in page2["items"]] == ["spam.trap@example.com"]
    assert page2["next_cursor"] is None
    only_email = api.get("/api/v1/suppressions?channel=email", headers=ingest).json()
    assert len(only_email["items"]) == 1
    found = api.get("/api/v1/suppressions?q=98765", headers=ingest).json()
    assert len(found["items"]) == 2

    assert api.delete(f"/api/v1/suppressions/{first['id']}", headers=ingest).status_code == 204
    assert api.delete(f"/api/v1/suppressions/{first['id']}", headers=ingest).status_code == 404
    with Session(app_settings) as s:
        actions = [e.action for e in s.exec(select(AuditEvent)).all()]
    assert actions.count("suppression_added") == 4 and actions.count("suppression_removed") == 1
    reader = api_read(api, ingest)
    assert api.get("/api/v1/suppressions", headers=reader).status_code == 200
    assert api.post("/api/v1/suppressions", headers=reader,
                    json={"address": "a@b.in", "channel": "email"}).status_code == 403


def _inbound(api: TestClient, messages: list[dict], secret: str | None = None):
    body = json.dumps({"messages": messages}).encode()
    headers = signing.signed_headers(secret or get_settings().receipt_signing_secret, body)
    return api.post("/api/v1/inbound", content=body,
                    headers={**headers, "content-type": "application/json"})


def test_inbound_stop_and_start(api: TestClient, ingest, app_settings: sa.Engine) -> None:
    api.post("/api/v1/customers", headers=ingest, json={"items": [
        ASHA, {"external_id": "asha-dup", "phone": "9876543210"},
        {"external_id": "ravi", "phone": "+91 91234 56789", "email": "ravi@example.in"}]})
    r = _inbound(api, [
        {"from": "+919876543210", "channel": "sms", "body": "  stop ",
         "at": "2026-11-30T10:00:00Z"},
        {"from": "091234 56789", "channel": "whatsapp", "body": "Unsubscribe."},
        {"from": "RAVI@example.in", "channel": "email", "body": "thanks, see you"},
        {"from": "call me", "channel": "sms", "body": "STOP"},
        {"from": "+91 90000 00000", "channel": "sms", "body": "STOP"},  # nobody holds it
        {"channel": "sms", "body": "STOP"},
    ])
    assert r.status_code == 202, r.text
    body = r.json()
    assert (body["accepted"], body["opted_out"], body["ignored"]) == (4, 3, 1)
    assert [e["index"] for e in body["errors"]] == [3, 5]
    assert "not a phone number" in body["errors"][0]["message"]
    # Both records of the handset moved together.
    assert _consent(api, ingest)["sms"] is False
    assert _consent(api, ingest, "asha-dup")["sms"] is False
    assert _consent(api, ingest, "asha-dup")["whatsapp"] is True
    assert _consent(api, ingest, "ravi") == {**ALL_IN, "whatsapp": False}
    assert ("+919000000000", "sms") in _suppressed(app_settings)
    events = _consent_events(app_settings)
    assert {e.details["source"] for e in events} == {"inbound"}
    assert events[0].details["reason"] == "replied STOP"

    r = _inbound(api, [{"from": "+91 98765 43210", "channel": "sms", "body": "START"}])
    assert r.json()["opted_in"] == 1
    assert _consent(api, ingest)["sms"] is True and _consent(api, ingest, "asha-dup")["sms"]
    assert ("+919876543210", "sms") not in _suppressed(app_settings)

    forged = _inbound(api, [{"from": "+919876543210", "channel": "sms", "body": "STOP"}],
                      secret="not-the-secret")
    assert forged.status_code == 401
    assert _consent(api, ingest)["sms"] is True


def test_csv_consent_columns_are_imports(app_settings: sa.Engine, tmp_path: Path) -> None:
    people = tmp_path / "people.csv"
    people.write_text("id,email,phone,unsubscribed,consent_sms\n"
                      "c1,c1@example.in,9876543210,yes,\n"
                      "c2,c2@example.in,9876543211,,no\n"
                      "c3,c3@example.in,9876543212,no,\n"
                      "c4,c4@example.in,9876543213,maybe,\n", encoding="utf-8")
    mapping = csv_import.guess_mapping("customers", csv_import.read_header(people))
    assert mapping["unsubscribed"] == "unsubscribed" and mapping["consent_sms"] == "consent_sms"
    report = csv_import.process(people, "customers", mapping, write=True)
    assert report.imported == 3 and report.errors[0]["row"] == 5
    assert report.errors[0]["field"] == "unsubscribed"
    with Session(app_settings) as s:
        from mini_crm.models import Customer

        got = {c.external_id: (c.consent_sms, c.consent_email, c.consent_whatsapp)
               for c in s.exec(select(Customer)).all()}
    assert got == {"c1": (False, False, False), "c2": (False, True, True),
                   "c3": (True, True, True)}
    events = _consent_events(app_settings)
    assert len(events) == 2 and {e.details["source"] for e in events} == {"import"}
    assert ("+919876543211", "sms") in _suppressed(app_settings)


def test_queued_ingest_keeps_the_sender_as_actor(app_settings: sa.Engine) -> None:
    payload = [{"external_id": "q1", "email": "q1@example.in", "unsubscribed": True}]
    stream.apply_entry({b"kind": b"customers", b"items": json.dumps(payload).encode(),
                        b"actor": b"api key shop (mc_abcd)"})
    [event] = _consent_events(app_settings)
    assert event.actor_label == "api key shop (mc_abcd)" and event.details["source"] == "api"


def test_the_simulator_posts_a_signed_reply(api: TestClient, ingest,
                                            app_settings: sa.Engine) -> None:
    from mini_crm.api.app import create_api
    from mini_crm.simulator import create_app
    from tests.servers import serve

    api.post("/api/v1/customers", headers=ingest, json=ASHA)
    simulator = TestClient(create_app(get_settings()))
    auth = {"Authorization": f"Bearer {get_settings().vendor_secret or 'sim'}"}
    with serve(create_api()) as base:
        r = simulator.post("/v1/inbound", headers=auth, json={
            "from": "98765 43210", "channel": "sms", "body": "Stop",
            "inbound_url": f"{base}/api/v1/inbound"})
        assert r.status_code == 200, r.text
        assert r.json()["status"] == 202 and r.json()["answer"]["opted_out"] == 1
        assert _consent(api, ingest)["sms"] is False
        back = simulator.post("/v1/inbound", headers=auth, json={
            "from": "+919876543210", "body": "START", "inbound_url": f"{base}/api/v1/inbound"})
        assert back.json()["answer"]["opted_in"] == 1
    assert _consent(api, ingest)["sms"] is True
    nowhere = simulator.post("/v1/inbound", headers=auth, json={
        "from": "+919876543210", "body": "STOP", "inbound_url": "http://127.0.0.1:9/x"})
    assert nowhere.status_code == 502 and "could not reach" in nowhere.json()["error"]["message"]
    assert simulator.post("/v1/inbound", json={"from": "1", "body": "STOP"}).status_code == 401
