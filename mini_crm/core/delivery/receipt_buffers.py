"""Where accepted receipts wait to be applied: `RedisBuffer` (RECEIPT_BUFFER=redis,
shared by every host) and `MemoryBuffer` (this process only: the batcher's tests), one
interface (`ReceiptBuffer`) that `receipts.flush_buffer` drains.

Each move of a receipt between the queue, a claim and the retry set is atomic (Lua in
Redis, a lock in memory), so a receipt is always in exactly one of them; see the
`receipts` module docstring for what a claim left behind by a dead flusher becomes.
"""

from __future__ import annotations

import threading
import uuid
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import redis

from mini_crm.core.delivery.receipt_model import Receipt


@dataclass
class Claim:
    id: str
    receipts: list[Receipt]


class ReceiptBuffer(Protocol):
    def push(self, receipts: Iterable[Receipt]) -> int: ...
    def claim(self, limit: int, now: float) -> Claim | None: ...
    def finish(self, claim: Claim, retries: Sequence[tuple[float, Receipt]]) -> None: ...
    def release(self, claim_id: str) -> bool: ...
    def promote_due(self, now: float) -> int: ...
    def recover_stale(self, older_than: float) -> int: ...
    def size(self) -> int: ...


class MemoryBuffer:
    """A thread-safe buffer in this process's memory, lost with it: the same interface
    as RedisBuffer for `flush_buffer` where nothing must outlive the process (the
    batcher's tests). The app never keeps accepted receipts in it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: deque[Receipt] = deque()
        self._retry: list[tuple[float, Receipt]] = []
        self._claims: dict[str, tuple[float, list[Receipt]]] = {}

    def push(self, receipts: Iterable[Receipt]) -> int:
        items = list(receipts)
        with self._lock:
            self._queue.extend(items)
        return len(items)

    def claim(self, limit: int, now: float) -> Claim | None:
        with self._lock:
            if not self._queue:
                return None
            items = [self._queue.popleft() for _ in range(min(limit, len(self._queue)))]
            claim = Claim(uuid.uuid4().hex, items)
            self._claims[claim.id] = (now, items)
            return claim

    def finish(self, claim: Claim, retries: Sequence[tuple[float, Receipt]]) -> None:
        with self._lock:
            self._claims.pop(claim.id, None)
            self._retry.extend(retries)

    def release(self, claim_id: str) -> bool:
        with self._lock:
            held = self._claims.pop(claim_id, None)
            if held is None:
                return False
            self._queue.extendleft(reversed(held[1]))
            return True

    def promote_due(self, now: float) -> int:
        with self._lock:
            due = [r for at, r in self._retry if at <= now]
            self._retry = [(at, r) for at, r in self._retry if at > now]
            self._queue.extend(due)
            return len(due)

    def recover_stale(self, older_than: float) -> int:
        with self._lock:
            stale = [cid for cid, (at, _) in self._claims.items() if at < older_than]
        return sum(self.release(cid) for cid in stale)

    def size(self) -> int:
        with self._lock:
            return len(self._queue) + len(self._retry)

    def defer(self, retries: Sequence[tuple[float, Receipt]]) -> None:
        """Receipts to try again at their due time (unknown message ids)."""
        with self._lock:
            self._retry.extend(retries)


# Lua keeps each move atomic: a receipt is always in exactly one of queue / claim / retry.
_CLAIM = """
local items = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
if #items == 0 then return items end
redis.call('LTRIM', KEYS[1], #items, -1)
for i = 1, #items, 1000 do
  redis.call('RPUSH', KEYS[2], unpack(items, i, math.min(i + 999, #items)))
end
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[3])
return items
"""
_RELEASE = """
if redis.call('ZREM', KEYS[3], ARGV[1]) == 0 then return 0 end
local items = redis.call('LRANGE', KEYS[2], 0, -1)
for i = #items, 1, -1 do redis.call('LPUSH', KEYS[1], items[i]) end
redis.call('DEL', KEYS[2])
return 1
"""
_PROMOTE = """
local items = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 1000)
if #items > 0 then
  redis.call('ZREM', KEYS[1], unpack(items))
  redis.call('RPUSH', KEYS[2], unpack(items))
end
return #items
"""


class RedisBuffer:
    """Receipts in Redis under `prefix`: `:queue` (list), `:retry` (sorted set by due
    time), `:claims` (sorted set of claim ids by claim time), `:claim:<id>` (lists)."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.client = client
        self.queue_key = f"{prefix}:queue"
        self.retry_key = f"{prefix}:retry"
        self.claims_key = f"{prefix}:claims"
        self._claim_prefix = f"{prefix}:claim:"
        self._claim = client.register_script(_CLAIM)
        self._release = client.register_script(_RELEASE)
        self._promote = client.register_script(_PROMOTE)

    def claim_key(self, claim_id: str) -> str:
        return self._claim_prefix + claim_id

    def push(self, receipts: Iterable[Receipt]) -> int:
        items = [r.dumps() for r in receipts]
        with self.client.pipeline(transaction=False) as pipe:
            for i in range(0, len(items), 1000):
                pipe.rpush(self.queue_key, *items[i:i + 1000])
            pipe.execute()
        return len(items)

    def claim(self, limit: int, now: float) -> Claim | None:
        claim_id = uuid.uuid4().hex
        raw = self._claim(keys=[self.queue_key, self.claim_key(claim_id), self.claims_key],
                          args=[limit, now, claim_id])
        if not raw:
            return None
        return Claim(claim_id, [Receipt.loads(item) for item in raw])

    def finish(self, claim: Claim, retries: Sequence[tuple[float, Receipt]]) -> None:
        with self.client.pipeline(transaction=True) as pipe:
            if retries:
                pipe.zadd(self.retry_key, {r.dumps(): due for due, r in retries})
            pipe.delete(self.claim_key(claim.id))
            pipe.zrem(self.claims_key, claim.id)
            pipe.execute()

    def release(self, claim_id: str) -> bool:
        return bool(self._release(keys=[self.queue_key, self.claim_key(claim_id),
                                        self.claims_key], args=[claim_id]))

    def promote_due(self, now: float) -> int:
        total = 0
        while True:
            moved = int(self._promote(keys=[self.retry_key, self.queue_key], args=[now]))
            total += moved
            if moved < 1000:
                return total

    def recover_stale(self, older_than: float) -> int:
        stale = self.client.zrangebyscore(self.claims_key, "-inf", older_than)
        return sum(self.release(cid.decode() if isinstance(cid, bytes) else cid)
                   for cid in stale)

    def size(self) -> int:
        return int(self.client.llen(self.queue_key)) + int(self.client.zcard(self.retry_key))
