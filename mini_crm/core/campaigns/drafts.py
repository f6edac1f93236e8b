"""Campaign drafts and what can still change before (and while) a campaign is scheduled.

A campaign exists from the wizard's first step as a `draft`: listed in history,
resumable at the step it was left on (`draft_step`), deletable. A draft may be
incomplete (no name or message yet); everything is checked in full when it is launched
or scheduled (`launch_draft`), by the same checks as `service.create_campaign`. A
scheduled campaign can still be edited (`update_draft`, checked in full), moved
(`reschedule`) or sent at once (`send_now`); any campaign can be copied into a new
draft (`duplicate`).

Each function owns one use case and works in the caller's transaction (the caller
commits): the Reflex wizard and the HTTP API both call these. Every status change is a
guarded UPDATE, so an edit racing the sweeper's launch of the same scheduled campaign
loses cleanly with a CampaignError instead of changing a campaign already sending.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from mini_crm.core import text_checks
from mini_crm.core.ai.tags import offline_tags
from mini_crm.core.auth import audit
from mini_crm.core.campaigns import ab_test, service
from mini_crm.core.campaigns.audience import save_audience
from mini_crm.core.campaigns.errors import CampaignError, CampaignNotFound
from mini_crm.core.outcomes import holdout
from mini_crm.core.segments import editing
from mini_crm.models import Campaign, CampaignStatus, utcnow

CAMPAIGN = Campaign.__table__
# What a draft holds, by the name the callers use.
FIELDS = ("name", "rules", "segment_id", "channel", "message_template", "objective", "tags",
          "scheduled_at", "draft_step", "email_subject", "email_preheader", "sender_name",
          "holdout_percent", "variants", "ab_test")
EDITABLE = (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED)
MAX_STEP = 10
TEXT_FIELDS = ("name", "message_template", "objective", "email_subject", "email_preheader",
               "sender_name")


def is_untouched(fields: dict[str, Any]) -> bool:
    """Nothing the marketer chose or typed yet: every text blank, no tags, no saved
    segment, no schedule, no A/B variants, still on the first step, and the rules empty
    or the rule builder's own starting rule (editing.empty_tree). The wizard keeps no
    draft of such a campaign: opening it and leaving (or only switching to "New rules")
    left an "Untitled draft" in the history."""
    if any(str(fields.get(name) or "").strip() for name in TEXT_FIELDS):
        return False
    if (fields.get("tags") or fields.get("segment_id") is not None
            or fields.get("scheduled_at") is not None or fields.get("variants")
            or int(fields.get("draft_step") or 0) > 0):
        return False
    rules = fields.get("rules")
    return not rules or rules == editing.to_rules(editing.empty_tree())



def _clean(db: Session, fields: dict[str, Any]) -> dict[str, Any]:
    """A draft's fields, checked only as far as an unfinished draft can be."""
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise CampaignError(f"unknown campaign field(s): {', '.join(sorted(unknown))}")
    out = dict(fields)
    if "name" in out:
        out["name"] = " ".join((out["name"] or "").split())
        if len(out["name"]) > service.MAX_NAME:
            raise CampaignError(f"a campaign name is at most {service.MAX_NAME} characters",
                                "name")
    if "channel" in out and out["channel"] not in service.CHANNELS:
        raise CampaignError(f"channel must be one of {', '.join(service.CHANNELS)}",
                            "channel")
    if "message_template" in out:
        out["message_template"] = out["message_template"] or ""
    if "objective" in out:
        out["objective"] = (out["objective"] or "").strip() or None
        if out["objective"] and len(out["objective"]) > service.MAX_OBJECTIVE:
            raise CampaignError(f"an objective is at most {service.MAX_OBJECTIVE} characters",
                                "objective")
    if "tags" in out:
        out["tags"] = service.clean_tags(out["tags"])
    if "rules" in out:
        out["rules"] = out["rules"] or {}
    # One audience: new rules replace a saved segment, a segment replaces own rules. A
    # fresh tester PATCHed rules onto a draft made from segment 1: the launch sent to
    # the new rules while the campaign still named "Big spenders" as its audience.
    if out.get("rules") and "segment_id" not in out:
        out["segment_id"] = None
    if out.get("segment_id") is not None and "rules" not in out:
        out["rules"] = {}
    if out.get("segment_id") is not None and db.get(service.Segment,
                                                    out["segment_id"]) is None:
        raise CampaignError(f"segment {out['segment_id']} does not exist", "segment_id")
    if out.get("scheduled_at") is not None:
        out["scheduled_at"] = service.naive_utc(out["scheduled_at"])
    if "holdout_percent" in out:
        try:
            out["holdout_percent"] = holdout.check_percent(out["holdout_percent"] or 0)
        except ValueError as exc:
            raise CampaignError(str(exc), "holdout_percent") from exc
    _clean_email_fields(out)
    if "variants" in out:
        out["variants"] = _draft_variants(out["variants"])
    if "ab_test" in out:
        out["ab_test"] = ({**ab_test.DEFAULT_TEST, **{k: v for k, v in out["ab_test"].items()
                                                      if v is not None}}
                          if out["ab_test"] else None)
    _no_control_characters(out)
    if "draft_step" in out:
        out["draft_step"] = max(0, min(int(out["draft_step"] or 0), MAX_STEP))
    return out


