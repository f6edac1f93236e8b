"""Send-time suggestions: when does this audience shop, in the brand's own time zone?

Offline engine: the audience's past orders (last year; all time if that is thin; the
whole customer base if the audience has too few orders) bucketed into a weekday ×
hour heatmap in settings.brand_timezone. Stored times are naive UTC and time-zone
arithmetic is not portable SQL, so the database counts orders per UTC quarter hour
(_sqltime.quarter_hour, one expression per dialect) and Python places each quarter hour
in the brand's zone: exact, DST included, and at most 35,040 rows a year whatever the
audience size. Other databases stream `ordered_at` in chunks and bucket it here.

Outcomes weigh in. Orders that followed a campaign message (the `conversion` table:
last touch within the conversion window, holdout excluded) are bucketed the same way by
their order time — the hours when people act on a message. When there are at least
MIN_CONVERSIONS of them (the audience's in the last year, else all customers' in the
last year) each hour's weight is the blend
    (1 - CONVERSION_WEIGHT) × its share of orders + CONVERSION_WEIGHT × its share of
    conversions,
and the reason quotes both shares; with fewer, the windows follow orders alone and a
note says how many conversions there were.

A window is an hour scored with its neighbours at half weight (a peak, not a broad
shoulder, wins); the best three are picked greedily, at least three hours apart on
the same day. Each reason quotes the share of orders (and of conversions) in the three
hours around it. Windows are listed strongest first by that same three-hour share
(blended when conversions weigh in), so the figures shown read in order.

LLM engine: the model sees the heatmap and picks windows with its own reasons; the
weekday/hour are validated, and score and next_at are always recomputed from data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlmodel import Session, func, select

from mini_crm.core.ai import _sqltime, engine, llm
from mini_crm.core.ai.result import AIResult
from mini_crm.core.formatting import percent, plural
from mini_crm.core.segments import parse_rules
from mini_crm.core.segments.service import audience_size, matching_customer_ids
from mini_crm.models import Conversion, Order, OrderStatus, utcnow
from mini_crm.settings import get_settings

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
HOURS_IN_WEEK = 7 * 24
LOOKBACK_DAYS = 365
MIN_ORDERS = 20  # fewer than this and a heatmap is noise: widen the basis
MIN_CONVERSIONS = 20  # the same floor for the conversion heatmap before it is blended in
CONVERSION_WEIGHT = 0.5  # its share of each hour's weight when it is
WINDOWS = 3
MIN_GAP_HOURS = 3
CHUNK = 5000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# A suggestion at least this far ahead, so there is time to review and schedule it.
LEAD = timedelta(minutes=15)


@dataclass
class SendWindow:
    weekday: int  # Monday = 0, brand time zone
    hour: int  # 0..23, brand time zone
    score: float  # share of the basis' orders in the three hours around `hour`
    reason: str
    next_at: datetime  # next occurrence, naive UTC
    # share of the conversions in the same three hours; None when they were too few to use
    conversion_share: float | None = None


@dataclass
class SendTimeAdvice:
    heatmap: list[list[int]]  # 7 weekdays (Mon = 0) × 24 hours, brand time zone
    windows: list[SendWindow]
    timezone: str = ""
    orders: int = 0  # orders behind the heatmap
    basis: str = "audience"  # "audience" | "audience, all time" | "all customers"
    audience_size: int = 0
    notes: list[str] = field(default_factory=list)
    # Orders attributed to a campaign message, by their order time, same grid
    conversion_heatmap: list[list[int]] = field(default_factory=lambda: _empty_grid())
    conversions: int = 0  # conversions behind conversion_heatmap
    # "audience" | "all customers" when blended into the windows; "" when too few
    conversion_basis: str = ""


def _empty_grid() -> list[list[int]]:
    return [[0] * 24 for _ in range(7)]


def _bucket(session: Session, customer_ids: sa.Select | None, since: datetime | None,
            tz: ZoneInfo, *, converted: bool = False) -> tuple[list[list[int]], int]:
    """Weekday × hour grid (brand zone) of counted orders, or with `converted` of
    conversions (attributed orders, holdout excluded) by their order time."""
    if converted:
        at: Any = Conversion.ordered_at
        conditions: list[Any] = [Conversion.holdout == sa.false()]
        customer: Any = Conversion.customer_id
    else:
        at, customer = Order.ordered_at, Order.customer_id
        conditions = [Order.status.not_in(OrderStatus.NOT_COUNTED)]
    if customer_ids is not None:
        conditions.append(customer.in_(customer_ids))
    if since is not None:
        conditions.append(at >= since)
    return _grid(session, at, conditions, tz)


def _grid(session: Session, at: Any, conditions: list[Any], tz: ZoneInfo
          ) -> tuple[list[list[int]], int]:
    grid = _empty_grid()
    total = 0
    if session.get_bind().dialect.name in _sqltime.DIALECTS:
        # The database groups by UTC quarter hour (≤ 35,040 rows a year); each bucket is
        # then placed in the brand's zone, exactly, daylight saving included.
        bucket = _sqltime.quarter_hour(at)
        stmt = select(bucket, func.count()).where(*conditions).group_by(bucket)
        rows = session.execute(stmt.execution_options(yield_per=CHUNK))
        for partition in rows.partitions():
            for quarter, n in partition:
                local = (_EPOCH + timedelta(seconds=int(quarter) * _sqltime.SECONDS)
                         ).astimezone(tz)
                grid[local.weekday()][local.hour] += int(n)
                total += int(n)
        return grid, total
    # Any other database: stream the timestamps and bucket them here.
    offsets: dict[datetime, timedelta] = {}  # UTC quarter hour → offset
    stmt = select(at).where(*conditions)
    for partition in session.execute(stmt.execution_options(yield_per=CHUNK)).partitions():
        for (when,) in partition:
            quarter = when.replace(minute=when.minute - when.minute % 15, second=0,
                                   microsecond=0)
            offset = offsets.get(quarter)
            if offset is None:
                offset = quarter.replace(tzinfo=UTC).astimezone(tz).utcoffset() or timedelta(0)
                offsets[quarter] = offset
            local = when + offset
            grid[local.weekday()][local.hour] += 1
            total += 1
    return grid, total


def _flat(grid: list[list[int]]) -> list[int]:
    return [grid[w][h] for w in range(7) for h in range(24)]


def _label(index: int) -> str:
    return f"{WEEKDAYS[index // 24]} {index % 24:02d}:00"


def block_share(grid: list[list[int]], weekday: int, hour: int) -> float:
    """Share of all orders in the hour before, the hour of and the hour after."""
    flat = _flat(grid)
    total = sum(flat)
    if not total:
        return 0.0
    i = weekday * 24 + hour
    return sum(flat[(i + d) % HOURS_IN_WEEK] for d in (-1, 0, 1)) / total


def next_occurrence(weekday: int, hour: int, now: datetime, tz: ZoneInfo) -> datetime:
    """The next weekday/hour in `tz` at least LEAD after `now` (naive UTC), as naive UTC."""
    local_now = now.replace(tzinfo=UTC).astimezone(tz)
    day = local_now.date() + timedelta(days=(weekday - local_now.weekday()) % 7)
    candidate = datetime.combine(day, time(hour), tzinfo=tz)
    if candidate < local_now + LEAD:
        candidate = datetime.combine(day + timedelta(days=7), time(hour), tzinfo=tz)
    return candidate.astimezone(UTC).replace(tzinfo=None)


def _reason(grid: list[list[int]], weekday: int, hour: int, basis: str, tz_name: str,
            conversions: list[list[int]] | None = None, conversion_basis: str = "") -> str:
    flat = _flat(grid)
    total = sum(flat)
    share = round(block_share(grid, weekday, hour), 4)  # as the window's score keeps it
    peak = flat[weekday * 24 + hour] / total if total else 0.0
    span = f"{(hour - 1) % 24:02d}:00–{(hour + 2) % 24:02d}:00"
    day = WEEKDAYS[weekday] if hour not in (0, 23) else f"{WEEKDAYS[weekday]} (around midnight)"
    whose = "this audience's" if basis.startswith("audience") else "all customers'"
    lift = share / (3 / HOURS_IN_WEEK)
    # percent(): the one rounding the window's badge uses too ("7.3%" in both).
    text = (f"{percent(share, trim=True)} of {whose} orders fall on {day} {span} "
            f"({tz_name}), {lift:.1f}× an average 3-hour slot; "
            f"{percent(peak, trim=True)} in the {hour:02d}:00 hour itself")
    if conversions is None:
        return text
    n = sum(_flat(conversions))
    whose = "this audience's" if conversion_basis == "audience" else "all customers'"
    converted = percent(round(block_share(conversions, weekday, hour), 4), trim=True)
    return (f"{text}; and {converted} of {whose} "
            f"{plural(n, 'order')} that followed a campaign message (conversions) were placed then")


def _blend(grid: list[list[int]], conversions: list[list[int]] | None) -> list[float]:
    """Each hour's weight: its share of orders, blended with its share of conversions."""
    flat = _flat(grid)
    total = sum(flat)
    orders = [v / total for v in flat] if total else [0.0] * HOURS_IN_WEEK
    if conversions is None:
        return orders
    conv = _flat(conversions)
    n = sum(conv)
    return [(1 - CONVERSION_WEIGHT) * o + CONVERSION_WEIGHT * c / n
            for o, c in zip(orders, conv, strict=True)]


