"""One campaign: its figures, funnel, timeline, the paginated log, cancel and CSV export."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

import reflex as rx

from mini_crm.core import formatting
from mini_crm.core.ai import insights
from mini_crm.core.campaigns import reports, service
from mini_crm.core.campaigns import timeline as campaign_timeline
from mini_crm.core.campaigns.figures import SKIP_DETAIL_LABELS, SKIP_LABELS
from mini_crm.core.outcomes import reports as outcome_reports
from mini_crm.db import session_scope
from mini_crm.state.ab_view import ab_view
from mini_crm.state.base import AppState
from mini_crm.state.campaign_common import (
    cancel_text,
    local_text,
    poll_while,
    stats_view,
    watch_pace,
)

LOG_PAGE_SIZE = 25
LOG_FILTERS = ["all", "queued", "waiting", "sent", "delivered", "undelivered", "failed",
               "skipped", "holdout"]
TIMELINE_BUCKETS = 30


def elapsed_label(seconds: float) -> str:
    """Time since the start in the largest units that fit, zeros dropped: 0 -> "0s",
    45 -> "+45s", 90 -> "+1 min 30s", 3600 -> "+1 h", 5400 -> "+1 h 30 min"."""
    whole = round(seconds)
    if whole <= 0:
        return "0s"
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} h" if hours else "", f"{minutes} min" if minutes else "",
             f"{secs}s" if secs and not hours else ""]
    return "+" + " ".join(p for p in parts if p)


def _time_labels(points: list[datetime]) -> list[str]:
    """Axis labels for round time slices (timeline(round_steps=True)): time since the
    start in s / min / h for a run under two hours ("0s", "+5s", "+1 min 30s"), else
    clock time in the brand's zone (with the day past one day)."""
    if not points:
        return []
    span = (points[-1] - points[0]).total_seconds()
    if span < 7200:
        return [elapsed_label((p - points[0]).total_seconds()) for p in points]
    local = [formatting.brand_time(p) for p in points]
    clock = "%H:%M" if span < 86_400 else "%d %b %H:%M"
    return [t.strftime(clock) for t in local]


def _summary(campaign_id: int) -> dict[str, Any] | None:
    with session_scope() as db:
        detail = reports.campaign_detail(db, campaign_id)
        if detail is None:
            return None
        timeline = campaign_timeline.timeline(db, campaign_id, buckets=TIMELINE_BUCKETS,
                                             round_steps=True)
        revenue = outcome_reports.revenue_since_send(db, campaign_id)
        view = stats_view(detail.stats)
        view["ab"] = ab_view(detail.stats)
    view.update({
        "message": detail.message,
        "objective": detail.stats.objective or "",
        "sentence": detail.sentence,
        "segment": detail.segment_name,
        "segment_id": str(detail.segment_id) if detail.segment_name else "",
    })
    earned = [{"label": f"+{p['hours']}h", "revenue": round(p["revenue"], 2),
               "holdout_revenue": round(p["holdout_revenue"], 2)} for p in revenue]
    labels = _time_labels([p["at"] for p in timeline])
    chart = [{"label": label, "sent": int(p.get("sent") or 0),
              "delivered": int(p.get("delivered") or 0), "failed": int(p.get("failed") or 0),
              "undelivered": int(p.get("undelivered") or 0),
              "cancelled": int(p.get("cancelled") or 0)}
             for label, p in zip(labels, timeline, strict=True)]
    if not any(v for point in chart for k, v in point.items() if k != "label"):
        chart = []  # empty axes say nothing: the page says why instead
    if view["nobody_note"]:
        earned = []
    return {"c": view, "timeline": chart, "revenue": earned}


def _log(campaign_id: int, status: str, page: int) -> dict[str, Any]:
    with session_scope() as db:
        rows, total = reports.log_page(db, campaign_id, status="" if status == "all" else status,
                                       limit=LOG_PAGE_SIZE, offset=(page - 1) * LOG_PAGE_SIZE)
    return {"rows": [{
        "id": str(r.get("id", "")),
        "customer": r.get("customer_name") or "(no name)",
        "external_id": r.get("customer_external_id") or "",
        "href": formatting.customer_path(r.get("customer_external_id") or ""),
        "status": r.get("status") or "",
        # A skipped row's "why" is its skip reason, in the words the figures use.
        "error": r.get("error") or SKIP_DETAIL_LABELS.get(r.get("skip_detail") or "") or
        SKIP_LABELS.get(r.get("skip_reason") or "", "").format(address="address"),
        "sent_at": local_text(r.get("sent_at")),
        "delivered_at": local_text(r.get("delivered_at")),
        "message": r.get("message") or "",
    } for r in rows], "total": total}


def _cancel(campaign_id: int, user_id: int | None) -> str:
    """Cancel through the core use case; the answer in the marketer's words."""
    result = service.cancel(campaign_id, actor_user_id=user_id)
    if not result.cancelled:
        if result.status == "draft":
            return "This is a draft: nothing has been sent. Delete it instead."
        return f"The campaign had already {result.status}; nothing to cancel."
    return cancel_text(result.counts, result.in_flight, result.settling,
                       result.in_flight_note)


