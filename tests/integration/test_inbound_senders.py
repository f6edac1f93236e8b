"""Inbound replies in the sender forms real vendors send, and a reply time far in the
future refused; on every database."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi.testclient import TestClient

from mini_crm.core.inbound import sender_address
from tests.integration.test_consent_api import _consent, _inbound, _suppressed


def test_sender_forms() -> None:
    assert sender_address("email", "Zoe <Zoe@Example.in>") == "Zoe@Example.in"
    assert sender_address("email", '"Rao, Asha" <asha@example.in>') == "asha@example.in"
    assert sender_address("email", "zoe@example.in") == "zoe@example.in"
    assert sender_address("whatsapp", "whatsapp:+919876543210") == "+919876543210"
    assert sender_address("sms", "SMS:+91 98765 43210") == "+91 98765 43210"
    assert sender_address("sms", "tel:+14155552671") == "+14155552671"
    assert sender_address("sms", "+919876543210") == "+919876543210"


def test_named_email_and_twilio_whatsapp_opt_out(api: TestClient, make_key,
                                                 app_settings: sa.Engine) -> None:
    headers = make_key("ingest", "read")
    api.post("/api/v1/customers", headers=headers, json={"items": [
        {"external_id": "zoe", "email": "zoe@example.in", "phone": "+919876543210"}]})
    r = _inbound(api, [
        {"from": "Zoe <zoe@example.in>", "channel": "email", "body": "STOP",
         "at": "2026-11-30T10:00:00Z"},
        {"from": "whatsapp:+919876543210", "channel": "whatsapp", "body": "stop"},
    ])
    assert r.status_code == 202, r.text
    assert r.json()["opted_out"] == 2 and r.json()["errors"] == []
    assert _consent(api, headers, "zoe") == {"sms": True, "email": False, "whatsapp": False}
    assert {("zoe@example.in", "email"), ("+919876543210", "whatsapp")} <= _suppressed(
        app_settings)


def test_a_reply_dated_far_in_the_future_is_refused(api: TestClient, make_key,
                                                    app_settings: sa.Engine) -> None:
    headers = make_key("ingest", "read")
    api.post("/api/v1/customers", headers=headers, json={"items": [
        {"external_id": "ravi", "phone": "+919876543211"}]})
    r = _inbound(api, [
        {"from": "+919876543211", "channel": "sms", "body": "STOP",
         "at": "2099-01-01T00:00:00Z"},
        {"from": "Not an address <>", "channel": "email", "body": "STOP"}])
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["accepted"] == 0 and [e["index"] for e in body["errors"]] == [0, 1]
    assert body["errors"][0]["field"] == "at"
    assert "1 January 2099 is in the future" in body["errors"][0]["message"]
    assert "Traceback" not in r.text
    assert _consent(api, headers, "ravi")["sms"] is True
