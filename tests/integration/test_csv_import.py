from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from mini_crm.core.ingestion import csv_import
from mini_crm.models import Customer, Order


def test_customers_then_orders_from_csv(app_settings: sa.Engine, tmp_path: Path) -> None:
    people = tmp_path / "people.csv"
    rows = ["Customer ID,Name,Email,City,Loyalty Tier"]
    rows += [f"c{i},Name {i},n{i}@example.in,Pune,gold" for i in range(2500)]
    rows += ["c-bad,Bad,not-an-email,Pune,silver", ",No Id,x@y.in,Pune,"]
    people.write_text("\n".join(rows) + "\n")
    header = csv_import.read_header(people)
    mapping = csv_import.guess_mapping("customers", header)
    assert mapping == {"external_id": "Customer ID", "name": "Name", "email": "Email",
                       "city": "City"}
    seen = []
    dry = csv_import.process(people, "customers", mapping, write=False)
    assert (dry.rows, dry.valid, dry.imported, dry.error_count) == (2502, 2500, 0, 2)
    assert [(e["row"], e["field"]) for e in dry.errors] == [(2502, "email"),
                                                            (2503, "external_id")]
    done = csv_import.process(people, "customers", mapping, write=True,
                              progress=lambda r: seen.append(r.rows))
    assert done.imported == 2500 and seen == [1000, 2000, 2502]
    with Session(app_settings) as s:
        c = s.exec(select(Customer).where(Customer.external_id == "c7")).one()
        assert c.attributes == {"loyalty_tier": "gold"}

    orders = tmp_path / "orders.csv"
    orders.write_text("order_id,customer_id,total,date\n"
                      "o1,c7,100.50,2025-01-02T10:00:00\no2,c7,50,2025-02-02T10:00:00\n")
    mapping = csv_import.guess_mapping("orders", csv_import.read_header(orders))
    assert csv_import.process(orders, "orders", mapping, write=True).imported == 2
    with Session(app_settings) as s:
        c = s.exec(select(Customer).where(Customer.external_id == "c7")).one()
        assert (c.total_spend, c.order_count) == (Decimal("150.50"), 2)


def test_missing_required_mapping_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "o.csv"
    f.write_text("id\n1\n")
    with pytest.raises(ValueError, match=r"Customer ID \(customer_external_id\), Amount "
                                         r"\(amount\), Order date \(ordered_at\)"):
        csv_import.process(f, "orders", {"external_id": "id"}, write=False)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ValueError, match="empty"):
        csv_import.read_header(empty)


def test_real_world_orders_file_semicolons_windows_1252_amounts_and_brand_time(
        app_settings: sa.Engine, tmp_path: Path) -> None:
    """A semicolon file saved by Excel on Windows: Indian grouping, Rs amounts, a name in
    Windows-1252, timestamps without an offset (read in Asia/Kolkata), and bad rows."""
    text = ("Order ID;Customer ID;Total;Date;Notes\r\n"
            "o1;zoë;1,499.00;2026-11-29 01:30;café\r\n"       # 01:30 IST = 28 Nov 20:00 UTC
            "o2;zoë;Rs 2,500;2026-11-29T05:30:00;\r\n"         # 05:30 IST = 00:00 UTC
            'o3;zoë;"1,49,999";2026-11-29T10:00:00+00:00;\r\n'  # an offset is kept
            "o4;zoë;5.000,00;2026-11-29 10:00;\r\n"           # ambiguous: refused
            "o5;zoë;12;yesterday;\r\n"                         # not a timestamp
            "\r\n")
    path = tmp_path / "orders.csv"
    path.write_bytes(text.encode("cp1252"))
    csv_file = csv_import.open_csv(path)
    assert csv_file.dialect.describe() == "Windows-1252, semicolon-separated"
    mapping = csv_import.guess_mapping("orders", csv_file.header)
    assert mapping == {"external_id": "Order ID", "customer_external_id": "Customer ID",
                       "amount": "Total", "ordered_at": "Date"}
    report = csv_import.process(path, "orders", mapping, write=True)
    assert (report.rows, report.valid, report.imported, report.error_count) == (5, 3, 3, 2)
    assert [(e["row"], e["field"]) for e in report.errors] == [(5, "amount"), (6, "ordered_at")]
    assert "write 5000.00" in report.errors[0]["message"]
    with Session(app_settings) as s:
        orders = {o.external_id: o for o in s.exec(select(Order)).all()}
        customer = s.exec(select(Customer).where(Customer.external_id == "zoë")).one()
    assert {k: (o.amount, o.ordered_at) for k, o in orders.items()} == {
        "o1": (Decimal("1499.00"), datetime(2026, 11, 28, 20, 0)),
        "o2": (Decimal("2500.00"), datetime(2026, 11, 29, 0, 0)),
        "o3": (Decimal("149999.00"), datetime(2026, 11, 29, 10, 0)),
    }
    assert customer.total_spend == Decimal("153998.00") and customer.order_count == 3


