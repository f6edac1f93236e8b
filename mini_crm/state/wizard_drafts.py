"""The campaign wizard's drafts: what the wizard holds, saved as a draft campaign and
read back, through core/campaigns/drafts (the same use cases as the HTTP API)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mini_crm.core.campaigns import drafts
from mini_crm.core.campaigns.errors import CampaignError
from mini_crm.db import session_scope
from mini_crm.models import CampaignStatus

AUTOSAVE_SECONDS = 1.0  # after the last edit in a burst


def save(draft_id: int, fields: dict[str, Any], user_id: int | None) -> int:
    """Create the draft (draft_id 0) or update it; answers its id. Raises CampaignError.

    A saved segment deleted while the wizard was open would make every save fail, and the
    name and message typed since would be lost: the draft is saved without the segment
    (its rules were copied onto drafts that named it), and the audience step says so."""
    try:
        return _save(draft_id, fields, user_id)
    except CampaignError as exc:
        if exc.field != "segment_id" or fields.get("segment_id") is None:
            raise
        # Empty rules are left out so the ones delete_segment copied stay on the draft.
        kept = {k: v for k, v in fields.items() if k != "rules" or v}
        return _save(draft_id, {**kept, "segment_id": None}, user_id)


def _save(draft_id: int, fields: dict[str, Any], user_id: int | None) -> int:
    with session_scope() as db:
        if draft_id:
            return int(drafts.update_draft(db, draft_id, actor_user_id=user_id, **fields).id)
        return int(drafts.create_draft(db, created_by=user_id, **fields).id)


def delete(draft_id: int, user_id: int | None) -> None:
    with session_scope() as db:
        drafts.delete_draft(db, draft_id, actor_user_id=user_id)


def delete_if_draft(draft_id: int, user_id: int | None) -> None:
    """Delete the draft if it still is one (launched, scheduled or already deleted
    elsewhere: nothing to do)."""
    with session_scope() as db:
        campaign = drafts.get_editable(db, draft_id)
        if campaign is not None and campaign.status == CampaignStatus.DRAFT:
            drafts.delete_draft(db, draft_id, actor_user_id=user_id)


def untouched(fields: dict[str, Any]) -> bool:
    """Nothing chosen or typed yet (drafts.is_untouched): no draft is kept."""
    return drafts.is_untouched(fields)


def load(draft_id: int) -> dict[str, Any] | None:
    """A draft or scheduled campaign as the wizard resumes it; None for any other."""
    with session_scope() as db:
        c = drafts.get_editable(db, draft_id)
        if c is None:
            return None
        return {"id": int(c.id), "status": c.status, "name": c.name, "rules": dict(c.rules or {}),
                "segment_id": c.segment_id, "channel": c.channel,
                "template": c.message_template or "", "objective": c.objective or "",
                "tags": list(c.tags or []), "scheduled_at": c.scheduled_at,
                "step": int(c.draft_step or 0), "email_subject": c.email_subject or "",
                "email_preheader": c.email_preheader or "",
                "sender_name": c.sender_name or "",
                "variants": [dict(v) for v in c.variants or []],
                "ab_test": dict(c.ab_test) if c.ab_test else None,
                "scheduled": c.status == CampaignStatus.SCHEDULED}


def fields(*, mode: str, rules: dict[str, Any], segment_id: str, name: str, channel: str,
           template: str, objective: str, tags: list[str], schedule_at: datetime | None,
           step: int, email_subject: str = "", email_preheader: str = "",
           sender_name: str = "") -> dict[str, Any]:
    """The wizard's inputs as draft fields: a saved segment by id (its rules are copied
    at launch), or the rules built in the wizard."""
    by_segment = mode == "segment" and segment_id.isdigit()
    return {"name": name, "rules": {} if by_segment else rules,
            "segment_id": int(segment_id) if by_segment else None, "channel": channel,
            "message_template": template, "objective": objective, "tags": tags,
            "scheduled_at": schedule_at, "draft_step": step, "email_subject": email_subject,
            "email_preheader": email_preheader, "sender_name": sender_name}
