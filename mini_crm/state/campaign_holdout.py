"""The wizard's holdout option: a size suggested by a power calculation on the
audience's own recent orders (core/outcomes/holdout.suggest), the smallest uplift the
chosen size could detect, and the percentage the launch uses."""

from __future__ import annotations

from typing import Any

import reflex as rx

from mini_crm.core.campaigns import figures, split
from mini_crm.core.outcomes import holdout
from mini_crm.db import session_scope
from mini_crm.state.base import AppState
from mini_crm.state.wizard_variants import VariantsState

CHOICES = ["0", *[str(p) for p in holdout.CANDIDATE_PERCENTS]]


def _advice(rules: dict[str, Any], channel: str, eligible: int) -> dict[str, Any]:
    with session_scope() as db:
        a = holdout.suggest(db, rules, channel, eligible=eligible if eligible >= 0 else None)
    return {"suggested": str(a.suggested_percent or 0), "reason": a.reason,
            "reason_stats": a.stats,
            "mde": {str(o["percent"]): figures.detectable_text(o) for o in a.options},
            "mde_stats": {str(o["percent"]): figures.detectable_stats(o) for o in a.options}}


class HoldoutState(AppState):
    percent: str = "0"
    suggested: str = "0"
    reason: str = ""  # the suggestion in plain words (holdout.HoldoutAdvice.reason)
    reason_stats: str = ""  # its figures, a quieter line after it
    mde: dict[str, str] = {}
    mde_stats: dict[str, str] = {}
    loading: bool = False
    # Customers left after consent, suppressions and the frequency cap (-1: not counted
    # yet): the launch draws the holdout from these, not from everyone matching.
    eligible: int = -1

    @rx.var
    def receive_text(self) -> str:
        """"234" with no holdout, "about 187" with one; "" until the audience is counted."""
        return figures.receive_text(self.eligible, int(self.percent))

    @rx.var
    def mde_text(self) -> str:
        if self.percent == "0":
            return "No holdout: every eligible customer gets the message, and uplift cannot " \
                   "be measured."
        held = figures.held_text(self.eligible, int(self.percent))
        found = self.mde.get(self.percent, "")
        return (found + held).strip()

    @rx.var
    def nobody_text(self) -> str:
        """The warning when the holdout keeps back everyone eligible (50 % of 1): the
        launch would be refused; "" otherwise."""
        return split.holdout_leaves_nobody(self.eligible, int(self.percent)) or ""

    @rx.var
    def mde_stats_text(self) -> str:
        """The figures behind mde_text, a quieter second line ("" with no holdout)."""
        return "" if self.percent == "0" else self.mde_stats.get(self.percent, "")

    def reset_advice(self) -> None:
        self.percent, self.suggested, self.reason, self.mde = "0", "0", "", {}
        self.reason_stats = ""
        self.mde_stats = {}
        self.eligible = -1

    def _tell_variants(self) -> Any:
        """The A/B section's test-size warning depends on the holdout too."""
        return VariantsState.note_audience(self.eligible, int(self.percent))

    def set_percent(self, value: str | list[str]):
        value = value[0] if isinstance(value, list) else value
        self.percent = value if value in CHOICES else "0"
        return self._tell_variants()

    def use_suggestion(self):
        self.percent = self.suggested
        return self._tell_variants()

    @rx.event(background=True)
    async def load(self, rules: dict[str, Any], channel: str, eligible: int = -1):
        async with self:
            if not self.ensure_signed_in():
                return
            self.loading, self.eligible = True, int(eligible)
            tell = self._tell_variants()
        yield tell
        try:
            advice = await rx.run_in_thread(lambda: _advice(rules, channel, int(eligible)))
        except Exception as exc:  # the option still works without the advice
            async with self:
                self.reason, self.reason_stats = f"No size suggestion: {exc}", ""
                self.loading = False
            return
        async with self:
            self.suggested, self.reason, self.mde = (advice["suggested"], advice["reason"],
                                                     advice["mde"])
            self.mde_stats, self.reason_stats = advice["mde_stats"], advice["reason_stats"]
            self.loading = False