def _clean_email_fields(out: dict[str, Any]) -> None:
    """Trim the email-only texts present in `out` (blank → None) and hold them to their
    lengths; CampaignError(field) when one is too long."""
    for name in ("email_subject", "email_preheader", "sender_name"):
        if name in out:
            out[name] = (out[name] or "").strip() or None
            limit = service.MAX_SENDER_NAME if name == "sender_name" else service.MAX_SUBJECT
            if out[name] and len(out[name]) > limit:
                raise CampaignError(f"at most {limit} characters", name)


# A draft is stored as typed, so its texts obey the stored-text rule before launch does.
_DRAFT_TEXTS = {"name": False, "objective": True, "message_template": True,
                "email_subject": False, "email_preheader": False, "sender_name": False}


def _no_control_characters(out: dict[str, Any]) -> None:
    """CampaignError(field) for a control character in a draft text (tab and line
    breaks allowed in the message and objective)."""
    labels = {"name": "a campaign name", "objective": "the objective",
              "message_template": "the message", "email_subject": "the subject line",
              "email_preheader": "the preheader", "sender_name": "the sender name"}
    for name, multiline in _DRAFT_TEXTS.items():
        if problem := text_checks.control_problem(out.get(name), labels[name],
                                                  multiline=multiline):
            raise CampaignError(problem, name)
    for variant in out.get("variants") or []:
        for key, multiline in (("message", True), ("subject", False)):
            what = f"variant {variant['key']}'s {'message' if multiline else 'subject'}"
            if problem := text_checks.control_problem(variant.get(key), what,
                                                      multiline=multiline):
                raise CampaignError(problem, "variants")


def _draft_variants(value: Any) -> list[dict[str, Any]] | None:
    """A draft's variants as typed so far (messages may still be empty; launch checks
    them in full): [{"key", "message", "subject"}], at most 4."""
    if not value:
        return None
    if not isinstance(value, list) or len(value) > ab_test.MAX_VARIANTS:
        raise CampaignError(f"at most {ab_test.MAX_VARIANTS} variants", "variants")
    items = [v if isinstance(v, dict) else {"message": v} for v in value]
    return [{"key": k, "message": str(v.get("message") or ""),
             "subject": v.get("subject") or None}
            for k, v in zip(ab_test.KEYS, items, strict=False)]


def _get(db: Session, campaign_id: int) -> Campaign:
    campaign = db.get(Campaign, campaign_id)
    if campaign is None:
        raise CampaignNotFound(f"campaign {campaign_id} does not exist")
    return campaign


def get_editable(db: Session, campaign_id: int) -> Campaign | None:
    """The campaign if it is still a draft or scheduled (what the wizard may resume),
    else None."""
    campaign = db.get(Campaign, campaign_id)
    return campaign if campaign is not None and campaign.status in EDITABLE else None


def _check_complete(db: Session, campaign: Campaign) -> None:
    """Everything create_campaign checks, on the stored campaign; then its rules become
    the snapshot it will send to (a saved segment's rules when it names one and has
    none of its own), as create_campaign does. Variant A's message is the campaign's."""
    variants = ab_test.check_variants(campaign.variants, campaign.channel)
    campaign.ab_test = ab_test.check_settings(campaign.ab_test, variants)
    campaign.variants = variants
    if variants:
        campaign.message_template = variants[0]["message"]
    name, snapshot, _ = service.check_campaign(
        db, name=campaign.name, channel=campaign.channel,
        message_template=campaign.message_template, objective=campaign.objective,
        rules=campaign.rules or None, segment_id=campaign.segment_id,
        email_subject=campaign.email_subject, email_preheader=campaign.email_preheader,
        sender_name=campaign.sender_name)
    campaign.name, campaign.rules = name, dict(snapshot)
    db.add(campaign)
    db.flush()