def _pct(rate: float | None) -> str:
    return formatting.percent(rate)


def _breakdown(title: str, rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """One insights table (city, spend tier, tenure): each group's delivery rate beside
    the rest of the audience's; significant differences are marked."""
    if not rows:
        return None
    return {"title": title, "count_header": "Msgs", "rate_header": "Delivered",
            "rest_help": "Delivery rate of the rest of the audience", "rows": [{
        "label": str(r.get("label", "—")),
        "messages": formatting.count(int(r.get("messages") or 0)),
        "rate": _pct(r.get("rate")),
        "rest": _pct(r.get("rest_rate")),
        "mark": ("up" if (r.get("rate") or 0) > (r.get("rest_rate") or 0) else "down")
        if r.get("significant") else "",
    } for r in rows[:10]]}


def _converted(title: str, rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """One "who bought" table: each group's conversion rate (recipients with an order
    attributed to the campaign) beside the other recipients'; significant ones marked."""
    if not rows:
        return None
    return {"title": title, "count_header": "Recipients", "rate_header": "Bought",
            "rest_help": "Conversion rate of the other recipients", "rows": [{
                "label": str(r.get("label", "—")),
                "messages": formatting.count(int(r.get("recipients") or 0)),
                "rate": _pct(r.get("rate")),
                "rest": _pct(r.get("rest_rate")),
                "mark": ("up" if (r.get("rate") or 0) > (r.get("rest_rate") or 0) else "down")
                if r.get("significant") else "",
            } for r in rows[:10]]}


def _insights(campaign_id: int) -> dict[str, Any]:
    with session_scope() as db:
        result = insights.campaign_insights(db, campaign_id)
    value = result.value
    conversion = getattr(value, "conversion", None) or {}
    bought = [_converted(f"Bought, by {dim.lower()}", rows)
              for dim, rows in (conversion.get("groups") or {}).items()]
    if not conversion.get("converted"):
        bought = []  # nobody bought yet: tables of zeros say nothing
    tables = [t for t in (
        *bought,
        _breakdown("By city", value.by_city),
        _breakdown("By spend tier", value.by_spend_tier),
        _breakdown("By tenure", value.by_tenure),
    ) if t]
    comp = value.comparison or {}
    figures = [{"label": "This campaign", "value": _pct(comp.get("rate"))}]
    if comp.get("median_rate") is not None:
        n = int(comp.get("previous_campaigns") or 0)
        diff = comp.get("difference_points")
        figures.append({"label": f"Median of previous {n}", "value": _pct(comp["median_rate"])})
        if diff is not None:
            figures.append({"label": "Difference", "value": f"{diff:+.1f} pts"})
    errors = [{"error": str(e.get("error", "")),
               "count": formatting.plural(int(e.get("count") or 0), "message")}
              for e in (getattr(value, "top_errors", None) or [])]
    return {"summary": value.summary, "highlights": list(value.highlights), "tables": tables,
            "comparison": figures, "errors": errors, "engine": result.engine,
            "note": result.note}


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "campaign"


class CampaignDetailState(AppState):
    campaign_id: int = 0
    found: bool = True
    loading: bool = True
    c: dict[str, Any] = {}
    timeline: list[dict[str, Any]] = []
    revenue_series: list[dict[str, Any]] = []
    log_rows: list[dict[str, str]] = []
    log_status: str = "all"
    log_page: int = 1
    log_total: int = 0
    log_loading: bool = False
    notice: str = ""
    error: str = ""
    insights_loading: bool = False
    insights: dict[str, Any] = {}
    insights_error: str = ""
    _polling: bool = False

    @rx.var
    def log_pages(self) -> int:
        return max(1, -(-self.log_total // LOG_PAGE_SIZE))

    @rx.var
    def can_launch(self) -> bool:
        return self.user_role in ("admin", "marketer")

    @rx.var
    def active(self) -> bool:
        return bool(self.c.get("active"))

    @rx.var
    def cancellable(self) -> bool:
        return self.c.get("status") in ("sending", "scheduled")

    @rx.var
    def finished(self) -> bool:
        return self.c.get("status") in ("completed", "cancelled", "failed")

    @rx.var
    def log_showing(self) -> str:
        if not self.log_total:
            return "No messages"
        first = (self.log_page - 1) * LOG_PAGE_SIZE + 1
        return (f"{formatting.count(first)}–{formatting.count(first + len(self.log_rows) - 1)}"
                f" of {formatting.count(self.log_total)}")

    @rx.event(background=True)
    async def open(self):
        async with self:
            if not self.ensure_signed_in():
                return
            raw = str(self.router.page.params.get("campaign_id", "") or "")
            if not raw.isdigit():
                self.found, self.loading = False, False
                return
            if int(raw) != self.campaign_id:
                self.c, self.timeline, self.log_rows, self.insights = {}, [], [], {}
                self.log_status, self.log_page = "all", 1
            self.campaign_id, self.loading, self.found = int(raw), True, True
            self.notice = self.error = self.insights_error = ""
        yield CampaignDetailState.refresh

    @rx.event(background=True)
    async def refresh(self):
        """Reload figures, chart and log; start watching if the campaign is live."""
        async with self:
            if not self.ensure_signed_in() or not self.campaign_id:
                return
            campaign_id = self.campaign_id
        try:
            summary = await rx.run_in_thread(lambda: _summary(campaign_id))
        except Exception as exc:
            async with self:
                self.error, self.loading = f"Could not load the campaign: {exc}", False
            return
        async with self:
            if campaign_id != self.campaign_id:
                return
            self.loading = False
            if summary is None:
                self.found = False
                return
            self.c, self.timeline = summary["c"], summary["timeline"]
            self.revenue_series = summary["revenue"]
            load_insights = self.finished and not self.insights
            is_draft = self.c.get("status") == "draft"
        if is_draft:  # a draft has no figures yet: it opens where it was left, to finish
            yield rx.redirect(f"/campaigns/new?draft={campaign_id}", replace=True)
            return
        yield CampaignDetailState.load_log
        if load_insights:
            yield CampaignDetailState.load_insights
        yield CampaignDetailState.watch

    @rx.event(background=True)
    async def load_log(self):
        async with self:
            if not self.ensure_signed_in():
                return
            key = (self.campaign_id, self.log_status, self.log_page)
            self.log_loading = True
        result = await rx.run_in_thread(lambda: _log(*key))
        async with self:
            if key == (self.campaign_id, self.log_status, self.log_page):
                self.log_rows, self.log_total = result["rows"], result["total"]
            self.log_loading = False

    @rx.event(background=True)
    async def watch(self):
        """While the campaign is live, refresh figures, chart and the visible log page
        (every second while sending or awaiting receipts, every 10 s while scheduled);
        stops when nothing can change any more or the page is left."""
        async with self:
            if self._polling or not self.active or not self.ensure_signed_in():
                return
            self._polling = True
            route = self.router.page.path

        async def pace() -> str:
            async with self:
                return watch_pace(self, route, [self.c])

        async def step() -> None:
            async with self:
                campaign_id = self.campaign_id
                key = (self.campaign_id, self.log_status, self.log_page)
            try:
                summary = await rx.run_in_thread(lambda: _summary(campaign_id))
                log = await rx.run_in_thread(lambda: _log(*key))
            except Exception:  # transient: the next tick retries
                return
            async with self:
                if summary is not None and campaign_id == self.campaign_id:
                    self.c, self.timeline = summary["c"], summary["timeline"]
                    self.revenue_series = summary["revenue"]
                if key == (self.campaign_id, self.log_status, self.log_page):
                    self.log_rows, self.log_total = log["rows"], log["total"]

        try:
            await poll_while(pace, step)
        finally:
            async with self:
                self._polling = False
                done = self.finished
        if done:
            yield CampaignDetailState.load_insights

    @rx.event
    def set_log_status(self, status: str | list[str]):
        self.log_status = status if status in LOG_FILTERS else "all"
        self.log_page = 1
        return CampaignDetailState.load_log

    @rx.event
    def next_log_page(self):
        if self.log_page < self.log_pages:
            self.log_page += 1
            return CampaignDetailState.load_log

    @rx.event
    def prev_log_page(self):
        if self.log_page > 1:
            self.log_page -= 1
            return CampaignDetailState.load_log

    @rx.event(background=True)
    async def cancel(self):
        async with self:
            if not self.ensure_role("admin", "marketer"):
                self.error = "Only admins and marketers can cancel campaigns."
                return
            user = self._current_user()
            campaign_id = self.campaign_id
            self.notice = "Cancelling…"
        try:
            result = await rx.run_in_thread(
                lambda: _cancel(campaign_id, user["id"] if user else None))
        except Exception:
            result = "The campaign could not be cancelled; try again."
        async with self:
            self.notice = result
        yield CampaignDetailState.refresh

    @rx.event
    def export_csv(self):
        """The log streams from the API route (the session cookie authorises it): any
        size, no detour through the websocket."""
        if not self.ensure_signed_in() or not self.campaign_id:
            return
        url = f"/api/v1/campaigns/{int(self.campaign_id)}/log.csv"
        return rx.call_script(f"window.location.assign({json.dumps(url)})")

    @rx.event(background=True)
    async def load_insights(self):
        async with self:
            if not self.ensure_signed_in():
                return
            self.insights_loading, self.insights_error = True, ""
            campaign_id = self.campaign_id
        try:
            result = await rx.run_in_thread(lambda: _insights(campaign_id))
        except Exception as exc:  # insights are extra: the page works without them
            async with self:
                self.insights_loading = False
                self.insights_error = f"Insights are unavailable: {exc}"
            return
        async with self:
            if campaign_id == self.campaign_id:
                self.insights = result
            self.insights_loading = False
