"""The outcome read model: what campaigns earned, for every door (API, UI, insights, CSV).

Everything reads `conversion` (one row per attributed order, see attribution.py) with
grouped queries per page of campaigns, never per campaign or per order:
- conversions: attributed orders of the campaign's recipients (holdout excluded);
- converters: distinct recipients with at least one; revenue: their orders' amounts;
- revenue_per_message: revenue / messages sent (None before any was sent);
- holdout: {size, conversions, converters, revenue} of the control group;
- uplift: uplift.uplift(recipients, holdout) — None without a holdout or while short.
Recipients for the uplift are the people whose message reached the vendor (sent,
delivered or undelivered): a touch is what attribution credits. Money is Decimal here;
the doors turn it into numbers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from mini_crm.core import brand_days, brand_time
from mini_crm.core.ai._sqltime import SECONDS, quarter_hour
from mini_crm.core.outcomes.attribution import window_hours
from mini_crm.core.outcomes.uplift import GroupFigures, uplift
from mini_crm.models import (
    Campaign,
    CommunicationLog,
    Conversion,
    DeliveryStatus,
    Order,
    utcnow,
)

CONVERSION = Conversion.__table__
CAMPAIGN = Campaign.__table__
LOG = CommunicationLog.__table__
ORDER = Order.__table__
ZERO = Decimal("0")


@dataclass
class Outcome:
    """One campaign's outcome figures (shapes in the module docstring)."""

    sent: int = 0
    conversions: int = 0
    converters: int = 0
    revenue: Decimal = ZERO
    holdout_size: int = 0
    holdout_conversions: int = 0
    holdout_converters: int = 0
    holdout_revenue: Decimal = ZERO
    uplift: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def revenue_per_message(self) -> Decimal | None:
        return (self.revenue / self.sent).quantize(Decimal("0.01")) if self.sent else None

    @property
    def conversion_rate(self) -> float | None:
        return round(self.converters / self.sent, 6) if self.sent else None

    @property
    def holdout_rate(self) -> float | None:
        return (round(self.holdout_converters / self.holdout_size, 6)
                if self.holdout_size else None)

    def holdout_dict(self) -> dict[str, Any]:
        return {"size": self.holdout_size, "conversions": self.holdout_conversions,
                "converters": self.holdout_converters,
                "revenue": float(self.holdout_revenue), "conversion_rate": self.holdout_rate}

    def as_dict(self) -> dict[str, Any]:
        rpm = self.revenue_per_message
        return {"conversions": self.conversions, "converters": self.converters,
                "revenue": float(self.revenue), "conversion_rate": self.conversion_rate,
                "revenue_per_message": float(rpm) if rpm is not None else None,
                "holdout": self.holdout_dict(), "uplift": self.uplift}


def outcomes(db: Session, counts: dict[tuple[int, str], int],
             campaign_ids: Iterable[int]) -> dict[int, Outcome]:
    """Outcome per campaign id, from the log's (campaign, status) counts the caller has
    already read, plus ONE grouped query over conversion for all of them."""
    ids = sorted(set(campaign_ids))
    result: dict[int, Outcome] = {}
    for cid in ids:
        sent = sum(counts.get((cid, s), 0) for s in DeliveryStatus.TOUCHED)
        result[cid] = Outcome(sent=sent,
                              holdout_size=counts.get((cid, DeliveryStatus.HOLDOUT), 0))
    if not ids:
        return result
    rows = db.execute(
        sa.select(CONVERSION.c.campaign_id, CONVERSION.c.holdout, sa.func.count(),
                  sa.func.count(sa.distinct(CONVERSION.c.customer_id)),
                  sa.func.coalesce(sa.func.sum(CONVERSION.c.amount), 0))
        .where(CONVERSION.c.campaign_id.in_(ids))
        .group_by(CONVERSION.c.campaign_id, CONVERSION.c.holdout)).all()
    for cid, held, n, people, revenue in rows:
        o = result[int(cid)]
        if held:
            o.holdout_conversions, o.holdout_converters = int(n), int(people)
            o.holdout_revenue = Decimal(revenue)
        else:
            o.conversions, o.converters, o.revenue = int(n), int(people), Decimal(revenue)
    for o in result.values():
        if o.holdout_size:
            o.uplift = uplift(
                GroupFigures(o.sent, o.converters, o.conversions, o.revenue),
                GroupFigures(o.holdout_size, o.holdout_converters, o.holdout_conversions,
                             o.holdout_revenue))
    return result


