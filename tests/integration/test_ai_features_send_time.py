"""Send-time suggestions on planted order times (brand time zone Asia/Kolkata)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from mini_crm.core.ai import send_time as st
from mini_crm.models import Order
from mini_crm.settings import get_settings
from tests.integration.ai_features_data import add_customers, add_orders

IST = ZoneInfo("Asia/Kolkata")
NOW = datetime(2026, 11, 24, 6, 0)  # a Tuesday, 11:30 IST (naive UTC)
PUNE = {"combinator": "and", "rules": [{"field": "city", "operator": "=", "value": "Pune"}]}


@pytest.fixture(autouse=True)
def brand_zone(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("BRAND_TIMEZONE", "Asia/Kolkata")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def utc_of_ist(day: datetime, hour: int, minute: int = 0) -> datetime:
    local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=IST)
    return local.astimezone(UTC).replace(tzinfo=None)


def recent_weekdays(weekday: int, weeks: int) -> list[datetime]:
    """The last `weeks` dates (before NOW) falling on `weekday`."""
    first = NOW - timedelta(days=(NOW.weekday() - weekday) % 7 or 7)
    return [first - timedelta(weeks=i) for i in range(weeks)]


def plant(session: Session) -> None:
    rng = random.Random(1)
    pune = add_customers(session, [{"external_id": f"p{i}", "city": "Pune"} for i in range(40)])
    delhi = add_customers(session, [{"external_id": f"d{i}", "city": "Delhi"}
                                    for i in range(40)])
    orders = []
    # Pune orders on Tuesdays 19:00–19:59 IST (13:30–14:29 UTC: a different UTC hour and
    # partly a different UTC half-hour, so time-zone handling is tested) plus noise.
    for day in recent_weekdays(1, 20):
        for cid in rng.sample(pune, 10):
            orders.append((cid, utc_of_ist(day, 19, rng.randint(0, 59)), 500))
    for _ in range(60):
        day = NOW - timedelta(days=rng.randint(1, 300))
        orders.append((rng.choice(pune), utc_of_ist(day, rng.randint(8, 23)), 300))
    # Delhi shops on Saturday mornings.
    for day in recent_weekdays(5, 20):
        for cid in rng.sample(delhi, 10):
            orders.append((cid, utc_of_ist(day, 10, rng.randint(0, 59)), 500))
    add_orders(session, orders)


def test_planted_tuesday_evening_is_the_top_window(session: Session) -> None:
    plant(session)
    advice = st.suggest_send_times(session, PUNE, now=NOW).value
    top = advice.windows[0]
    assert (top.weekday, top.hour) == (1, 19)
    assert advice.basis == "audience" and advice.orders == 260
    assert sum(map(sum, advice.heatmap)) == 260
    assert advice.heatmap[1][19] >= 200
    assert len(advice.heatmap) == 7 and all(len(r) == 24 for r in advice.heatmap)
    assert 0.75 <= top.score <= 1.0
    assert "Tuesday 18:00–21:00" in top.reason and "this audience's" in top.reason
    assert "%" in top.reason
    # NOW is Tuesday 11:30 IST: today's 19:00 IST (13:30 UTC) is the next one.
    assert top.next_at == datetime(2026, 11, 24, 13, 30)
    assert len(advice.windows) == 3
    assert len({(w.weekday, w.hour) for w in advice.windows}) == 3
    for w in advice.windows[1:]:  # no near-duplicates of the top window
        assert not (w.weekday == 1 and abs(w.hour - 19) < st.MIN_GAP_HOURS)
    assert advice.windows[0].score >= advice.windows[1].score


def test_other_audience_other_answer(session: Session) -> None:
    plant(session)
    delhi = {"combinator": "and", "rules": [{"field": "city", "operator": "=", "value": "Delhi"}]}
    top = st.suggest_send_times(session, delhi, now=NOW).value.windows[0]
    assert (top.weekday, top.hour) == (5, 10)
    assert top.next_at == datetime(2026, 11, 28, 4, 30)  # Saturday 10:00 IST


def test_small_audience_falls_back_to_all_customers(session: Session) -> None:
    plant(session)
    nobody = {"combinator": "and", "rules": [{"field": "city", "operator": "=",
                                              "value": "Goa"}]}
    advice = st.suggest_send_times(session, nobody, now=NOW).value
    assert advice.basis == "all customers" and advice.audience_size == 0
    assert advice.notes and "too few" in advice.notes[0]
    assert "all customers'" in advice.windows[0].reason


def test_no_orders_at_all(session: Session) -> None:
    advice = st.suggest_send_times(session, PUNE, now=NOW).value
    assert advice.windows == [] and advice.orders == 0
    assert any("no orders" in n for n in advice.notes)


def test_next_occurrence_is_at_least_the_lead_ahead() -> None:
    # NOW is Tuesday 11:30 IST: 11:00 today has passed → next week; 12:00 is still ahead.
    assert st.next_occurrence(1, 11, NOW, IST) == datetime(2026, 12, 1, 5, 30)
    assert st.next_occurrence(1, 12, NOW, IST) == datetime(2026, 11, 24, 6, 30)
    assert st.next_occurrence(0, 0, NOW, IST) == datetime(2026, 11, 29, 18, 30)


def test_daylight_saving_zone(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRAND_TIMEZONE", "Europe/London")
    get_settings.cache_clear()
    cid = add_customers(session, [{"external_id": "uk", "city": "Pune"}])[0]
    # 18:00 London local in July (BST, 17:00 UTC) and in January (GMT, 18:00 UTC).
    add_orders(session, [(cid, datetime(2026, 7, 7 + 7 * i, 17, 0), 100) for i in range(3)]
               + [(cid, datetime(2026, 1, 6 + 7 * i, 18, 0), 100) for i in range(3)])
    advice = st.offline_send_times(session, PUNE, now=NOW)
    assert advice.heatmap[1][18] == 6


def test_midnight_window_spans_two_days(session: Session) -> None:
    cid = add_customers(session, [{"external_id": "owl", "city": "Pune"}])[0]
    # Monday 00:00–00:59 IST, 25 weeks: the window's three hours cross Sunday night.
    add_orders(session, [(cid, utc_of_ist(day, 0, 30), 100)
                         for day in recent_weekdays(0, 25)])
    top = st.suggest_send_times(session, PUNE, now=NOW).value.windows[0]
    assert (top.weekday, top.hour) == (0, 0)
    assert "23:00–02:00" in top.reason and "midnight" in top.reason
    assert top.next_at == datetime(2026, 11, 29, 18, 30)


@pytest.mark.parametrize("zone", ["Asia/Kolkata", "Asia/Kathmandu", "America/New_York"])
def test_sql_quarter_hours_match_python_bucketing(session: Session, zone: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The database's UTC quarter-hour grouping gives the heatmap Python bucketing of
    every timestamp gives (random seconds and microseconds, DST switches included)."""
    rng = random.Random(zone)
    ids = add_customers(session, [{"external_id": f"z{i}", "city": "Pune"} for i in range(5)])
    start = datetime(2025, 1, 1)
    add_orders(session, [(rng.choice(ids), start + timedelta(seconds=rng.randint(0, 700 * 86400),
                                                             microseconds=rng.randint(0, 999999)),
                          100) for _ in range(600)])
    tz = ZoneInfo(zone)
    aggregated = st._bucket(session, None, None, tz)
    monkeypatch.setattr(st._sqltime, "DIALECTS", ())
    streamed = st._bucket(session, None, None, tz)
    assert aggregated == streamed and aggregated[1] == 600
    # And both agree with zoneinfo applied to each timestamp directly.
    grid = [[0] * 24 for _ in range(7)]
    for at in session.execute(select(Order.ordered_at)).scalars():
        local = at.replace(tzinfo=UTC).astimezone(tz)
        grid[local.weekday()][local.hour] += 1
    assert aggregated[0] == grid


