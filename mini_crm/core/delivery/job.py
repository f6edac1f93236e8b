"""The delivery job: claim a range of log rows, render, call the vendor, mark the rows.

A job is `deliver_batch(campaign_id, first_id, last_id)`: it carries a range of
communication_log ids (about `delivery_batch_size` rows), never the rows themselves.

1. Claim: one guarded UPDATE sets `claimed_at` (this claim's token) and bumps
   `attempts` on the range's rows that are queued and unclaimed, or whose claim is
   older than `delivery_claim_timeout_seconds` (its worker died), while the campaign
   is still sending. Two jobs over the same range cannot both claim a row.
2. Render each claimed row joined with its customer (core/messages).
3. Send in requests of up to VENDOR_CHUNK messages with idempotency key = log id,
   under the per-vendor rate limit and concurrency cap (sending.py, throttle.py).
   Transient errors (429, 5xx, timeouts) are retried with exponential backoff and full
   jitter, never sooner than the vendor's Retry-After; after
   `delivery_vendor_retries` (or half the claim timeout) the job gives up and
   leaves the rows claimed: the sweeper hands them to a new job once the claim is
   stale. Each claim counts as an attempt; a row claimed more than
   `delivery_max_attempts` times fails with its last error instead of being sent again.
4. Mark, in bulk (claims.py: one UPDATE per outcome; commits skip the WAL flush
   wait, see claims.begin): `sent` with the vendor's id, or `failed` with the reason,
   each UPDATE guarded by `status = 'queued'` so a row is never marked twice, and a
   row a cancel marked is never turned into sent (a cancel leaves the rows of requests
   in flight to their workers: see campaigns/service.cancel_campaign).
Between requests the claim is renewed, so a long batch is not mistaken for a dead one.

A worker killed anywhere in here leaves rows queued with a claim that goes stale;
the re-sent rows carry the same idempotency keys, so the vendor accepts each once.
"""

from __future__ import annotations

import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from mini_crm.core import unsubscribe_links
from mini_crm.core.delivery import claims, gate, sending
from mini_crm.core.delivery.claims import CANCELLED_ERROR, Outcome
from mini_crm.core.delivery.sending import Admit, CampaignStopped
from mini_crm.core.delivery.vendors import (
    OutgoingMessage,
    PermanentVendorError,
    SendResult,
    TransientVendorError,
    VendorClient,
)
from mini_crm.core.messages.email import render_email
from mini_crm.core.messages.render import render, uses_token
from mini_crm.core.messages.variants import message_for
from mini_crm.db import get_engine
from mini_crm.models import utcnow
from mini_crm.observability import metrics
from mini_crm.settings import get_settings

CAMPAIGN = claims.CAMPAIGN
VENDOR_CHUNK = 500  # messages per vendor request (the API takes up to 1000)


def _recipient(channel: str, row: sa.Row) -> str | None:
    value = row.email if channel == "email" else row.phone
    return value.strip() if value and value.strip() else None


