"""Landlines are not SMS-reachable, on SQLite, PostgreSQL and MariaDB: every ingest
path stores the phone's line type (phonenumbers), the launch's one statement skips a
fixed line for SMS as no_address (WhatsApp keeps it), the API preview and the wizard's
breakdown count exactly what the launch inserts, and migration 0010 classifies the
phones already stored."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from mini_crm import migrations
from mini_crm.core import contacts
from mini_crm.core.campaigns import reports, service
from mini_crm.core.ingestion import csv_import
from mini_crm.db import create_db_engine, session_scope
from mini_crm.models import CommunicationLog, Customer
from mini_crm.state.wizard_reads import reach as wizard_reach
from tests.databases import DIALECTS, fresh_database
from tests.integration.campaign_helpers import city_rules

LOG = CommunicationLog.__table__
CUSTOMER = Customer.__table__
PUNE = city_rules("Pune")
PHONES = {  # external id: (as typed, the stored type)
    "mobile": ("98765 43210", "mobile"),
    "mumbai-landline": ("+91 22 2345 6789", "fixed_line"),
    "bengaluru-landline": ("080 2345 6789", "fixed_line"),
    "toll-free": ("1800 180 1961", "toll_free"),
    "us": ("+1 650 253 0000", "fixed_line_or_mobile"),  # the US plan cannot tell: kept
}


def test_phone_types_from_the_library() -> None:
    for typed, kind in PHONES.values():
        assert contacts.phone_type(contacts.normalise_phone(typed)) == kind, typed
    assert contacts.phone_type(None) is None
    assert contacts.phone_label("+912223456789", "fixed_line") \
        == "+91 22 2345 6789 · landline, no SMS"
    assert contacts.phone_label("+919876543210", "mobile") == "+91 98765 43210"
    assert contacts.phone_label(None, None) == "—"


@pytest.fixture
def customers(api: TestClient, make_key, app_settings: sa.Engine,
              monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setattr(service, "enqueue_after_commit", lambda *a: None)
    h = make_key("ingest", "read")
    r = api.post("/api/v1/customers", headers=h, json={"items": [
        {"external_id": ext, "phone": typed, "city": "Pune", "name": ext}
        for ext, (typed, _kind) in PHONES.items()]})
    assert r.json()["accepted"] == len(PHONES), r.text
    return h


def _preview(channel: str) -> dict:
    with session_scope() as db:
        return service.preview_campaign(db, rules=PUNE, segment_id=None,
                                        channel=channel).as_dict()


def test_sms_skips_landlines_and_the_preview_wizard_and_launch_agree(
        api: TestClient, customers: dict[str, str], app_settings: sa.Engine) -> None:
    h = customers
    landline = api.get("/api/v1/customers/mumbai-landline", headers=h).json()
    assert (landline["phone"], landline["phone_type"], landline["sms_reachable"]) == (
        "+912223456789", "fixed_line", False)
    mobile = api.get("/api/v1/customers/mobile", headers=h).json()
    assert (mobile["phone_type"], mobile["sms_reachable"]) == ("mobile", True)

    sms = _preview("sms")
    assert (sms["matching"], sms["recipients"], sms["skipped"]["no_address"]) == (5, 2, 3)
    whatsapp = _preview("whatsapp")  # WhatsApp can reach a landline (business accounts)
    assert (whatsapp["recipients"], whatsapp["skipped"]["no_address"]) == (5, 0)
    over_api = api.post("/api/v1/campaigns/preview", headers=h,
                        json={"rules": PUNE, "channel": "sms"}).json()
    assert over_api == {**sms, "holdout_about": 0, "warnings": [],
                        "no_address_detail": {"no_phone": 0, "not_mobile": 3},
                        "recently_messaged": {"people": 0, "hours": 24, "campaigns": []},
                        "summary": "5 match · 2 will receive · skipped: 3 no mobile number"}
    wizard = wizard_reach(PUNE, "sms")
    assert (wizard["size"], wizard["eligible"], wizard["skipped"]) == (
        sms["matching"], sms["recipients"], sms["skipped"])
    assert wizard["skipped_text"] == "3 no mobile number"
    assert wizard["text"] == over_api["summary"]  # the page and the API say the same words

    with session_scope() as db:
        campaign = service.create_campaign(
            db, name="Landlines", rules=PUNE, segment_id=None, message_template="Hi",
            channel="sms", schedule_at=None, objective=None, created_by=None)
        campaign_id = campaign.id
    with app_settings.connect() as conn:
        rows = dict(conn.execute(sa.select(CUSTOMER.c.external_id, LOG.c.skip_reason)
                                 .join(CUSTOMER, CUSTOMER.c.id == LOG.c.customer_id)
                                 .where(LOG.c.campaign_id == campaign_id)).all())
    assert rows == {"mobile": None, "us": None, "mumbai-landline": "no_address",
                    "bengaluru-landline": "no_address", "toll-free": "no_address"}
    with session_scope() as db:
        detail = reports.get_campaign(db, campaign_id)
        assert detail is not None and detail.skipped == sms["skipped"]
        assert detail.recipients == sms["recipients"]


def test_skip_detail_tells_no_phone_from_not_mobile(
        api: TestClient, customers: dict[str, str], make_key,
        app_settings: sa.Engine) -> None:
    """no_address stays the key; skip_detail (log rows, log.csv) and no_address_detail
    (preview, detail) say which: no phone at all, or a number that takes no SMS."""
    h = customers
    api.post("/api/v1/customers", headers=h,
             json={"external_id": "no-phone", "city": "Pune", "name": "No Phone"})
    preview = api.post("/api/v1/campaigns/preview", headers=h,
                       json={"rules": PUNE, "channel": "sms"}).json()
    assert preview["skipped"]["no_address"] == 4
    assert preview["no_address_detail"] == {"no_phone": 1, "not_mobile": 3}
    whatsapp = api.post("/api/v1/campaigns/preview", headers=h,
                        json={"rules": PUNE, "channel": "whatsapp"}).json()
    assert whatsapp["no_address_detail"] == {"no_phone": 1}
    email = api.post("/api/v1/campaigns/preview", headers=h,
                     json={"rules": PUNE, "channel": "email"}).json()
    assert email["no_address_detail"] == {"no_email": 6} == {
        "no_email": email["skipped"]["no_address"]}

    h2 = make_key("campaigns", "read")
    made = api.post("/api/v1/campaigns", headers=h2, json={
        "name": "Landline detail", "rules": PUNE, "message": "Hi {first_name}",
        "channel": "sms"})
    assert made.status_code == 201, made.text
    detail = made.json()
    assert detail["skipped"]["no_address"] == 4
    assert detail["no_address_detail"] == {"no_phone": 1, "not_mobile": 3}
    assert api.get(f"/api/v1/campaigns/{detail['id']}", headers=h).json()[
        "no_address_detail"] == {"no_phone": 1, "not_mobile": 3}
    text = api.get(f"/api/v1/campaigns/{detail['id']}/log.csv", headers=h).text
    rows = list(csv.DictReader(io.StringIO(text)))
    got = {r["customer_external_id"]: (r["skip_reason"], r["skip_detail"]) for r in rows}
    assert got == {"mobile": ("", ""), "us": ("", ""), "no-phone": ("no_address", "no_phone"),
                   "mumbai-landline": ("no_address", "not_mobile"),
                   "bengaluru-landline": ("no_address", "not_mobile"),
                   "toll-free": ("no_address", "not_mobile")}
    with session_scope() as db:
        page, total = reports.log_page(db, detail["id"], status="skipped")
    assert total == 4
    assert sorted(r["skip_detail"] for r in page) == ["no_phone"] + ["not_mobile"] * 3


def test_the_type_follows_the_phone_on_every_write(
        api: TestClient, customers: dict[str, str], app_settings: sa.Engine,
        tmp_path: Path) -> None:
    h = customers
    # An update without a phone keeps the type; a new phone brings its own.
    api.post("/api/v1/customers", headers=h,
             json={"external_id": "mumbai-landline", "name": "Renamed"})
    assert api.get("/api/v1/customers/mumbai-landline",
                   headers=h).json()["phone_type"] == "fixed_line"
    api.post("/api/v1/customers", headers=h,
             json={"external_id": "mumbai-landline", "phone": "+91 99887 76655"})
    assert api.get("/api/v1/customers/mumbai-landline",
                   headers=h).json()["phone_type"] == "mobile"
    api.post("/api/v1/customers", headers=h, json={"external_id": "mobile", "phone": ""})
    cleared = api.get("/api/v1/customers/mobile", headers=h).json()
    assert (cleared["phone"], cleared["phone_type"]) == (None, None)
    # CSV import: the same path.
    path = tmp_path / "people.csv"
    path.write_text("customer_id,name,phone,city\nfrom-csv,Csv,022 2345 6700,Pune\n")
    mapping = csv_import.guess_mapping("customers", csv_import.read_header(path))
    assert csv_import.process(path, "customers", mapping, write=True).imported == 1
    assert api.get("/api/v1/customers/from-csv", headers=h).json()["phone_type"] \
        == "fixed_line"


OLD = sa.table("customer", *(sa.column(c) for c in (
    "id", "external_id", "phone", "is_stub", "created_at", "updated_at", "total_spend",
    "order_count")), sa.column("attributes", sa.JSON))


@pytest.mark.parametrize("dialect_name", DIALECTS)
def test_migration_0010_classifies_stored_phones(dialect_name: str, tmp_path: Path) -> None:
    now = datetime(2026, 11, 1)
    phones = [contacts.normalise_phone(typed) for typed, _ in PHONES.values()] + [None]
    with fresh_database(dialect_name, tmp_path) as url:
        migrations.upgrade(url, "0009_segment_term")
        engine = create_db_engine(url)
        try:
            with engine.begin() as conn:
                conn.execute(OLD.insert(), [
                    {"id": i + 1, "external_id": f"c{i}", "phone": p, "is_stub": False,
                     "attributes": {}, "created_at": now, "updated_at": now,
                     "total_spend": 0, "order_count": 0} for i, p in enumerate(phones)])
            migrations.upgrade(url)
            with engine.connect() as conn:
                got = [r.phone_type for r in conn.execute(sa.text(
                    "SELECT phone_type FROM customer ORDER BY id"))]
            assert got == [kind for _, kind in PHONES.values()] + [None]
            migrations.downgrade(url, "0009_segment_term")
            columns = {c["name"] for c in sa.inspect(engine).get_columns("customer")}
            assert "phone_type" not in columns
        finally:
            engine.dispose()
