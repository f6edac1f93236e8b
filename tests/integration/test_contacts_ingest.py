"""Every ingestion door stores normalised contacts and NULL for blank text, on every DB."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from mini_crm.core.ingestion import csv_import, stream
from mini_crm.models import Customer


@pytest.fixture
def ingest(make_key) -> dict[str, str]:
    return make_key("ingest", "read")


def _customers(engine: sa.Engine) -> dict[str, Customer]:
    with Session(engine) as s:
        return {c.external_id: c for c in s.exec(select(Customer)).all()}


def test_blank_and_whitespace_strings_are_stored_as_null(api: TestClient, ingest,
                                                         app_settings: sa.Engine) -> None:
    r = api.post("/api/v1/customers", headers=ingest, json={"items": [
        {"external_id": "b1", "name": "", "email": "   ", "phone": "\t", "city": " \n ",
         "attributes": {"tier": "  ", "visits": 3}},
        {"external_id": "b2", "name": "  Asha Rao  ", "city": " Pune "},
    ]})
    assert r.status_code == 202 and r.json()["accepted"] == 2, r.text
    got = _customers(app_settings)
    b1, b2 = got["b1"], got["b2"]
    assert (b1.name, b1.email, b1.phone, b1.city) == (None, None, None, None)
    assert b1.attributes == {"tier": None, "visits": 3}
    assert (b2.name, b2.city) == ("Asha Rao", "Pune")
    # A blank value sent later clears the field: blank means "no value", not "unchanged".
    api.post("/api/v1/customers", headers=ingest, json={"external_id": "b2", "city": "  "})
    assert _customers(app_settings)["b2"].city is None
    assert _customers(app_settings)["b2"].name == "Asha Rao"
    # A segment's "city is empty" finds both.
    preview = api.post("/api/v1/segments/preview", headers=ingest, json={"rules": {
        "combinator": "and", "rules": [{"field": "city", "operator": "is_null"}]}})
    assert preview.status_code == 200 and preview.json()["size"] == 2


def test_contacts_are_normalised_and_bad_ones_are_per_item_errors(
        api: TestClient, ingest, app_settings: sa.Engine) -> None:
    items = [
        {"external_id": "n1", "email": " Asha.Rao@Example.IN ", "phone": "098765-43210"},
        {"external_id": "n2", "phone": "call me", "name": "Ravi"},
        {"external_id": "n3", "phone": "9.19877E+11"},
        {"external_id": "n4", "email": "asha@@example.in"},
        {"external_id": "n5", "phone": "+44 20 7946 0958", "email": "R@Shop.co.uk"},
    ]
    body = api.post("/api/v1/customers", headers=ingest, json={"items": items}).json()
    assert body["accepted"] == 2 and body["rejected"] == 3
    errors = {e["index"]: e for e in body["errors"]}
    assert errors[1]["field"] == "phone" and "not a phone number" in errors[1]["message"]
    assert errors[2]["field"] == "phone" and "scientific notation" in errors[2]["message"]
    assert errors[3]["field"] == "email" and "not a valid email" in errors[3]["message"]
    got = _customers(app_settings)
    assert set(got) == {"n1", "n5"}
    assert (got["n1"].email, got["n1"].phone) == ("asha.rao@example.in", "+919876543210")
    assert (got["n5"].email, got["n5"].phone) == ("r@shop.co.uk", "+442079460958")
    shown = api.get("/api/v1/customers/n1", headers=ingest).json()
    assert shown["phone"] == "+919876543210"


def test_csv_import_normalises_and_reports_bad_rows(app_settings: sa.Engine,
                                                   tmp_path: Path) -> None:
    people = tmp_path / "people.csv"
    people.write_text(
        "id,name,email,phone,city,tier\n"
        "c1,Asha Rao,Asha.Rao@Example.in,+91 98765 43210,Pune,gold\n"
        "c2,  ,   ,9876501234,   , \n"
        "c3,Ravi,ravi@example.in,9.19877E+11,Delhi,silver\n"
        "c4,Meera,meera@@example.in,,Goa,\n", encoding="utf-8")
    mapping = csv_import.guess_mapping("customers", csv_import.read_header(people))
    report = csv_import.process(people, "customers", mapping, write=True)
    assert (report.rows, report.imported) == (4, 2)
    by_row = {e["row"]: e for e in report.errors}
    assert by_row[4]["field"] == "phone" and "scientific notation" in by_row[4]["message"]
    assert by_row[5]["field"] == "email"
    got = _customers(app_settings)
    assert (got["c1"].email, got["c1"].phone) == ("asha.rao@example.in", "+919876543210")
    assert (got["c2"].name, got["c2"].email, got["c2"].city) == (None, None, None)
    assert got["c2"].phone == "+919876501234" and got["c2"].attributes == {}


def test_stream_entry_keeps_good_items_when_one_fails(app_settings: sa.Engine) -> None:
    # An entry queued before normalisation existed: raw values, one unparseable phone.
    payload = [{"external_id": "s1", "email": "S1@Example.in", "phone": "98765 43210"},
               {"external_id": "s2", "phone": "call me"},
               {"external_id": "s3", "name": "   "}]
    written = stream.apply_entry({b"kind": b"customers", b"items": json.dumps(payload).encode()})
    assert written == 2
    got = _customers(app_settings)
    assert set(got) == {"s1", "s3"}
    assert (got["s1"].email, got["s1"].phone) == ("s1@example.in", "+919876543210")
    assert got["s3"].name is None
