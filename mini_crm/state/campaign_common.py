"""Shared by the campaign states: how a campaign's figures are shown, and live polling.

The campaign core (mini_crm.core.campaigns) owns the numbers; this module only
formats one `reports.CampaignStats` into the strings and percentages the pages
lay out, so the history table and the campaign page always agree.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from mini_crm.core import formatting
from mini_crm.core.campaigns import ab_test
from mini_crm.core.campaigns.figures import skipped_text
from mini_crm.core.campaigns.reports import CampaignStats
from mini_crm.models import CampaignStatus, utcnow
from mini_crm.settings import get_settings
from mini_crm.state.outcome_view import outcome_view

# Polling cadence while something is sending. A poller stops when its tab has been
# gone (no websocket) for AWAY_GRACE_SECONDS — a short grace, so a reconnect after a
# network blip keeps it — and in any case after POLL_MAX_SECONDS.
POLL_SECONDS = 1.0
POLL_MAX_SECONDS = 3 * 60 * 60
AWAY_GRACE_SECONDS = 5.0
AWAY = "away"  # what a pace callable answers while its tab has no websocket
ACTIVE = (CampaignStatus.SENDING, CampaignStatus.SCHEDULED)
# A campaign is "completed" once nothing is queued, but delivery receipts keep
# arriving after that: keep watching for this long while some are outstanding.
RECEIPT_WAIT = timedelta(minutes=15)


def cancel_text(counts: dict[str, int], in_flight: int | None, settling: int,
                in_flight_note: str | None = None) -> str:
    """A cancel's answer: what went out, what was stopped, and what is still settling.
    `in_flight_note` (set when the in-flight count is unknown) is said, never hidden."""
    sent = sum(counts.get(s, 0) for s in ("sent", "delivered", "undelivered"))
    # counts are log_status buckets: the rows the cancel stopped apart from failures.
    stopped = formatting.count(counts.get("cancelled", 0))
    text = (f"Campaign cancelled: no new message will go out. {formatting.count(sent)} sent, "
            f"{stopped} stopped before sending")
    if counts.get("failed"):
        text += f", {formatting.count(counts['failed'])} failed"
    if in_flight:
        text += (f"; {formatting.count(in_flight)} were already with the vendor when you "
                 "cancelled and may still be delivered")
    elif in_flight is None and in_flight_note:
        text += ("; how many were already with the vendor when you cancelled is "
                 f"{in_flight_note} (those may still be delivered)")
    if settling:
        return text + (f". {formatting.count(settling)} are still settling with the "
                       "workers; the figures below update as they do.")
    return text + ". These are the final counts."


def percent(part: int, whole: int) -> int:
    return max(0, min(100, round(100 * part / whole))) if whole else 0


def rate_text(rate: float | None) -> str:
    return formatting.percent(rate)


def local_text(value: datetime | None) -> str:
    """A stored naive-UTC timestamp as the brand reads it (its own time zone)."""
    if value is None:
        return "—"
    return formatting.date_time(formatting.brand_time(value))


def _pending_text(pending: int, waiting: int, decide_at: datetime | None,
                  auto: bool = True) -> str:
    """"12 queued", or with an A/B test's held rows named apart and when they go:
    "152 waiting for the A/B winner (decided at 30 Nov 2026, 18:00)"; for a test too
    small for an automatic winner (`auto` False) "5 waiting for you to pick the A/B
    winner (variant A at 30 Nov 2026, 18:00 if nobody does)"."""
    if not waiting:
        return f"{formatting.count(pending)} queued"
    if auto:
        when = f" (decided at {local_text(decide_at)})" if decide_at is not None else ""
        held = f"{formatting.count(waiting)} waiting for the A/B winner{when}"
    else:
        when = (f" (variant A at {local_text(decide_at)} if nobody does)"
                if decide_at is not None else "")
        held = f"{formatting.count(waiting)} waiting for you to pick the A/B winner{when}"
    queued = pending - waiting
    return f"{formatting.count(queued)} queued, {held}" if queued else held


def when_text(status: str, created_at: datetime | None, scheduled_at: datetime | None,
              started_at: datetime | None) -> str:
    """The campaign header's date: "Started …" once it started, "Scheduled for …"
    while scheduled, "Draft created …" for a draft, "Created …" otherwise (cancelled
    before it started)."""
    if started_at is not None:
        return f"Started {local_text(started_at)}"
    if status == CampaignStatus.SCHEDULED and scheduled_at is not None:
        return f"Scheduled for {local_text(scheduled_at)}"
    if status == CampaignStatus.DRAFT:
        return f"Draft created {local_text(created_at)}"
    return f"Created {local_text(created_at)}"


