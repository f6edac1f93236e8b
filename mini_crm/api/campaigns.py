"""Campaigns over HTTP: preview who a launch reaches, create (launch now or schedule),
history, one campaign, cancel, choose an A/B test's winner."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from sqlmodel import Session

from mini_crm.api.campaign_schemas import (
    CampaignDetail,
    CampaignId,
    CampaignIn,
    CampaignOut,
    CampaignPage,
    CancelInfo,
    CancelOut,
    PreviewIn,
    PreviewOut,
    RecentOut,
    Skipped,
    WinnerIn,
)
from mini_crm.api.deps import db_session, require_reader, require_scope
from mini_crm.api.errors import ERROR_SCHEMA, ApiError, campaign_fault, status_conflict
from mini_crm.core.campaigns import ab_test, figures, reports, service
from mini_crm.core.campaigns.errors import CampaignError, CampaignNotFound
from mini_crm.db import get_engine
from mini_crm.models import ApiKey

router = APIRouter(prefix="/api/v1/campaigns", tags=["campaigns"],
                   responses={401: ERROR_SCHEMA, 403: ERROR_SCHEMA, 422: ERROR_SCHEMA})

def _detail(db: Session, campaign_id: int) -> CampaignDetail:
    detail = reports.campaign_detail(db, campaign_id)
    if detail is None:
        raise ApiError(404, f"campaign {campaign_id} does not exist")
    return CampaignDetail(**detail.as_dict())


@router.post("/preview", response_model=PreviewOut,
             summary="Who a launch would reach now: matching, recipients, skipped per reason")
def preview_campaign(body: PreviewIn, _key: Any = Depends(require_scope("read")),
                     db: Session = Depends(db_session)) -> PreviewOut:
    """Counts the launch's own statement without launching anything. Skip reasons:
    unsubscribed (opted out of the channel), suppressed (address on the suppression
    list), no_address (no phone for sms/whatsapp, no email for email),
    duplicate_address (another recipient has the same address: one message per
    person), frequency_cap (FREQUENCY_CAP_MESSAGES messages in FREQUENCY_CAP_DAYS).
    `recently_messaged` counts the recipients another campaign messaged in the last
    24 h (a duplicate launched again), and `warnings` says it in a sentence. With
    `variants` (and `ab_test.test_percent`), `warnings` says when each variant
    would likely get fewer than 100 people in the test (no automatic winner then).
    422 `invalid_rules` for bad rules (the rule's path and field), `invalid_campaign` with
    `details.field` for an unknown segment."""
    try:
        reach = service.preview_campaign(db, rules=body.rules, segment_id=body.segment_id,
                                         channel=body.channel,
                                         holdout_percent=body.holdout_percent,
                                         variants=body.variants or 0,
                                         test_percent=(body.ab_test.test_percent
                                                       if body.ab_test else 100))
    except CampaignError as exc:
        raise campaign_fault(exc) from exc
    return PreviewOut(matching=reach.matching, recipients=reach.recipients,
                      skipped=Skipped(**reach.skipped), holdout_about=reach.holdout_about,
                      warnings=reach.warnings, no_address_detail=reach.no_address_detail,
                      recently_messaged=RecentOut(**reach.recent.as_dict()),
                      summary=figures.reach_text(reach.matching, reach.recipients,
                                                 reach.skipped, body.channel,
                                                 held_back=reach.holdout_about))


@router.post("", response_model=CampaignDetail, status_code=201,
             summary="Create a campaign: launched at once, or scheduled")
def create_campaign(body: CampaignIn, key: ApiKey = Depends(require_scope("campaigns")),
                    db: Session = Depends(db_session)) -> CampaignDetail:
    try:
        campaign = service.create_campaign(
            db, name=body.name, rules=body.rules, segment_id=body.segment_id,
            message_template=body.message or "", channel=body.channel,
            schedule_at=body.schedule_at,
            objective=body.objective, created_by=key.created_by, tags=body.tags,
            holdout_percent=body.holdout_percent,
            variants=[v.model_dump() for v in body.variants] if body.variants else None,
            ab_settings=body.ab_test.model_dump() if body.ab_test else None,
            email_subject=body.subject, email_preheader=body.preheader,
            sender_name=body.sender_name, save_audience_as=body.save_audience_as)
    except CampaignError as exc:
        raise campaign_fault(exc) from exc
    db.commit()  # enqueues the delivery jobs (after commit), before answering 201
    return _detail(db, campaign.id)


@router.get("", response_model=CampaignPage, summary="Campaign history, newest first")
def list_campaigns(
    status: Literal["", "draft", "scheduled", "sending", "completed", "cancelled",
                    "failed"] = Query("", description="only campaigns in this status"),
    tag: str = Query("", max_length=40),
    search: str = Query("", max_length=200, description="part of the name"),
    limit: int = Query(20, ge=1, le=200), offset: int = Query(0, ge=0, le=1_000_000),
    _key: Any = Depends(require_scope("read")), db: Session = Depends(db_session),
) -> CampaignPage:
    items, total = reports.list_campaigns(db, search=search, status=status, tag=tag,
                                          limit=limit, offset=offset)
    return CampaignPage(items=[CampaignOut(**s.as_dict()) for s in items], total=total,
                        limit=limit, offset=offset)


@router.get("/{campaign_id:int}", response_model=CampaignDetail,
            summary="One campaign with its counters")
def get_campaign(campaign_id: CampaignId, _key: Any = Depends(require_scope("read")),
                 db: Session = Depends(db_session)) -> CampaignDetail:
    return _detail(db, campaign_id)


@router.get("/{campaign_id:int}/log.csv", response_class=StreamingResponse,
            responses={200: {"content": {"text/csv": {}}}, 404: ERROR_SCHEMA},
            summary="The campaign's delivery log as CSV (streamed)")
def campaign_log_csv(campaign_id: CampaignId, _reader: Any = Depends(require_reader),
                     db: Session = Depends(db_session)) -> StreamingResponse:
    """Signed-in browsers (session cookie) or API keys with the `read` scope."""
    _detail(db, campaign_id)  # 404 for an unknown campaign
    return StreamingResponse(
        reports.iter_log_csv(get_engine(), campaign_id), media_type="text/csv",
        headers={"Content-Disposition":
                 f'attachment; filename="campaign-{campaign_id}-log.csv"'})


@router.post("/{campaign_id:int}/cancel", response_model=CancelOut,
             responses={404: ERROR_SCHEMA, 409: ERROR_SCHEMA},
             summary="Cancel a scheduled or sending campaign")
def cancel_campaign(campaign_id: CampaignId, key: ApiKey = Depends(require_scope("campaigns")),
                    db: Session = Depends(db_session)) -> CancelOut:
    """Once this answers, no new vendor request for the campaign starts. Messages
    already in a vendor request (`cancel.in_flight`) may still be accepted and end
    sent; every other unsent row fails with error "cancelled". The answer waits up to
    CANCEL_SETTLE_SECONDS for the workers' rows: `cancel.final` says whether the
    counters are final, `cancel.settling` how many rows were still with workers.
    409 `conflict` (details.status) when the campaign had already finished, or is a
    draft (nothing to stop: delete it instead)."""
    try:
        result = service.cancel(campaign_id, actor_user_id=key.created_by)
    except CampaignNotFound as exc:
        raise ApiError(404, f"campaign {campaign_id} does not exist") from exc
    if not result.cancelled:
        if result.status == "draft":
            raise status_conflict(f"campaign {campaign_id} is a draft: it has sent nothing, "
                                  f"so there is nothing to cancel; delete it with DELETE "
                                  f"/api/v1/campaigns/{campaign_id}", result.status)
        if result.status == "completed":
            raise status_conflict(f"campaign {campaign_id} has already completed: every "
                                  "message has gone out, so there is nothing to cancel",
                                  result.status)
        raise status_conflict(f"campaign {campaign_id} is {result.status} and cannot be "
                              "cancelled", result.status)
    db.expire_all()
    return CancelOut(**_detail(db, campaign_id).model_dump(),
                     cancel=CancelInfo(in_flight=result.in_flight,
                                       in_flight_note=result.in_flight_note,
                                       settling=result.settling,
                                       final=result.final))


@router.post("/{campaign_id:int}/winner", response_model=CampaignDetail,
             responses={404: ERROR_SCHEMA, 409: ERROR_SCHEMA},
             summary="Choose an A/B test's winner by hand: the rest is sent its message")
def choose_winner(campaign_id: CampaignId, body: WinnerIn,
                  key: ApiKey = Depends(require_scope("campaigns")),
                  db: Session = Depends(db_session)) -> CampaignDetail:
    """Ends the test now: every recipient still waiting is queued with the chosen
    variant's message (delivery starts after this answers), and `winner` /
    `ab_test.decided_by` = "manual" record it. 422 `invalid_variant` for a key the
    campaign does not have; 409 `ab_test_closed` when it is not an A/B test, the winner
    was already decided, or the campaign is not launched or was cancelled."""
    try:
        ab_test.pick_winner(db, campaign_id, body.variant, actor_user_id=key.created_by)
    except CampaignNotFound as exc:
        raise ApiError(404, f"campaign {campaign_id} does not exist") from exc
    except CampaignError as exc:
        closed = exc.field != "variant"
        raise ApiError(409 if closed else 422, exc.message,
                       code="ab_test_closed" if closed else "invalid_variant",
                       details={"field": "variant"}) from exc
    db.commit()  # enqueues the rest's delivery jobs (after commit)
    return _detail(db, campaign_id)
