"""The vendor's delivery-receipt callback: verify, buffer, answer 202 at once.

No API key: the HMAC signature over the timestamp and the raw body is the
authentication (see mini_crm.core.delivery.signing), and a timestamp outside the
window is refused so a captured callback cannot be replayed later. Receipts are
applied before the 202 (RECEIPT_BUFFER=database, the default) or buffered in Redis
and applied in bulk by the batcher (RECEIPT_BUFFER=redis); see
mini_crm.core.delivery.receipts.
"""

from __future__ import annotations

from typing import Any

import redis
import sqlalchemy as sa
from fastapi import APIRouter, Request
from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool

from mini_crm.api.deps import signed_items
from mini_crm.api.errors import ERROR_SCHEMA, ApiError, error_body
from mini_crm.core import plain_errors
from mini_crm.core.delivery import receipts, signing
from mini_crm.core.delivery.receipt_model import Receipt, ReceiptIn

MAX_BODY_BYTES = 5 * 1024 * 1024
MAX_RECEIPTS = 10_000

router = APIRouter(prefix="/api/v1", tags=["receipts"])


class ReceiptsAccepted(BaseModel):
    accepted: int


RECEIPTS_EXAMPLE = {"receipts": [
    {"vendor_message_id": "sim-4f2a9c-1001", "status": "delivered", "error": None,
     "at": "2025-11-02T10:15:04Z"},
    {"vendor_message_id": "sim-4f2a9c-1002", "status": "failed",
     "error": "handset unreachable", "at": "2025-11-02T10:15:04Z"}]}

_BODY_DOC: dict[str, Any] = {
    "parameters": [
        {"name": signing.TIMESTAMP_HEADER, "in": "header", "required": True,
         "schema": {"type": "integer"}, "description": "Unix seconds when the vendor signed."},
        {"name": signing.SIGNATURE_HEADER, "in": "header", "required": True,
         "schema": {"type": "string", "pattern": "^sha256=[0-9a-f]{64}$"},
         "description": "`sha256=` + hex HMAC-SHA256(RECEIPT_SIGNING_SECRET, "
                        "`{timestamp}.` + raw body)."}],
    "requestBody": {"required": True, "content": {"application/json": {
        "schema": {"type": "object", "required": ["receipts"], "additionalProperties": False,
                   "properties": {"receipts": {
                       "type": "array", "minItems": 1, "maxItems": MAX_RECEIPTS,
                       "items": ReceiptIn.model_json_schema()}}},
        "example": RECEIPTS_EXAMPLE}}},
}

_ERRORS = {
    401: {"description": "Bad signature, or a timestamp outside the window",
          "content": {"application/json": {"examples": {
              "bad_signature": {"value": error_body(
                  "bad_signature", "signature does not match the body and timestamp")},
              "stale_timestamp": {"value": error_body(
                  "stale_timestamp", "timestamp is 912 s old; the window is 300 s")}}}}},
    400: ERROR_SCHEMA, 413: ERROR_SCHEMA, 503: ERROR_SCHEMA,
    422: {"description": "Some receipts are invalid; the valid ones were still accepted",
          "content": {"application/json": {"example": error_body(
              "validation_error", "receipts[1].status: Input should be 'delivered' or 'failed'",
              {"accepted": 1, "errors": [{"index": 1, "loc": ["status"],
                                          "message": "Input should be 'delivered' or 'failed'"}]},
          )}}},
}


_RECEIPT_LIST = TypeAdapter(list[ReceiptIn])


def _parse(items: list[Any]) -> tuple[list[Receipt], list[dict[str, Any]]]:
    try:  # the usual case, all valid: one validation call for the whole list
        return [Receipt.from_in(r) for r in _RECEIPT_LIST.validate_python(items)], []
    except ValidationError:
        pass  # item by item, to keep the valid ones and name the others
    good: list[Receipt] = []
    errors: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        try:
            good.append(Receipt.from_in(ReceiptIn.model_validate(item)))
        except ValidationError as exc:
            errors.extend({"index": index, "loc": list(e["loc"]),
                           "message": plain_errors.message(dict(e))}
                          for e in exc.errors())
    return good, errors


@router.post("/receipts", status_code=202, response_model=ReceiptsAccepted, responses=_ERRORS,
             summary="Delivery receipts from the vendor (HMAC-signed callback)",
             description="Answers 202 once the receipts are kept: applied (or, when their "
                         "message id is not stored yet, kept for retries) in the database "
                         "before the answer; with RECEIPT_BUFFER=redis buffered in Redis and "
                         "applied within about a second. 503 when they cannot be kept: "
                         "retry later. Receipts for the same message may arrive "
                         "twice or out of order: a status only moves forward (sent → delivered "
                         "or undelivered). No API key: the signature is the authentication.",
             openapi_extra=_BODY_DOC)
async def post_receipts(request: Request) -> ReceiptsAccepted:
    items = await signed_items(request, "receipts", MAX_BODY_BYTES, MAX_RECEIPTS)
    good, errors = _parse(items)
    if good:
        try:
            await run_in_threadpool(receipts.enqueue, good)
        except (redis.RedisError, sa.exc.SQLAlchemyError) as exc:
            # Not kept: a 503 makes the vendor retry the callback later.
            raise ApiError(503, "receipts cannot be stored right now; retry later",
                           headers={"Retry-After": "5"}) from exc
    if errors:
        first = errors[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ApiError(422, f"receipts[{first['index']}].{where}: {first['message']}",
                       details={"accepted": len(good), "errors": errors})
    return ReceiptsAccepted(accepted=len(good))
