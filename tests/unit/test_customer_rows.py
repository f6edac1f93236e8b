"""A customer's row as the list shows it (no DB involved)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from mini_crm.models import Customer, utcnow
from mini_crm.state.customers import _customer_row


def test_the_phone_line_carries_what_the_hidden_columns_show() -> None:
    """At 390 px the table showed the name alone; city, spend and orders sat behind a
    sideways swipe."""
    row = _customer_row(Customer(external_id="gid://shop/Customer/7", name="Asha Rao",
                                 city="Pune", total_spend=Decimal("12340.50"), order_count=1,
                                 last_order_at=utcnow() - timedelta(days=2)))
    assert (row["phone_line"], row["phone_orders"]) == ("Pune · ₹12,341",
                                                         "1 order · last 2 days ago")
    assert row["href"] == "/customers/gid%3A%2F%2Fshop%2FCustomer%2F7"
    new = _customer_row(Customer(external_id="n", name=None, total_spend=Decimal("0"),
                                 order_count=0))
    assert (new["phone_line"], new["phone_orders"]) == ("₹0", "0 orders")
