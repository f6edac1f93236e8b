"""The outcome read model through every door: API detail and history, the log CSV, the
revenue-over-time series and the dashboard's weekly attributed revenue."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session

from mini_crm.core.outcomes import reports as outcome_reports
from mini_crm.core.outcomes.uplift import newcombe
from tests.integration.outcomes_data import T0, campaign, customers, log_rows, order, send_orders

H = timedelta(hours=1)


def _planted(engine: sa.Engine) -> int:
    """300 recipients (30 buy once, 10 of them twice), 150 held out (5 buy), 20 failed."""
    names = [f"r{i}" for i in range(300)] + [f"h{i}" for i in range(150)] + [
        f"f{i}" for i in range(20)]
    ids = customers(engine, names)
    cid = campaign(engine, "Planted", "sms", T0, holdout_percent=33)
    log_rows(engine, cid, [(ids[f"r{i}"], "delivered" if i % 3 else "sent", T0)
                           for i in range(300)]
             + [(ids[f"h{i}"], "holdout", None) for i in range(150)]
             + [(ids[f"f{i}"], "failed", None) for i in range(20)], T0)
    orders = [order(f"o-r{i}", f"r{i}", T0 + 2 * H, "100.00") for i in range(30)]
    orders += [order(f"o2-r{i}", f"r{i}", T0 + 5 * H, "50.00") for i in range(10)]
    orders += [order(f"o-h{i}", f"h{i}", T0 + 3 * H, "80.00") for i in range(5)]
    orders += [order("o-f0", "f0", T0 + H, "999.00")]           # failed: no touch
    orders += [order("o-late", "r40", T0 + 30 * H, "999.00")]   # outside the sms window
    send_orders(engine, *orders)
    return cid


def test_campaign_detail_and_history_carry_outcomes(engine: sa.Engine, api: TestClient,
                                                    make_key) -> None:
    cid = _planted(engine)
    headers = make_key("read")
    body = api.get(f"/api/v1/campaigns/{cid}", headers=headers).json()
    assert body["sent"] == 300 and body["holdout_percent"] == 33
    assert body["conversions"] == 40 and body["converters"] == 30
    assert body["revenue"] == pytest.approx(3500.0)
    assert body["revenue_per_message"] == pytest.approx(3500 / 300, abs=0.01)
    assert body["holdout"] == {"size": 150, "conversions": 5, "converters": 5,
                               "revenue": 400.0, "conversion_rate": round(5 / 150, 6)}
    d, low, high = newcombe(30, 300, 5, 150)
    up = body["uplift"]
    assert up["absolute"] == pytest.approx(d, abs=1e-6)
    assert (up["ci_low"], up["ci_high"]) == (pytest.approx(low, abs=1e-6),
                                             pytest.approx(high, abs=1e-6))
    assert up["relative"] == pytest.approx(d / (5 / 150), rel=1e-5)
    # (40/300 - 5/150) * 300 orders; (3500/300 - 400/150) * 300 rupees.
    assert up["incremental_orders"] == pytest.approx(30.0)
    assert up["incremental_revenue"] == pytest.approx(2700.0)
    page = api.get("/api/v1/campaigns", headers=headers).json()
    item = next(i for i in page["items"] if i["id"] == cid)
    assert (item["conversions"], item["revenue"]) == (40, 3500.0)
    assert item["revenue_per_message"] == pytest.approx(11.67)
    assert "uplift" not in item


def test_no_holdout_means_no_uplift_and_short_data_is_null(engine: sa.Engine,
                                                           api: TestClient, make_key) -> None:
    ids = customers(engine, ["a", "b", "c"])
    cid = campaign(engine, "Small", "email", T0, holdout_percent=30)
    log_rows(engine, cid, [(ids["a"], "sent", T0), (ids["b"], "holdout", None),
                           (ids["c"], "sent", T0)], T0)
    send_orders(engine, order("x", "a", T0 + H, "10.00"), order("y", "b", T0 + H, "20.00"))
    body = api.get(f"/api/v1/campaigns/{cid}", headers=make_key("read")).json()
    assert body["conversions"] == 1 and body["holdout"]["conversions"] == 1
    assert body["uplift"] is None  # 2 recipients and 1 held out: not enough data yet


def test_log_csv_has_variant_holdout_converted_and_order_ids(engine: sa.Engine,
                                                             api: TestClient,
                                                             make_key) -> None:
    cid = _planted(engine)
    r = api.get(f"/api/v1/campaigns/{cid}/log.csv", headers=make_key("read"))
    assert r.status_code == 200
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 470
    by_customer = {row["customer_external_id"]: row for row in rows}
    assert by_customer["r3"]["converted"] == "true"
    assert by_customer["r3"]["order_ids"] == "o-r3 o2-r3"
    assert by_customer["r35"]["converted"] == "false" and by_customer["r35"]["order_ids"] == ""
    assert by_customer["h2"]["holdout"] == "true" and by_customer["h2"]["order_ids"] == "o-h2"
    assert by_customer["f0"]["converted"] == "false" and by_customer["r3"]["holdout"] == "false"
    assert {row["variant"] for row in rows} == {""}


def test_revenue_since_send_and_weekly_attributed_revenue(engine: sa.Engine) -> None:
    cid = _planted(engine)
    with Session(engine) as db:
        series = outcome_reports.revenue_since_send(db, cid)
        weeks = outcome_reports.attributed_revenue_by_week(db, weeks=4, now=T0 + 24 * H)
    assert [p["hours"] for p in series] == list(range(25))
    assert series[2]["revenue"] == pytest.approx(3000.0) and series[2]["orders"] == 30
    assert series[5]["revenue"] == pytest.approx(500.0)
    assert series[3]["holdout_revenue"] == pytest.approx(400.0)
    assert sum(p["orders"] for p in series) == 40
    assert weeks[-1]["revenue"] == Decimal("3500.00") and weeks[-1]["orders"] == 40
    assert sum(w["orders"] for w in weeks[:-1]) == 0


def test_insights_lead_with_revenue_and_uplift(engine: sa.Engine, api: TestClient,
                                               make_key) -> None:
    cid = _planted(engine)
    body = api.get(f"/api/v1/campaigns/{cid}/insights", headers=make_key("read")).json()
    text = body["summary"]
    assert text.startswith("“Planted” earned ₹3,500 from 40 attributed orders: 30 of 300 "
                           "recipients bought (10.0%)")
    d, low, high = newcombe(30, 300, 5, 150)
    assert (f"uplift of {d * 100:+.1f} points, +200% relative (95% confidence interval "
            f"{low * 100:+.1f} points to {high * 100:+.1f} points)") in text
    assert "about 30 extra orders and ₹2,700 of revenue" in text
    assert "very likely caused extra orders" in text
    assert "last message its customer got within 1 day before ordering" in text
    assert text.index("earned") < text.index("delivery rate")
    assert body["outcome"]["uplift"]["absolute"] == pytest.approx(d, abs=1e-6)