# -- outcomes weigh in: the hours when past messages converted -------------------------

def plant_conversions(session: Session, weeks: int, per_week: int = 10) -> None:
    """Pune customers messaged on Thursdays 20:00 IST (one email campaign a week) and
    buying at 21:xx IST the same evening: each order is attributed to that message."""
    from mini_crm.core.outcomes.attribution import attribute_order_ids
    from mini_crm.models import Campaign, CommunicationLog, Customer

    rng = random.Random(2)
    pune = list(session.exec(select(Customer.id).where(Customer.city == "Pune")).all())
    orders = []
    for week, day in enumerate(recent_weekdays(3, weeks)):
        sent = utc_of_ist(day, 20)
        campaign = Campaign(name=f"Thursday {week}", message_template="Hi", channel="email",
                            status="completed", started_at=sent, created_at=sent)
        session.add(campaign)
        session.flush()
        for cid in rng.sample(pune, per_week):
            session.add(CommunicationLog(campaign_id=campaign.id, customer_id=cid,
                                         status="delivered", sent_at=sent, created_at=sent))
            orders.append((cid, utc_of_ist(day, 21, rng.randint(0, 59)), 800))
    session.commit()
    add_orders(session, orders, prefix="conv")
    ids = list(session.exec(select(Order.id).where(Order.external_id.startswith("conv"))))
    assert attribute_order_ids(session, ids) == len(orders)
    session.commit()


