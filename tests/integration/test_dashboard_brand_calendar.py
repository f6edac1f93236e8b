"""Dashboard revenue per week / month is on the brand calendar (BRAND_TIMEZONE), issue 13:
an order at 2026-11-29 01:30 +05:30 (2026-11-28 20:00 UTC) is on the 29th, on every
database, for order revenue and for attributed revenue alike."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlmodel import Session

from mini_crm.core import brand_days, brand_time, dashboard
from mini_crm.core.outcomes import reports
from mini_crm.core.outcomes.attribution import attribute_order_ids
from mini_crm.models import Campaign, CommunicationLog, Customer, DeliveryStatus, Order
from mini_crm.settings import get_settings

# Monday 30 Nov 2026, 11:30 in Kolkata.
NOW = datetime(2026, 11, 30, 6, 0)


@pytest.fixture
def zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("BRAND_TIMEZONE", "Asia/Kolkata")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _orders(session: Session, rows: list[tuple[str, str, datetime]], sent_at: datetime | None
            = None) -> list[int]:
    customer = Customer(external_id="c1", name="Asha")
    campaign = Campaign(name="Winter", message_template="hi", channel="email")
    session.add(customer)
    session.add(campaign)
    session.flush()
    if sent_at is not None:
        session.add(CommunicationLog(campaign_id=campaign.id, customer_id=customer.id,
                                     status=DeliveryStatus.DELIVERED, sent_at=sent_at))
    ids = []
    for ext, amount, at in rows:
        order = Order(external_id=ext, customer_id=customer.id, amount=Decimal(amount),
                      ordered_at=at)
        session.add(order)
        session.flush()
        ids.append(order.id)
    session.commit()
    return ids


def test_an_order_after_brand_midnight_counts_on_the_brand_day_and_week(
        session: Session, zone: None) -> None:
    _orders(session, [
        # 2026-11-29 01:30 +05:30: the 29th (a Sunday) in Kolkata, the 28th in UTC.
        ("o-29th", "100.00", datetime(2026, 11, 28, 20, 0)),
        # 2026-11-30 01:30 +05:30: Monday the 30th, this week; Sunday the 29th in UTC.
        ("o-monday", "1000.00", datetime(2026, 11, 29, 20, 0)),
        # 2026-11-23 05:29 +05:30 is still Monday 23rd; 05:31 UTC on the 22nd would not be.
        ("o-23rd", "10.00", datetime(2026, 11, 22, 23, 59)),
    ])
    first, last = date(2026, 11, 22), date(2026, 11, 30)
    days = brand_days.sums_by_day(session, Order.ordered_at, Order.amount, [], first, last)
    assert days == {date(2026, 11, 29): (Decimal("100.00"), 1),
                    date(2026, 11, 30): (Decimal("1000.00"), 1),
                    date(2026, 11, 23): (Decimal("10.00"), 1)}
    weeks = dashboard.revenue_by_week(session, weeks=3, now=NOW)
    assert [(w.week_start, w.revenue, w.orders) for w in weeks] == [
        (date(2026, 11, 16), Decimal("0"), 0),
        (date(2026, 11, 23), Decimal("110.00"), 2),
        (date(2026, 11, 30), Decimal("1000.00"), 1)]


def test_month_boundary_is_brand_midnight(session: Session, zone: None) -> None:
    _orders(session, [
        # 1 Dec 2026 03:00 +05:30 = 30 Nov 21:30 UTC: December for the brand.
        ("o-dec", "500.00", datetime(2026, 11, 30, 21, 30)),
        # 1 Nov 2026 05:00 +05:30 = 31 Oct 23:30 UTC: November for the brand.
        ("o-nov", "70.00", datetime(2026, 10, 31, 23, 30)),
    ])
    months = dashboard.revenue_by_month(session, months=3, now=datetime(2026, 12, 2, 6, 0))
    assert [(m.month, m.revenue, m.orders) for m in months] == [
        ("2026-10", Decimal("0"), 0), ("2026-11", Decimal("70.00"), 1),
        ("2026-12", Decimal("500.00"), 1)]


def test_attributed_revenue_by_brand_week(session: Session, zone: None) -> None:
    ids = _orders(session, [
        ("o-sun", "300.00", datetime(2026, 11, 28, 20, 0)),  # Sun 29th 01:30 IST
        ("o-mon", "40.00", datetime(2026, 11, 29, 20, 0)),  # Mon 30th 01:30 IST
    ], sent_at=datetime(2026, 11, 28, 10, 0))
    attribute_order_ids(session, ids)
    session.commit()
    weeks = reports.attributed_revenue_by_week(session, weeks=2, now=NOW)
    assert [(w["week_start"], w["revenue"], w["orders"]) for w in weeks] == [
        (date(2026, 11, 23), Decimal("300.00"), 1), (date(2026, 11, 30), Decimal("40.00"), 1)]


def test_daylight_saving_zone_groups_each_side_of_the_change(
        session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRAND_TIMEZONE", "Europe/London")
    get_settings.cache_clear()
    try:
        _orders(session, [
            ("o-summer", "5.00", datetime(2026, 8, 31, 23, 30)),  # 1 Sep 00:30 BST
            ("o-winter", "7.00", datetime(2026, 11, 30, 23, 30)),  # 30 Nov 23:30 GMT
            # The hour London repeats on 25 Oct: 01:30 BST then 01:30 GMT, both the 25th.
            ("o-fold", "11.00", datetime(2026, 10, 25, 0, 30)),
            ("o-fold2", "13.00", datetime(2026, 10, 25, 1, 30)),
        ])
        months = dashboard.revenue_by_month(session, months=5,
                                            now=datetime(2026, 12, 1, 12, 0))
        assert [(m.month, m.revenue) for m in months] == [
            ("2026-08", Decimal("0")), ("2026-09", Decimal("5.00")),
            ("2026-10", Decimal("24.00")), ("2026-11", Decimal("7.00")),
            ("2026-12", Decimal("0"))]
        start, end = brand_time.days_bounds(date(2026, 8, 1), date(2026, 12, 1))
        changes = brand_days.offset_changes(start, end)
        assert changes[1:] == [(datetime(2026, 10, 25, 1, 0), 0)] and changes[0][1] == 4
    finally:
        get_settings.cache_clear()


def test_offset_changes_finds_every_switch_to_the_quarter_hour(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRAND_TIMEZONE", "Australia/Lord_Howe")  # half-hour DST shifts
    get_settings.cache_clear()
    try:
        start = datetime(2026, 1, 1)
        changes = brand_days.offset_changes(start, start + timedelta(days=365))
        for at, offset in changes[1:]:
            before = brand_days._offset_quarters(at - timedelta(minutes=15))
            assert brand_days._offset_quarters(at) == offset != before
        assert len(changes) == 3  # April back, October forward
    finally:
        get_settings.cache_clear()
