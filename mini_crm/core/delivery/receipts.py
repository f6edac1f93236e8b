"""Delivery receipts: the API hands them over, a batcher applies them in bulk.

A receipt is applied with one UPDATE per target status per batch. Each UPDATE only
touches rows whose status rank is lower than the target's (queued or sent), so
duplicate and out-of-order receipts are harmless: a status only moves forward, and a
'delivered' row never becomes 'undelivered'.

A 202 from POST /api/v1/receipts is a promise: the vendor never sends that receipt
again. Where the receipt is kept until it is applied is `RECEIPT_BUFFER`:

- `database` (the default, and always without Redis): write-through. The API applies
  the POST's receipts before it answers (one UPDATE per status per batch: the vendor
  already batches its callbacks), and a receipt whose vendor message id is not stored
  yet goes, in the same transaction, to the `receipt_retry` table. Nothing is answered
  202 that is not committed, so a Redis that loses its memory loses no receipt; a
  database that is down gets a 503 and the vendor retries.
- `redis`: the API only appends to a Redis list and answers at once, so a burst of
  callbacks never waits on the database. Faster, and as durable as Redis is: with AOF
  (`appendonly yes`, `appendfsync everysec`) a restart or a crash of redis-server loses
  nothing acknowledged, a power loss up to about a second; without persistence a
  restart loses every buffered receipt. A batch is moved atomically to a per-claim
  list before it is applied and deleted only after the commit; a flusher that dies in
  between leaves the claim behind, and the next flush puts it back.

A receipt can arrive before the worker stored the vendor's message id (the vendor
answered, the receipt raced the worker's UPDATE). Such receipts are retried with
backoff up to `receipt_max_requeues` times, then dropped with a log line.

The receipt itself is in `receipt_model`, the Redis and memory buffers in
`receipt_buffers`; this module applies receipts and runs the flush.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from mini_crm.core.delivery.receipt_buffers import (
    ReceiptBuffer,
    RedisBuffer,
)
from mini_crm.core.delivery.receipt_model import Receipt
from mini_crm.core.redis_conn import get_redis
from mini_crm.db import get_engine
from mini_crm.models import CommunicationLog, DeliveryStatus, ReceiptRetry, utcnow
from mini_crm.observability import metrics
from mini_crm.settings import get_settings

log = logging.getLogger(__name__)

# The vendor's word -> our communication_log status.
TARGET_STATUS = {"delivered": DeliveryStatus.DELIVERED, "failed": DeliveryStatus.UNDELIVERED}
_ERROR_MAX = 1000  # communication_log.error length



@dataclass
class ApplyResult:
    delivered: int = 0  # rows moved to delivered
    undelivered: int = 0  # rows moved to undelivered
    unchanged: int = 0  # known rows already final (duplicates, late or out-of-order receipts)
    # To retry: no row has this vendor id yet, or its row was not visible to the UPDATE.
    unknown: list[Receipt] = field(default_factory=list)


@contextmanager
def _connection(target: Engine | Session | Connection):
    """A connection to run on: an Engine gets its own transaction, committed here;
    a Session or Connection is used as is and the caller commits."""
    if isinstance(target, Engine):
        with target.begin() as conn:
            yield conn
    elif isinstance(target, Session):
        yield target.connection()
    else:
        yield target


def _among(column: sa.ColumnElement[str], values: list[str], pg: bool
           ) -> sa.ColumnElement[bool]:
    """`column IN (...)`; on PostgreSQL `= ANY(array)`: one parameter whatever the batch
    size, so the statement text is the same each time (no 500-placeholder query to build
    and convert per batch; the measured batcher spent a quarter of its CPU on that)."""
    if pg:
        return column == sa.any_(sa.bindparam(None, values, type_=ARRAY(sa.String)))
    return column.in_(values)


def apply_batch(target: Engine | Session | Connection, receipts: Sequence[Receipt],
                now: datetime | None = None) -> ApplyResult:
    """Apply receipts: at most one UPDATE per target status, plus a SELECT only when some
    receipts matched no updatable row (to tell unknown ids from already-final rows)."""
    result = ApplyResult()
    first: dict[str, Receipt] = {}
    for receipt in receipts:
        # Within a batch the first receipt for a message wins, as it would across batches.
        if receipt.status in TARGET_STATUS:
            first.setdefault(receipt.vendor_message_id, receipt)
    if not first:
        return result
    now = now or utcnow()
    table = CommunicationLog.__table__
    col = table.c
    delivered = [vid for vid, r in first.items() if r.status == "delivered"]
    failed = {vid: (r.error or "undelivered")[:_ERROR_MAX]
              for vid, r in first.items() if r.status == "failed"}
    # Only rows below rank 2 move: queued (a receipt that raced the worker) and sent.
    movable = [s for s, rank in DeliveryStatus.RANK.items() if rank < 2]
    with _connection(target) as conn:
        pg = conn.dialect.name == "postgresql"
        if delivered:
            result.delivered = conn.execute(
                table.update()
                .where(_among(col.vendor_message_id, delivered, pg), col.status.in_(movable))
                .values(status=DeliveryStatus.DELIVERED, delivered_at=now, error=None,
                        sent_at=sa.func.coalesce(col.sent_at, now), updated_at=now)
            ).rowcount
        if failed:
            result.undelivered = conn.execute(
                table.update()
                .where(_among(col.vendor_message_id, list(failed), pg),
                       col.status.in_(movable))
                .values(status=DeliveryStatus.UNDELIVERED,
                        error=sa.case(failed, value=col.vendor_message_id),
                        sent_at=sa.func.coalesce(col.sent_at, now), updated_at=now)
            ).rowcount
        if result.delivered + result.undelivered < len(first):
            # Which receipts did nothing? A row that is final now is done (by us just now,
            # or earlier: a duplicate). A row still queued/sent was not ready when the
            # UPDATE ran (the worker's transaction storing its vendor id had not committed:
            # the UPDATE skips rows it cannot see yet), so it is retried like a missing one.
            final = {vid for vid, status in conn.execute(
                sa.select(col.vendor_message_id, col.status)
                .where(_among(col.vendor_message_id, list(first), pg)))
                if status not in movable}
            result.unknown = [r for vid, r in first.items() if vid not in final]
            result.unchanged = len(final) - result.delivered - result.undelivered
    metrics.count_receipts(applied=result.delivered + result.undelivered,
                           unchanged=result.unchanged, unknown=len(result.unknown))
    return result


# --- buffers -----------------------------------------------------------------------------


def redis_buffer() -> RedisBuffer | None:
    """The shared Redis buffer, or None without Redis."""
    client = get_redis()
    if client is None:
        return None
    return RedisBuffer(client, get_settings().receipt_buffer_prefix)


def enqueue(receipts: Sequence[Receipt]) -> int:
    """Take receipts the API accepted (see the module's docstring for where they are kept).
    Returns how many. Raises redis.RedisError (RECEIPT_BUFFER=redis) or
    sqlalchemy.exc.SQLAlchemyError (database) when they could not be kept: then nothing
    may be answered 202."""
    if get_settings().receipt_buffer == "redis":
        buffer = redis_buffer()
        if buffer is not None:
            return buffer.push(receipts)
    if apply_durably(get_engine(), receipts).requeued and get_redis() is None:
        # No Redis, so no `mini-crm worker` running the periodic flush: this process
        # retries them itself (they are in the database, so a restart loses none).
        _ensure_local_flusher()
    return len(receipts)


def apply_durably(engine: Engine, receipts: Sequence[Receipt]) -> FlushResult:
    """Write-through: apply receipts and keep the unknown ones in `receipt_retry`, one
    transaction per `receipt_batch_size` receipts, so each is committed, one way or the
    other, before this returns."""
    total = FlushResult()
    batch_size = get_settings().receipt_batch_size
    for start in range(0, len(receipts), batch_size):
        with engine.begin() as conn:
            applied = apply_batch(conn, receipts[start:start + batch_size])
            retries = _retries(applied.unknown, total)
            _store_retries(conn, retries)
        _add(total, applied, retries)
    return total


_RETRY = ReceiptRetry.__table__


def _store_retries(conn: Connection, retries: Sequence[tuple[float, Receipt]]) -> None:
    if retries:
        conn.execute(_RETRY.insert(), [
            {"vendor_message_id": r.vendor_message_id, "status": r.status,
             "error": (r.error or None) and r.error[:_ERROR_MAX], "at": r.at, "tries": r.tries,
             "due_at": datetime.fromtimestamp(due, UTC).replace(tzinfo=None)}
            for due, r in retries])


def flush_retries(engine: Engine, *, batch_size: int | None = None,
                  max_seconds: float = 2.0) -> FlushResult:
    """Apply the due receipts of `receipt_retry`: per batch, one transaction takes them
    (FOR UPDATE SKIP LOCKED where the database has it, so two flushers never take the same
    rows), applies them, deletes them and stores again those still unknown."""
    batch_size = batch_size or get_settings().receipt_batch_size
    total = FlushResult()
    deadline = time.monotonic() + max_seconds
    while True:
        with engine.begin() as conn:
            rows = conn.execute(
                sa.select(_RETRY).where(_RETRY.c.due_at <= utcnow())
                .order_by(_RETRY.c.due_at).limit(batch_size)
                .with_for_update(skip_locked=True)).all()
            if not rows:
                break
            batch = [Receipt(r.vendor_message_id, r.status, r.error, r.at, r.tries)
                     for r in rows]
            applied = apply_batch(conn, batch)
            conn.execute(_RETRY.delete().where(_RETRY.c.id.in_([r.id for r in rows])))
            retries = _retries(applied.unknown, total)
            _store_retries(conn, retries)
        _add(total, applied, retries)
        if len(rows) < batch_size or time.monotonic() > deadline:
            break
    return total


def retry_count(engine: Engine) -> int:
    """Receipts waiting in `receipt_retry` (due or not)."""
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(_RETRY)).scalar_one())


# --- the batcher -------------------------------------------------------------------------

@dataclass
class FlushResult:
    batches: int = 0
    delivered: int = 0
    undelivered: int = 0
    unchanged: int = 0
    requeued: int = 0
    dropped: int = 0
    recovered: int = 0


def _add(total: FlushResult, applied: ApplyResult,
         retries: Sequence[tuple[float, Receipt]]) -> None:
    total.batches += 1
    total.delivered += applied.delivered
    total.undelivered += applied.undelivered
    total.unchanged += applied.unchanged
    total.requeued += len(retries)


def retry_delay(tries: int) -> float:
    """Backoff for a receipt whose vendor id is unknown: 0.5 s, 1 s, 2 s … capped at 10 s
    (25 tries ≈ 4 minutes, longer than a crashed worker's rows take to be re-sent)."""
    return min(0.5 * 2 ** tries, 10.0)


def _retries(unknown: Sequence[Receipt], total: FlushResult) -> list[tuple[float, Receipt]]:
    """When to try each unknown receipt again; those out of tries are dropped (counted)."""
    retries: list[tuple[float, Receipt]] = []
    max_requeues = get_settings().receipt_max_requeues
    for receipt in unknown:
        if receipt.tries >= max_requeues:
            total.dropped += 1
            log.warning("dropping receipt for unknown vendor message id %s after %d tries",
                        receipt.vendor_message_id, receipt.tries)
            continue
        retries.append((time.time() + retry_delay(receipt.tries),
                        Receipt(receipt.vendor_message_id, receipt.status, receipt.error,
                                receipt.at, receipt.tries + 1)))
    metrics.count_receipts(requeued=len(retries), dropped=len(unknown) - len(retries))
    return retries


def flush_buffer(buffer: ReceiptBuffer, engine: Engine, *, batch_size: int | None = None,
                 max_seconds: float = 2.0) -> FlushResult:
    """Apply buffered receipts batch by batch until the buffer is drained or time is up."""
    settings = get_settings()
    batch_size = batch_size or settings.receipt_batch_size
    total = FlushResult()
    now = time.time()
    total.recovered = buffer.recover_stale(now - settings.receipt_processing_timeout_seconds)
    buffer.promote_due(now)
    deadline = time.monotonic() + max_seconds
    while True:
        claim = buffer.claim(batch_size, time.time())
        if claim is None:
            break
        try:
            applied = apply_batch(engine, claim.receipts)
        except Exception:
            buffer.release(claim.id)  # back at the head of the queue for the next flush
            raise
        retries = _retries(applied.unknown, total)
        buffer.finish(claim, retries)
        _add(total, applied, retries)
        if len(claim.receipts) < batch_size or time.monotonic() > deadline:
            break
    return total


def flush(max_seconds: float = 2.0) -> FlushResult:
    """Apply what waits: the due rows of `receipt_retry` and, with Redis, the Redis buffer
    (RECEIPT_BUFFER=redis, or what is left in it after a switch to database)."""
    engine = get_engine()
    total = flush_retries(engine, max_seconds=max_seconds)
    buffer = redis_buffer()
    if buffer is not None:
        more = flush_buffer(buffer, engine, max_seconds=max_seconds)
        for name in ("batches", "delivered", "undelivered", "unchanged", "requeued", "dropped",
                     "recovered"):
            setattr(total, name, getattr(total, name) + getattr(more, name))
    return total


def flush_receipts() -> None:
    """The periodic task (workers with Redis; the app's own thread without)."""
    result = flush()
    if result.batches:
        log.debug("receipts applied: %s", result)


def stats() -> dict[str, Any]:
    buffer = redis_buffer()
    return {"buffer": get_settings().receipt_buffer,
            "pending": (buffer.size() if buffer is not None else 0)
            + retry_count(get_engine())}


# Embedded mode: the thread that retries receipt_retry in the process that answered the
# vendor, started by the first receipt that had to wait.
_flusher_lock = threading.Lock()
_flusher: threading.Thread | None = None


def _ensure_local_flusher() -> None:
    global _flusher
    with _flusher_lock:
        if _flusher is not None and _flusher.is_alive():
            return
        _flusher = threading.Thread(target=_local_flush_loop, name="mini-crm-receipts",
                                    daemon=True)
        _flusher.start()


def _local_flush_loop() -> None:
    """Until receipt_retry is empty; the next receipt that has to wait starts another."""
    global _flusher
    while True:
        time.sleep(get_settings().receipt_flush_ms / 1000)
        try:
            engine = get_engine()
            flush_retries(engine)
            with _flusher_lock:
                if retry_count(engine) == 0:
                    _flusher = None
                    return
        except Exception:
            log.exception("applying waiting receipts failed; retrying")
