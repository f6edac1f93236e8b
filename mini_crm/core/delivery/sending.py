"""Vendor policy: which client a channel uses, and how one request is sent.

`send_with_retries` sends under the per-vendor rate limit and concurrency cap
(throttle.py), asks the cancel gate (gate.py) right before every request, and retries
transient errors (429, 5xx, timeouts) with exponential backoff and full jitter, never
sooner than the vendor's Retry-After, for at most `delivery_vendor_retries` tries or
half the claim timeout (so the rows' claim never goes stale while this job still means
to send them).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from mini_crm.core.delivery import gate, throttle, vendors
from mini_crm.core.delivery.vendors import (
    OutgoingMessage,
    PermanentVendorError,
    SendResult,
    TransientVendorError,
    VendorClient,
)
from mini_crm.observability import metrics
from mini_crm.settings import get_settings

log = logging.getLogger(__name__)

BACKOFF_BASE_SECONDS = 0.5

_clients: dict[tuple[str, ...], VendorClient] = {}


def vendor_client(channel: str) -> VendorClient:
    """The configured vendor client for a channel (one per process and settings, reused:
    the HTTP clients keep a warm connection pool)."""
    settings = get_settings()
    key = (channel, settings.vendor_kind, settings.vendor_url, settings.app_url)
    if key not in _clients:
        _clients[key] = vendors.get_vendor_client(settings, channel)
    return _clients[key]


def backoff_seconds(attempt: int, retry_after: float | None, cap: float) -> float:
    """Full-jitter exponential backoff, never shorter than the vendor's Retry-After."""
    jittered = random.uniform(0, min(cap, BACKOFF_BASE_SECONDS * 2 ** attempt))
    return max(jittered, retry_after or 0.0)


class CampaignStopped(Exception):
    """The campaign was cancelled before this request could start; `partial` holds what
    the vendor had accepted in earlier tries of the same send."""

    def __init__(self, partial: list[SendResult]) -> None:
        super().__init__("campaign stopped")
        self.partial = partial


Admit = Callable[[list[OutgoingMessage]], "gate.Request | None"]


def send_with_retries(client: VendorClient, messages: list[OutgoingMessage],
                      admit: Admit | None = None, campaign_id: int | None = None
                      ) -> list[SendResult]:
    """Send, retrying transient errors; raises the last TransientVendorError when out of
    retries (PermanentVendorError and anything else at once). Results the vendor gave
    before a transient failure (`partial`) are kept and those messages not re-sent.

    `admit` is asked right before every request, retries included (gate.open_request plus
    the campaign's status): None means the campaign was stopped, and CampaignStopped is
    raised instead of sending. Waits (rate limit, backoff) end early on a cancel."""
    settings = get_settings()
    vendor = getattr(client, "name", None) or settings.vendor_kind
    done: list[SendResult] = []
    last: TransientVendorError | None = None
    # Never wait past half the claim timeout: the rows' claim must not go stale while
    # this job still means to send them (the sweeper would hand them to another job).
    deadline = time.monotonic() + settings.delivery_claim_timeout_seconds / 2
    stopped = (lambda: gate.is_stopped(campaign_id)) if campaign_id is not None else None
    for attempt in range(settings.delivery_vendor_retries + 1):
        if attempt:
            wait = backoff_seconds(attempt - 1, last.retry_after if last else None,
                                   settings.delivery_backoff_max_seconds)
            if time.monotonic() + wait > deadline:
                break
            throttle.sleep_unless(wait, stopped)
            metrics.VENDOR_RETRIES.labels(vendor).inc()
        throttle.wait_for_rate(vendor, settings.vendor_rate_limit_per_second, len(messages),
                               stopped)
        try:
            with throttle.slot(vendor, settings.vendor_concurrency):
                # Admitted last, holding the slot: nothing but the request itself comes
                # between the check and the vendor.
                request = admit(messages) if admit is not None else None
                if admit is not None and request is None:
                    raise CampaignStopped(done)
                try:
                    with _timed(vendor):
                        return done + list(client.send(messages))
                finally:
                    if request is not None and campaign_id is not None:
                        gate.close_request(campaign_id, request)
        except TransientVendorError as exc:
            last = exc
            if exc.partial:
                done += exc.partial
                taken = {r.idempotency_key for r in exc.partial}
                messages = [m for m in messages if m.idempotency_key not in taken]
            log.warning("vendor busy (%s), attempt %d", exc.reason, attempt + 1)
    assert last is not None
    last.partial = done
    raise last


@contextmanager
def _timed(vendor: str) -> Iterator[None]:
    """mc_vendor_request_duration_seconds of one request, by how it ended."""
    started = time.perf_counter()
    outcome = "error"
    try:
        yield
        outcome = "ok"
    except TransientVendorError:
        outcome = "transient"
        raise
    except PermanentVendorError:
        outcome = "permanent"
        raise
    finally:
        metrics.VENDOR_LATENCY.labels(vendor, outcome).observe(time.perf_counter() - started)
