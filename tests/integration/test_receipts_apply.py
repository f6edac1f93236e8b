"""The receipt batcher on real databases: bulk, forward-only, duplicate- and order-proof,
and the buffers (Redis and in-process) that never lose a claimed batch."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
import redis
import sqlalchemy as sa
from sqlalchemy import event
from sqlmodel import Session, select

from mini_crm.core import redis_conn
from mini_crm.core.delivery import receipts
from mini_crm.core.delivery.receipt_buffers import MemoryBuffer, RedisBuffer
from mini_crm.core.delivery.receipt_model import Receipt
from mini_crm.core.delivery.receipts import apply_batch
from mini_crm.models import (
    Campaign,
    CommunicationLog,
    Customer,
    DeliveryStatus,
    ReceiptRetry,
    utcnow,
)
from mini_crm.settings import get_settings

REDIS_URL = "redis://127.0.0.1:6379/12"


def make_logs(engine: sa.Engine, statuses: list[str], prefix: str = "v") -> list[int]:
    """One campaign, one customer and log row per status; row i has vendor id f"{prefix}{i}"
    unless it is still queued without an id (status 'queued-noid')."""
    with Session(engine) as s:
        campaign = Campaign(name="c", message_template="hi {name}", channel="sms")
        s.add(campaign)
        s.flush()
        ids = []
        for i, status in enumerate(statuses):
            customer = Customer(external_id=f"{prefix}-cust-{i}", name=f"n{i}")
            s.add(customer)
            s.flush()
            row = CommunicationLog(
                campaign_id=campaign.id, customer_id=customer.id, message="hi",
                status="queued" if status == "queued-noid" else status,
                vendor_message_id=None if status == "queued-noid" else f"{prefix}{i}",
                error="vendor said no" if status == "failed" else None)
            s.add(row)
            s.flush()
            ids.append(row.id)
        s.commit()
    return ids


def statuses(engine: sa.Engine, ids: list[int]) -> list[tuple[str, str | None]]:
    with Session(engine) as s:
        rows = {r.id: r for r in s.exec(select(CommunicationLog).where(
            CommunicationLog.id.in_(ids)))}
    return [(rows[i].status, rows[i].error) for i in ids]


def r(vid: str, status: str = "delivered", error: str | None = None, tries: int = 0) -> Receipt:
    return Receipt(vid, status, error, "2025-11-02T10:00:00+00:00", tries)


def test_receipts_move_sent_rows_forward(engine: sa.Engine) -> None:
    ids = make_logs(engine, ["sent", "sent", "queued"])
    result = apply_batch(engine, [r("v0"), r("v1", "failed", "handset unreachable"), r("v2")])
    assert (result.delivered, result.undelivered, result.unchanged) == (2, 1, 0)
    assert statuses(engine, ids) == [("delivered", None), ("undelivered", "handset unreachable"),
                                     ("delivered", None)]
    with Session(engine) as s:
        raced = s.get(CommunicationLog, ids[2])
        # A receipt that beat the worker's own update still gives the row a sent time.
        assert raced.sent_at is not None and raced.delivered_at is not None


def test_duplicates_and_out_of_order_receipts_are_harmless(engine: sa.Engine) -> None:
    ids = make_logs(engine, ["sent", "sent", "failed", "sent"])
    first = apply_batch(engine, [r("v0"), r("v1", "failed", "blocked")])
    assert (first.delivered, first.undelivered) == (1, 1)
    # Later: duplicates, and contradicting out-of-order receipts for final rows.
    again = apply_batch(engine, [r("v0", "failed", "late failure"), r("v1"), r("v0"),
                                 r("v2"), r("v3", "failed", "x"), r("v3")])
    assert (again.delivered, again.undelivered, again.unchanged) == (0, 1, 3)
    assert again.unknown == []
    assert statuses(engine, ids) == [
        ("delivered", None),  # delivered then failed stays delivered
        ("undelivered", "blocked"),  # undelivered then delivered stays undelivered
        ("failed", "vendor said no"),  # a failed send is never 'delivered' by a receipt
        ("undelivered", "x"),  # within a batch, the first receipt for a message wins
    ]


def test_one_update_statement_per_target_status(engine: sa.Engine) -> None:
    n = 300
    ids = make_logs(engine, ["sent"] * n)
    batch = [r(f"v{i}", "failed" if i % 10 == 0 else "delivered", f"reason {i % 3}")
             for i in range(n)]
    seen: list[str] = []

    def count(conn, cursor, statement, *args) -> None:  # noqa: ANN001
        seen.append(statement.strip().split()[0].upper())

    event.listen(engine, "before_cursor_execute", count)
    try:
        result = apply_batch(engine, batch)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert (result.delivered, result.undelivered) == (270, 30)
    assert seen.count("UPDATE") == 2 and seen.count("SELECT") == 0, seen
    got = statuses(engine, ids)
    assert got[10] == ("undelivered", "reason 1") and got[20] == ("undelivered", "reason 2")
    assert sum(1 for s, _ in got if s == "delivered") == 270

    # All duplicates now: still one UPDATE per status, plus one SELECT to tell
    # already-final rows from unknown ids.
    seen.clear()
    event.listen(engine, "before_cursor_execute", count)
    try:
        result = apply_batch(engine, [*batch, r("nope")])
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert seen.count("UPDATE") == 2 and seen.count("SELECT") == 1
    assert result.unchanged == n and [u.vendor_message_id for u in result.unknown] == ["nope"]


def test_a_vendor_id_committed_during_the_update_is_retried_not_lost(engine: sa.Engine,
                                                                     dialect: str) -> None:
    """The worker's transaction storing a vendor id commits while the receipt UPDATE runs:
    the UPDATE did not see the row, the follow-up SELECT does. The receipt must be retried."""
    if dialect == "sqlite":
        pytest.skip("SQLite has one writer at a time: the race cannot happen")
    ids = make_logs(engine, ["sent", "queued-noid"])
    table = CommunicationLog.__table__
    fired = []

    def worker_commits_now(conn, cursor, statement, *args) -> None:  # noqa: ANN001
        if statement.lstrip().upper().startswith("UPDATE") and not fired:
            fired.append(True)
            with engine.connect() as other:  # a different connection: the worker
                other.execute(table.update().where(table.c.id == ids[1])
                              .values(vendor_message_id="late", status="sent"))
                other.commit()

    event.listen(engine, "after_cursor_execute", worker_commits_now)
    try:
        result = apply_batch(engine, [r("v0"), r("late")])
    finally:
        event.remove(engine, "after_cursor_execute", worker_commits_now)
    assert fired and result.delivered == 1
    assert [u.vendor_message_id for u in result.unknown] == ["late"]
    assert result.unchanged == 0
    assert apply_batch(engine, result.unknown).delivered == 1  # the retry applies it
    assert statuses(engine, ids) == [("delivered", None), ("delivered", None)]


def test_apply_in_a_session_leaves_the_commit_to_the_caller(engine: sa.Engine) -> None:
    ids = make_logs(engine, ["sent"])
    with Session(engine) as s:
        apply_batch(s, [r("v0")])
        s.rollback()
    assert statuses(engine, ids) == [("sent", None)]
    with Session(engine) as s:
        apply_batch(s, [r("v0")])
        s.commit()
    assert statuses(engine, ids) == [("delivered", None)]


# --- buffers and flush ------------------------------------------------------------------------

@pytest.fixture
def redis_buffer() -> Iterator[RedisBuffer]:
    client = redis.Redis.from_url(REDIS_URL)
    prefix = f"test:rcpt:{uuid.uuid4().hex[:8]}"
    yield RedisBuffer(client, prefix)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


@pytest.fixture(params=["memory", "redis"])
def buffer(request: pytest.FixtureRequest, redis_buffer: RedisBuffer):
    return MemoryBuffer() if request.param == "memory" else redis_buffer


def test_flush_applies_and_retries_unknown_ids_until_the_worker_stores_them(
        engine: sa.Engine, buffer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(receipts, "retry_delay", lambda tries: 0.0)
    ids = make_logs(engine, ["sent", "queued-noid"])
    buffer.push([r("v0"), r("late-id", "failed", "mailbox full")])
    first = receipts.flush_buffer(buffer, engine, batch_size=10)
    assert (first.delivered, first.requeued) == (1, 1)
    assert buffer.size() == 1  # waiting in the retry set, not lost
    # The worker now stores the vendor id the receipt refers to.
    with Session(engine) as s:
        row = s.get(CommunicationLog, ids[1])
        row.vendor_message_id, row.status = "late-id", DeliveryStatus.SENT
        s.add(row)
        s.commit()
    second = receipts.flush_buffer(buffer, engine, batch_size=10)
    assert (second.undelivered, second.requeued) == (1, 0)
    assert buffer.size() == 0
    assert statuses(engine, ids) == [("delivered", None), ("undelivered", "mailbox full")]


def test_unknown_ids_are_dropped_after_the_bounded_retries(
        engine: sa.Engine, buffer, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(receipts, "retry_delay", lambda tries: 0.0)
    monkeypatch.setenv("RECEIPT_MAX_REQUEUES", "3")
    get_settings.cache_clear()
    try:
        buffer.push([r("ghost")])
        outcomes = [receipts.flush_buffer(buffer, engine) for _ in range(5)]
    finally:
        get_settings.cache_clear()
    assert [o.requeued for o in outcomes] == [1, 1, 1, 0, 0]
    assert [o.dropped for o in outcomes] == [0, 0, 0, 1, 0]
    assert buffer.size() == 0
    assert "dropping receipt for unknown vendor message id ghost" in caplog.text


def test_retry_waits_for_its_backoff(engine: sa.Engine, buffer) -> None:
    buffer.push([r("ghost")])
    assert receipts.flush_buffer(buffer, engine).requeued == 1
    # Due only after retry_delay(0) = 0.5 s: an immediate flush does not touch it.
    assert receipts.flush_buffer(buffer, engine).batches == 0
    time.sleep(0.6)
    assert receipts.flush_buffer(buffer, engine).requeued == 1


def test_a_crash_between_claim_and_commit_loses_nothing(
        engine: sa.Engine, buffer, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = make_logs(engine, ["sent"] * 5)
    buffer.push([r(f"v{i}") for i in range(5)])
    # A flusher claims the batch and dies before committing (its claim is never finished).
    orphan = buffer.claim(100, time.time() - 120)
    assert orphan is not None and len(orphan.receipts) == 5
    assert buffer.claim(100, time.time()) is None  # nothing left in the queue itself
    assert statuses(engine, ids) == [("sent", None)] * 5
    # The next flush finds the stale claim and applies it.
    result = receipts.flush_buffer(buffer, engine)
    assert (result.recovered, result.delivered) == (1, 5)
    assert statuses(engine, ids) == [("delivered", None)] * 5
    # The dead flusher's finish (if it ever came back) would not resurrect anything.
    buffer.finish(orphan, [])
    assert buffer.size() == 0 and buffer.claim(100, time.time()) is None


def test_a_database_error_puts_the_batch_back(engine: sa.Engine, buffer,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    ids = make_logs(engine, ["sent"] * 3)
    buffer.push([r(f"v{i}") for i in range(3)])

    def broken(*_a, **_k):
        raise sa.exc.OperationalError("UPDATE", {}, Exception("database went away"))

    monkeypatch.setattr(receipts, "apply_batch", broken)
    with pytest.raises(sa.exc.OperationalError):
        receipts.flush_buffer(buffer, engine)
    monkeypatch.undo()
    assert receipts.flush_buffer(buffer, engine).delivered == 3
    assert statuses(engine, ids) == [("delivered", None)] * 3


def test_redis_crash_recovery_in_a_separate_process(engine: sa.Engine,
                                                    redis_buffer: RedisBuffer) -> None:
    """A real flusher process SIGKILLed between claim and commit: the claim survives in
    Redis and the next flush (another process here) applies it."""
    import multiprocessing as mp
    import signal

    ids = make_logs(engine, ["sent"] * 50)
    redis_buffer.push([r(f"v{i}") for i in range(50)])
    ctx = mp.get_context("spawn")
    ready = ctx.Event()
    proc = ctx.Process(target=_claim_and_hang, args=(REDIS_URL, _prefix(redis_buffer), ready))
    proc.start()
    assert ready.wait(20)
    proc.kill()
    proc.join(10)
    assert proc.exitcode == -signal.SIGKILL
    assert redis_buffer.client.llen(redis_buffer.queue_key) == 0
    assert redis_buffer.client.zcard(redis_buffer.claims_key) == 1
    # Not yet stale: a flush leaves the (possibly still working) claim alone.
    assert receipts.flush_buffer(redis_buffer, engine).delivered == 0
    # Stale after receipt_processing_timeout_seconds: the claim's time is rewound here.
    claim_id = redis_buffer.client.zrange(redis_buffer.claims_key, 0, -1)[0]
    redis_buffer.client.zadd(redis_buffer.claims_key, {claim_id: time.time() - 3600})
    result = receipts.flush_buffer(redis_buffer, engine)
    assert (result.recovered, result.delivered) == (1, 50)
    assert statuses(engine, ids) == [("delivered", None)] * 50
    assert redis_buffer.client.zcard(redis_buffer.claims_key) == 0


def _prefix(buffer: RedisBuffer) -> str:
    return buffer.queue_key.removesuffix(":queue")


def _claim_and_hang(url: str, prefix: str, ready) -> None:  # noqa: ANN001
    buffer = RedisBuffer(redis.Redis.from_url(url), prefix)
    assert buffer.claim(500, time.time()) is not None
    ready.set()
    time.sleep(60)  # "applying" when the SIGKILL comes


@pytest.fixture
def redis_receipts(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The app's settings pointed at a real Redis buffer (RECEIPT_BUFFER=redis) under a
    fresh receipt prefix (yielded); its keys are deleted afterwards."""
    prefix = f"test:rcpt:{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    monkeypatch.setenv("RECEIPT_BUFFER", "redis")
    monkeypatch.setenv("RECEIPT_BUFFER_PREFIX", prefix)
    get_settings.cache_clear()
    redis_conn.reset_cache()
    try:
        yield prefix
    finally:
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)
        get_settings.cache_clear()
        redis_conn.reset_cache()