def strongest_first(windows: list[SendWindow]) -> list[SendWindow]:
    """`windows` ordered by their three-hour share, highest first: the order share
    (score), blended with the conversion share by CONVERSION_WEIGHT when there is one.
    Stable, so equal windows keep the order they were picked in."""
    def strength(w: SendWindow) -> float:
        if w.conversion_share is None:
            return w.score
        return (1 - CONVERSION_WEIGHT) * w.score + CONVERSION_WEIGHT * w.conversion_share
    return sorted(windows, key=strength, reverse=True)


def best_windows(grid: list[list[int]], now: datetime, tz: ZoneInfo, basis: str,
                 tz_name: str, n: int = WINDOWS, conversions: list[list[int]] | None = None,
                 conversion_basis: str = "") -> list[SendWindow]:
    """The top `n` send windows. `conversions` (a weekday × hour grid of conversions, or
    None when too few to use) is blended in with CONVERSION_WEIGHT."""
    if not sum(_flat(grid)) and conversions is None:
        return []
    weight = _blend(grid, conversions)

    def smoothed(i: int) -> float:
        return weight[i] + 0.5 * (weight[(i - 1) % HOURS_IN_WEEK]
                                  + weight[(i + 1) % HOURS_IN_WEEK])

    ranked = sorted(range(HOURS_IN_WEEK), key=lambda i: (-smoothed(i), -weight[i], i))
    chosen: list[int] = []
    for i in ranked:
        if len(chosen) == n or smoothed(i) == 0:
            break
        if any(min((i - c) % HOURS_IN_WEEK, (c - i) % HOURS_IN_WEEK) < MIN_GAP_HOURS
               for c in chosen):
            continue
        chosen.append(i)
    return strongest_first([SendWindow(weekday=i // 24, hour=i % 24,
                       score=round(block_share(grid, i // 24, i % 24), 4),
                       reason=_reason(grid, i // 24, i % 24, basis, tz_name, conversions,
                                      conversion_basis),
                       next_at=next_occurrence(i // 24, i % 24, now, tz),
                       conversion_share=(round(block_share(conversions, i // 24, i % 24), 4)
                                         if conversions is not None else None))
            for i in chosen])


def _conversion_grid(session: Session, ids: sa.Select, since: datetime, tz: ZoneInfo
                     ) -> tuple[list[list[int]], int, str, list[str]]:
    """The conversions to blend in: the audience's in the last year, else everyone's;
    basis "" (and a note) when even those are fewer than MIN_CONVERSIONS."""
    grid, total = _bucket(session, ids, since, tz, converted=True)
    if total >= MIN_CONVERSIONS:
        return grid, total, "audience", []
    audience_total = total
    grid, total = _bucket(session, None, since, tz, converted=True)
    if total >= MIN_CONVERSIONS:
        return grid, total, "all customers", [
            f"This audience placed {_few(audience_total)} after a campaign message in the "
            f"last year, too few to learn from ({MIN_CONVERSIONS} are needed), so the times "
            "also weigh when all customers ordered after a message."]
    return grid, total, "", [
        f"Customers placed {_few(total)} after a campaign message in the last year, too "
        f"few to learn when messages work ({MIN_CONVERSIONS} are needed), so these times "
        "follow when customers usually order."]


def _few(n: int) -> str:
    """A small order count said right: "no orders", "only 1 order", "only 7 orders"."""
    return "no orders" if n == 0 else f"only {plural(n, 'order')}"


def _heatmap(session: Session, rules: dict[str, Any], now: datetime, tz: ZoneInfo
             ) -> tuple[list[list[int]], int, str, list[str]]:
    tree = parse_rules(rules)
    ids = matching_customer_ids(tree, now)
    since = now - timedelta(days=LOOKBACK_DAYS)
    notes: list[str] = []
    grid, total = _bucket(session, ids, since, tz)
    if total >= MIN_ORDERS:
        return grid, total, "audience", notes
    grid, total = _bucket(session, ids, None, tz)
    if total >= MIN_ORDERS:
        notes.append(f"The audience had fewer than {MIN_ORDERS} orders in the last year, "
                     "so all of its past orders were used.")
        return grid, total, "audience, all time", notes
    audience_orders = total
    grid, total = _bucket(session, None, since, tz)
    notes.append(f"The audience has {_few(audience_orders).replace(' order', ' past order')}"
                 ", too few for a "
                 "pattern; the windows follow all customers' orders in the last year.")
    if total == 0:
        notes.append("There are no orders in the last year, so there is no pattern to "
                     "suggest a send time from.")
    return grid, total, "all customers", notes


def offline_send_times(session: Session, rules: dict[str, Any],
                       now: datetime | None = None) -> SendTimeAdvice:
    """The figures and windows from data alone (see the module docstring)."""
    now = now or utcnow()
    tz_name = get_settings().brand_timezone
    tz = ZoneInfo(tz_name)
    grid, total, basis, notes = _heatmap(session, rules, now, tz)
    ids = matching_customer_ids(parse_rules(rules), now)
    conv, conv_total, conv_basis, conv_notes = _conversion_grid(
        session, ids, now - timedelta(days=LOOKBACK_DAYS), tz)
    blended = conv if conv_basis else None
    return SendTimeAdvice(heatmap=grid,
                          windows=best_windows(grid, now, tz, basis, tz_name,
                                               conversions=blended,
                                               conversion_basis=conv_basis),
                          timezone=tz_name, orders=total, basis=basis,
                          audience_size=audience_size(session, rules, now),
                          notes=[*notes, *conv_notes], conversion_heatmap=conv,
                          conversions=conv_total, conversion_basis=conv_basis)


class _WindowAnswer(BaseModel):
    weekday: int = Field(ge=0, le=6)
    hour: int = Field(ge=0, le=23)
    reason: str = Field(min_length=1, max_length=300)


class SendTimeAnswer(BaseModel):
    windows: list[_WindowAnswer] = Field(min_length=1, max_length=WINDOWS)


def _llm_send_times(stats: SendTimeAdvice, now: datetime) -> SendTimeAdvice:
    if not stats.orders:
        raise llm.LLMUnavailable("there are no orders to reason about")
    system = (
        "You advise a marketing team when to send a campaign. You get a heatmap of past "
        "orders: heatmap[weekday][hour], weekday 0 = Monday, hours in the brand's time zone. "
        "When 'conversion_heatmap' is given it counts, the same way, the orders that "
        "followed a campaign message (conversions): weigh both, orders and conversions "
        "equally. "
        f"Pick up to {WINDOWS} distinct send windows (weekday, hour) where this audience "
        "shops most, each with a one-sentence reason quoting the figures. Use only the data.")
    figures: dict[str, Any] = {"timezone": stats.timezone, "orders": stats.orders,
                               "basis": stats.basis, "heatmap": stats.heatmap}
    blended = stats.conversion_heatmap if stats.conversion_basis else None
    if blended is not None:
        figures |= {"conversions": stats.conversions,
                    "conversion_basis": stats.conversion_basis,
                    "conversion_heatmap": blended}
    user = json.dumps(figures)
    answer = llm.complete_json(system, user, SendTimeAnswer)
    tz = ZoneInfo(stats.timezone)
    windows: list[SendWindow] = []
    for w in answer.windows:
        if any(x.weekday == w.weekday and x.hour == w.hour for x in windows):
            continue
        windows.append(SendWindow(
            weekday=w.weekday, hour=w.hour,
            score=round(block_share(stats.heatmap, w.weekday, w.hour), 4),
            reason=" ".join(w.reason.split()), next_at=next_occurrence(w.weekday, w.hour, now,
                                                                        tz),
            conversion_share=(round(block_share(blended, w.weekday, w.hour), 4)
                              if blended is not None else None)))
    return SendTimeAdvice(heatmap=stats.heatmap, windows=strongest_first(windows),
                          timezone=stats.timezone,
                          orders=stats.orders, basis=stats.basis,
                          audience_size=stats.audience_size, notes=stats.notes,
                          conversion_heatmap=stats.conversion_heatmap,
                          conversions=stats.conversions,
                          conversion_basis=stats.conversion_basis)


def suggest_send_times(db: Session, rules: dict[str, Any], now: datetime | None = None
                       ) -> AIResult[SendTimeAdvice]:
    """Raises RulesError for invalid rules (before any engine runs)."""
    now = now or utcnow()
    stats = offline_send_times(db, rules, now)  # the figures both engines stand on
    return engine.run(lambda: _llm_send_times(stats, now), lambda: stats)
