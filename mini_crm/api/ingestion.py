"""Ingestion over HTTP: push customers and orders (one or a batch), read them back.

With Redis the valid items go onto a Redis Stream and the answer says
`"mode": "queued"`; without it they are written at once (`"mode": "stored"`).
Bodies are parsed by hand so each failure gets its own answer: malformed JSON 400,
a body over the limit 413, a wrong envelope 422, and per-item errors inside a 202
that still stores every valid item.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from mini_crm.api.deps import db_session, key_label, read_body, require_scope
from mini_crm.api.errors import ERROR_SCHEMA, ApiError, not_json_message
from mini_crm.core import consent
from mini_crm.core.auth import audit
from mini_crm.core.ingestion import limits, reads, stream
from mini_crm.core.ingestion.schemas import (
    MAX_NESTING,
    CustomerIn,
    OrderIn,
    Validated,
    validate_items,
)
from mini_crm.core.ingestion.upsert import (
    OrdersWritten,
    ingest_customers,
    write_orders_in_transaction,
)
from mini_crm.core.redis_conn import get_redis
from mini_crm.models import ApiKey
from mini_crm.observability import metrics
from mini_crm.settings import get_settings

router = APIRouter(prefix="/api/v1", tags=["ingestion"],
                   responses={400: ERROR_SCHEMA, 401: ERROR_SCHEMA, 403: ERROR_SCHEMA,
                              413: ERROR_SCHEMA, 422: ERROR_SCHEMA})


class IngestResult(BaseModel):
    accepted: int
    rejected: int
    errors: list[dict[str, Any]]
    mode: str


CUSTOMER_EXAMPLE = {"external_id": "cust-1001", "name": "Asha Rao", "email": "asha@example.in",
                    "phone": "+91 98200 12345", "city": "Pune",
                    "created_at": "2025-04-01T10:00:00Z", "attributes": {"loyalty_tier": "gold"}}
ORDER_EXAMPLE = {"external_id": "ord-5001", "customer_external_id": "cust-1001",
                 "amount": "2499.00", "currency": "INR", "status": "completed",
                 "ordered_at": "2025-10-20T19:30:00+05:30",
                 "items": [{"sku": "TEA-01", "name": "Masala chai", "qty": 2, "price": 1249.5}]}


def _body_doc(model: type[BaseModel], example: dict[str, Any]) -> dict[str, Any]:
    item = model.model_json_schema()
    return {"requestBody": {"required": True, "content": {"application/json": {
        "schema": {"oneOf": [item, {"type": "object", "required": ["items"], "properties": {
            "items": {"type": "array", "items": item, "maxItems": 5000}},
            "additionalProperties": False}]},
        "examples": {"one": {"value": example}, "batch": {"value": {"items": [example]}}}}}}}


def is_batch(data: dict[str, Any], model: type[BaseModel]) -> bool:
    """True when `data` is a batch envelope, False when it is one item of `model`.

    The batch key `items` is also an order's own field (its line items), so the key alone
    cannot tell: an object carrying any of the item's other fields is one item, whatever
    else it holds (its own errors are then per-field); without any, it is an envelope."""
    if "items" not in data:
        return False
    return not (set(data) - {"items"}) & set(model.model_fields)


async def _items(request: Request, model: type[BaseModel]) -> list[Any]:
    body = await read_body(request, get_settings().ingest_max_body_bytes)
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, not_json_message(body)) from exc
    except RecursionError as exc:  # the parser recurses: thousands of nested [ or {
        raise ApiError(400, "body is not valid JSON: it nests lists and objects too deep "
                       f"to read (at most {MAX_NESTING} levels in a value)") from exc
    if not isinstance(data, dict):
        raise ApiError(422, "the body must be a JSON object: one item, or "
                       "{\"items\": [...]}")
    if not is_batch(data, model):
        return [data]
    unknown = sorted(set(data) - {"items"})
    if unknown:
        raise ApiError(422, f"unknown top-level field(s): {', '.join(unknown)}; "
                       "a batch is {\"items\": [...]}", details={"fields": unknown})
    if not isinstance(data["items"], list):
        raise ApiError(422, "'items' must be a list", details={"field": "items"})
    max_items = get_settings().ingest_max_items
    if len(data["items"]) > max_items:
        raise ApiError(422, f"at most {max_items} items per request, got {len(data['items'])}",
                       details={"field": "items"})
    if not data["items"]:
        raise ApiError(422, "'items' is empty", details={"field": "items"})
    return data["items"]


def _store(kind: str, ingest: Any, checked: Validated[Any], actor: str | None = None
           ) -> tuple[int, str]:
    """Write now, or append to the stream for the consumers; runs off the event loop.

    Orders a customer's total spend could not hold are moved into `checked.errors`:
    from the write's own answer, or (queued) from a check before queueing."""
    mode = get_settings().ingest_mode
    client = get_redis() if mode != "sync" else None
    if mode == "queued" and client is None:
        raise ApiError(503, "ingestion is set to queued mode but Redis does not answer")
    if client is not None:
        if kind == "orders" and checked.items:
            checked.refuse(limits.check_orders(checked.items))
        if checked.items:
            stream.enqueue(client, kind, checked.items, actor_label=actor)
        return len(checked.items), "queued"
    if not checked.items:
        return 0, "stored"
    done = ingest(checked.items)
    if isinstance(done, OrdersWritten):
        checked.refuse(done.refused)
        return done.written, "stored"
    return done, "stored"