def revenue_since_send(db: Session, campaign_id: int) -> list[dict[str, Any]]:
    """Attributed revenue and orders over time since the launch, recipients and holdout
    apart: hourly points for a window up to 2 days, 6-hourly beyond; the whole window.

    [{"hours": h since launch, "at": datetime, "revenue", "orders", "holdout_revenue",
    "holdout_orders"}]; [] before launch. One query grouped by quarter hour.
    """
    row = db.execute(sa.select(CAMPAIGN.c.started_at, CAMPAIGN.c.channel)
                     .where(CAMPAIGN.c.id == campaign_id)).first()
    if row is None or row.started_at is None:
        return []
    hours = window_hours().get(row.channel, window_hours()["sms"])
    step = 1 if hours <= 48 else 6
    # Touches happen after the launch, and every order lies within a window of its touch.
    quarter = quarter_hour(CONVERSION.c.ordered_at)
    grouped = db.execute(
        sa.select(quarter, CONVERSION.c.holdout, sa.func.count(), sa.func.sum(CONVERSION.c.amount))
        .where(CONVERSION.c.campaign_id == campaign_id)
        .group_by(quarter, CONVERSION.c.holdout)).all()
    start = row.started_at
    n_points = -(-hours // step) + 1
    points = [{"hours": i * step, "at": start + timedelta(hours=i * step), "revenue": 0.0,
               "orders": 0, "holdout_revenue": 0.0, "holdout_orders": 0}
              for i in range(n_points)]
    epoch = datetime(1970, 1, 1)
    for q, held, n, amount in grouped:
        at = epoch + timedelta(seconds=int(q) * SECONDS)
        i = int((at - start).total_seconds() // (step * 3600))
        i = min(max(i, 0), n_points - 1)
        prefix = "holdout_" if held else ""
        points[i][prefix + "revenue"] += float(amount or 0)
        points[i][prefix + "orders"] += int(n)
    return points


def attributed_revenue_by_week(db: Session, weeks: int = 26,
                               now: datetime | None = None) -> list[dict[str, Any]]:
    """Revenue of attributed orders (holdout excluded) per Monday-to-Sunday brand-calendar
    week (BRAND_TIMEZONE, by the order's brand-time day), oldest first, the current week
    last, empty weeks as 0: [{"week_start": date, "revenue": Decimal, "orders": int}].

    Sums per brand day in SQL (core/brand_days.py), folded into weeks here.
    """
    today = brand_time.today(now or utcnow())
    first = today - timedelta(days=today.weekday()) - timedelta(weeks=weeks - 1)
    days = brand_days.sums_by_day(db, CONVERSION.c.ordered_at, CONVERSION.c.amount,
                                  [CONVERSION.c.holdout == sa.false()], first, today)
    return [{"week_start": k, "revenue": r, "orders": n}
            for k, (r, n) in brand_days.fold_weeks(days, first, weeks).items()]


def order_ids_by_log(db: Any, campaign_id: int, first_log_id: int,
                     last_log_id: int) -> dict[int, list[str]]:
    """Attributed order external ids per log row of one campaign, for a log id range
    (a CSV chunk): one query through the conversion (campaign_id) index."""
    rows = db.execute(
        sa.select(CONVERSION.c.log_id, ORDER.c.external_id)
        .join_from(CONVERSION, ORDER, ORDER.c.id == CONVERSION.c.order_id)
        .where(CONVERSION.c.campaign_id == campaign_id,
               CONVERSION.c.log_id.between(first_log_id, last_log_id))
        .order_by(CONVERSION.c.log_id, ORDER.c.ordered_at)).all()
    out: dict[int, list[str]] = {}
    for log_id, ext in rows:
        out.setdefault(int(log_id), []).append(str(ext))
    return out
