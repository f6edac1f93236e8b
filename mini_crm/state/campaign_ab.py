"""The campaign page's "pick the winner" action (core/campaigns/ab_test.pick_winner):
the rest of an A/B test's audience is queued with the chosen variant's message."""

from __future__ import annotations

import reflex as rx

from mini_crm.core.campaigns import ab_test
from mini_crm.core.campaigns.errors import CampaignError, CampaignNotFound
from mini_crm.db import session_scope
from mini_crm.state.base import AppState
from mini_crm.state.campaign_detail import CampaignDetailState


def _pick(campaign_id: int, key: str, user_id: int | None) -> None:
    with session_scope() as db:
        ab_test.pick_winner(db, campaign_id, key, actor_user_id=user_id)


class CampaignAbState(AppState):
    picking: bool = False
    error: str = ""

    @rx.event(background=True)
    async def pick(self, key: str):
        async with self:
            if self.picking:
                return
            if not self.ensure_role("admin", "marketer"):
                self.error = "Your role cannot pick a winner; ask an admin or a marketer."
                return
            self.picking, self.error = True, ""
            detail = await self.get_state(CampaignDetailState)
            campaign_id = detail.campaign_id
            user = self._current_user()
            user_id = user["id"] if user else None
        try:
            await rx.run_in_thread(lambda: _pick(campaign_id, key, user_id))
        except (CampaignError, CampaignNotFound) as exc:
            async with self:
                self.picking = False
                self.error = exc.message[:1].upper() + exc.message[1:] + "." \
                    if isinstance(exc, CampaignError) else str(exc)
            return
        async with self:
            self.picking = False
        yield CampaignDetailState.refresh