def _guarded_update(db: Session, campaign: Campaign, statuses: tuple[str, ...],
                    values: dict[str, Any], refused: str) -> None:
    changed = db.execute(CAMPAIGN.update().where(CAMPAIGN.c.id == campaign.id,
                                                 CAMPAIGN.c.status.in_(statuses))
                         .values(**values)).rowcount
    if changed != 1:
        db.refresh(campaign)
        raise CampaignError(refused.format(status=campaign.status), "status")
    db.refresh(campaign)


def create_draft(db: Session, *, created_by: int | None = None,
                 now: datetime | None = None, **fields: Any) -> Campaign:
    """A new `draft` campaign from whatever the marketer has so far (FIELDS, all optional).

    Raises CampaignError(message, field) for a value no campaign could have (unknown
    channel, a name over 200 characters, a segment that does not exist...).
    """
    values = _clean(db, fields)
    campaign = Campaign(name=values.pop("name", ""), status=CampaignStatus.DRAFT,
                        message_template=values.pop("message_template", ""),
                        created_by=created_by, created_at=now or utcnow(), **values)
    db.add(campaign)
    db.flush()
    audit.record(db, audit.CAMPAIGN_DRAFT_CREATED, actor_user_id=created_by,
                 target=f"campaign:{campaign.id}", details={"name": campaign.name})
    return campaign


def update_draft(db: Session, campaign_id: int, *, actor_user_id: int | None = None,
                 now: datetime | None = None, save_audience_as: str | None = None,
                 **fields: Any) -> Campaign:
    """Change a draft (any subset of FIELDS), or edit a scheduled campaign.

    `save_audience_as` (a segment name) then saves the campaign's rules as a new segment
    in the same transaction and links it (as launch_draft does).

    A scheduled campaign must stay launchable, so it is checked in full and its time
    must stay in the future. Raises CampaignNotFound, or CampaignError when the campaign
    is no longer editable (it started sending) or a value is wrong.
    """
    campaign = _get(db, campaign_id)
    values = _clean(db, fields)
    if campaign.status not in EDITABLE:
        raise CampaignError(f"this campaign is {campaign.status}; only drafts and scheduled "
                            "campaigns can be edited", "status")
    status = campaign.status
    _guarded_update(db, campaign, (status,), values,
                    "this campaign is {status} now; it can no longer be edited")
    if save_audience_as is not None:
        _link_new_segment(db, campaign, save_audience_as, actor_user_id)
    if status == CampaignStatus.SCHEDULED:
        _check_complete(db, campaign)
        if campaign.scheduled_at is None or campaign.scheduled_at <= (now or utcnow()):
            raise CampaignError("a scheduled campaign needs a time in the future",
                                "schedule_at")
        audit.record(db, audit.CAMPAIGN_EDITED, actor_user_id=actor_user_id,
                     target=f"campaign:{campaign.id}", details={"fields": sorted(values)})
    return campaign


def _link_new_segment(db: Session, campaign: Campaign, name: str,
                      actor_user_id: int | None) -> None:
    """Save the campaign's own rules as segment `name` and point the campaign at it."""
    campaign.segment_id = save_audience(db, name=name, rules=campaign.rules or None,
                                        segment_id=campaign.segment_id,
                                        created_by=actor_user_id)
    db.add(campaign)
    db.flush()


def launch_draft(db: Session, campaign_id: int, *, schedule_at: datetime | None = None,
                 actor_user_id: int | None = None, now: datetime | None = None,
                 save_audience_as: str | None = None) -> Campaign:
    """Check a draft in full, then launch it now, or schedule it when `schedule_at` is
    in the future. Raises CampaignNotFound / CampaignError(message, field).

    `save_audience_as` (a segment name) first saves the draft's rules as a new segment
    in the same transaction and links the campaign to it; errors name the field
    `save_audience_as` (empty, too long or used name; a draft that already names a
    segment). The caller rolls back on any error, so a refused launch leaves no segment.
    """
    now = now or utcnow()
    campaign = _get(db, campaign_id)
    if campaign.status != CampaignStatus.DRAFT:
        raise CampaignError(f"this campaign is already {campaign.status}", "status")
    if save_audience_as is not None:
        _link_new_segment(db, campaign, save_audience_as, actor_user_id)
    _check_complete(db, campaign)
    if not campaign.tags:
        campaign.tags = service.clean_tags(offline_tags(
            name=campaign.name, message=campaign.message_template,
            objective=campaign.objective or ""))
    db.add(campaign)
    db.flush()
    when = service.naive_utc(schedule_at) if schedule_at is not None else None
    if when is not None and when > now:
        _guarded_update(db, campaign, (CampaignStatus.DRAFT,),
                        {"status": CampaignStatus.SCHEDULED, "scheduled_at": when},
                        "this campaign is already {status}")
        audit.record(db, audit.CAMPAIGN_SCHEDULED, actor_user_id=actor_user_id,
                     target=f"campaign:{campaign.id}",
                     details={"name": campaign.name, "scheduled_at": when.isoformat()})
        return campaign
    if service.launch_campaign(db, campaign, now=now, actor_user_id=actor_user_id,
                               refuse_all_held=True) < 0:
        raise CampaignError("this campaign was launched meanwhile", "status")
    return campaign


