"""Attribution on every database, over a planted data set: windows per channel, last
touch, late orders, refunds, re-sent orders, changed amounts, dates and owners."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests.integration.outcomes_data import (
    T0,
    campaign,
    conversions,
    customers,
    log_rows,
    order,
    send_orders,
)

H = timedelta(hours=1)


def _world(engine: sa.Engine) -> dict[str, int]:
    ids = customers(engine, ["ana", "ben", "cy", "dev", "eve", "fay"])
    email = campaign(engine, "Email", "email", T0)
    sms = campaign(engine, "SMS", "sms", T0 + 10 * H, holdout_percent=20)
    log_rows(engine, email, [(ids["ana"], "delivered", T0), (ids["ben"], "sent", T0),
                             (ids["cy"], "undelivered", T0), (ids["dev"], "failed", None),
                             (ids["eve"], "delivered", T0 + 2 * H)], T0)
    log_rows(engine, sms, [(ids["ana"], "delivered", T0 + 10 * H),
                           (ids["fay"], "holdout", None), (ids["eve"], "queued", None)],
             T0 + 10 * H)
    return {"email": email, "sms": sms, **ids}


def test_windows_last_touch_holdout_and_non_touches(engine: sa.Engine) -> None:
    w = _world(engine)
    send_orders(engine,
                order("o-before", "ana", T0 - H),             # before any touch
                order("o-email", "ana", T0 + 5 * H),          # only the email touched yet
                order("o-last", "ana", T0 + 12 * H),          # email and sms: sms is later
                order("o-sms-over", "ana", T0 + 40 * H),      # sms window (24 h) over: email
                order("o-email-over", "ben", T0 + 121 * H),   # email window (120 h) over
                order("o-undelivered", "cy", T0 + 119 * H, "55.50"),  # sent is a touch
                order("o-failed", "dev", T0 + H),             # a failed row never touched
                order("o-queued", "eve", T0 + 20 * H),        # queued sms: email's credit
                order("o-holdout", "fay", T0 + 33 * H),       # holdout: from launch, 24 h
                order("o-holdout-late", "fay", T0 + 35 * H))  # 25 h after launch
    got = conversions(engine)
    assert set(got) == {"o-email", "o-last", "o-sms-over", "o-undelivered", "o-queued",
                        "o-holdout"}
    assert got["o-email"]["campaign_id"] == w["email"]
    assert got["o-last"]["campaign_id"] == w["sms"]
    assert got["o-sms-over"]["campaign_id"] == w["email"]
    assert got["o-undelivered"]["amount"] == Decimal("55.50")
    assert got["o-queued"]["campaign_id"] == w["email"]
    assert got["o-holdout"]["campaign_id"] == w["sms"] and got["o-holdout"]["holdout"]
    assert not got["o-last"]["holdout"]
    assert got["o-last"]["customer_id"] == w["ana"]
    assert got["o-last"]["ordered_at"] == T0 + 12 * H


def test_refund_resend_amount_date_and_owner_changes(engine: sa.Engine) -> None:
    w = _world(engine)
    send_orders(engine, order("o1", "ana", T0 + 12 * H, "100.00"))
    assert conversions(engine)["o1"]["amount"] == Decimal("100.00")
    # The same order re-sent with a new amount: one row, the new amount.
    send_orders(engine, order("o1", "ana", T0 + 12 * H, "80.00"))
    assert len(conversions(engine)) == 1 and conversions(engine)["o1"]["amount"] == 80
    # Refunded: the credit goes; completed again: it comes back.
    send_orders(engine, order("o1", "ana", T0 + 12 * H, "80.00", status="refunded"))
    assert conversions(engine) == {}
    send_orders(engine, order("o1", "ana", T0 + 12 * H, "80.00", status="Cancelled"))
    assert conversions(engine) == {}
    send_orders(engine, order("o1", "ana", T0 + 12 * H, "80.00"))
    assert conversions(engine)["o1"]["campaign_id"] == w["sms"]
    # A corrected date moves it to the earlier message's window; then outside every window.
    send_orders(engine, order("o1", "ana", T0 + 3 * H, "80.00"))
    assert conversions(engine)["o1"]["campaign_id"] == w["email"]
    send_orders(engine, order("o1", "ana", T0 + 300 * H, "80.00"))
    assert conversions(engine) == {}
    # Moved to a customer who got nothing: no credit.
    send_orders(engine, order("o2", "ben", T0 + H), order("o3", "ben", T0 + 2 * H))
    assert set(conversions(engine)) == {"o2", "o3"}
    send_orders(engine, order("o2", "dev", T0 + H))
    assert set(conversions(engine)) == {"o3"}


def test_late_order_goes_to_the_touch_before_it_not_the_latest_campaign(
        engine: sa.Engine) -> None:
    w = _world(engine)
    # A third campaign is sent to ana two days later; an order placed before it and
    # ingested only now still belongs to the email (sms window over, email open at 36 h).
    later = campaign(engine, "Later", "email", T0 + 48 * H)
    log_rows(engine, later, [(w["ana"], "delivered", T0 + 48 * H)], T0 + 48 * H)
    send_orders(engine, order("late", "ana", T0 + 36 * H),
                order("after", "ana", T0 + 50 * H))
    got = conversions(engine)
    assert got["late"]["campaign_id"] == w["email"]
    assert got["after"]["campaign_id"] == later


def test_ties_go_to_the_newer_log_row_and_a_batch_with_duplicates(engine: sa.Engine) -> None:
    ids = customers(engine, ["gil"])
    first = campaign(engine, "A", "sms", T0)
    second = campaign(engine, "B", "sms", T0)
    log_rows(engine, first, [(ids["gil"], "sent", T0)], T0)
    log_rows(engine, second, [(ids["gil"], "sent", T0)], T0)
    send_orders(engine, order("t", "gil", T0 + H, "10.00"), order("t", "gil", T0 + H, "12.00"))
    got = conversions(engine)
    assert got["t"]["campaign_id"] == second and got["t"]["amount"] == Decimal("12.00")


def test_orders_through_the_api_are_attributed(engine: sa.Engine, api: TestClient,
                                               make_key) -> None:
    w = _world(engine)
    headers = make_key("ingest")
    items = [{"external_id": f"api-{i}", "customer_external_id": "ana", "amount": "10.00",
              "ordered_at": (T0 + 12 * H + i * timedelta(minutes=1)).isoformat() + "Z"}
             for i in range(5)]
    r = api.post("/api/v1/orders", json={"items": items}, headers=headers)
    assert r.status_code == 202, r.text
    got = conversions(engine)
    assert {k for k in got if k.startswith("api-")} == {f"api-{i}" for i in range(5)}
    assert {v["campaign_id"] for v in got.values()} == {w["sms"]}
