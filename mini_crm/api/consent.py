"""Consent over HTTP: opt a customer out or in, the suppression list, inbound replies.

Consent changes need the `ingest` scope (they are writes of customer data); reading
the suppression list needs `read`. Inbound replies carry no API key: like receipts,
the vendor's HMAC signature over the timestamp and raw body authenticates them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, BeforeValidator, Field, ValidationError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from mini_crm.api.deps import db_session, read_body, require_scope, signed_items
from mini_crm.api.errors import ERROR_SCHEMA, ApiError, not_json_message
from mini_crm.api.ingestion import key_actor
from mini_crm.core import consent, inbound, plain_errors, suppression
from mini_crm.core.ingestion.reads import decode_cursor, encode_cursor
from mini_crm.db import session_scope
from mini_crm.models import ApiKey

router = APIRouter(prefix="/api/v1", tags=["consent"],
                   responses={401: ERROR_SCHEMA, 403: ERROR_SCHEMA, 404: ERROR_SCHEMA,
                              422: ERROR_SCHEMA})
Channel = str


def _channel_filter(value: Any) -> Any:
    # "?channel=SMS" reads as sms and "?channel=" as no filter; an unknown channel is a
    # 422 naming the three (it listed nothing before, which read as an empty list).
    if isinstance(value, str):
        return value.strip().lower() or None
    return value


ListedChannel = Annotated[Literal["sms", "email", "whatsapp"] | None,
                          BeforeValidator(_channel_filter)]
SuppressionId = Annotated[int, Path(ge=1, le=2_147_483_647)]  # an INTEGER key on every DB


class UnsubscribeIn(BaseModel):
    model_config = {"extra": "forbid"}
    channels: list[Channel] | None = Field(
        default=None, description="sms, email, whatsapp; every channel when left out")
    reason: str | None = Field(default=None, max_length=500)


class SubscribeIn(BaseModel):
    model_config = {"extra": "forbid"}
    channels: list[Channel] = Field(min_length=1, description="sms, email, whatsapp")
    reason: str | None = Field(default=None, max_length=500)


class ConsentOut(BaseModel):
    external_id: str
    consent: dict[str, bool]


def _set(session: Session, external_id: str, channels: list[str] | None, value: bool,
         reason: str | None, key: ApiKey) -> ConsentOut:
    change = consent.Change(source="api", actor=key_actor(key), reason=reason)
    try:
        state = consent.set_channels(session, external_id, channels, value, change)
    except LookupError as exc:
        raise ApiError(404, str(exc)) from exc
    except consent.ConsentError as exc:
        raise ApiError(422, str(exc), details={"field": exc.field}) from exc
    session.commit()  # before the answer: a 200 means the opt-out is stored
    return ConsentOut(external_id=external_id, consent=state)


def _set_in_own_session(*args: Any) -> ConsentOut:
    with session_scope() as session:
        return _set(session, *args)


async def _optional_json(request: Request, model: type[BaseModel]) -> Any:
    body = await read_body(request, 64 * 1024)
    if not body.strip():
        return model()
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        if first["type"] == "json_invalid":
            raise ApiError(400, not_json_message(body)) from exc
        raise ApiError(422, plain_errors.message(dict(first))) from exc


# `:path`: an external id may hold slashes (gid://shop/Customer/7001), sent percent-encoded.
@router.post("/customers/{external_id:path}/unsubscribe", response_model=ConsentOut,
             summary="Opt a customer out (every channel, or the ones named)",
             description="Body optional: `{\"channels\": [\"sms\"], \"reason\": \"...\"}`. "
                         "The customer's address on each channel also goes on the "
                         "suppression list. Doing it again changes nothing.",
             openapi_extra={"requestBody": {"required": False, "content": {
                 "application/json": {"schema": UnsubscribeIn.model_json_schema()}}}})
async def unsubscribe(external_id: str, request: Request,
                      key: ApiKey = Depends(require_scope("ingest"))) -> ConsentOut:
    body = await _optional_json(request, UnsubscribeIn)
    return await run_in_threadpool(_set_in_own_session, external_id, body.channels, False,
                                   body.reason, key)


@router.post("/customers/{external_id:path}/subscribe", response_model=ConsentOut,
             summary="Record an explicit opt-in on the channels named",
             description="The only way back after an opt-out: ingesting the customer "
                         "again without consent keys never re-subscribes. Takes the "
                         "customer's address for those channels off the suppression list.")
def subscribe(external_id: str, body: SubscribeIn,
              key: ApiKey = Depends(require_scope("ingest")),
              session: Session = Depends(db_session)) -> ConsentOut:
    return _set(session, external_id, body.channels, True, body.reason, key)


class SuppressionIn(BaseModel):
    model_config = {"extra": "forbid"}
    address: str = Field(min_length=1, max_length=320)
    channel: Channel
    reason: str | None = Field(default=None, max_length=500)


@router.get("/suppressions", summary="The suppression list, newest first, cursor-paginated")
def list_suppressions(cursor: str | None = None, limit: int = Query(100, ge=1, le=500),
                      channel: ListedChannel = None, q: str = "",
                      _key: ApiKey = Depends(require_scope("read")),
                      session: Session = Depends(db_session)) -> dict[str, Any]:
    try:
        # decode_cursor refuses ids past the id range (they would overflow the driver).
        before = decode_cursor(cursor) or None
    except ValueError as exc:
        raise ApiError(422, str(exc), details={"field": "cursor"}) from exc
    rows, more = suppression.list_after(session, before_id=before, limit=limit,
                                        channel=channel, query=q)
    return {"items": [suppression.as_json(r) for r in rows],
            "next_cursor": encode_cursor(int(rows[-1].id)) if more else None}


@router.post("/suppressions", status_code=201,
             summary="Suppress an address on a channel (201; 200 when already listed)",
             description="The address is normalised first (email lower-cased, phone to "
                         "E.164 in DEFAULT_PHONE_REGION), so any spelling finds one row.")
def add_suppression(body: SuppressionIn, response: Response,
                    key: ApiKey = Depends(require_scope("ingest")),
                    session: Session = Depends(db_session)) -> dict[str, Any]:
    try:
        row, created = suppression.add(session, body.address, body.channel,
                                       reason=body.reason, source="api",
                                       actor=key_actor(key))
    except suppression.SuppressionError as exc:
        raise ApiError(422, str(exc), details={"field": exc.field}) from exc
    session.commit()
    if not created:
        response.status_code = 200
    return suppression.as_json(row)


@router.delete("/suppressions/{suppression_id:int}", status_code=204,
               summary="Take an address off the suppression list",
               description="Customers' consent flags are not changed: someone who opted "
                           "out stays opted out until they opt in.")
def delete_suppression(suppression_id: SuppressionId,
                       key: ApiKey = Depends(require_scope("ingest")),
                       session: Session = Depends(db_session)) -> Response:
    if suppression.remove(session, suppression_id, actor=key_actor(key), source="api") is None:
        raise ApiError(404, f"no suppression with id {suppression_id}")
    session.commit()
    return Response(status_code=204)


INBOUND_EXAMPLE = {"messages": [
    {"from": "+919876543210", "channel": "sms", "body": "STOP", "at": "2026-11-30T10:15:04Z"}]}


@router.post("/inbound", status_code=202,
             summary="Inbound replies from the vendor (HMAC-signed like receipts)",
             description="STOP or UNSUBSCRIBE opts the sender's address out of the channel, "
                         "START opts it back in (whole message, any case, surrounding "
                         "spaces and trailing punctuation ignored); other replies change "
                         "nothing. Signed exactly like /api/v1/receipts. Answers 202 with "
                         "counts and per-message errors (valid messages are applied).",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"example": INBOUND_EXAMPLE}}}})
async def post_inbound(request: Request) -> dict[str, Any]:
    messages = await signed_items(request, "messages", 1024 * 1024, inbound.MAX_MESSAGES)
    good: list[inbound.InboundMessage] = []
    errors: list[dict[str, Any]] = []
    indexes: list[int] = []
    for index, item in enumerate(messages):
        try:
            good.append(inbound.InboundMessage.model_validate(item))
            indexes.append(index)
        except ValidationError as exc:
            errors.extend({"index": index, "field": ".".join(map(str, e["loc"])) or None,
                           "message": plain_errors.message(dict(e))} for e in exc.errors())
    result = await run_in_threadpool(_apply_replies, good)
    for e in result.errors:  # apply_replies counts within `good`; report request indexes
        errors.append({**e, "index": indexes[e["index"]]})
    return {"accepted": result.accepted, "opted_out": result.opted_out,
            "opted_in": result.opted_in, "ignored": result.ignored,
            "errors": sorted(errors, key=lambda e: e["index"])}


def _apply_replies(messages: list[inbound.InboundMessage]) -> inbound.InboundResult:
    with session_scope() as session:
        return inbound.apply_replies(session, messages)