def reschedule(db: Session, campaign_id: int, schedule_at: datetime, *,
               actor_user_id: int | None = None, now: datetime | None = None) -> Campaign:
    """Move a scheduled campaign to another future time."""
    now = now or utcnow()
    campaign = _get(db, campaign_id)
    when = service.naive_utc(schedule_at)
    if when <= now:
        raise CampaignError("that time has passed; pick a time in the future", "schedule_at")
    _guarded_update(db, campaign, (CampaignStatus.SCHEDULED,), {"scheduled_at": when},
                    "this campaign is {status}; only a scheduled campaign can be rescheduled")
    audit.record(db, audit.CAMPAIGN_RESCHEDULED, actor_user_id=actor_user_id,
                 target=f"campaign:{campaign.id}", details={"scheduled_at": when.isoformat()})
    return campaign


def send_now(db: Session, campaign_id: int, *, actor_user_id: int | None = None,
             now: datetime | None = None) -> Campaign:
    """Launch a scheduled campaign at once instead of at its time."""
    campaign = _get(db, campaign_id)
    if campaign.status != CampaignStatus.SCHEDULED:
        raise CampaignError(f"this campaign is {campaign.status}; only a scheduled campaign "
                            "can be sent now", "status")
    _check_complete(db, campaign)
    if service.launch_campaign(db, campaign, now=now, actor_user_id=actor_user_id,
                               refuse_all_held=True) < 0:
        raise CampaignError("this campaign was launched meanwhile", "status")
    return campaign


def duplicate(db: Session, campaign_id: int, *, created_by: int | None = None,
              now: datetime | None = None) -> Campaign:
    """A new draft with the campaign's audience, channel, message, objective, tags,
    holdout and A/B variants with their test settings (not its schedule, results or
    winner), named "Copy of …", to resume at the review step."""
    source = _get(db, campaign_id)
    name = f"Copy of {source.name}" if source.name else ""
    settings = ({k: source.ab_test[k] for k in ab_test.DEFAULT_TEST if k in source.ab_test}
                if source.variants and source.ab_test else None)
    copy = create_draft(db, created_by=created_by, now=now, name=name[:200],
                        rules=dict(source.rules or {}), segment_id=source.segment_id,
                        channel=source.channel, message_template=source.message_template,
                        objective=source.objective, tags=list(source.tags or []),
                        email_subject=source.email_subject,
                        email_preheader=source.email_preheader,
                        sender_name=source.sender_name, draft_step=0,
                        holdout_percent=source.holdout_percent or 0,
                        variants=[{"message": v.get("message"), "subject": v.get("subject")}
                                  for v in source.variants or []] or None,
                        ab_test=settings)
    audit.record(db, audit.CAMPAIGN_DUPLICATED, actor_user_id=created_by,
                 target=f"campaign:{copy.id}", details={"from": source.id})
    return copy


def delete_draft(db: Session, campaign_id: int, *, actor_user_id: int | None = None) -> None:
    """Delete a draft (only a draft: anything launched or scheduled keeps its record)."""
    campaign = _get(db, campaign_id)
    deleted = db.execute(CAMPAIGN.delete().where(
        CAMPAIGN.c.id == campaign_id, CAMPAIGN.c.status == CampaignStatus.DRAFT)).rowcount
    if deleted != 1:
        raise CampaignError(f"this campaign is {campaign.status}; only drafts can be deleted",
                            "status")
    db.expunge(campaign)
    audit.record(db, audit.CAMPAIGN_DRAFT_DELETED, actor_user_id=actor_user_id,
                 target=f"campaign:{campaign_id}", details={"name": campaign.name})