def test_brand_timezone_setting_is_used_for_csv_timestamps(
        app_settings: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mini_crm.settings import get_settings

    monkeypatch.setenv("BRAND_TIMEZONE", "Europe/London")
    get_settings.cache_clear()
    path = tmp_path / "c.csv"
    path.write_text("external_id,created_at\nsummer,2026-07-01 09:00\nwinter,2026-12-01 09:00\n")
    assert csv_import.process(path, "customers", {"external_id": "external_id",
                                                  "created_at": "created_at"},
                              write=True).imported == 2
    with Session(app_settings) as s:
        got = dict(s.exec(select(Customer.external_id, Customer.created_at)).all())
    assert got == {"summer": datetime(2026, 7, 1, 8, 0), "winter": datetime(2026, 12, 1, 9, 0)}


def test_row_shape_problems_are_row_errors(app_settings: sa.Engine, tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    # UTF-8 ('Zoë' in c1) with one row pasted in from a Windows-1252 file (c5)
    path.write_bytes('external_id,name\nc1,Zoë\nc2,Ravi,extra\nc3,"Big" Store\nc4\n'
                     .encode() + b"c5,Zo\xeb\n")
    report = csv_import.process(path, "customers", {"external_id": "external_id",
                                                    "name": "name"}, write=True)
    assert (report.rows, report.imported, report.error_count) == (5, 2, 3)
    rows = {e["row"]: e["message"] for e in report.errors}
    assert "3 values but the header names 2 columns" in rows[3]
    assert "line 4" in rows[4] and "two quotes" in rows[4]
    assert "could not read line 6: byte 0xEB is not valid UTF-8" in rows[6]
    with Session(app_settings) as s:
        assert sorted(s.exec(select(Customer.external_id)).all()) == ["c1", "c4"]


def test_header_problems_refuse_the_file(tmp_path: Path) -> None:
    f = tmp_path / "h.csv"
    f.write_text("\n\nexternal_id\n")
    with pytest.raises(csv_import.CsvFileError, match="no header row"):
        csv_import.open_csv(f)
    f.write_text("id,name\n1,a\n")
    with pytest.raises(ValueError, match="no column named 'Customer'"):
        csv_import.check_mapping("customers", {"external_id": "Customer"}, ["id", "name"])
    with pytest.raises(ValueError, match="unknown field"):
        csv_import.check_mapping("customers", {"shoe_size": "id", "external_id": "id"})


@pytest.mark.parametrize(("header", "words"), [
    ("external_id,name,name", "the column 'name' appears twice (columns 2 and 3"),
    ("External ID,external_id,city", "the columns 'External ID' and 'external_id' name"),
])
def test_two_columns_for_one_thing_refuse_the_file(tmp_path: Path, header: str,
                                                   words: str) -> None:
    f = tmp_path / "d.csv"
    f.write_text(f"{header}\n1,a,b\n")
    with pytest.raises(csv_import.CsvFileError, match=words.replace("(", r"\(")):
        csv_import.open_csv(f)


def test_distinct_columns_and_blank_trailing_columns_are_fine(tmp_path: Path) -> None:
    f = tmp_path / "ok.csv"
    f.write_text("external_id,phone1,phone2,,\n1,a,b,,\n")
    assert csv_import.open_csv(f).header == ["external_id", "phone1", "phone2", "", ""]


def test_a_list_without_an_id_column_is_keyed_by_email_then_phone() -> None:
    assert csv_import.guess_mapping("customers", ["Email", "First name", "City"]) == {
        "email": "Email", "city": "City", "external_id": "Email"}
    assert csv_import.guess_mapping("customers", ["Mobile", "Phone"])["external_id"] == "Phone"
    assert csv_import.guess_mapping("customers", ["Customer ID", "Email"])["external_id"] == \
        "Customer ID"
    assert "external_id" not in csv_import.guess_mapping("customers", ["First name"])
    assert "external_id" not in csv_import.guess_mapping("orders", ["Email", "Amount"])


def test_a_list_keyed_by_email_or_phone_keys_the_normalised_address(
        app_settings: sa.Engine, tmp_path: Path) -> None:
    """A fresh tester's list had "New.Person@Example.in" and "new.person@example.in":
    two customers for one inbox. Keyed by the address, one spelling is one person."""
    people = tmp_path / "list.csv"
    people.write_text("Email,City\nNew.Person@Example.in,Pune\n new.person@example.in ,Goa\n"
                      "not-an-email,Pune\n")
    mapping = csv_import.guess_mapping("customers", csv_import.read_header(people))
    done = csv_import.process(people, "customers", mapping, write=True)
    assert (done.valid, done.error_count) == (2, 1)
    assert done.errors[0]["field"] == "email"
    phones = tmp_path / "phones.csv"
    phones.write_text("Phone,City\n+91 98765 43210,Pune\n098765-43210,Delhi\n")
    mapping = csv_import.guess_mapping("customers", csv_import.read_header(phones))
    assert csv_import.process(phones, "customers", mapping, write=True).valid == 2
    with Session(app_settings) as s:
        got = {c.external_id: c.city for c in s.exec(select(Customer)).all()}
    assert got == {"new.person@example.in": "Goa", "+919876543210": "Delhi"}


def test_a_list_keyed_by_email_or_phone_updates_the_customer_holding_it(
        app_settings: sa.Engine, tmp_path: Path) -> None:
    """A fresh tester's list keyed by email (" asha.rao@example.in ") made a second
    customer beside t-1, who holds that email. It updates t-1 now; with two holders,
    the lowest customer id (the one a launch keeps)."""
    with Session(app_settings) as s:
        s.add(Customer(external_id="t-1", name="Asha", email="asha.rao@example.in"))
        s.add(Customer(external_id="t-2", phone="+919876543210"))
        s.add(Customer(external_id="dup-a", email="twice@example.in"))
        s.add(Customer(external_id="dup-b", email="twice@example.in"))
        s.commit()
    people = tmp_path / "list.csv"
    people.write_text("Email,City\n asha.rao@example.in ,Pune\nTwice@Example.in,Goa\n"
                      "new@example.in,Delhi\n")
    mapping = csv_import.guess_mapping("customers", csv_import.read_header(people))
    assert mapping["external_id"] == "Email"
    assert csv_import.process(people, "customers", mapping, write=True).imported == 3
    phones = tmp_path / "phones.csv"
    phones.write_text("Mobile,City\n098765 43210,Chennai\n")
    mapping = csv_import.guess_mapping("customers", csv_import.read_header(phones))
    assert csv_import.process(phones, "customers", mapping, write=True).imported == 1
    with Session(app_settings) as s:
        got = {c.external_id: (c.name, c.email, c.phone, c.city)
               for c in s.exec(select(Customer)).all()}
    assert got == {
        "t-1": ("Asha", "asha.rao@example.in", None, "Pune"),
        "t-2": (None, None, "+919876543210", "Chennai"),
        "dup-a": (None, "twice@example.in", None, "Goa"),
        "dup-b": (None, "twice@example.in", None, None),
        "new@example.in": (None, "new@example.in", None, "Delhi")}


def test_header_words_of_real_exports_map_per_kind() -> None:
    """A fresh tester's orders export "Order No;Customer ID;Order Date;Amount;Status" had
    Customer ID taken as the order id and was refused; their customers file's "Full
    Name", "Mobile" and "Email Opt-in" were left as custom attributes."""
    assert csv_import.guess_mapping(
        "orders", ["Order No", "Customer ID", "Order Date", "Amount", "Status"]) == {
        "external_id": "Order No", "customer_external_id": "Customer ID",
        "ordered_at": "Order Date", "amount": "Amount", "status": "Status"}
    assert csv_import.guess_mapping(
        "customers", ["Customer ID", "Full Name", "Mobile No.", "Email ID", "Email Opt-in",
                      "Joined On"]) == {
        "external_id": "Customer ID", "name": "Full Name", "phone": "Mobile No.",
        "email": "Email ID", "consent_email": "Email Opt-in", "created_at": "Joined On"}
    # An exact field name beats a synonym, whatever the column order.
    assert csv_import.guess_mapping(
        "orders", ["Order #", "order_id", "customer", "total", "date"])["external_id"] == \
        "order_id"
