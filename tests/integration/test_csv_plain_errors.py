"""CSV validate and import errors in the user's words: the mapped column's name, a blank
required cell, booleans, impossible dates and orders dated in the future (every
database; the valid rows are imported)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, select

from mini_crm.core.ingestion import csv_import
from mini_crm.models import Customer, Order


def test_customer_rows_name_their_columns(app_settings: sa.Engine, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("Customer ID,Name,Unsubscribed,Signed up\n"
                    "c1,Asha,no,2025-01-02\n"
                    "c2,Ravi,maybe,2025-01-02\n"
                    "c3,Meera,yes,2025-02-30\n"
                    ",Nobody,no,2025-01-02\n")
    mapping = {"external_id": "Customer ID", "name": "Name", "unsubscribed": "Unsubscribed",
               "created_at": "Signed up"}
    for write in (False, True):
        report = csv_import.process(path, "customers", mapping, write=write)
        assert [(e["row"], e["field"], e["message"]) for e in report.errors] == [
            (3, "unsubscribed", "Unsubscribed must be yes/no, true/false or 1/0, not 'maybe'"),
            (4, "created_at",
             "Signed up: 2025-02-30 is not a date (February has 28 days in 2025)"),
            (5, "external_id", "Customer ID is empty on row 5")]
    with Session(app_settings) as s:
        assert s.exec(select(Customer.external_id)).all() == ["c1"]


def test_an_order_row_in_the_future_is_a_row_error(app_settings: sa.Engine,
                                                   tmp_path: Path) -> None:
    later = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    path = tmp_path / "orders.csv"
    path.write_text("order_id,customer_id,total,date\n"
                    "o1,c1,100,2025-01-02\n"
                    f"o2,c1,50,{later}\n"
                    "o3,c1,true,2025-01-02\n")
    mapping = csv_import.guess_mapping("orders", csv_import.read_header(path))
    report = csv_import.process(path, "orders", mapping, write=True)
    assert report.imported == 1
    rows = {e["row"]: (e["field"], e["message"]) for e in report.errors}
    assert rows[3][0] == "ordered_at" and rows[3][1].startswith("date ")  # the column
    assert " is in the future; an order's date can be at most 24 hours ahead of now" \
        in rows[3][1] and "ordered_at" not in rows[3][1]
    assert rows[4][0] == "amount" and rows[4][1].startswith("total: 'true' is not a number")
    with Session(app_settings) as s:
        assert s.exec(select(Order.external_id)).all() == ["o1"]


def test_every_row_error_names_the_files_column(app_settings: sa.Engine,
                                                tmp_path: Path) -> None:
    """The schema's field names (ordered_at, consent.sms) never reach the person fixing
    the file: the message says the column header they mapped."""
    later = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%d")
    orders = tmp_path / "orders.csv"
    orders.write_text("Order No,Buyer,Total,Order Date\n"
                      f"o1,c1,100,{later}\n"
                      "o2,c1,abc,2025-01-02\n")
    report = csv_import.process(orders, "orders", {
        "external_id": "Order No", "customer_external_id": "Buyer", "amount": "Total",
        "ordered_at": "Order Date"}, write=False)
    assert [(e["field"], e["message"].split(" is ")[0].split(":")[0])
            for e in report.errors] == [("ordered_at", f"Order Date {int(later[8:])} "
                                         f"{datetime.fromisoformat(later):%B %Y}"),
                                        ("amount", "Total")]
    people = tmp_path / "people.csv"
    people.write_text("ID,Opted out,SMS ok,E-mail\n"
                      "c1,yes,yes,a@example.com\n"
                      "c2,no,no,not-an-email\n")
    report = csv_import.process(people, "customers", {
        "external_id": "ID", "unsubscribed": "Opted out", "consent_sms": "SMS ok",
        "email": "E-mail"}, write=False)
    assert [(e["row"], e["field"], e["message"]) for e in report.errors] == [
        (2, "unsubscribed", "Opted out is true but SMS ok is true; send one of them, or "
                            "make them agree"),
        (3, "email", report.errors[1]["message"])]
    assert report.errors[1]["message"].startswith("E-mail: 'not-an-email' is not a valid")


def test_the_json_api_names_the_field_of_a_consent_contradiction(api, make_key) -> None:
    """The CSV import said field "unsubscribed" and the JSON API said null for the same
    item; both read the field from the model-level check (FieldValueError) now."""
    r = api.post("/api/v1/customers", headers=make_key("ingest"), json={"items": [
        {"external_id": "c1", "unsubscribed": True, "consent": {"sms": True}}]})
    assert r.status_code == 202, r.text
    assert (r.json()["accepted"], r.json()["rejected"]) == (0, 1)
    assert [(e["index"], e["field"], e["message"]) for e in r.json()["errors"]] == [
        (0, "unsubscribed", "unsubscribed is true but consent.sms is true; send one of "
                            "them, or make them agree")]
