"""An order in a currency other than BRAND_CURRENCY is a per-item error on every ingest
door (API stored and queued, stream consumer, CSV import and its check), on SQLite,
PostgreSQL and MariaDB; the batch's other orders are kept. There are no exchange rates
offline: a USD amount used to be added unconverted to the customer's rupee total."""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from mini_crm.core.ingestion import csv_import, stream
from mini_crm.models import Customer, Order
from mini_crm.settings import get_settings
from tests.integration.test_ingest_stream import queued  # noqa: F401 - fixture

USD_REFUSED = ("currency USD: this workspace counts money in INR; convert the amount "
               "before sending it")


def _order(ext: str, cust: str, amount: str, currency: str | None = None) -> dict:
    item = {"external_id": ext, "customer_external_id": cust, "amount": amount,
            "ordered_at": "2025-10-20T19:30:00+05:30"}
    if currency is not None:
        item["currency"] = currency
    return item


def _stored(engine: sa.Engine) -> tuple[dict[str, str], dict[str, Decimal]]:
    with Session(engine) as s:
        orders = {o.external_id: o.currency for o in s.exec(select(Order)).all()}
        spend = {c.external_id: Decimal(c.total_spend)
                 for c in s.exec(select(Customer)).all()}
    return orders, spend


def test_api_refuses_another_currency_and_keeps_the_rest(
        api: TestClient, make_key, app_settings: sa.Engine) -> None:
    h = make_key("ingest", "read")
    r = api.post("/api/v1/orders", headers=h, json={"items": [
        _order("inr", "a", "1000.00", "INR"), _order("usd", "a", "50.00", "USD"),
        _order("plain", "a", "250.00"), _order("lower", "b", "10.00", "inr"),
        _order("eur", "b", "20.00", " eur ")]})
    assert r.status_code == 202, r.text
    body = r.json()
    assert (body["accepted"], body["rejected"]) == (3, 2)
    assert body["errors"] == [
        {"index": 1, "field": "currency", "message": USD_REFUSED},
        {"index": 4, "field": "currency", "message": "currency EUR: this workspace counts "
         "money in INR; convert the amount before sending it"}]
    orders, spend = _stored(app_settings)
    assert orders == {"inr": "INR", "plain": "INR", "lower": "INR"}
    assert spend == {"a": Decimal("1250.00"), "b": Decimal("10.00")}
    # A single item is refused the same way (a 202 with the error, nothing stored).
    one = api.post("/api/v1/orders", headers=h, json=_order("usd-2", "c", "5", "USD"))
    assert one.json()["errors"][0]["message"] == USD_REFUSED
    assert api.get("/api/v1/orders/usd-2", headers=h).status_code == 404


def test_brand_currency_setting_decides(api: TestClient, make_key, app_settings: sa.Engine,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRAND_CURRENCY", "USD")
    get_settings.cache_clear()
    h = make_key("ingest")
    r = api.post("/api/v1/orders", headers=h, json={"items": [
        _order("usd", "a", "50.00", "USD"), _order("default", "a", "5.00"),
        _order("inr", "a", "100.00", "INR")]})
    body = r.json()
    assert (body["accepted"], body["rejected"]) == (2, 1), r.text
    assert body["errors"][0]["message"] == ("currency INR: this workspace counts money in "
                                            "USD; convert the amount before sending it")
    orders, spend = _stored(app_settings)
    assert orders == {"usd": "USD", "default": "USD"}  # the default is the brand's
    assert spend == {"a": Decimal("55.00")}


def test_csv_check_and_import_name_the_row(app_settings: sa.Engine, tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("order_id,customer_id,total,currency,date\n"
                    "o1,a,100,INR,2025-01-02T10:00:00\n"
                    "o2,a,40,USD,2025-01-03T10:00:00\n"
                    "o3,b,50,,2025-01-04T10:00:00\n")
    mapping = csv_import.guess_mapping("orders", csv_import.read_header(path))
    assert mapping["currency"] == "currency"
    checked = csv_import.process(path, "orders", mapping, write=False)
    assert (checked.valid, checked.imported, checked.error_count) == (2, 0, 1)
    assert checked.errors == [{"row": 3, "field": "currency", "message": USD_REFUSED}]
    assert _stored(app_settings) == ({}, {})
    report = csv_import.process(path, "orders", mapping, write=True)
    assert (report.valid, report.imported, report.error_count) == (2, 2, 1)
    assert report.errors == checked.errors
    orders, spend = _stored(app_settings)
    assert orders == {"o1": "INR", "o3": "INR"}
    assert spend == {"a": Decimal("100.00"), "b": Decimal("50.00")}


def test_queued_api_and_the_consumer_refuse_it(
        api: TestClient, make_key, queued, caplog: pytest.LogCaptureFixture) -> None:  # noqa: F811
    from mini_crm.db import get_engine

    h = make_key("ingest")
    r = api.post("/api/v1/orders", headers=h, json={"items": [
        _order("usd", "a", "50.00", "USD"), _order("fine", "a", "10.00")]})
    body = r.json()
    assert body["mode"] == "queued" and (body["accepted"], body["rejected"]) == (1, 1)
    assert body["errors"][0] == {"index": 0, "field": "currency", "message": USD_REFUSED}
    # An entry queued before the check existed (or by another client of the stream):
    # the consumer validates again, logs the refused item and writes the rest.
    names = stream.Names.from_settings()
    queued.xadd(names.stream, {"kind": "orders", "v": "2", "items": json.dumps([
        _order("old-usd", "b", "70.00", "USD"), _order("old-inr", "b", "7.00", "INR")])})
    with caplog.at_level(logging.WARNING, logger=stream.__name__):
        assert stream.consume_once(queued, "t1", block_ms=100) == 2
    assert f"ingest orders item 0 left out: currency: {USD_REFUSED}" in caplog.text
    orders, spend = _stored(get_engine())
    assert orders == {"fine": "INR", "old-inr": "INR"}
    assert spend == {"a": Decimal("10.00"), "b": Decimal("7.00")}
