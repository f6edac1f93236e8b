"""The queued ingestion path: Redis Stream in, consumer group out.

The API validates, appends one stream entry per request (its valid items) and
answers at once. Consumers in `mini-crm worker` read entries with a consumer
group, write each entry's items in one transaction and XACK only after commit.
A consumer killed mid-entry leaves it pending; another consumer reclaims it with
XAUTOCLAIM once it has been idle long enough and writes it again. Upserts are
idempotent and stats are recomputed, never incremented, so a second write counts
nothing twice. An entry that keeps failing goes to a dead-letter stream, where an
admin can read it and replay it.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from dataclasses import dataclass
from typing import Any

import redis
from sqlalchemy.engine import Engine

from mini_crm.core import consent
from mini_crm.core.auth import audit
from mini_crm.core.ingestion.schemas import CustomerIn, OrderIn, validate_items
from mini_crm.core.ingestion.upsert import (
    ingest_customers,
    ingest_orders,
    write_orders_in_transaction,
)
from mini_crm.settings import get_settings

log = logging.getLogger(__name__)
GROUP = "ingesters"
_HAS_OFFSET = re.compile(r"(Z|[+-]\d\d:?\d\d)$")
KINDS = {"customers": (CustomerIn, ingest_customers), "orders": (OrderIn, ingest_orders)}


@dataclass(frozen=True)
class Names:
    stream: str
    dead: str

    @classmethod
    def from_settings(cls, prefix: str | None = None) -> Names:
        prefix = prefix or get_settings().ingest_stream_prefix
        return cls(stream=f"{prefix}:stream", dead=f"{prefix}:dead")


def enqueue(client: redis.Redis, kind: str, items: list[Any], names: Names | None = None,
            actor_label: str | None = None) -> str:
    """Append validated items (pydantic models) as one entry; returns the entry id.

    `actor_label` (who sent them, e.g. the API key) travels with the entry so consent
    changes the consumer applies are audited under the sender, not the worker.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    names = names or Names.from_settings()
    # Timestamps serialise with their UTC offset (see schemas._utc_text); "v" marks it.
    payload = json.dumps([i.model_dump(mode="json", exclude_unset=True) for i in items])
    fields = {"kind": kind, "items": payload, "v": "2"}
    if actor_label:
        fields["actor"] = actor_label
    return client.xadd(names.stream, fields).decode()


def ensure_group(client: redis.Redis, names: Names) -> None:
    try:
        client.xgroup_create(names.stream, GROUP, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def apply_entry(fields: dict[bytes, bytes], engine: Engine | None = None) -> int:
    """Write one entry's items; returns how many were written.

    Items are validated again (the rules may have tightened since the entry was queued,
    e.g. contact normalisation): an item that no longer passes is logged and left out,
    and the rest of the entry is written, as the API does with a batch. So is an order
    its customer's total spend could not hold (upsert.write_orders refuses it).
    """
    kind = fields[b"kind"].decode()
    model, ingest = KINDS[kind]
    raw = json.loads(fields[b"items"])
    if b"v" not in fields:
        raw = [_legacy_utc(i) for i in raw]
    checked = validate_items(raw, model)
    for error in checked.errors:
        log.warning("ingest %s item %s left out: %s: %s", kind, error["index"],
                    error["field"], error["message"])
    if not checked.items:
        return 0
    if kind == "customers":
        actor = fields.get(b"actor", b"").decode() or None
        change = consent.Change(source="api", actor=audit.Actor(label=actor))
        return ingest_customers(checked.items, engine, change)
    done = write_orders_in_transaction(checked.items, engine)
    for external_id, why in done.refused.items():
        log.warning("ingest order %s left out: %s", external_id, why)
    return done.written


def _legacy_utc(item: dict[str, Any]) -> dict[str, Any]:
    """Entries queued before "v" wrote naive UTC timestamps: mark them UTC, since an
    offset-less timestamp is now read in the brand's zone."""
    for key in ("ordered_at", "created_at"):
        value = item.get(key)
        if isinstance(value, str) and len(value) > 10 and not _HAS_OFFSET.search(value):
            item = {**item, key: value + "+00:00"}
    return item


def _deliveries(client: redis.Redis, names: Names, entry_id: bytes) -> int:
    info = client.xpending_range(names.stream, GROUP, min=entry_id, max=entry_id, count=1)
    return int(info[0]["times_delivered"]) if info else 1


def _handle(client: redis.Redis, names: Names, entry_id: bytes, fields: dict[bytes, bytes],
            engine: Engine | None) -> int:
    try:
        written = apply_entry(fields, engine)
    except Exception as exc:
        # Leave it pending for a retry, unless it has failed too often: then dead-letter.
        if _deliveries(client, names, entry_id) >= get_settings().ingest_max_deliveries:
            client.xadd(names.dead, {**{k.decode(): v for k, v in fields.items()},
                                     "error": f"{type(exc).__name__}: {exc}"[:2000],
                                     "source_id": entry_id})
            client.xack(names.stream, GROUP, entry_id)
            client.xdel(names.stream, entry_id)
            log.warning("ingest entry %s dead-lettered: %s", entry_id, exc)
        else:
            log.warning("ingest entry %s failed, will retry: %s", entry_id, exc)
        return 0
    client.xack(names.stream, GROUP, entry_id)
    client.xdel(names.stream, entry_id)
    return written


def consume_once(client: redis.Redis, consumer: str, names: Names | None = None,
                 count: int = 10, block_ms: int = 1000, engine: Engine | None = None) -> int:
    """Reclaim abandoned entries, read new ones, write them; returns items written."""
    names = names or Names.from_settings()
    ensure_group(client, names)
    idle_ms = get_settings().ingest_reclaim_idle_seconds * 1000
    _, claimed, *_ = client.xautoclaim(names.stream, GROUP, consumer, min_idle_time=idle_ms,
                                       start_id="0-0", count=count)
    entries = [(eid, f) for eid, f in claimed if f]
    if not entries:
        read = client.xreadgroup(GROUP, consumer, {names.stream: ">"}, count=count,
                                 block=block_ms)
        entries = read[0][1] if read else []
    return sum(_handle(client, names, eid, fields, engine) for eid, fields in entries)


def run_consumer(client: redis.Redis, consumer: str, stop: threading.Event,
                 names: Names | None = None) -> None:
    while not stop.is_set():
        try:
            consume_once(client, consumer, names)
        except redis.RedisError:
            log.exception("ingest consumer lost Redis; retrying")
            stop.wait(2.0)


def dead_letters(client: redis.Redis, names: Names | None = None, count: int = 50
                 ) -> list[dict[str, Any]]:
    names = names or Names.from_settings()
    out = []
    for eid, fields in client.xrevrange(names.dead, count=count):
        try:
            size: int | None = len(json.loads(fields.get(b"items", b"[]")))
        except ValueError:
            size = None  # the payload itself may be what poisoned it
        out.append({"id": eid.decode(), "kind": fields.get(b"kind", b"").decode(),
                    "items": size, "error": fields.get(b"error", b"").decode()})
    return out


def replay(client: redis.Redis, dead_id: str, names: Names | None = None) -> str:
    """Put a dead-lettered entry back on the stream (after the cause was fixed)."""
    names = names or Names.from_settings()
    found = client.xrange(names.dead, min=dead_id, max=dead_id)
    if not found:
        raise LookupError(f"no dead-lettered entry {dead_id}")
    fields = found[0][1]
    new_id = client.xadd(names.stream, {"kind": fields[b"kind"], "items": fields[b"items"]})
    client.xdel(names.dead, dead_id)
    return new_id.decode()