def never_started(status: str, started_at: datetime | None) -> bool:
    """True for a campaign cancelled before it started: its audience was never counted."""
    return status == CampaignStatus.CANCELLED and started_at is None


def _nobody_note(status: str, total: int, audience: int, scheduled_at: datetime | None,
                 started_at: datetime | None) -> str:
    """Why a campaign has no recipients to show ("" when it has some): not started yet,
    cancelled before it started, an empty audience, or everyone matching skipped at
    launch."""
    if total:
        return ""
    if never_started(status, started_at):
        return ("Cancelled before it started: the audience was never counted, so nothing "
                "was sent.")
    if status in (CampaignStatus.SCHEDULED, CampaignStatus.DRAFT):
        when = f" ({local_text(scheduled_at)})" if scheduled_at is not None else ""
        return (f"Not started yet{when}: the audience is counted when it starts, and "
                "each stage fills in as messages go out.")
    if status == CampaignStatus.SENDING:
        return "Counting the audience…"
    if not audience:
        return "No one was in the audience, so nothing was sent."
    return ("Every matching customer was skipped at launch (see Audience), so nothing "
            "was sent.")


def stats_view(s: CampaignStats) -> dict[str, Any]:
    """One campaign's figures, display-ready. `sent` counts every message the vendor
    accepted (so it includes those since delivered or undelivered); `failed` the real
    failures, `cancelled` the rows a cancel stopped before they left (apart)."""
    pending = s.unsent  # queued + waiting for an A/B winner
    sent, failed = s.sent, s.failed_sending
    cancelled = s.cancelled  # stopped by a cancel before they left: never a failure
    delivered, undelivered = s.delivered, s.undelivered
    audience = s.audience_size
    skipped = dict(s.skipped)
    # The stages are shares of the recipients: skipped customers are never sent, so they
    # must not hold the progress below 100% or the sent share below the real one.
    recipients = s.recipients
    total = max(recipients, pending + sent + failed + cancelled)
    processed = max(0, total - pending)
    waiting = min(s.waiting, pending)  # A/B rows held for the winner
    status = str(s.status)
    awaiting = max(0, sent - delivered - undelivered)  # accepted, no receipt yet
    completed_at = s.completed_at
    receipts_due = bool(awaiting and completed_at is not None
                        and utcnow() - completed_at < RECEIPT_WAIT)
    live = status in ACTIVE or receipts_due
    # Everything is handed over but receipts are still due: not "completed · 0.0%".
    awaiting_receipts = status == CampaignStatus.COMPLETED and receipts_due
    no_receipts_yet = awaiting_receipts and not (delivered or undelivered)
    return {
        "id": str(s.id),
        # A draft opens in the wizard at the step it was left on.
        "href": (f"/campaigns/new?draft={s.id}" if status == CampaignStatus.DRAFT
                 else f"/campaigns/{s.id}"),
        "name": s.name,
        "status": status,
        # An A/B test holding the rest back is not "sending" with a full bar: a fresh
        # tester read 19 of 94 sent and 75 waiting 24 h as a stuck send.
        "status_label": ("sent · awaiting receipts" if awaiting_receipts
                         else "A/B testing" if waiting and status == CampaignStatus.SENDING
                         else status),
        "channel": s.channel,
        "channel_label": formatting.channel_label(s.channel),
        "tags": list(s.tags),
        "creator": s.created_by_email or "—",
        "created": local_text(s.created_at),
        # The header's one date, named by what it is: a draft's creation time read as
        # the start of a campaign that began ten minutes later.
        "when_text": when_text(status, s.created_at, s.scheduled_at, s.started_at),
        # "What it earned" and the lookalike need a send: hidden before one.
        "has_started": s.started_at is not None,
        "scheduled": local_text(s.scheduled_at),
        # The same time as <input type="datetime-local"> takes it (brand zone).
        "scheduled_input": (formatting.local_input(s.scheduled_at)
                            if s.scheduled_at else ""),
        "started": local_text(s.started_at),
        "completed": local_text(s.completed_at),
        # A cancel stamps completed_at too: the page names that time for what it was.
        "completed_label": "Cancelled" if status == CampaignStatus.CANCELLED else "Completed",
        "never_started": never_started(status, s.started_at) and not total,
        # A scheduled campaign's audience is only counted when it starts (and never, if
        # it was cancelled first).
        "audience": "—" if (status in (CampaignStatus.SCHEDULED, CampaignStatus.DRAFT)
                            or never_started(status, s.started_at))
        and not total else formatting.count(audience),
        "recipients": formatting.count(recipients),
        "skipped_total": formatting.count(sum(skipped.values())),
        "skipped": skipped_text(skipped, s.channel),
        "pending": formatting.count(pending),
        "sent": formatting.count(sent),
        "failed": formatting.count(failed),
        "cancelled": formatting.count(cancelled),
        "has_cancelled": cancelled > 0,
        "delivered": formatting.count(delivered),
        "undelivered": formatting.count(undelivered),
        "rate": "—" if no_receipts_yet else rate_text(s.delivery_rate),
        # While an A/B test holds the rest back, progress is over the test share: the
        # waiting rows are not late, they wait for the decision (else it looks stuck).
        "progress": 100 if status == CampaignStatus.COMPLETED
        else percent(processed, total - waiting) if waiting else percent(processed, total),
        "progress_label": "Progress of the A/B test share" if waiting else "Progress",
        "sent_pct": percent(sent, total),
        "delivered_pct": percent(delivered, total),
        "failed_pct": percent(failed + undelivered, total),
        "failed_only_pct": percent(failed, total),
        "cancelled_pct": percent(cancelled, total),
        # Said instead of an empty funnel, chart or log: "" once there are recipients.
        "nobody_note": _nobody_note(status, total, audience, s.scheduled_at, s.started_at),
        "undelivered_pct": percent(undelivered, total),
        "awaiting": formatting.count(awaiting),
        # `live`: figures may still change (sending, scheduled, or receipts still due).
        "active": live,
        "sending": status == CampaignStatus.SENDING or live and status != "scheduled",
        "is_ab": bool(s.variant_specs),
        "waiting": formatting.count(s.waiting),
        "has_waiting": waiting > 0,
        # "queued" alone, or with the A/B rows held for the winner named apart.
        "pending_text": _pending_text(pending, waiting, s.ab_decide_at,
                                      ab_test.auto_winner(s.ab_settings)),
        # What it earned (conversions, revenue, holdout, uplift): state/outcome_view.py.
        **outcome_view(s.outcome, total),
    }