def key_actor(key: ApiKey) -> audit.Actor:
    """How an API key appears in the audit trail."""
    return audit.Actor(label=key_label(key))


def _answer(kind: str, accepted: int, mode: str, errors: list[dict[str, Any]]
            ) -> IngestResult:
    rejected = len({e["index"] for e in errors})
    metrics.count_ingest(kind, accepted, rejected)
    return IngestResult(accepted=accepted, rejected=rejected, errors=errors, mode=mode)


@router.post("/customers", status_code=202, response_model=IngestResult,
             summary="Upsert customers (one, or a batch of up to 5000) by external_id",
             openapi_extra=_body_doc(CustomerIn, CUSTOMER_EXAMPLE))
async def post_customers(request: Request,
                         key: ApiKey = Depends(require_scope("ingest"))) -> IngestResult:
    checked = validate_items(await _items(request, CustomerIn), CustomerIn)
    actor = key_actor(key)
    change = consent.Change(source="api", actor=actor)
    accepted, mode = await run_in_threadpool(
        _store, "customers", lambda items: ingest_customers(items, change=change),
        checked, actor.label)
    return _answer("customers", accepted, mode, checked.errors)


@router.post("/orders", status_code=202, response_model=IngestResult,
             summary="Upsert orders (one, or a batch of up to 5000) by external_id",
             description="An order for an unknown customer creates a stub customer that "
                         "later customer data fills in. Cancelled and refunded orders do not "
                         "count towards a customer's spend. An order that would take its "
                         "customer's total spend past 999,999,999,999.99 is a per-item "
                         "error (field amount); the rest is stored.",
             openapi_extra=_body_doc(OrderIn, ORDER_EXAMPLE))
async def post_orders(request: Request,
                      _key: Any = Depends(require_scope("ingest"))) -> IngestResult:
    checked = validate_items(await _items(request, OrderIn), OrderIn)
    accepted, mode = await run_in_threadpool(_store, "orders", write_orders_in_transaction,
                                             checked)
    return _answer("orders", accepted, mode, checked.errors)


EXTERNAL_ID_DOC = ("The external id, percent-encoded; any printable id works, slashes "
                   "included (gid://shop/Customer/7001 → gid%3A%2F%2Fshop%2FCustomer%2F7001)")


# `:path` so an id with slashes is one parameter (the server decodes %2F before routing).
@router.get("/customers/{external_id:path}", summary="One customer with stats",
            responses={404: ERROR_SCHEMA})
def get_customer(external_id: str = Path(description=EXTERNAL_ID_DOC),
                 _key: Any = Depends(require_scope("read")),
                 session: Session = Depends(db_session)) -> dict[str, Any]:
    customer = reads.get_customer(session, external_id)
    if customer is None:
        raise ApiError(404, f"no customer with external_id {external_id!r}")
    return reads.customer_json(customer,
                               consent.suppressed_channels(session, [customer])[customer.id])


@router.get("/orders/{external_id:path}", summary="One order",
            responses={404: ERROR_SCHEMA})
def get_order(external_id: str = Path(description=EXTERNAL_ID_DOC),
              _key: Any = Depends(require_scope("read")),
              session: Session = Depends(db_session)) -> dict[str, Any]:
    found = reads.get_order(session, external_id)
    if found is None:
        raise ApiError(404, f"no order with external_id {external_id!r}")
    return reads.order_json(*found)


def _cursor_error(exc: ValueError) -> ApiError:
    return ApiError(422, str(exc), details={"field": "cursor"})


@router.get("/customers", summary="Customers, oldest first, cursor-paginated")
def list_customers(cursor: str | None = None, limit: int = Query(100, ge=1, le=500),
                   _key: Any = Depends(require_scope("read")),
                   session: Session = Depends(db_session)) -> dict[str, Any]:
    try:
        return reads.list_customers(session, cursor, limit)
    except ValueError as exc:
        raise _cursor_error(exc) from exc


@router.get("/orders", summary="Orders, oldest first, cursor-paginated")
def list_orders(cursor: str | None = None, limit: int = Query(100, ge=1, le=500),
                customer_external_id: str | None = None,
                _key: Any = Depends(require_scope("read")),
                session: Session = Depends(db_session)) -> dict[str, Any]:
    try:
        return reads.list_orders(session, cursor, limit, customer_external_id)
    except ValueError as exc:
        raise _cursor_error(exc) from exc
