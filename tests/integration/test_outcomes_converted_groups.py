"""Which groups converted better: planted outcomes through the real attribution path, on
SQLite, PostgreSQL and MariaDB — a real difference is found, noise is reported as none."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session

from mini_crm.core.ai import insights
from mini_crm.core.outcomes import converted_groups
from tests.integration.outcomes_data import (
    CUSTOMER,
    T0,
    campaign,
    log_rows,
    order,
    send_orders,
)

H = timedelta(hours=1)


def _customers(engine: sa.Engine, rows: list[dict[str, Any]]) -> dict[str, int]:
    at = T0 - timedelta(days=400)
    with engine.begin() as conn:
        conn.execute(CUSTOMER.insert(), [{
            "name": r["external_id"], "attributes": {}, "is_stub": False, "created_at": at,
            "updated_at": at, "total_spend": 0, "order_count": 0, **r} for r in rows])
        got = conn.execute(sa.select(CUSTOMER.c.external_id, CUSTOMER.c.id)).all()
    return {e: i for e, i in got}


def _world(engine: sa.Engine, converts: dict[str, list[int]], per_city: int,
           holdout: int = 0) -> int:
    """`per_city` recipients in each city of `converts` (gender and spend alternate, so
    they are balanced inside every city); recipient i of a city buys within the window
    when i is in converts[city]. `holdout` control members in the first city, all buying."""
    rows, names = [], []
    for city in converts:
        for i in range(per_city):
            rows.append({"external_id": f"{city}-{i}", "city": city,
                         "attributes": {"gender": "female" if i % 2 else "male"}})
            names.append(f"{city}-{i}")
    first = next(iter(converts))
    rows += [{"external_id": f"h-{i}", "city": first, "attributes": {"gender": "female"}}
             for i in range(holdout)]
    ids = _customers(engine, rows)
    cid = campaign(engine, "Winter sale", "email", T0, holdout_percent=10 if holdout else 0)
    log_rows(engine, cid, [(ids[n], "delivered", T0) for n in names], T0)
    if holdout:
        log_rows(engine, cid, [(ids[f"h-{i}"], "holdout", None) for i in range(holdout)], T0)
    # Spend before the campaign, through the real path (it maintains total_spend).
    send_orders(engine, *[order(f"past-{n}", n, T0 - timedelta(days=30),
                                "1500.00" if int(n.rsplit("-", 1)[1]) % 2 else "25000.00")
                          for n in names])
    orders = [order(f"o-{city}-{i}", f"{city}-{i}", T0 + 2 * H, "500.00")
              for city, buyers in converts.items() for i in buyers]
    orders += [order(f"o-h-{i}", f"h-{i}", T0 + 3 * H) for i in range(holdout)]
    send_orders(engine, *orders)
    return cid


def test_a_city_that_converted_better_is_found(engine: sa.Engine) -> None:
    # Pune: 40 of 200 bought (20%); Mumbai: 8 of 200 (4%). Buyers are balanced across
    # gender and spend tier, so only the city differs.
    cid = _world(engine, {"Pune": list(range(0, 200, 5)), "Mumbai": list(range(0, 200, 25))},
                 per_city=200, holdout=40)
    with Session(engine) as db:
        got = converted_groups.conversion_by_group(db, cid, T0)
    assert (got["recipients"], got["converted"]) == (400, 48)  # the holdout is not counted
    city = {r["label"]: r for r in got["groups"]["City"]}
    assert (city["Pune"]["converted"], city["Pune"]["recipients"]) == (40, 200)
    assert city["Pune"]["rate"] == 0.2 and city["Pune"]["rest_rate"] == 0.04
    assert city["Pune"]["revenue"] == 20000.0
    assert city["Pune"]["significant"] and city["Mumbai"]["significant"]
    assert city["Pune"]["z"] > 2.58 > -2.58 > city["Mumbai"]["z"]
    gender = {r["label"]: r for r in got["groups"]["Gender"]}
    assert set(gender) == {"Female", "Male"}
    assert gender["Female"]["rate"] == gender["Male"]["rate"] == 0.12
    assert not any(r["significant"] for dim in ("Gender", "Spend tier", "Tenure")
                   for r in got["groups"][dim])
    # Tiers are spend before what this campaign earned: a ₹1,500 buyer stays under ₹2,000.
    tiers = {r["label"]: (r["recipients"], r["converted"]) for r in got["groups"]["Spend tier"]}
    assert tiers == {"Under ₹2,000": (200, 24), "₹10,000–₹50,000": (200, 24)}
    assert converted_groups.sentence(got) == (
        "Recipients converted better where city is Pune (20.0% bought against 4.0% of the "
        "other recipients).")
    with Session(engine) as db:
        ins = insights.compute_insights(db, cid)
    assert ins.highlights[0].startswith("City is Pune converted better: 20.0% of 200 "
                                        "recipients bought against 4.0% of the rest")
    assert "Recipients converted better where city is Pune" in ins.summary
    assert ins.summary.index("earned") < ins.summary.index("converted better where") \
        < ins.summary.index("delivery rate")


def test_noise_is_reported_as_no_difference(engine: sa.Engine) -> None:
    rng = random.Random(7)
    cities = ["Pune", "Mumbai", "Delhi"]
    cid = _world(engine, {c: [i for i in range(200) if rng.random() < 0.08] for c in cities},
                 per_city=200)
    with Session(engine) as db:
        got = converted_groups.conversion_by_group(db, cid, T0)
        ins = insights.compute_insights(db, cid)
    assert got["recipients"] == 600 and 30 <= got["converted"] <= 70
    assert not any(r["significant"] for rows in got["groups"].values() for r in rows)
    assert converted_groups.sentence(got) == (
        "No city, gender, spend tier or tenure group converted significantly better or "
        "worse than the other recipients.")
    assert "converted better" not in " ".join(ins.highlights)


def test_no_conversions_no_sentence_and_no_gender_table(engine: sa.Engine,
                                                        session: Session) -> None:
    cid = campaign(engine, "Quiet", "sms", T0)
    with Session(engine) as db:
        got = converted_groups.conversion_by_group(db, cid, T0)
    assert got == {"recipients": 0, "converted": 0, "rate": None, "groups": {}}
    assert converted_groups.sentence(got) == ""


def test_insights_api_returns_conversion_by_group(engine: sa.Engine, api: TestClient,
                                                  make_key) -> None:
    cid = _world(engine, {"Pune": list(range(0, 200, 5)), "Mumbai": list(range(0, 200, 25))},
                 per_city=200)
    body = api.get(f"/api/v1/campaigns/{cid}/insights", headers=make_key("read")).json()
    conv = body["conversion"]
    assert conv["converted"] == 48 and conv["recipients"] == 400
    pune = next(r for r in conv["groups"]["City"] if r["label"] == "Pune")
    assert pune["significant"] is True and pune["rate"] == 0.2


def test_campaign_page_shows_who_bought_tables_first(app_settings: sa.Engine) -> None:
    from mini_crm.state.campaign_detail import _insights

    cid = _world(app_settings, {"Pune": list(range(0, 200, 5)),
                                "Mumbai": list(range(0, 200, 25))}, per_city=200)
    tables = _insights(cid)["tables"]
    assert [t["title"] for t in tables[:4]] == ["Bought, by city", "Bought, by gender",
                                                "Bought, by spend tier", "Bought, by tenure"]
    city = {r["label"]: r for r in tables[0]["rows"]}
    assert city["Pune"] == {"label": "Pune", "messages": "200", "rate": "20.0%",
                            "rest": "4.0%", "mark": "up"}
    assert tables[0]["rate_header"] == "Bought" and tables[4]["rate_header"] == "Delivered"
