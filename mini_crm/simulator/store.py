"""What the simulator remembers: every idempotency key it was sent, and counters.

The key -> vendor id map is what makes the simulator idempotent (a re-sent key gets
the same id and is not counted again) and what lets tests prove "0 lost, 0 sent
twice". MemoryStore serves one process (`mini-crm simulator`, tests); RedisStore is for
the simulator mounted in an app that runs several backend processes, where a retry
may land in a different process than the first try.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections import deque
from typing import Protocol

import redis

REJECTED = "!"  # stored in place of a vendor id for a key that was rejected
KEYS_SEEN_TWICE_LIMIT = 100
# The request log keeps the latest requests only: enough to audit a test or a demo run.
REQUEST_LOG_LIMIT = 100_000
COUNTERS = ("accepted", "rejected", "duplicates", "requests", "rate_limited",
            "errors_injected", "outage_refused", "receipts_posted", "receipts_dropped",
            "callback_failures", "replies_posted")


class Store(Protocol):
    def record(self, items: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
        """For each (idempotency_key, rejected): (vendor id or REJECTED, first time seen)."""
        ...

    def incr(self, counter: str, by: int = 1) -> None: ...
    def stats(self) -> dict[str, object]: ...
    def reset(self) -> None: ...

    def log_request(self, received_at: float, answered_at: float, accepted: int) -> None:
        """Append one processed request to the request log (wall-clock seconds)."""
        ...

    def request_log(self) -> list[dict[str, float]]: ...


def _new_instance() -> str:
    # Vendor ids must stay unique across simulator restarts: communication_log holds
    # them under a unique index, so every run gets its own prefix.
    return secrets.token_hex(4)


class MemoryStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._instance = _new_instance()
            self._seq = 0
            # key -> sequence number (vendor id "sim-<instance>-<seq>"), or 0 if rejected:
            # compact enough for millions of keys.
            self._keys: dict[str, int] = {}
            self._twice: list[str] = []
            self._counters = dict.fromkeys(COUNTERS, 0)
            self._log: deque[dict[str, float]] = deque(maxlen=REQUEST_LOG_LIMIT)

    def _vendor_id(self, seq: int) -> str:
        return REJECTED if seq == 0 else f"sim-{self._instance}-{seq}"

    def record(self, items: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
        out: list[tuple[str, bool]] = []
        with self._lock:
            for key, rejected in items:
                seq = self._keys.get(key)
                if seq is not None:
                    self._counters["duplicates"] += 1
                    if len(self._twice) < KEYS_SEEN_TWICE_LIMIT:
                        self._twice.append(key)
                    out.append((self._vendor_id(seq), False))
                    continue
                if rejected:
                    seq = 0
                    self._counters["rejected"] += 1
                else:
                    self._seq += 1
                    seq = self._seq
                    self._counters["accepted"] += 1
                self._keys[key] = seq
                out.append((self._vendor_id(seq), True))
        return out

    def incr(self, counter: str, by: int = 1) -> None:
        with self._lock:
            self._counters[counter] += by

    def vendor_ids(self) -> dict[str, str]:
        """The simulator's own log: idempotency key -> vendor id ("!" when rejected)."""
        with self._lock:
            return {key: self._vendor_id(seq) for key, seq in self._keys.items()}

    def stats(self) -> dict[str, object]:
        with self._lock:
            return {**self._counters, "keys_seen_twice": list(self._twice),
                    "keys_seen": len(self._keys)}

    def log_request(self, received_at: float, answered_at: float, accepted: int) -> None:
        with self._lock:
            self._log.append({"received_at": received_at, "answered_at": answered_at,
                              "accepted": accepted})

    def request_log(self) -> list[dict[str, float]]:
        with self._lock:
            return list(self._log)


_RECORD = """
local out = {}
for i = 2, #ARGV, 2 do
  local key, candidate = ARGV[i], ARGV[i + 1]
  if redis.call('HSETNX', KEYS[1], key, candidate) == 1 then
    out[#out + 1] = candidate
    out[#out + 1] = 1
    redis.call('HINCRBY', KEYS[2], candidate == '!' and 'rejected' or 'accepted', 1)
  else
    out[#out + 1] = redis.call('HGET', KEYS[1], key)
    out[#out + 1] = 0
    redis.call('HINCRBY', KEYS[2], 'duplicates', 1)
    if redis.call('LLEN', KEYS[3]) < tonumber(ARGV[1]) then redis.call('RPUSH', KEYS[3], key) end
  end
end
redis.call('EXPIRE', KEYS[1], 604800)
return out
"""


class RedisStore:
    """The same, shared by every process through Redis (one Lua call per request)."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.client = client
        self.prefix = prefix
        self._keys, self._counters, self._twice = (f"{prefix}:keys", f"{prefix}:counters",
                                                    f"{prefix}:twice")
        self._log = f"{prefix}:log"
        self._record = client.register_script(_RECORD)
        self._instance = _new_instance()
        self._seq = 0
        self._lock = threading.Lock()

    def record(self, items: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
        args: list[str | int] = [KEYS_SEEN_TWICE_LIMIT]
        with self._lock:
            for key, rejected in items:
                if rejected:
                    args += [key, REJECTED]
                else:
                    self._seq += 1
                    args += [key, f"sim-{self._instance}-{self._seq}"]
        raw = self._record(keys=[self._keys, self._counters, self._twice], args=args)
        return [((raw[i].decode() if isinstance(raw[i], bytes) else raw[i]), bool(raw[i + 1]))
                for i in range(0, len(raw), 2)]

    def incr(self, counter: str, by: int = 1) -> None:
        self.client.hincrby(self._counters, counter, by)

    def stats(self) -> dict[str, object]:
        counters = {k.decode(): int(v) for k, v in self.client.hgetall(self._counters).items()}
        return {**dict.fromkeys(COUNTERS, 0), **counters,
                "keys_seen_twice": [k.decode() for k in self.client.lrange(self._twice, 0, -1)],
                "keys_seen": int(self.client.hlen(self._keys))}

    def reset(self) -> None:
        self.client.delete(self._keys, self._counters, self._twice, self._log)

    def log_request(self, received_at: float, answered_at: float, accepted: int) -> None:
        entry = json.dumps({"received_at": received_at, "answered_at": answered_at,
                            "accepted": accepted})
        pipe = self.client.pipeline(transaction=False)
        pipe.rpush(self._log, entry)
        pipe.ltrim(self._log, -REQUEST_LOG_LIMIT, -1)
        pipe.expire(self._log, 604800)
        pipe.execute()

    def request_log(self) -> list[dict[str, float]]:
        return [json.loads(raw) for raw in self.client.lrange(self._log, 0, -1)]
