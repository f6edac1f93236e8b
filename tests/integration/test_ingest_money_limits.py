"""An order a customer's total spend (NUMERIC(14,2)) cannot hold is a per-item error on
every ingest door, on SQLite, PostgreSQL and MariaDB; the batch's other orders are kept
(on PostgreSQL the overflow used to fail the whole batch)."""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from mini_crm.core.ingestion import csv_import, limits, stream
from mini_crm.core.ingestion.schemas import OrderIn
from mini_crm.core.ingestion.upsert import ingest_orders, write_orders_in_transaction
from mini_crm.models import Customer, Order
from tests.integration.test_ingest_stream import queued  # noqa: F401 - fixture

NEAR = "999999999000.00"  # 999.99 below the largest total kept


def _order(ext: str, cust: str, amount: str, status: str = "completed") -> dict:
    return {"external_id": ext, "customer_external_id": cust, "amount": amount,
            "status": status, "ordered_at": "2025-10-20T19:30:00+05:30"}


def _spend(engine: sa.Engine) -> dict[str, tuple[Decimal, int]]:
    with Session(engine) as s:
        return {c.external_id: (Decimal(c.total_spend), c.order_count)
                for c in s.exec(select(Customer)).all()}


def _orders(engine: sa.Engine) -> dict[str, Decimal]:
    with Session(engine) as s:
        return {o.external_id: Decimal(o.amount) for o in s.exec(select(Order)).all()}


def test_api_refuses_the_overflowing_order_and_keeps_the_rest(
        api: TestClient, make_key, app_settings: sa.Engine) -> None:
    h = make_key("ingest", "read")
    first = api.post("/api/v1/orders", headers=h, json=_order("big", "a", NEAR))
    assert first.json()["accepted"] == 1, first.text
    items = [_order("ok-a", "a", "999.99"),          # exactly up to the limit: fits
             _order("over-a", "a", "0.01"),          # one paisa too many: refused
             _order("ok-b", "b", "250.00"),
             _order("huge", "b", "1000000000000"),    # beyond the column itself
             _order("ok-c", "c", NEAR), _order("over-c", "c", "1000.00")]
    r = api.post("/api/v1/orders", headers=h, json={"items": items})
    assert r.status_code == 202, r.text
    body = r.json()
    assert (body["accepted"], body["rejected"]) == (3, 3)
    by_index = {e["index"]: e for e in body["errors"]}
    assert sorted(by_index) == [1, 3, 5]
    assert by_index[1]["field"] == "amount"
    assert by_index[1]["message"] == (
        "amount ₹0.01 would take customer a's total spend to ₹10,00,00,00,00,000, "
        "more than the largest total kept (₹9,99,99,99,99,999.99); the order was not "
        "stored")
    assert by_index[3]["field"] == "amount"
    assert "customer c's total spend" in by_index[5]["message"]
    assert _orders(app_settings).keys() == {"big", "ok-a", "ok-b", "ok-c"}
    spend = _spend(app_settings)
    assert spend["a"] == (Decimal("999999999999.99"), 2)
    assert spend["b"] == (Decimal("250.00"), 1) and spend["c"] == (Decimal(NEAR), 1)


def test_a_changed_or_cancelled_order_frees_room(app_settings: sa.Engine) -> None:
    """A re-sent order replaces its old amount; a cancelled one counts nothing; an
    order moved to another customer leaves the old one's total: checked as written."""
    def order(ext: str, cust: str, amount: str, status: str = "completed") -> OrderIn:
        return OrderIn.model_validate(_order(ext, cust, amount, status))

    assert ingest_orders([order("o1", "a", NEAR)]) == 1
    # o1 lowered and a new order in the same batch: the new one fits only after it.
    done = write_orders_in_transaction([order("o1", "a", "500.00"),
                                        order("o2", "a", NEAR)])
    assert (done.written, done.refused) == (2, {})
    done = write_orders_in_transaction([order("o3", "a", "5000.00")])
    assert done.written == 0 and set(done.refused) == {"o3"}
    # Cancelling o2 makes room; the refused order then fits.
    done = write_orders_in_transaction([order("o2", "a", NEAR, "cancelled"),
                                        order("o3", "a", "5000.00")])
    assert (done.written, done.refused) == (2, {})
    # A refunded order of any size counts nothing, so it is never refused.
    assert write_orders_in_transaction([order("o4", "a", NEAR, "refunded")]).refused == {}
    # Moving o3 to customer b: a's total drops, b's rises.
    done = write_orders_in_transaction([order("o3", "b", "5000.00")])
    assert done.refused == {}
    spend = _spend(app_settings)
    assert spend["a"] == (Decimal("500.00"), 1) and spend["b"] == (Decimal("5000.00"), 1)


def test_csv_import_names_the_row(app_settings: sa.Engine, tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("order_id,customer_id,total,date\n"
                    f"o1,a,{NEAR},2025-01-02T10:00:00\n"
                    "o2,a,2000,2025-01-03T10:00:00\n"
                    "o3,b,50,2025-01-04T10:00:00\n")
    mapping = csv_import.guess_mapping("orders", csv_import.read_header(path))
    checked = csv_import.process(path, "orders", mapping, write=False)  # the check first
    assert (checked.valid, checked.imported, checked.error_count) == (2, 0, 1)
    assert [(e["row"], e["field"]) for e in checked.errors] == [(3, "amount")]
    assert _orders(app_settings) == {}
    report = csv_import.process(path, "orders", mapping, write=True)
    assert (report.rows, report.valid, report.imported, report.error_count) == (3, 2, 2, 1)
    assert [(e["row"], e["field"]) for e in report.errors] == [(3, "amount")]
    assert "customer a's total spend" in report.errors[0]["message"]
    assert _orders(app_settings).keys() == {"o1", "o3"}


def test_queued_api_answers_early_and_the_consumer_checks_again(
        api: TestClient, make_key, queued, caplog: pytest.LogCaptureFixture) -> None:  # noqa: F811
    from mini_crm.db import get_engine

    h = make_key("ingest")
    assert ingest_orders([OrderIn.model_validate(_order("big", "a", NEAR))]) == 1
    r = api.post("/api/v1/orders", headers=h, json={"items": [
        _order("over", "a", "5000"), _order("fine", "b", "10")]})
    body = r.json()
    assert body["mode"] == "queued" and (body["accepted"], body["rejected"]) == (1, 1)
    assert body["errors"][0]["index"] == 0 and body["errors"][0]["field"] == "amount"
    # Two requests that each fit alone but not together: the second is refused when
    # the consumer writes it (under the row locks), logged, and the entry completes.
    for ext in ("late-1", "late-2"):
        r = api.post("/api/v1/orders", headers=h, json=_order(ext, "a", "600.00"))
        assert r.json()["accepted"] == 1
    with caplog.at_level(logging.WARNING, logger=stream.__name__):
        assert stream.consume_once(queued, "t1", block_ms=100) == 2
    assert "ingest order late-2 left out: amount ₹600" in caplog.text
    assert _orders(get_engine()).keys() == {"big", "fine", "late-1"}
    assert queued.xlen(stream.Names.from_settings().stream) == 0


def test_check_orders_reads_without_writing(app_settings: sa.Engine) -> None:
    items = [OrderIn.model_validate(_order("x1", "new", NEAR)),
             OrderIn.model_validate(_order("x2", "new", NEAR))]
    assert set(limits.check_orders(items)) == {"x2"}
    assert _spend(app_settings) == {}  # no stub customer made by a check