def slow_every() -> int:
    """Polling ticks between two steps while "slow": QUIET_REFRESH_SECONDS (10 s)."""
    return max(1, round(get_settings().quiet_refresh_seconds / POLL_SECONDS))


async def poll_while(pace: Callable[[], Awaitable[str]],
                     step: Callable[[], Awaitable[None]]) -> None:
    """Call `step` while `pace` says so: every second while it answers "fast" (something
    is sending or receipts are due), every slow_every() ticks while "slow" (only a
    scheduled campaign waits), and stop when it answers "" (nothing live, or the user
    left the page) or has answered AWAY (the tab closed) for AWAY_GRACE_SECONDS.

    Both callables take the state lock themselves; the loop sleeps outside it so the
    page stays responsive between polls.
    """
    deadline = time.monotonic() + POLL_MAX_SECONDS
    slow = slow_every()
    away_since: float | None = None
    tick = 0
    while time.monotonic() < deadline:
        await asyncio.sleep(POLL_SECONDS)
        tick += 1
        mode = await pace()
        if not mode:
            return
        if mode == AWAY:
            away_since = away_since if away_since is not None else time.monotonic()
            if time.monotonic() - away_since >= AWAY_GRACE_SECONDS:
                return
            continue
        away_since = None
        if mode == "fast" or tick % slow == 0:
            await step()


def watch_pace(state: Any, route: str, views: list[dict[str, Any]]) -> str:
    """What a page's pace callable answers (see poll_while): "" once its tab left
    `route`, AWAY while the tab has no websocket, else pace_of(views). Call it holding
    the state lock."""
    if state.router.page.path != route:
        return ""
    return pace_of(views) if state.client_connected() else AWAY


def pace_of(views: list[dict[str, Any]]) -> str:
    """"fast", "slow" or "" for a set of stats_view() dicts (see poll_while)."""
    if any(v.get("sending") for v in views):
        return "fast"
    return "slow" if any(v.get("active") for v in views) else ""
