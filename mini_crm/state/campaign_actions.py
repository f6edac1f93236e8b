"""The campaign page's actions besides cancel: duplicate any campaign; edit, reschedule
or send now a scheduled one. A substate of the campaign page's state (it reads
`campaign_id`); each action is one core use case (core/campaigns/drafts)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from mini_crm.core.campaigns import drafts
from mini_crm.core.campaigns.errors import CampaignError, CampaignNotFound
from mini_crm.db import session_scope
from mini_crm.state.campaign_detail import CampaignDetailState
from mini_crm.state.wizard_reads import parse_local as _parse_local

NOT_ALLOWED = "Only admins and marketers can change campaigns."


def _run(use_case: Any) -> tuple[int, str]:
    """(campaign id, "") or (0, the reason in the marketer's words)."""
    try:
        with session_scope() as db:
            return int(use_case(db).id), ""
    except (CampaignError, CampaignNotFound) as exc:
        message = getattr(exc, "message", None) or str(exc)
        return 0, message[:1].upper() + message[1:] + "."


class CampaignActionsState(CampaignDetailState):
    reschedule_local: str = ""
    action_error: str = ""

    def _user_id(self) -> int | None:
        user = self._current_user()
        return user["id"] if user else None

    @rx.event
    def start_reschedule(self):
        self.reschedule_local = str(self.c.get("scheduled_input") or "")
        self.action_error = ""

    @rx.event
    def set_reschedule_local(self, value: str):
        self.reschedule_local, self.action_error = value, ""

    @rx.event
    def duplicate(self):
        if not self.ensure_role("admin", "marketer"):
            self.action_error = NOT_ALLOWED
            return
        source, user_id = self.campaign_id, self._user_id()
        copy, error = _run(lambda db: drafts.duplicate(db, source, created_by=user_id))
        self.action_error = error
        if copy:
            return rx.redirect(f"/campaigns/new?draft={copy}")

    @rx.event
    def send_now(self):
        if not self.ensure_role("admin", "marketer"):
            self.action_error = NOT_ALLOWED
            return
        campaign_id, user_id = self.campaign_id, self._user_id()
        done, error = _run(lambda db: drafts.send_now(db, campaign_id, actor_user_id=user_id))
        self.action_error = error
        if done:
            self.notice = "Sending now."
        return CampaignDetailState.refresh

    @rx.event
    def reschedule(self):
        if not self.ensure_role("admin", "marketer"):
            self.action_error = NOT_ALLOWED
            return
        when = _parse_local(self.reschedule_local)
        if when is None:
            self.action_error = "Pick a date and time."
            return
        campaign_id, user_id = self.campaign_id, self._user_id()
        done, error = _run(lambda db: drafts.reschedule(db, campaign_id, when,
                                                        actor_user_id=user_id))
        self.action_error = error
        if done:
            self.notice = "Rescheduled."
        return CampaignDetailState.refresh
