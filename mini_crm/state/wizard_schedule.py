"""The wizard's schedule step (a state mixin of CampaignWizardState): now or later
(a datetime-local value in the brand's time zone), and the send-time advice (heatmap
and best windows for the audience)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from mini_crm.models import utcnow
from mini_crm.state import wizard_reads as reads
from mini_crm.state.campaign_common import local_text


class WizardSchedule(rx.State, mixin=True):
    """The wizard's schedule step (see the module docstring)."""

    # Schedule
    schedule_mode: str = "now"  # "now" | "later"
    schedule_local: str = ""
    schedule_error: str = ""
    windows: list[dict[str, str]] = []
    heat: list[dict[str, Any]] = []
    windows_loading: bool = False
    windows_engine: str = ""
    windows_note: str = ""
    windows_error: str = ""

    @rx.var
    def schedule_text(self) -> str:
        if self.schedule_mode == "now":
            return "Immediately after launch"
        when = reads.parse_local(self.schedule_local)
        return f"{local_text(when)} ({self.timezone})" if when else "—"

    @rx.var
    def min_local(self) -> str:
        return reads.to_local_input(utcnow())

    def _validate_schedule(self) -> bool:
        self.schedule_error = ""
        if self.schedule_mode == "later":
            when = reads.parse_local(self.schedule_local)
            if when is None:
                self.schedule_error = "Pick a date and time."
            elif when <= utcnow():
                self.schedule_error = "That time has passed; pick a time in the future."
        return not self.schedule_error

    @rx.event
    def set_schedule_mode(self, mode: str | list[str]):
        self.schedule_mode = "later" if mode == "later" else "now"
        self.schedule_error = ""
        return self._touch()

    @rx.event
    def set_schedule_local(self, value: str):
        self.schedule_local, self.schedule_error = value, ""
        return self._touch()

    @rx.event
    def use_window(self, value: str):
        self.schedule_mode, self.schedule_local, self.schedule_error = "later", value, ""
        return self._touch()

    @rx.event(background=True)
    async def load_send_times(self):
        async with self:
            if not self.ensure_signed_in() or not self._rules:
                return
            self.windows_loading, self.windows_error = True, ""
            rules = self._rules
        try:
            result = await rx.run_in_thread(lambda: reads.send_times(rules))
        except Exception as exc:
            async with self:
                self.windows_loading = False
                self.windows_error = f"No send-time advice: {exc}"
            return
        async with self:
            self.windows, self.heat = result["windows"], result["heat"]
            self.windows_engine, self.windows_note = result["engine"], result["note"]
            self.windows_loading = False
