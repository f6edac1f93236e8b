"""Dashboard state: figures formatted for display, loaded off the event loop."""

from __future__ import annotations

from typing import Any

import reflex as rx

from mini_crm.core import brand_time, dashboard, formatting
from mini_crm.core.outcomes import reports as outcome_reports
from mini_crm.db import session_scope
from mini_crm.models import utcnow
from mini_crm.state.base import AppState

MONTHS = 24
WEEKS = 26


def _rupees(amount: Any) -> float:
    # The chart's values are rupees; its axis writes them compactly (components/
    # chart_format.MONEY_TICKS: "₹20K", "₹1.5L"), the tooltip in full.
    return round(float(amount), 2)


def _mark_partial(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The last period (this week, this month) is still running: its revenue moves to a
    `partial` series, drawn dashed from the last full period, and its label says so,
    so a half-week does not read as a crash."""
    if not points:
        return points
    last = points[-1]
    last["partial"], last["amount"] = last["amount"], None
    last["label"] = f"{last['label']} (so far)"
    if len(points) > 1:
        points[-2]["partial"] = points[-2]["amount"]
    return points


def _load() -> dict[str, Any]:
    now = utcnow()
    with session_scope() as session:
        ov = dashboard.overview(session, now=now)
        months = dashboard.revenue_by_month(session, months=MONTHS, now=now)
        weeks = dashboard.revenue_by_week(session, weeks=WEEKS, now=now)
        earned = {w["week_start"]: w["revenue"] for w in
                  outcome_reports.attributed_revenue_by_week(session, weeks=WEEKS, now=now)}
        cities = dashboard.top_cities(session)
        recent = dashboard.recent_orders(session, limit=6)
    return {
        "customers": formatting.count(ov.customers),
        "orders": formatting.count(ov.orders),
        "revenue": formatting.rupees(ov.revenue),
        "campaigns": formatting.count(ov.campaigns),
        "aov": formatting.rupees(ov.avg_order_value),
        "active": formatting.count(ov.active_customers_90d),
        "by_month": _mark_partial([{"label": formatting.month_label(m.month),
                                    "amount": _rupees(m.revenue), "partial": None,
                                    "revenue": formatting.rupees(m.revenue),
                                    "orders": m.orders} for m in months]),
        "by_week": _mark_partial([{"label": formatting.day_month(w.week_start),
                                   "amount": _rupees(w.revenue), "partial": None,
                                   "revenue": formatting.rupees(w.revenue),
                                   "orders": w.orders,
                                   "attributed_amount": _rupees(earned.get(w.week_start, 0)),
                                   "attributed": formatting.rupees(earned.get(w.week_start, 0))}
                                  for w in weeks]),
        "cities": [{"city": c, "customers": formatting.count(n), "spend": formatting.rupees(s)}
                   for c, n, s in cities],
        "recent": [{"external_id": o.external_id, "customer": o.customer_name or "(no name)",
                    "customer_id": o.customer_external_id,
                    "customer_href": formatting.customer_path(o.customer_external_id or ""),
                    "amount": formatting.rupees(o.amount), "status": o.status,
                    "when": formatting.days_ago(o.ordered_at, now)}
                   for o in recent],
        "empty": ov.customers == 0,
        "timezone": brand_time.zone_name(),
    }


class DashboardState(AppState):
    customers: str = "—"
    orders: str = "—"
    revenue: str = "—"
    campaigns: str = "—"
    aov: str = "—"
    active: str = "—"
    by_month: list[dict[str, Any]] = []
    by_week: list[dict[str, Any]] = []
    granularity: str = "month"
    timezone: str = ""  # BRAND_TIMEZONE: the calendar the weeks and months are on
    cities: list[dict[str, str]] = []
    recent: list[dict[str, str]] = []
    empty: bool = False
    loading: bool = True
    error: str = ""

    @rx.var
    def chart(self) -> list[dict[str, Any]]:
        return self.by_week if self.granularity == "week" else self.by_month

    @rx.event
    def set_granularity(self, value: str | list[str]) -> None:
        self.granularity = "week" if value == "week" else "month"

    @rx.event(background=True)
    async def load(self) -> None:
        async with self:
            if not self.ensure_signed_in():
                return
            self.loading = True
        try:
            figures = await rx.run_in_thread(_load)
        except Exception as exc:  # shown to the user instead of a blank page
            async with self:
                self.error = f"Could not load the dashboard: {exc}"
                self.loading = False
            return
        async with self:
            for key, value in figures.items():
                setattr(self, key, value)
            self.error = ""
            self.loading = False
