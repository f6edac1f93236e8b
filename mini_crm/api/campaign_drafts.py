"""Campaign drafts over HTTP: the same use cases as the wizard (core/campaigns/drafts).

Create a draft, change it, launch or schedule it, delete it; edit, reschedule or send
now a scheduled campaign; duplicate any campaign into a new draft. Each answers the
campaign as GET /api/v1/campaigns/{id} does; a CampaignError is a 422
(errors.campaign_fault: `invalid_rules` for bad rules, else `invalid_campaign` naming the
field), a campaign in the wrong status a 409 `conflict`
(errors.status_conflict, the rule every campaign route follows).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from mini_crm.api.campaign_schemas import (
    MAX_ID,
    AbTestIn,
    CampaignDetail,
    CampaignId,
    ChannelName,
    VariantIn,
)
from mini_crm.api.campaigns import _detail
from mini_crm.api.deps import db_session, require_scope
from mini_crm.api.errors import ERROR_SCHEMA, ApiError, campaign_fault, status_conflict
from mini_crm.api.whole_numbers import WholeNumber
from mini_crm.core.campaigns import drafts, service
from mini_crm.core.campaigns.errors import CampaignError, CampaignNotFound
from mini_crm.core.ingestion.schemas import InputTimestamp
from mini_crm.models import ApiKey

router = APIRouter(prefix="/api/v1/campaigns", tags=["campaigns"],
                   responses={401: ERROR_SCHEMA, 403: ERROR_SCHEMA, 404: ERROR_SCHEMA,
                              409: ERROR_SCHEMA, 422: ERROR_SCHEMA})


class DraftIn(BaseModel):
    """Any part of a campaign; a draft may be unfinished (all fields optional)."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, max_length=200)
    rules: dict[str, Any] | None = None
    segment_id: WholeNumber | None = Field(default=None, ge=1, le=MAX_ID)
    message: str | None = Field(default=None, max_length=2000)
    channel: ChannelName | None = None
    objective: str | None = Field(default=None, max_length=500)
    subject: str | None = Field(default=None, max_length=300)
    preheader: str | None = Field(default=None, max_length=300)
    sender_name: str | None = Field(default=None, max_length=100)
    tags: list[Annotated[str, Field(max_length=40)]] | None = Field(default=None,
                                                                     max_length=10)
    schedule_at: InputTimestamp | None = Field(default=None, description="the intended time "
                                         "(ISO-8601); for a scheduled campaign, its time")
    step: WholeNumber | None = Field(default=None, ge=0, le=10, description="the "
                             "wizard step a draft resumes at (0 audience, 1 message, "
                             "2 schedule, 3 review)")
    variants: list[VariantIn] | None = Field(default=None, max_length=4, description="A/B "
                                             "test: 2-4 variants, checked in full at launch")
    ab_test: AbTestIn | None = None
    holdout_percent: WholeNumber | None = Field(default=None, ge=0, le=50, description=(
        "share of the eligible audience kept as a control group, as on create (0-50; "
        "null is 0)"))

    def fields(self) -> dict[str, Any]:
        """The draft fields this request sets. `rules` and `segment_id` together are
        refused (CampaignError field segment_id, a 422), as on POST /api/v1/campaigns."""
        service.one_audience(self.rules, self.segment_id)
        names = {"message": "message_template", "schedule_at": "scheduled_at",
                 "step": "draft_step", "subject": "email_subject",
                 "preheader": "email_preheader"}
        return {names.get(k, k): v for k, v in self.model_dump(exclude_unset=True).items()}


class LaunchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    schedule_at: InputTimestamp | None = Field(default=None, description="ISO-8601; absent or "
                                         "in the past launches at once")
    save_audience_as: str | None = Field(
        default=None, max_length=200, description="save the draft's audience rules as a "
        "new segment with this name, in the same transaction as the launch, and link the "
        "campaign to it; an empty or already used name is a 422 with field "
        "`save_audience_as`")
    # The launch settings of the create body, set on the draft just before it is checked
    # and launched (a tester sent holdout_percent with the launch and got a 422).
    holdout_percent: WholeNumber | None = Field(default=None, ge=0, le=50,
                                        description="set the draft's holdout (0-50) first")
    variants: list[VariantIn] | None = Field(default=None, max_length=4, description="set "
                                             "the draft's A/B variants first")
    ab_test: AbTestIn | None = Field(default=None, description="set the draft's A/B "
                                     "settings first")

    def settings(self) -> dict[str, Any]:
        """The draft fields this launch sets first (those given)."""
        return self.model_dump(exclude_unset=True,
                               include={"holdout_percent", "variants", "ab_test"})


class RescheduleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    schedule_at: InputTimestamp


def _run(db: Session, call: Any) -> int:
    """Run one use case; its CampaignError becomes 409 (status) or 422 (a field)."""
    try:
        campaign = call()
    except CampaignNotFound as exc:
        raise ApiError(404, str(exc)) from exc
    except CampaignError as exc:
        if exc.field == "status":
            raise status_conflict(exc.message) from exc
        raise campaign_fault(exc) from exc
    campaign_id = int(campaign.id)
    db.commit()  # a launch enqueues its delivery jobs after this commit
    return campaign_id


@router.post("/drafts", response_model=CampaignDetail, status_code=201,
             summary="Create a draft campaign (nothing is sent)")
def create_draft(body: DraftIn, key: ApiKey = Depends(require_scope("campaigns")),
                 db: Session = Depends(db_session)) -> CampaignDetail:
    return _detail(db, _run(db, lambda: drafts.create_draft(db, created_by=key.created_by,
                                                            **body.fields())))


@router.patch("/{campaign_id:int}", response_model=CampaignDetail,
              summary="Change a draft, or edit a scheduled campaign")
def update_draft(campaign_id: CampaignId, body: DraftIn,
                 key: ApiKey = Depends(require_scope("campaigns")),
                 db: Session = Depends(db_session)) -> CampaignDetail:
    return _detail(db, _run(db, lambda: drafts.update_draft(
        db, campaign_id, actor_user_id=key.created_by, **body.fields())))


@router.post("/{campaign_id:int}/launch", response_model=CampaignDetail,
             summary="Launch a draft now, or schedule it")
def launch_draft(campaign_id: CampaignId, body: LaunchIn | None = None,
                 key: ApiKey = Depends(require_scope("campaigns")),
                 db: Session = Depends(db_session)) -> CampaignDetail:
    when = body.schedule_at if body else None
    save_as = body.save_audience_as if body else None
    settings = body.settings() if body else {}

    def launch() -> Any:
        current = drafts.get_editable(db, campaign_id)
        if settings and current is not None and current.status == "draft":
            # Only a draft: anything else is refused by launch_draft, unchanged.
            drafts.update_draft(db, campaign_id, actor_user_id=key.created_by, **settings)
        return drafts.launch_draft(db, campaign_id, schedule_at=when,
                                   actor_user_id=key.created_by, save_audience_as=save_as)

    return _detail(db, _run(db, launch))


@router.post("/{campaign_id:int}/reschedule", response_model=CampaignDetail,
             summary="Move a scheduled campaign to another time")
def reschedule(campaign_id: CampaignId, body: RescheduleIn,
               key: ApiKey = Depends(require_scope("campaigns")),
               db: Session = Depends(db_session)) -> CampaignDetail:
    return _detail(db, _run(db, lambda: drafts.reschedule(
        db, campaign_id, body.schedule_at, actor_user_id=key.created_by)))


@router.post("/{campaign_id:int}/send-now", response_model=CampaignDetail,
             summary="Send a scheduled campaign at once")
def send_now(campaign_id: CampaignId, key: ApiKey = Depends(require_scope("campaigns")),
             db: Session = Depends(db_session)) -> CampaignDetail:
    return _detail(db, _run(db, lambda: drafts.send_now(db, campaign_id,
                                                        actor_user_id=key.created_by)))


@router.post("/{campaign_id:int}/duplicate", response_model=CampaignDetail, status_code=201,
             summary="Copy any campaign into a new draft")
def duplicate(campaign_id: CampaignId, key: ApiKey = Depends(require_scope("campaigns")),
              db: Session = Depends(db_session)) -> CampaignDetail:
    return _detail(db, _run(db, lambda: drafts.duplicate(db, campaign_id,
                                                         created_by=key.created_by)))


@router.delete("/{campaign_id:int}", status_code=204, response_class=Response,
               summary="Delete a draft (only a draft)")
def delete_draft(campaign_id: CampaignId, key: ApiKey = Depends(require_scope("campaigns")),
                 db: Session = Depends(db_session)) -> Response:
    try:
        drafts.delete_draft(db, campaign_id, actor_user_id=key.created_by)
    except CampaignNotFound as exc:
        raise ApiError(404, str(exc)) from exc
    except CampaignError as exc:
        if exc.field == "status":
            raise status_conflict(exc.message) from exc
        raise campaign_fault(exc) from exc
    db.commit()
    return Response(status_code=204)
