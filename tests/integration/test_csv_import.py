from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from mini_crm.core.ingestion import csv_import
from mini_crm.models import Customer


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
    with pytest.raises(ValueError, match="customer_external_id, amount, ordered_at"):
        csv_import.process(f, "orders", {"external_id": "id"}, write=False)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ValueError, match="empty"):
        csv_import.read_header(empty)
