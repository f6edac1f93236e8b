"""A CSV row says everything wrong with it, a repeated order id is said, and dates come
in the shapes spreadsheets write them (h25, found by a fresh API tester)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, select

from mini_crm.core import brand_time
from mini_crm.core.ingestion import csv_import
from mini_crm.models import Order

ORDERS = {"external_id": "Order ID", "customer_external_id": "Customer", "amount": "Total",
          "ordered_at": "Order Date"}


def test_a_bad_date_does_not_hide_the_rows_other_errors(app_settings: sa.Engine,
                                                        tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("Customer ID,Email,Joined On,Unsubscribed\n"
                    "csv-x2,bad@@mail,32/01/2026,maybe\n"
                    "csv-x3,ok@example.in,29/11/2025,no\n")
    mapping = csv_import.guess_mapping("customers", csv_import.read_header(path))
    report = csv_import.process(path, "customers", mapping, write=False)
    assert (report.rows, report.valid, report.error_count) == (2, 1, 3)
    assert sorted(e["field"] for e in report.errors) == ["created_at", "email",
                                                         "unsubscribed"]
    assert {e["row"] for e in report.errors} == {2}
    date_error = next(e for e in report.errors if e["field"] == "created_at")
    assert "January has 31 days in 2026" in date_error["message"]


def test_a_row_with_only_a_bad_date_is_refused_with_that_one_error(
        app_settings: sa.Engine, tmp_path: Path) -> None:
    """The unreadable (required) date is taken out before the schema checks the row:
    it is not also reported as "Order Date is empty"."""
    path = tmp_path / "orders.csv"
    path.write_text("Order ID,Customer,Total,Order Date\n"
                    "o1,c1,10,yesterday-ish\n"
                    "o2,c1,10,29/11/2025\n")
    report = csv_import.process(path, "orders", ORDERS, write=True)
    assert (report.valid, report.imported, report.error_count) == (1, 1, 1)
    [error] = report.errors
    assert (error["row"], error["field"]) == (2, "ordered_at")
    assert error["message"].startswith("Order Date: 'yesterday-ish' is not a date this "
                                       "import reads; write it like 29/11/2026")
    assert "29-Nov-2026" in error["message"] and "1:30 PM" in error["message"]
    assert "ISO 8601 only" not in error["message"]


def test_spreadsheet_date_shapes_are_read(app_settings: sa.Engine, tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("Order ID,Customer,Total,Order Date\n"
                    "o1,c1,10,29-Nov-2025\n"
                    'o2,c1,10,29/11/2025 1:30 PM\n'
                    'o3,c1,10,"Nov 28, 2025"\n'
                    "o4,c1,10,27 November 2025 12:15 am\n"
                    "o5,c1,10,29/11/2025 13:30 PM\n")
    report = csv_import.process(path, "orders", ORDERS, write=True)
    assert report.imported == 4
    assert [(e["row"], e["field"]) for e in report.errors] == [(6, "ordered_at")]
    assert "13 PM is not a time of day" in report.errors[0]["message"]
    with Session(app_settings) as s:
        at = {ext: brand_time.local_time(ts) for ext, ts in
              s.exec(select(Order.external_id, Order.ordered_at)).all()}
    assert at["o1"].date() == date(2025, 11, 29)
    assert at["o2"].strftime("%Y-%m-%d %H:%M") == "2025-11-29 13:30"
    assert at["o3"].date() == date(2025, 11, 28)
    assert at["o4"].strftime("%Y-%m-%d %H:%M") == "2025-11-27 00:15"


def test_an_order_id_repeated_in_the_file_is_said(app_settings: sa.Engine,
                                                  tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("Order ID,Customer,Total,Order Date\n"
                    "rep-1,c1,10,2025-11-01\n"
                    "rep-2,c1,20,2025-11-02\n"
                    "rep-1,c1,30,2025-11-03\n")
    dry = csv_import.process(path, "orders", ORDERS, write=False)
    assert (dry.rows, dry.valid, dry.error_count) == (3, 2, 1)
    assert dry.errors == [{"row": 2, "field": "external_id", "message":
                           "order rep-1 appears on rows 2 and 4; the later row was used"}]
    done = csv_import.process(path, "orders", ORDERS, write=True)
    assert (done.valid, done.imported, done.error_count) == (2, 2, 1)
    with Session(app_settings) as s:
        amount = s.exec(select(Order.amount).where(Order.external_id == "rep-1")).one()
    assert amount == 30


def test_a_repeat_in_a_later_chunk_is_said_and_counted_once(app_settings: sa.Engine,
                                                            tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("Order ID,Customer,Total,Order Date\n"
                    "rep-1,c1,10,2025-11-01\n"
                    "rep-2,c1,20,2025-11-02\n"
                    "rep-3,c1,30,2025-11-03\n"
                    "rep-1,c1,40,2025-11-04\n")
    chunks = list(csv_import.process_iter(csv_import.open_csv(path), "orders", ORDERS,
                                          write=True, chunk=2))
    report, last_errors = chunks[-1]
    assert (report.rows, report.valid, report.imported, report.error_count) == (4, 3, 3, 1)
    assert last_errors == [{"row": 2, "field": "external_id", "message":
                            "order rep-1 appears on rows 2 and 5; the later row was used"}]
    with Session(app_settings) as s:
        assert s.exec(select(sa.func.count()).select_from(Order)).one() == 3
