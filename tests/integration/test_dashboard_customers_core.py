"""Dashboard figures and customer reads agree with the rows, on every database."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlmodel import Session

from mini_crm.core import customers, dashboard
from mini_crm.models import Campaign, Customer, Order

NOW = datetime(2026, 6, 15, 12, 0, 0)


def _add(session: Session, rows: list) -> None:
    for row in rows:
        session.add(row)
        session.flush()
    session.commit()


@pytest.fixture
def shop(session: Session) -> Session:
    people = [
        Customer(id=1, external_id="c1", name="Asha Rao", email="asha@gmail.com", city="Pune",
                 total_spend=Decimal("1500.00"), order_count=2, last_order_at=NOW - timedelta(10),
                 created_at=NOW - timedelta(400)),
        Customer(id=2, external_id="c2", name="Ravi_Kumar", email="ravi@x.in", city="Mumbai",
                 total_spend=Decimal("300.50"), order_count=1, last_order_at=NOW - timedelta(200),
                 created_at=NOW - timedelta(300)),
        Customer(id=3, external_id="c3", name="Zoë 100%", email=None, city="Pune",
                 created_at=NOW - timedelta(5)),
    ]
    orders = [
        Order(external_id="o1", customer_id=1, amount=Decimal("1000.00"),
              ordered_at=datetime(2026, 5, 3, 10)),
        Order(external_id="o2", customer_id=1, amount=Decimal("500.00"),
              ordered_at=datetime(2026, 6, 5, 10)),
        Order(external_id="o3", customer_id=2, amount=Decimal("300.50"),
              ordered_at=datetime(2025, 11, 27, 10)),
        Order(external_id="o4", customer_id=2, amount=Decimal("999.00"), status="cancelled",
              ordered_at=datetime(2026, 6, 1, 10)),
    ]
    _add(session, [*people, *orders, Campaign(name="c", message_template="hi",
                                               status="completed", started_at=NOW),
                   Campaign(name="draft", message_template="hi"),
                   Campaign(name="stopped before sending", message_template="hi",
                            status="cancelled"),
                   Campaign(name="later", message_template="hi", status="scheduled",
                            scheduled_at=NOW + timedelta(1))])
    return session


def test_overview_excludes_cancelled_orders(shop: Session) -> None:
    """Also: "Campaigns launched" counts only campaigns that started sending."""
    ov = dashboard.overview(shop, now=NOW)
    assert (ov.customers, ov.orders, ov.campaigns) == (3, 3, 1)
    assert ov.revenue == Decimal("1800.50")
    assert ov.avg_order_value == Decimal("600.17")
    assert ov.active_customers_90d == 1


def test_revenue_by_month_fills_gaps_in_order(shop: Session) -> None:
    months = dashboard.revenue_by_month(shop, months=8, now=NOW)
    assert [m.month for m in months] == ["2025-11", "2025-12", "2026-01", "2026-02", "2026-03",
                                        "2026-04", "2026-05", "2026-06"]
    by = {m.month: (m.revenue, m.orders) for m in months}
    assert by["2025-11"] == (Decimal("300.50"), 1)
    assert by["2026-05"] == (Decimal("1000.00"), 1)
    assert by["2026-06"] == (Decimal("500.00"), 1)  # the cancelled order is not revenue
    assert by["2026-01"] == (Decimal("0"), 0)


def test_top_cities(shop: Session) -> None:
    assert dashboard.top_cities(shop) == [("Pune", 2, Decimal("1500.00")),
                                          ("Mumbai", 1, Decimal("300.50"))]


def test_empty_database_overview(session: Session) -> None:
    ov = dashboard.overview(session, now=NOW)
    assert (ov.customers, ov.orders, ov.revenue, ov.avg_order_value) == (0, 0, 0, 0)


@pytest.mark.parametrize(("query", "expected"), [
    ("", ["c3", "c2", "c1"]),
    ("PUNE", ["c3", "c1"]),
    ("gmail", ["c1"]),
    ("_", ["c2"]),          # LIKE wildcards in the search are literal
    ("100%", ["c3"]),
    ("zoë", ["c3"]),
    ("nobody", []),
    ("asha pun", ["c1"]),   # every word, in any column: name and city
    ("  Pune   gmail ", ["c1"]),
    ("asha mumbai", []),
])
def test_search_is_case_insensitive_and_literal(shop: Session, query: str,
                                                expected: list[str]) -> None:
    page = customers.list_customers(shop, query=query)
    assert [c.external_id for c in page.rows] == expected
    assert page.total == len(expected)


def test_sort_and_pages(shop: Session) -> None:
    first = customers.list_customers(shop, sort="spend", page=1, page_size=2)
    second = customers.list_customers(shop, sort="spend", page=2, page_size=2)
    assert [c.external_id for c in first.rows] == ["c1", "c2"]
    assert [c.external_id for c in second.rows] == ["c3"]
    assert first.pages == 2 and first.total == 3
    with pytest.raises(ValueError, match="unknown sort"):
        customers.list_customers(shop, sort="drop table")


def test_detail_and_paginated_orders(shop: Session) -> None:
    c = customers.get_customer(shop, "c1")
    assert c is not None and c.name == "Asha Rao"
    assert customers.get_customer(shop, "missing") is None
    orders = customers.customer_orders(shop, c.id, page=1, page_size=1)
    assert [o.external_id for o in orders.rows] == ["o2"]  # newest first
    assert orders.total == 2 and orders.pages == 2
