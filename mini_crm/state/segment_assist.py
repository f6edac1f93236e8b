"""The rule builder's AI assist (a state mixin of SegmentEditorState): plain English and
lookalikes fill the builder for the marketer to review; nothing is saved. A proposal that
left words of the prompt unused, or came with warnings ("… cannot both hold: this matches
no one", "did you mean Mumbai?"), waits for "Apply anyway"."""

from __future__ import annotations

import json
from typing import Any

import reflex as rx

from mini_crm.core.segments import editing
from mini_crm.state.base import helper, own_handler
from mini_crm.state.segment_answers import ai_rules, lookalike_rules


class SegmentAssist(rx.State, mixin=True):
    """The AI assist's fields and handlers (see the module docstring). The builder's own
    fields (`tree`, `name`, `segment_id`, ...) belong to the state using it."""

    # Plain-English prompt: fills the builder for review, never saves.
    ai_prompt: str = ""
    ai_busy: bool = False
    ai_explanation: list[str] = []
    ai_engine: str = ""
    ai_note: str = ""
    ai_error: str = ""
    # What filled the builder: "description" or "lookalike"; "lookalike_none" when the
    # lookalike found no one and left the rules alone.
    ai_source: str = ""
    # Words of the prompt no rule used: the proposal waits for "Apply anyway" (issue 14).
    ai_unused: list[str] = []
    # Sentences to check ("Check: …"): the proposal waits for "Apply anyway" too.
    ai_warnings: list[str] = []
    _ai_pending: dict[str, Any] = {}
    # Bumped whenever the builder starts afresh (another segment, a new one): an answer
    # asked for before that (seconds for a lookalike) is dropped, not poured into the
    # audience the marketer moved on to.
    _ask_generation: int = 0

    @helper
    def reset_assist(self) -> None:
        """Empty the assist, as a fresh builder shows it: no prompt, proposal or note,
        and no proposal held back for "Apply anyway" (part of `reset_editor`)."""
        self.ai_prompt = self.ai_engine = self.ai_note = self.ai_error = self.ai_source = ""
        self.ai_explanation, self.ai_unused, self._ai_pending = [], [], {}
        self.ai_warnings, self.ai_busy = [], False
        self._ask_generation += 1

    @rx.event(background=True)
    async def describe_audience(self, form: dict[str, Any] | None = None) -> None:
        """Plain English → rules in the builder (the marketer reviews; nothing is saved)."""
        async with self:
            if not self.ensure_signed_in():
                return
            prompt = str((form or {}).get("prompt", self.ai_prompt) or "").strip()
            self.ai_prompt = prompt
            if not prompt:
                self.ai_error = "Describe the audience first, e.g. “spent over ₹5K in Pune”."
                return
            self.ai_busy, self.ai_error = True, ""
            asked = self._ask_generation
        answer = await rx.run_in_thread(lambda: ai_rules(prompt))
        async with self:
            filled = asked == self._ask_generation and self._apply_ai(answer, "description")
        if filled:
            yield own_handler(self, "refresh_preview")

    @rx.event(background=True)
    async def find_lookalikes(self) -> None:
        """Customers like the current audience (a model of what sets it apart), for review."""
        async with self:
            if not self.ensure_signed_in():
                return
            rules = editing.to_rules(self.tree)
            self.ai_busy, self.ai_error = True, ""
            asked_on = str(self.router.page.raw_path or "").split("?")[0].rstrip("/")
            asked = self._ask_generation
        answer = await rx.run_in_thread(lambda: lookalike_rules(rules))
        async with self:
            was_saved = bool(self.segment_id)
            filled = asked == self._ask_generation and self._apply_ai(answer, "lookalike")
        if filled:
            yield own_handler(self, "refresh_preview")
            if was_saved and str(self.router.page.path or "").startswith("/segments"):
                # The router's own history state (key, index) stays with the entry. Only
                # while the tab is still on this segment: a lookalike takes seconds, and a
                # late script must not rename the page the marketer moved on to.
                yield rx.call_script(
                    "if (window.location.pathname.replace(/\\/$/, '') === "
                    f"{json.dumps(asked_on)}) window.history.replaceState("
                    "window.history.state, '', '/segments/new')")

    @rx.event(background=True)
    async def find_buyer_lookalikes(self, campaign_id: int) -> None:
        """Customers like those a campaign converted ("customers like those who bought"),
        into the builder for review; the explanation names the seed."""
        async with self:
            if not self.ensure_signed_in():
                return
            self.ai_busy, self.ai_error = True, ""
            asked = self._ask_generation
        answer = await rx.run_in_thread(lambda: lookalike_rules(campaign_id=campaign_id))
        async with self:
            filled = asked == self._ask_generation and self._apply_ai(answer, "lookalike")
            if filled and not self.name:
                self.name = answer.get("name", "")[:200]
        if filled:
            yield own_handler(self, "refresh_preview")

    @rx.event
    def apply_anyway(self):
        """The marketer read what was ignored and wants the proposal as it is."""
        if not self.ensure_signed_in() or not self._ai_pending:
            return None
        answer, self._ai_pending = {**self._ai_pending, "unused": [], "warnings": []}, {}
        if self._apply_ai(answer, "description"):
            return own_handler(self, "refresh_preview")
        return None

    @rx.event
    def discard_proposal(self):
        """Keep the builder as it was; the marketer rewords the description."""
        self._ai_pending, self.ai_unused, self.ai_explanation = {}, [], []
        self.ai_warnings, self.ai_source = [], ""

    def _apply_ai(self, answer: dict[str, Any], source: str) -> bool:
        """Put an AI proposal into the builder; True when the rules changed.

        A proposal that left words of the prompt unused, or came with warnings, is held
        back (`ai_unused` / `ai_warnings` shown with "Apply anyway"): an ignored "gold
        tier" or "churned" changes the audience, and rules that match no one together
        would fill in an audience of 0.
        """
        self.ai_busy = False
        self.ai_engine, self.ai_note = answer["engine"], answer["note"]
        self.ai_unused, self.ai_warnings, self._ai_pending = [], [], {}
        if answer["error"]:
            self.ai_error, self.ai_explanation = answer["error"], []
            return False
        self.ai_explanation = answer["explanation"]
        if answer.get("unused") or answer.get("warnings"):
            self.ai_unused, self._ai_pending = list(answer.get("unused") or []), dict(answer)
            self.ai_warnings = list(answer.get("warnings") or [])
            self.ai_source = f"{source}_unconfirmed"
            return False
        if not answer.get("found", True):
            # Nothing to propose: the explanation says why; the builder stays as it was.
            self.ai_source = f"{source}_none"
            return False
        self.ai_source = source
        self.tree = editing.from_rules(answer["rules"])
        self.dirty = True  # the boxes show the new rules (text_field.typed_box)
        self.saved_message = ""
        if source == "lookalike" and self.segment_id:
            # A new audience, not an edit of the one it was modelled on: saving it must
            # not overwrite that segment.
            self.name = f"Lookalike of {self.name}"[:200] if self.name else "Lookalike"
            self.segment_id = 0
        self.error = self.error_path = ""
        self._generation += 1
        return True