def deliver_batch(campaign_id: int, first_id: int, last_id: int) -> dict[str, Any]:
    """RQ job: deliver the claimable rows of one id range. Safe to run twice."""
    settings = get_settings()
    engine = get_engine()
    token = utcnow()
    timer = _Timer()
    with claims.begin(engine) as conn:
        claimed = claims.claim(conn, campaign_id, first_id, last_id, token)
        if not claimed:
            claims.complete_if_done(conn, campaign_id, token)
            return {"claimed": 0, "sent": 0, "failed": 0}
        campaign = conn.execute(sa.select(CAMPAIGN.c.id, CAMPAIGN.c.message_template,
                                          CAMPAIGN.c.channel, CAMPAIGN.c.email_subject,
                                          CAMPAIGN.c.email_preheader, CAMPAIGN.c.sender_name,
                                          CAMPAIGN.c.variants)
                                .where(CAMPAIGN.c.id == campaign_id)).one()
        rows = claims.claimed_rows(conn, campaign_id, first_id, last_id, token)
    timer.lap("claim_ms")
    totals: dict[str, Any] = {"claimed": claimed, "sent": 0, "failed": 0}
    client = sending.vendor_client(campaign.channel)
    # The batch goes out as `delivery_job_threads` requests at once: a job mostly waits
    # (on the vendor, on the database), and overlapping those waits is what makes one
    # worker process fast without forking more of them.
    threads = settings.delivery_job_threads
    size = min(VENDOR_CHUNK, max(1, math.ceil(len(rows) / threads)))
    chunks = [rows[i:i + size] for i in range(0, len(rows), size)]
    for w in range(0, len(chunks), threads):
        wave = chunks[w:w + threads]
        if w:  # a long batch: renew the claim on what is left, unless cancelled
            new_token = utcnow()
            with claims.begin(engine) as conn:
                if claims.is_cancelled(conn, campaign_id) or gate.is_stopped(campaign_id):
                    totals["failed"] += claims.release_cancelled(conn, campaign_id,
                                                                 first_id, last_id, token)
                    break
                claims.renew(conn, [chunks[w][0].id, chunks[-1][-1].id], token, new_token)
            token = new_token
        if len(wave) == 1:
            counts = [_deliver_chunk(engine, client, campaign, wave[0], token, settings,
                                     timer)]
        else:
            timers = [_Timer() for _ in wave]
            futures = [_pool(threads).submit(_deliver_chunk, engine, client, campaign, c,
                                             token, settings, t)
                       for c, t in zip(wave, timers, strict=True)]
            counts = [f.result() for f in futures]
            timer.merge(timers)
        totals["sent"] += sum(c[0] for c in counts)
        totals["failed"] += sum(c[1] for c in counts)
    # After the commit, so the last job to finish sees every other job's rows marked.
    with claims.begin(engine) as conn:
        claims.complete_if_done(conn, campaign_id, utcnow())
    timer.lap("complete_ms")
    return {**totals, **timer.laps}


def _admitter(engine: sa.Engine, campaign_id: int) -> Admit:
    """What send_with_retries asks before each request: the gate first (registering the
    request as in flight), then the campaign's status in the database."""

    def admit(messages: list[OutgoingMessage]) -> gate.Request | None:
        ids = [int(m.idempotency_key) for m in messages]
        request = gate.open_request(campaign_id, min(ids), max(ids), len(ids))
        if request is None:
            return None
        with engine.connect() as conn:
            if claims.is_cancelled(conn, campaign_id):
                gate.close_request(campaign_id, request)
                return None
        return request

    return admit


def _outcomes(results: list[SendResult]) -> list[Outcome]:
    out = []
    for r in results:
        if r.status == "accepted" and r.vendor_message_id:
            out.append(Outcome(int(r.idempotency_key), str(r.vendor_message_id), None))
        else:
            out.append(Outcome(int(r.idempotency_key), None, r.error or "rejected by vendor"))
    return out


class _Timer:
    """Milliseconds per phase, returned with the job's result (RQ keeps it): where a
    batch spends its time, for the benchmark and for anyone tuning a deployment."""

    def __init__(self) -> None:
        self.laps: dict[str, int] = {}
        self._at = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = self.laps.get(name, 0) + round((now - self._at) * 1000)
        self._at = now

    def merge(self, others: list[_Timer]) -> None:
        """Phases that ran side by side on threads: the slowest thread's time each."""
        for name in {n for t in others for n in t.laps}:
            self.laps[name] = self.laps.get(name, 0) + max(t.laps.get(name, 0)
                                                           for t in others)
        self._at = time.perf_counter()


