"""The wizard's launch glue: its final inputs mapped onto one core call in one
transaction (`core/campaigns/service.create_campaign`, or for a saved draft
`drafts.update_draft` then `launch_draft` / `send_now`). A refused launch raises the
core's CampaignError (its `field` names the input) and leaves nothing behind.
"""

from __future__ import annotations

from typing import Any

from mini_crm.core.campaigns import drafts, service
from mini_crm.db import session_scope
from mini_crm.state import wizard_drafts


def launch(payload: dict[str, Any]) -> int:
    """Launch (or schedule) from the wizard's inputs: one core call, one transaction.

    Saving the audience as a segment is the core's `save_audience_as` option, so a
    refused campaign leaves no segment behind (the session rolls back)."""
    save_as = payload["segment_name"] if payload["save_segment"] else None
    with session_scope() as db:
        if payload.get("draft_id"):
            return launch_draft(db, payload, save_as)
        ab = payload.get("variants")
        segment_id = payload["segment_id"]
        campaign = service.create_campaign(
            db, name=payload["name"], rules=payload["rules"] if segment_id is None else None,
            segment_id=segment_id, message_template="" if ab else payload["template"],
            variants=ab, ab_settings=payload.get("ab_test"),
            channel=payload["channel"], schedule_at=payload["schedule_at"],
            objective=payload["objective"] or None, created_by=payload["user_id"],
            tags=payload["tags"] or None, email_subject=payload.get("email_subject"),
            email_preheader=payload.get("email_preheader"),
            sender_name=payload.get("sender_name"),
            holdout_percent=payload.get("holdout_percent", 0), save_audience_as=save_as)
        return int(campaign.id)


def launch_draft(db: Any, payload: dict[str, Any], save_as: str | None) -> int:
    """The saved draft gets the wizard's final inputs, then launches or is scheduled; a
    scheduled campaign being edited keeps its (new) time, or is sent now. `save_as`
    names the segment the core saves the audience as (None: not saved)."""
    draft_id, user_id = int(payload["draft_id"]), payload["user_id"]
    segment_id = payload["segment_id"]
    fields = wizard_drafts.fields(
        mode="segment" if segment_id is not None else "rules", rules=payload["rules"],
        segment_id=str(segment_id or ""), name=payload["name"], channel=payload["channel"],
        template=payload["template"], objective=payload["objective"], tags=payload["tags"],
        schedule_at=payload["schedule_at"], step=3,
        **{k: payload.get(k, "") for k in ("email_subject", "email_preheader", "sender_name")})
    fields["holdout_percent"] = payload.get("holdout_percent", 0)
    fields["variants"], fields["ab_test"] = payload.get("variants"), payload.get("ab_test")
    if payload.get("scheduled"):
        if payload["schedule_at"] is None:
            fields.pop("scheduled_at")
            drafts.update_draft(db, draft_id, actor_user_id=user_id,
                                save_audience_as=save_as, **fields)
            drafts.send_now(db, draft_id, actor_user_id=user_id)
        else:
            drafts.update_draft(db, draft_id, actor_user_id=user_id,
                                save_audience_as=save_as, **fields)
        return draft_id
    drafts.update_draft(db, draft_id, actor_user_id=user_id, **fields)
    drafts.launch_draft(db, draft_id, schedule_at=payload["schedule_at"],
                        actor_user_id=user_id, save_audience_as=save_as)
    return draft_id