def test_hours_when_messages_converted_are_weighed_in(session: Session) -> None:
    plant(session)
    plant_conversions(session, weeks=3)  # 30 conversions, Thursday 21:xx IST
    advice = st.suggest_send_times(session, PUNE, now=NOW).value
    assert advice.conversions == 30 and advice.conversion_basis == "audience"
    assert advice.conversion_heatmap[3][21] == 30 and advice.orders == 290
    top = advice.windows[0]
    # Orders alone favour Tuesday 19:00 (200 of 290); half the weight on conversions,
    # all of them Thursday 21:xx, moves the top window there.
    assert (top.weekday, top.hour) == (3, 21)
    assert top.conversion_share == 1.0
    assert "100% of this audience's 30 orders that followed a campaign message" in top.reason
    assert any((w.weekday, w.hour) == (1, 19) for w in advice.windows)
    tuesday = next(w for w in advice.windows if (w.weekday, w.hour) == (1, 19))
    assert tuesday.conversion_share == 0.0
    assert not any("campaign message" in n for n in advice.notes)


def test_audience_without_conversions_borrows_everyones(session: Session) -> None:
    plant(session)
    plant_conversions(session, weeks=3)
    delhi = {"combinator": "and", "rules": [{"field": "city", "operator": "=",
                                             "value": "Delhi"}]}
    advice = st.suggest_send_times(session, delhi, now=NOW).value
    assert advice.conversion_basis == "all customers" and advice.conversions == 30
    # zero said as "no orders", never "only 0 orders"
    assert any("placed no orders after a campaign message" in n for n in advice.notes)
    assert not any("only 0" in n.lower() for n in advice.notes)
    assert "all customers' 30 orders that followed a campaign message" in \
        advice.windows[0].reason


def test_too_few_conversions_fall_back_to_order_hours_and_say_so(session: Session) -> None:
    plant(session)
    plant_conversions(session, weeks=1, per_week=st.MIN_CONVERSIONS - 1)
    advice = st.suggest_send_times(session, PUNE, now=NOW).value
    assert advice.conversions == st.MIN_CONVERSIONS - 1 and advice.conversion_basis == ""
    assert (advice.windows[0].weekday, advice.windows[0].hour) == (1, 19)
    assert all(w.conversion_share is None for w in advice.windows)
    assert all("campaign message" not in w.reason for w in advice.windows)
    assert any(f"Customers placed only {st.MIN_CONVERSIONS - 1} orders after a campaign "
               "message" in n and "follow when customers usually order" in n
               for n in advice.notes)


def test_small_order_counts_are_said_in_words() -> None:
    assert st._few(0) == "no orders"
    assert st._few(1) == "only 1 order"
    assert st._few(7) == "only 7 orders"

