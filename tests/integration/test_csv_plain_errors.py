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
            (4, "created_at", "30 February 2025 does not exist; February 2025 has 28 days"),
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
    assert rows[3][0] == "ordered_at" and " is in the future; an order's date can be at " \
        "most 24 hours ahead of now" in rows[3][1]
    assert rows[4][0] == "amount" and "'true' is not a number" in rows[4][1]
    with Session(app_settings) as s:
        assert s.exec(select(Order.external_id)).all() == ["o1"]
