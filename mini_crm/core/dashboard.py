"""The dashboard's figures: one aggregate query per figure, portable across databases.

Every "per week / per month" figure is on the brand calendar (BRAND_TIMEZONE).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Session, func, select

from mini_crm.core import brand_days, brand_time
from mini_crm.models import Campaign, Customer, Order, OrderStatus, utcnow


@dataclass(frozen=True)
class Overview:
    customers: int
    orders: int
    revenue: Decimal
    campaigns: int  # launched: started sending (drafts, scheduled, never-sent not counted)
    avg_order_value: Decimal
    active_customers_90d: int


@dataclass(frozen=True)
class MonthRevenue:
    month: str  # "2025-03", brand calendar
    revenue: Decimal
    orders: int


@dataclass(frozen=True)
class WeekRevenue:
    week_start: date  # the Monday the week starts on (brand calendar)
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
    # Launched = sending started (started_at set): drafts, still-scheduled and cancelled-
    # before-sending campaigns reached nobody, so they are not counted.
    campaigns = session.exec(select(func.count()).select_from(Campaign)
                             .where(Campaign.started_at.is_not(None))).one()
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
    """Revenue per brand-calendar month (BRAND_TIMEZONE), oldest first, the current month
    last (still running), months without orders included as 0.

    An order belongs to the month of its brand-time day: 2026-11-30 20:00 UTC is
    1 December in Kolkata. One GROUP BY per brand day (core/brand_days.py), folded here.
    """
    today = brand_time.today(now or utcnow())
    firsts = [_month_first(today, months - 1 - i) for i in range(months)]
    days = brand_days.sums_by_day(session, Order.ordered_at, Order.amount,
                                  [_counted_orders()], firsts[0], today)
    totals = {(f.year, f.month): [Decimal("0"), 0] for f in firsts}
    for on, (revenue, count) in days.items():
        bucket = totals[(on.year, on.month)]
        bucket[0] += revenue
        bucket[1] += count
    return [MonthRevenue(month=f"{y}-{m:02d}", revenue=r, orders=c)
            for (y, m), (r, c) in totals.items()]


def revenue_by_week(session: Session, weeks: int = 26,
                    now: datetime | None = None) -> list[WeekRevenue]:
    """Revenue per Monday-to-Sunday brand-calendar week (BRAND_TIMEZONE), oldest first,
    the current week last (still running), empty weeks included as 0.

    SQL sums per brand day (core/brand_days.py); at most 7 x `weeks` rows come back and
    are folded into weeks here. Orders dated after today stay out of the chart.
    """
    today = brand_time.today(now or utcnow())
    this_monday = today - timedelta(days=today.weekday())
    first_monday = this_monday - timedelta(weeks=weeks - 1)
    days = brand_days.sums_by_day(session, Order.ordered_at, Order.amount,
                                  [_counted_orders()], first_monday, today)
    return [WeekRevenue(week_start=monday, revenue=r, orders=c)
            for monday, (r, c) in brand_days.fold_weeks(days, first_monday, weeks).items()]


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


def _month_first(day: date, months_back: int) -> date:
    index = day.year * 12 + (day.month - 1) - months_back
    return date(index // 12, index % 12 + 1, 1)