_pools: dict[int, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def _pool(threads: int) -> ThreadPoolExecutor:
    """This process's threads for the parts of a batch (created once, reused by jobs)."""
    with _pools_lock:
        if threads not in _pools:
            _pools[threads] = ThreadPoolExecutor(threads, thread_name_prefix="deliver")
        return _pools[threads]


def _deliver_chunk(engine: sa.Engine, client: VendorClient, campaign: sa.Row,
                   rows: list[sa.Row], token: datetime, settings: Any,
                   timer: _Timer | None = None) -> tuple[int, int]:
    timer = timer or _Timer()
    outcomes: list[Outcome] = []
    bodies: dict[int, str] = {}
    messages: list[OutgoingMessage] = []
    # Every email carries its List-Unsubscribe link; other channels only when the
    # message shows one. Signing is one HMAC per recipient (microseconds).
    # An A/B row is rendered from its variant's message (and subject).
    templates = {v: message_for(campaign.variants, v, campaign.message_template,
                                campaign.email_subject)
                 for v in {row.variant for row in rows}}
    linked = {v: campaign.channel == "email" or uses_token(t, "unsubscribe_url")
              for v, (t, _) in templates.items()}
    key = unsubscribe_links.signing_key() if any(linked.values()) else None
    for row in rows:
        template, subject = templates[row.variant]
        link = (unsubscribe_links.url(row.customer_id, campaign.channel, campaign.id, key)
                if linked[row.variant] else None)
        values = {**row._mapping, "unsubscribe_url": link} if link else row._mapping
        mail = (render_email(subject=subject, preheader=campaign.email_preheader,
                             body=template, customer=values)
                if campaign.channel == "email" else None)
        body = mail.text if mail else render(template, values)
        bodies[row.id] = body
        to = _recipient(campaign.channel, row)
        if row.attempts > settings.delivery_max_attempts:
            outcomes.append(Outcome(row.id, None, f"gave up after "
                                    f"{settings.delivery_max_attempts} attempts: "
                                    f"{row.error or 'worker lost'}"))
        elif to is None:
            what = "email address" if campaign.channel == "email" else "phone number"
            outcomes.append(Outcome(row.id, None, f"no {what}"))
        else:
            messages.append(OutgoingMessage(
                str(row.id), campaign.channel, to, body, unsubscribe_url=link,
                subject=mail.subject if mail else None, html=mail.html if mail else None,
                sender_name=campaign.sender_name if mail else None))
    timer.lap("render_ms")
    retry_later: str | None = None
    if messages:
        try:
            outcomes += _outcomes(sending.send_with_retries(
                client, messages, _admitter(engine, campaign.id), campaign.id))
        except CampaignStopped as exc:
            # Cancelled before these could go: what earlier tries got accepted is sent,
            # the rest will never be.
            outcomes += _outcomes(exc.partial)
            taken = {r.idempotency_key for r in exc.partial}
            outcomes += [Outcome(int(m.idempotency_key), None, CANCELLED_ERROR)
                         for m in messages if m.idempotency_key not in taken]
        except TransientVendorError as exc:
            retry_later = f"vendor unavailable: {exc.reason}"
            outcomes += _outcomes(exc.partial)
        except PermanentVendorError as exc:
            # The vendor refuses the request itself: the same request will not pass later.
            outcomes += [Outcome(int(m.idempotency_key), None, exc.reason) for m in messages]
        except Exception as exc:
            # A bug or something unforeseen: keep the reason on the rows (it becomes their
            # error if they run out of attempts) and let the job fail loudly.
            with claims.begin(engine) as conn:
                claims.note_error(conn, [int(m.idempotency_key) for m in messages],
                                  token, f"vendor error: {exc}")
            raise
    timer.lap("vendor_ms")
    now = utcnow()
    with claims.begin(engine) as conn:
        counts = claims.mark(conn, outcomes, bodies, now)
        if retry_later:
            # Left claimed: the sweeper re-enqueues them once the claim is stale.
            claims.note_error(conn, [int(m.idempotency_key) for m in messages], token,
                              retry_later)
    metrics.count_messages(campaign.channel, *counts)
    timer.lap("mark_ms")
    return counts