def test_flush_uses_redis_when_it_answers(app_settings: sa.Engine, redis_receipts: str) -> None:
    ids = make_logs(app_settings, ["sent", "sent"])
    assert receipts.enqueue([r("v0"), r("v1", "failed", "no")]) == 2
    buffer = receipts.redis_buffer()
    assert isinstance(buffer, RedisBuffer) and buffer.size() == 2
    receipts.flush_receipts()  # the periodic task
    assert buffer.size() == 0
    assert statuses(app_settings, ids) == [("delivered", None), ("undelivered", "no")]


def test_the_periodic_task_is_registered() -> None:
    from mini_crm.core import periodic, periodic_tasks  # noqa: F401 - importing registers

    assert any(name.endswith("receipts.flush_receipts") for name in periodic._tasks)


def test_durable_retries_wait_in_the_database_until_the_id_is_known(
        engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """RECEIPT_BUFFER=database: apply_durably commits the known receipts and keeps the
    unknown ones in receipt_retry; flush_retries applies them once the id is stored,
    honours the backoff, and drops them after the bounded retries."""
    ids = make_logs(engine, ["sent", "queued-noid"])
    first = receipts.apply_durably(engine, [r("v0"), r("late-id", "failed", "mailbox full"),
                                            r("ghost")])
    assert (first.delivered, first.requeued) == (1, 2)
    assert receipts.retry_count(engine) == 2
    assert receipts.flush_retries(engine).batches == 0  # not due yet (0.5 s backoff)
    with Session(engine) as s:
        row = s.get(CommunicationLog, ids[1])
        row.vendor_message_id, row.status = "late-id", DeliveryStatus.SENT
        s.add(row)
        s.commit()
    time.sleep(0.6)
    second = receipts.flush_retries(engine)
    assert (second.undelivered, second.requeued) == (1, 1)  # ghost waits again
    assert statuses(engine, ids) == [("delivered", None), ("undelivered", "mailbox full")]
    with engine.begin() as conn:  # ghost's next try is due now, not in a second
        conn.execute(ReceiptRetry.__table__.update().values(due_at=utcnow()))
    monkeypatch.setattr(receipts, "retry_delay", lambda tries: 0.0)
    monkeypatch.setenv("RECEIPT_MAX_REQUEUES", "2")
    get_settings.cache_clear()
    try:
        outcomes = [receipts.flush_retries(engine) for _ in range(3)]
    finally:
        get_settings.cache_clear()
    assert [o.dropped for o in outcomes] == [1, 0, 0]
    assert receipts.retry_count(engine) == 0


def test_a_database_error_keeps_durable_retries(engine: sa.Engine,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    make_logs(engine, ["queued-noid"])
    monkeypatch.setattr(receipts, "retry_delay", lambda tries: 0.0)
    receipts.apply_durably(engine, [r("late")])

    def broken(*_a, **_k):
        raise sa.exc.OperationalError("UPDATE", {}, Exception("database went away"))

    monkeypatch.setattr(receipts, "apply_batch", broken)
    with pytest.raises(sa.exc.OperationalError):
        receipts.flush_retries(engine)
    assert receipts.retry_count(engine) == 1  # the transaction rolled back: still there
