"""The dashboard's figures: one aggregate query per figure, portable across databases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Session, func, select

from mini_crm.models import Campaign, Customer, Order, OrderStatus, utcnow


@dataclass(frozen=True)
class Overview:
    customers: int
    orders: int
    revenue: Decimal
    campaigns: int
    avg_order_value: Decimal
    active_customers_90d: int


@dataclass(frozen=True)
class MonthRevenue:
    month: str  # "2025-03"
    revenue: Decimal
    orders: int


@dataclass(frozen=True)
class WeekRevenue:
    week_start: date  # the Monday the week starts on (UTC)
    revenue: Decimal
    orders: int


@dataclass(frozen=True)
class RecentOrder:
    external_id: str
    customer_external_id: str
    customer_name: str | None
    amount: Decimal
    status: str
    ordered_at: datetime


def _counted_orders() -> sa.ColumnElement[bool]:
    return Order.status.not_in(OrderStatus.NOT_COUNTED)


def overview(session: Session, now: datetime | None = None) -> Overview:
    now = now or utcnow()
    customers = session.exec(select(func.count()).select_from(Customer)).one()
    orders, revenue = session.exec(
        select(func.count(), func.coalesce(func.sum(Order.amount), 0)).where(_counted_orders())
    ).one()
    campaigns = session.exec(select(func.count()).select_from(Campaign)).one()
    active = session.exec(
        select(func.count()).select_from(Customer)
        .where(Customer.last_order_at >= now - timedelta(days=90))
    ).one()
    revenue = Decimal(revenue or 0)
    aov = (revenue / orders).quantize(Decimal("0.01")) if orders else Decimal("0")
    return Overview(customers=customers, orders=orders, revenue=revenue, campaigns=campaigns,
                    avg_order_value=aov, active_customers_90d=active)


def revenue_by_month(session: Session, months: int = 24,
                     now: datetime | None = None) -> list[MonthRevenue]:
    """Revenue per calendar month (UTC), oldest first, months without orders included as 0.

    Grouping by year and month numbers keeps the SQL portable (no dialect date formats).
    """
    now = now or utcnow()
    start = _month_start(now, months - 1)
    year = sa.extract("year", Order.ordered_at)
    month = sa.extract("month", Order.ordered_at)
    rows = session.exec(
        select(year, month, func.sum(Order.amount), func.count())
        .where(_counted_orders(), Order.ordered_at >= start)
        .group_by(year, month)
    ).all()
    found = {(int(y), int(m)): (Decimal(r or 0), int(c)) for y, m, r, c in rows}
    result = []
    for i in range(months):
        first = _month_start(now, months - 1 - i)
        revenue, count = found.get((first.year, first.month), (Decimal("0"), 0))
        result.append(MonthRevenue(month=f"{first.year}-{first.month:02d}", revenue=revenue,
                                   orders=count))
    return result


def revenue_by_week(session: Session, weeks: int = 26,
                    now: datetime | None = None) -> list[WeekRevenue]:
    """Revenue per Monday-to-Sunday week (UTC), oldest first, empty weeks included as 0.

    SQL sums per calendar day (year/month/day extracts are portable where week
    functions are not); at most 7 x `weeks` rows come back and are folded into weeks here.
    """
    now = now or utcnow()
    this_monday = now.date() - timedelta(days=now.weekday())
    first_monday = this_monday - timedelta(weeks=weeks - 1)
    year = sa.extract("year", Order.ordered_at)
    month = sa.extract("month", Order.ordered_at)
    day = sa.extract("day", Order.ordered_at)
    rows = session.exec(
        select(year, month, day, func.sum(Order.amount), func.count())
        .where(_counted_orders(),
               Order.ordered_at >= datetime.combine(first_monday, datetime.min.time()))
        .group_by(year, month, day)
    ).all()
    totals = {first_monday + timedelta(weeks=i): [Decimal("0"), 0] for i in range(weeks)}
    for y, m, d, revenue, count in rows:
        on = date(int(y), int(m), int(d))
        bucket = totals.get(on - timedelta(days=on.weekday()))
        if bucket is not None:  # orders dated in the future stay out of the chart
            bucket[0] += Decimal(revenue or 0)
            bucket[1] += int(count)
    return [WeekRevenue(week_start=monday, revenue=r, orders=c)
            for monday, (r, c) in totals.items()]


def recent_orders(session: Session, limit: int = 8) -> list[RecentOrder]:
    rows = session.exec(
        select(Order.external_id, Customer.external_id, Customer.name, Order.amount,
               Order.status, Order.ordered_at)
        .join(Customer, Customer.id == Order.customer_id)
        .order_by(Order.ordered_at.desc(), Order.id.desc())
        .limit(limit)
    ).all()
    return [RecentOrder(external_id=oid, customer_external_id=cid, customer_name=name,
                        amount=Decimal(amount), status=status, ordered_at=at)
            for oid, cid, name, amount, status, at in rows]


def top_cities(session: Session, limit: int = 6) -> list[tuple[str, int, Decimal]]:
    rows = session.exec(
        select(Customer.city, func.count(), func.coalesce(func.sum(Customer.total_spend), 0))
        .where(Customer.city.is_not(None))
        .group_by(Customer.city)
        .order_by(func.sum(Customer.total_spend).desc(), Customer.city)
        .limit(limit)
    ).all()
    return [(city, int(n), Decimal(spend)) for city, n, spend in rows]


def _month_start(now: datetime, months_back: int) -> datetime:
    index = now.year * 12 + (now.month - 1) - months_back
    return datetime(index // 12, index % 12 + 1, 1)
