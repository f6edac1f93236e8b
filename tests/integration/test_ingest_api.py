"""The ingestion API contract, on every database."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from mini_crm.models import Customer, Order


@pytest.fixture
def ingest(make_key) -> dict[str, str]:
    return make_key("ingest", "read")


def _order(ext: str, cust: str, amount: str, status: str = "completed",
           at: str = "2025-10-20T19:30:00+05:30") -> dict:
    return {"external_id": ext, "customer_external_id": cust, "amount": amount,
            "status": status, "ordered_at": at}


def _stats(engine: sa.Engine, ext: str) -> tuple:
    with Session(engine) as s:
        c = s.exec(select(Customer).where(Customer.external_id == ext)).one()
        return c.total_spend, c.order_count, c.first_order_at, c.last_order_at, c.is_stub


def test_one_customer_and_a_batch(api: TestClient, ingest, app_settings) -> None:
    r = api.post("/api/v1/customers", json={"external_id": "c1", "name": "Asha",
                                            "email": "Asha@Example.in", "city": "Pune"},
                 headers=ingest)
    assert r.status_code == 202, r.text
    assert r.json() == {"accepted": 1, "rejected": 0, "errors": [], "mode": "stored"}
    batch = {"items": [{"external_id": f"b{i}", "name": f"N{i}"} for i in range(50)]}
    assert api.post("/api/v1/customers", json=batch, headers=ingest).json()["accepted"] == 50
    got = api.get("/api/v1/customers/c1", headers=ingest).json()
    assert got["email"] == "asha@example.in" and got["stats"]["order_count"] == 0


def test_mixed_batch_keeps_valid_items_and_names_each_error(api: TestClient, ingest,
                                                            app_settings) -> None:
    items = [{"external_id": "ok1"}, {"external_id": "", "name": "x"},
             {"external_id": "ok2", "email": "not-an-email"}, {"external_id": "ok3"},
             "nonsense", {"external_id": "ok4", "shoe": 42}]
    body = api.post("/api/v1/customers", json={"items": items}, headers=ingest).json()
    assert body["accepted"] == 2 and body["rejected"] == 4
    by_index = {e["index"]: e for e in body["errors"]}
    assert by_index[1]["field"] == "external_id"
    assert by_index[2]["field"] == "email" and "email" in by_index[2]["message"]
    assert by_index[4]["message"] == "expected an object"
    assert by_index[5]["field"] == "shoe"
    with Session(app_settings) as s:
        assert sorted(s.exec(select(Customer.external_id)).all()) == ["ok1", "ok3"]


def test_envelope_errors(api: TestClient, ingest, app_settings) -> None:
    bad_json = api.post("/api/v1/customers", content=b"{nope",
                        headers={**ingest, "content-type": "application/json"})
    assert bad_json.status_code == 400
    assert bad_json.json()["error"]["code"] == "bad_request"
    extra = api.post("/api/v1/customers", json={"items": [], "extra": 1}, headers=ingest)
    assert extra.status_code == 422 and "extra" in extra.json()["error"]["message"]
    too_many = api.post("/api/v1/orders", json={"items": [{}] * 5001}, headers=ingest)
    assert too_many.status_code == 422 and "5000" in too_many.json()["error"]["message"]
    huge = api.post("/api/v1/customers", content=b"[" + b" " * (11 * 1024 * 1024) + b"]",
                    headers={**ingest, "content-type": "application/json"})
    assert huge.status_code == 413


def test_orders_make_stubs_and_keep_stats_exact(api: TestClient, ingest, app_settings) -> None:
    send = lambda *orders: api.post("/api/v1/orders", json={"items": list(orders)},  # noqa: E731
                                    headers=ingest)
    assert send(_order("o1", "late", "100.50"), _order("o2", "late", "200.00",
                at="2025-11-01T10:00:00Z")).json()["accepted"] == 2
    spend, count, first, last, stub = _stats(app_settings, "late")
    assert (spend, count, stub) == (Decimal("300.50"), 2, True)
    assert first.isoformat() == "2025-10-20T14:00:00" and last.isoformat() == "2025-11-01T10:00:00"

    send(_order("o1", "late", "100.50"))                   # re-sent: counts once
    assert _stats(app_settings, "late")[:2] == (Decimal("300.50"), 2)
    send(_order("o2", "late", "250.00", at="2025-11-01T10:00:00Z"))   # amount corrected
    assert _stats(app_settings, "late")[:2] == (Decimal("350.50"), 2)
    send(_order("o1", "late", "100.50", status="Cancelled"))          # no longer counts
    spend, count, first, _, _ = _stats(app_settings, "late")
    assert (spend, count) == (Decimal("250.00"), 1)
    assert first.isoformat() == "2025-11-01T10:00:00"
    send(_order("o3", "late", "10.00", status="refunded"))
    assert _stats(app_settings, "late")[:2] == (Decimal("250.00"), 1)

    # The customer's own data arrives later and fills the stub in, keeping the stats.
    api.post("/api/v1/customers", json={"external_id": "late", "name": "Ravi"}, headers=ingest)
    spend, count, _, _, stub = _stats(app_settings, "late")
    assert (spend, count, stub) == (Decimal("250.00"), 1, False)


def test_an_order_moved_to_another_customer_moves_its_spend(api: TestClient, ingest,
                                                            app_settings) -> None:
    api.post("/api/v1/orders", json=_order("o9", "a", "500"), headers=ingest)
    api.post("/api/v1/orders", json=_order("o9", "b", "500"), headers=ingest)
    assert _stats(app_settings, "a")[:2] == (Decimal("0"), 0)
    assert _stats(app_settings, "b")[:2] == (Decimal("500.00"), 1)


def test_partial_customer_update_keeps_other_fields(api: TestClient, ingest,
                                                    app_settings) -> None:
    api.post("/api/v1/customers", json={"external_id": "p", "name": "Old", "city": "Pune",
                                        "attributes": {"tier": "gold"}}, headers=ingest)
    api.post("/api/v1/customers", json={"external_id": "p", "city": "Mumbai"}, headers=ingest)
    got = api.get("/api/v1/customers/p", headers=ingest).json()
    assert (got["name"], got["city"], got["attributes"]) == ("Old", "Mumbai", {"tier": "gold"})


def test_concurrent_clients_writing_one_customer_stay_consistent(api: TestClient, ingest,
                                                                 app_settings) -> None:
    failures: list[str] = []

    def client(worker: int) -> None:
        for batch in range(4):
            orders = [_order(f"w{worker}-{batch}-{i}", "shared", "10.00") for i in range(25)]
            try:
                r = api.post("/api/v1/orders", json={"items": orders}, headers=ingest)
                if r.status_code != 202:
                    failures.append(r.text)
            except Exception as exc:  # collected: a thread's assert would be lost
                failures.append(repr(exc))

    threads = [threading.Thread(target=client, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    spend, count, *_ = _stats(app_settings, "shared")
    with Session(app_settings) as s:
        assert s.exec(select(sa.func.count()).select_from(Order)).one() == 400
    assert (spend, count) == (Decimal("4000.00"), 400)


def test_cursor_pagination(api: TestClient, ingest, app_settings) -> None:
    api.post("/api/v1/orders", json={"items": [_order(f"o{i}", f"c{i % 3}", "1")
                                               for i in range(7)]}, headers=ingest)
    seen, cursor = [], None
    while True:
        page = api.get("/api/v1/orders", params={"limit": 3, **({"cursor": cursor} if cursor
                                                                 else {})}, headers=ingest).json()
        seen += [o["external_id"] for o in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [f"o{i}" for i in range(7)]
    only_c1 = api.get("/api/v1/orders", params={"customer_external_id": "c1"},
                      headers=ingest).json()["items"]
    assert [o["external_id"] for o in only_c1] == ["o1", "o4"]
    customers = api.get("/api/v1/customers", params={"limit": 2}, headers=ingest).json()
    assert len(customers["items"]) == 2 and customers["next_cursor"]
    assert api.get("/api/v1/customers", params={"cursor": "!!"},
                   headers=ingest).status_code == 422
    assert api.get("/api/v1/customers/nobody", headers=ingest).status_code == 404


def test_scopes(api: TestClient, make_key, app_settings) -> None:
    assert api.post("/api/v1/customers", json={"external_id": "x"}).status_code == 401
    read_only = make_key("read")
    assert api.post("/api/v1/customers", json={"external_id": "x"},
                    headers=read_only).status_code == 403
    assert api.get("/api/v1/customers", headers=make_key("ingest")).status_code == 403
