"""The demo seeder on SQLite, PostgreSQL and MariaDB: shape, consistency, determinism, reruns."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from mini_crm.core.contacts import address_key
from mini_crm.demo import seed, seed_data, shopping_calendar
from mini_crm.models import Customer, Order, OrderStatus, Suppression
from tests.conftest import empty_all_tables

NOW = datetime(2026, 11, 24, 6, 30, 0)
C = Customer.__table__.c  # type: ignore[attr-defined]
O = Order.__table__.c  # type: ignore[attr-defined]  # noqa: E741
CENT = Decimal("0.01")


def _customers(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(Customer.__table__).order_by(C.external_id))
        return [dict(r._mapping) for r in rows]


def _orders(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(Order.__table__, C.external_id.label("customer_external_id"))
            .join(Customer.__table__, C.id == O.customer_id)
            .order_by(O.external_id)
        )
        return [dict(r._mapping) for r in rows]


def _money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


def _assert_stats_match_orders(engine: Engine) -> None:
    """The maintained stats equal a SQL aggregate over counted orders, for every customer."""
    counted = O.status.not_in(OrderStatus.NOT_COUNTED)
    agg = (
        sa.select(
            O.customer_id,
            sa.func.sum(O.amount),
            sa.func.count(),
            sa.func.min(O.ordered_at),
            sa.func.max(O.ordered_at),
        )
        .where(counted)
        .group_by(O.customer_id)
    )
    with engine.connect() as conn:
        expected = {row[0]: row[1:] for row in conn.execute(agg)}
        customers = conn.execute(
            sa.select(C.id, C.total_spend, C.order_count, C.first_order_at, C.last_order_at)
        ).all()
    assert customers
    for cid, spend, count, first_at, last_at in customers:
        want_spend, want_count, want_first, want_last = expected.get(cid, (0, 0, None, None))
        assert (_money(spend), count, first_at, last_at) == (
            _money(want_spend),
            want_count,
            want_first,
            want_last,
        ), f"customer {cid}"


def test_counts_and_stats_match_orders(engine: Engine) -> None:
    messages: list[str] = []
    summary = seed.seed(
        150, random_seed=3, engine=engine, now=NOW, chunk_size=40, progress=messages.append
    )
    with engine.connect() as conn:
        n_customers = conn.execute(sa.select(sa.func.count()).select_from(Customer)).scalar_one()
        n_orders = conn.execute(sa.select(sa.func.count()).select_from(Order)).scalar_one()
        revenue = conn.execute(
            sa.select(sa.func.sum(O.amount)).where(O.status.not_in(OrderStatus.NOT_COUNTED))
        ).scalar_one()
    assert n_customers == 150
    assert n_orders > 300  # personas average several orders each
    assert f"seeded 150 customers and {n_orders:,} orders" in summary
    assert f"INR {_money(revenue):,.0f} revenue" in summary
    assert len(messages) == 4  # one progress line per chunk of 40
    assert messages[-1].strip().startswith("150/150 customers")
    _assert_stats_match_orders(engine)


def test_personas_behave_differently(engine: Engine) -> None:
    seed.seed(150, random_seed=3, engine=engine, now=NOW)
    customers = _customers(engine)
    orders = _orders(engine)
    ordered_ids = {o["customer_id"] for o in orders}

    never = [c for c in customers if c["id"] not in ordered_ids]
    assert len(never) >= 10, "some customers have no orders at all"
    assert all(c["order_count"] == 0 and c["last_order_at"] is None for c in never)

    lapsed = [
        c
        for c in customers
        if c["last_order_at"] is not None and c["last_order_at"] < NOW - timedelta(days=180)
    ]
    assert len(lapsed) >= 10, "some customers lapsed more than six months ago"

    new = [c for c in customers if c["created_at"] > NOW - timedelta(days=46)]
    assert new and all(c["order_count"] <= 1 for c in new)
    assert any(c["order_count"] == 1 for c in new)

    loyal = [c for c in customers if c["order_count"] >= 10]
    assert loyal and max(_money(c["total_spend"]) for c in loyal) > Decimal(20000)

    statuses = Counter(o["status"] for o in orders)
    assert statuses["cancelled"] > 0 and statuses["refunded"] > 0
    not_counted = statuses["cancelled"] + statuses["refunded"]
    assert not_counted < 0.2 * len(orders)
    assert statuses["delivered"] + statuses["completed"] > 0.75 * len(orders)
    # A cancelled order really is left out of its customer's count.
    by_customer = Counter(o["customer_id"] for o in orders)
    cancelled_owner = next(o["customer_id"] for o in orders if o["status"] == "cancelled")
    owner = next(c for c in customers if c["id"] == cancelled_owner)
    assert owner["order_count"] < by_customer[cancelled_owner]

    channels = ("consent_sms", "consent_email", "consent_whatsapp")
    opted_out = [c for c in customers if not all(c[k] for k in channels)]
    assert 0 < len(opted_out) < 0.2 * len(customers)
    # Some leave every channel, others only one.
    assert any(not any(c[k] for k in channels) for c in opted_out)
    assert any(sum(c[k] for k in channels) == 2 for c in opted_out)
    # Their addresses are on the suppression list, as a real opt-out leaves them (an
    # email by its inbox key: the list compares inboxes).
    with engine.connect() as conn:
        listed = set(conn.execute(sa.select(Suppression.address, Suppression.channel)).all())
    expected = {(address_key(ch, c["phone" if ch != "email" else "email"]), ch)
                for c in opted_out
                for ch in ("sms", "email", "whatsapp")
                if not c[f"consent_{ch}"] and c["phone" if ch != "email" else "email"]}
    assert listed == expected and expected

    tiers = Counter(c["attributes"]["loyalty_tier"] for c in customers)
    assert len(tiers) >= 4
    for key in ("gender", "age_band", "preferred_channel", "acquisition_source", "language"):
        assert len({c["attributes"][key] for c in customers}) >= 2, key


def test_orders_follow_daily_weekly_and_seasonal_rhythms(engine: Engine) -> None:
    seed.seed(150, random_seed=3, engine=engine, now=NOW)
    orders = _orders(engine)
    local = [o["ordered_at"] + shopping_calendar.IST for o in orders]
    hours = Counter(t.hour for t in local)
    evening = sum(hours[h] for h in (19, 20, 21, 22))
    small_hours = sum(hours[h] for h in (2, 3, 4, 5))
    assert evening > 5 * max(small_hours, 1), hours
    assert max(hours.values()) < 0.15 * len(orders)

    weekday_days = Counter(t.weekday() for t in local)
    weekend_per_day = (weekday_days[5] + weekday_days[6]) / 2
    midweek_per_day = sum(weekday_days[d] for d in range(5)) / 5
    assert weekend_per_day > 1.2 * midweek_per_day, weekday_days

    # Dhanteras week before Diwali 2025 (20 Oct) against the same span a month later.
    diwali = seed_data.DIWALI[2025]
    festive = sum(diwali - timedelta(days=7) <= t.date() < diwali for t in local)
    later = sum(
        diwali + timedelta(days=30) <= t.date() < diwali + timedelta(days=37) for t in local
    )
    assert festive > 1.8 * max(later, 1), (festive, later)

    customers = {c["id"]: c for c in _customers(engine)}
    for o in orders:
        assert customers[o["customer_id"]]["created_at"] < o["ordered_at"] <= NOW
        assert o["ordered_at"] >= NOW - timedelta(days=shopping_calendar.ORDER_HISTORY_DAYS + 1)


def test_items_add_up_to_amounts(engine: Engine) -> None:
    seed.seed(60, random_seed=9, engine=engine, now=NOW)
    skus = {p.sku: p for p in seed_data.CATALOGUE}
    orders = _orders(engine)
    assert orders
    for o in orders:
        assert o["currency"] == "INR"
        assert o["items"], o["external_id"]
        assert _money(o["amount"]) == _money(sum(i["qty"] * i["price"] for i in o["items"]))
        for item in o["items"]:
            product = skus[item["sku"]]
            assert (item["name"], item["category"]) == (product.name, product.category)
            assert 0 < item["price"] <= product.price and item["qty"] >= 1


def test_names_emails_phones_and_cities_are_plausible(engine: Engine) -> None:
    seed.seed(150, random_seed=3, engine=engine, now=NOW)
    customers = _customers(engine)
    domains = {d for d, _ in seed_data.FREE_MAIL_DOMAINS} | set(seed_data.COMPANY_DOMAINS)
    cities = {c.name: c.state for c in seed_data.CITIES}
    phone = re.compile(r"\+91[6-9]\d{9}")
    with_email = [c for c in customers if c["email"]]
    assert len(with_email) > 0.9 * len(customers)
    assert sum(c["phone"] is not None for c in customers) > 0.9 * len(customers)
    for c in customers:
        first, _, last = c["name"].partition(" ")
        assert first and last, c["name"]
        assert cities[c["city"]] == c["attributes"]["state"]
        if c["phone"] is not None:
            assert phone.fullmatch(c["phone"]), c["phone"]
        if c["email"]:
            local, _, domain = c["email"].partition("@")
            assert domain in domains, c["email"]
            assert re.fullmatch(r"[a-z0-9._]+", local), c["email"]
            slug_first = re.sub("[^a-z]", "", first.lower())
            slug_last = re.sub("[^a-z]", "", last.lower())
            assert slug_first in local or slug_last in local, (c["name"], c["email"])
    email_domains = Counter(c["email"].split("@")[1] for c in with_email)
    assert email_domains.most_common(1)[0][0] == "gmail.com"
    assert len(email_domains) >= 5
    assert len({c["city"] for c in customers}) >= 10
    assert len({c["name"].split(" ")[1] for c in customers}) >= 40  # many regions' surnames


def _snapshot(engine: Engine) -> tuple[list[tuple], list[tuple]]:
    customers = [
        (
            c["external_id"],
            c["name"],
            c["email"],
            c["phone"],
            c["city"],
            c["attributes"],
            (c["consent_sms"], c["consent_email"], c["consent_whatsapp"]),
            c["created_at"],
            _money(c["total_spend"]),
            c["order_count"],
            c["last_order_at"],
        )
        for c in _customers(engine)
    ]
    orders = [
        (
            o["external_id"],
            o["customer_external_id"],
            _money(o["amount"]),
            o["status"],
            o["ordered_at"],
            o["items"],
        )
        for o in _orders(engine)
    ]
    return customers, orders


def test_same_seed_gives_same_data_whatever_the_chunk_size(engine: Engine) -> None:
    seed.seed(90, random_seed=5, engine=engine, now=NOW)
    first = _snapshot(engine)
    empty_all_tables(engine)
    seed.seed(90, random_seed=5, engine=engine, now=NOW, chunk_size=17)
    assert _snapshot(engine) == first
    empty_all_tables(engine)
    seed.seed(90, random_seed=6, engine=engine, now=NOW)
    other = _snapshot(engine)
    assert [c[1] for c in other[0]] != [c[1] for c in first[0]]


def test_second_run_adds_new_customers_without_collisions(engine: Engine) -> None:
    first = seed.seed(60, random_seed=7, engine=engine, now=NOW)
    second = seed.seed(60, random_seed=7, engine=engine, now=NOW)
    assert "demo-00000001..demo-00000060" in first
    assert "demo-00000061..demo-00000120" in second
    customers = _customers(engine)
    assert len(customers) == 120
    assert len({c["external_id"] for c in customers}) == 120
    # The rerun continues the sequence, so it makes new people rather than copies.
    names_first = [c["name"] for c in customers[:60]]
    names_second = [c["name"] for c in customers[60:]]
    assert sum(a == b for a, b in zip(names_first, names_second, strict=True)) < 10
    _assert_stats_match_orders(engine)


def test_collision_stops_with_a_clear_message(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed.seed(10, engine=engine, now=NOW)
    # As if another run had taken the same numbers between our look-up and our insert.
    monkeypatch.setattr(seed, "next_customer_number", lambda conn: 1)
    with pytest.raises(RuntimeError, match="demo-00000001..demo-00000010 conflict"):
        seed.seed(10, engine=engine, now=NOW)
    assert len(_customers(engine)) == 10


def test_is_empty(session: Session, engine: Engine) -> None:
    assert seed.is_empty(session)
    seed.seed(1, engine=engine, now=NOW)
    assert not seed.is_empty(session)


def test_rejects_nonsense_sizes(engine: Engine) -> None:
    with pytest.raises(ValueError, match="customers must be at least 1"):
        seed.seed(0, engine=engine)
    with pytest.raises(ValueError, match="chunk_size"):
        seed.seed(5, engine=engine, chunk_size=0)


def test_cli_seed_and_if_empty(app_settings: Engine) -> None:
    from typer.testing import CliRunner

    from mini_crm.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["seed", "--customers", "25", "--seed", "4"])
    assert result.exit_code == 0, result.output
    assert "seeded 25 customers" in result.output
    again = runner.invoke(app, ["seed", "--customers", "25", "--if-empty"])
    assert again.exit_code == 0, again.output
    assert "not seeding" in again.output
    with app_settings.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(Customer)).scalar_one() == 25
