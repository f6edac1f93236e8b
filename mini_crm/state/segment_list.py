"""The Segments page's list: every saved segment with its sentence and size, and
duplicate / delete for editors (thin: core/segments/service)."""

from __future__ import annotations

import reflex as rx

from mini_crm.core.segments import figures, service
from mini_crm.db import session_scope
from mini_crm.state.base import AppState

# Viewers may read segments; changing them takes one of these roles.
EDITOR_ROLES = ("admin", "marketer")
NOT_ALLOWED = ("Only admins and marketers can save, duplicate or delete segments; "
               "ask an admin to change your role.")


def _segment_rows() -> list[dict[str, str]]:
    with session_scope() as session:
        return [figures.listed(seg) for seg in service.segment_summaries(session)]


class SegmentListState(AppState):
    rows: list[dict[str, str]] = []
    loading: bool = True
    message: str = ""
    error: str = ""

    @rx.event(background=True)
    async def load(self) -> None:
        await self.fetch_into(_segment_rows, lambda rows: setattr(self, "rows", rows))

    @rx.event
    def duplicate(self, segment_id: str):
        if not self.ensure_role(*EDITOR_ROLES):
            self.message, self.error = "", NOT_ALLOWED
            return
        user = self._current_user()
        with session_scope() as session:
            copy = service.duplicate_segment(session, int(segment_id),
                                             created_by=user["id"] if user else None)
            self.message, self.error = f"Duplicated as “{copy.name}”.", ""
        return SegmentListState.load

    @rx.event
    def delete(self, segment_id: str):
        if not self.ensure_role(*EDITOR_ROLES):
            self.message, self.error = "", NOT_ALLOWED
            return
        user = self._current_user()
        with session_scope() as session:
            service.delete_segment(session, int(segment_id),
                                   actor_user_id=user["id"] if user else None)
        self.message, self.error = "Segment deleted.", ""
        return SegmentListState.load
