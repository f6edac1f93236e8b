"""The campaign wizard: audience → message → schedule → review, then launch.

"New rules" audiences reuse the segment editor's state (SegmentEditorState) and
its rule builder component: the wizard resets that state when it opens and reads
its tree at launch, so the builder, its validation and its debounced live size
behave exactly as on the Segments page.

One state, `CampaignWizardState`, assembled from a mixin per part (Reflex copies a
mixin's fields and handlers onto the state, so they all live on this one instance and
the pages bind to `CampaignWizardState` alone): `wizard_message` (the message step and
its AI assist), `wizard_schedule` (the schedule step and send-time advice),
`wizard_autosave` (the server-side draft). This module holds the steps' navigation and
validation, the audience step and the review and launch. What the wizard reads (segment
choices, reach, samples, advice) is in `wizard_reads`; the launch's one core call in
`wizard_launch`.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from mini_crm.core import formatting, segments
from mini_crm.core.segments import editing
from mini_crm.settings import get_settings
from mini_crm.state import segment_answers, wizard_drafts, wizard_launch, wizard_variants
from mini_crm.state import segments as segment_editor
from mini_crm.state import wizard_reads as reads
from mini_crm.state.base import AppState
from mini_crm.state.campaign_holdout import HoldoutState
from mini_crm.state.segments import SegmentEditorState
from mini_crm.state.wizard_autosave import WizardDraft
from mini_crm.state.wizard_message import WizardMessage
from mini_crm.state.wizard_reads import STEPS
from mini_crm.state.wizard_schedule import WizardSchedule
from mini_crm.state.wizard_variants import VariantsState

# CampaignError.field -> the wizard step that holds that input.
FIELD_STEP = {"rules": 0, "segment_id": 0, "audience": 0, "segment": 0,
              "save_audience_as": 0, "name": 1,
              "message": 1, "message_template": 1, "template": 1, "channel": 1, "tags": 1,
              "objective": 1, "schedule_at": 2, "variants": 1, "ab_test": 1}


class CampaignWizardState(WizardMessage, WizardSchedule, WizardDraft, AppState):
    step: int = 0
    reached: int = 0
    # Audience
    audience_mode: str = "segment"  # "segment" | "rules"
    segments: list[dict[str, str]] = []
    segments_loading: bool = False
    segment_id: str = ""
    save_segment: bool = False
    segment_name: str = ""
    audience_error: str = ""
    # Review and launch
    reach_loading: bool = False
    audience_size: int = -1
    eligible_size: int = -1
    reach_summary: str = ""  # "1,480 match · 1,402 will receive · skipped: …"
    skipped_summary: str = ""  # "31 unsubscribed, 22 no phone …"
    # "1,200 of these people got a message from “Diwali sale” in the last 24 h; …"
    recent_warning: str = ""
    launching: bool = False
    launch_error: str = ""
    timezone: str = ""
    # The text boxes own what is typed (components/text_field.py); a handler that
    # replaces typed text server-side bumps this so the boxes show the server's copy.
    form_rev: int = 0
    _rules: dict[str, Any] = {}
    _generation: int = 0
    _autosave_generation: int = 0

    # ---- derived -------------------------------------------------------------------
    @rx.var
    def can_launch(self) -> bool:
        return self.user_role in ("admin", "marketer")

    @rx.var
    def selected_segment(self) -> dict[str, str]:
        for s in self.segments:
            if s["id"] == self.segment_id:
                return s
        return {}

    @rx.var
    def audience_text(self) -> str:
        return "—" if self.audience_size < 0 else formatting.count(self.audience_size)

    @rx.var
    def eligible_text(self) -> str:
        return "" if self.eligible_size < 0 else formatting.count(self.eligible_size)

    @rx.var
    def launch_label(self) -> str:
        if self.draft_status == "scheduled":
            return "Save changes" if self.schedule_mode == "later" else "Send now"
        return "Schedule campaign" if self.schedule_mode == "later" else "Launch campaign"

    # ---- opening -------------------------------------------------------------------
    @rx.event(background=True)
    async def open(self):
        async with self:
            if not self.ensure_signed_in():
                return
            preselect = str(self.router.url.query_parameters.get("segment", "") or "")
            resume = str(self.router.url.query_parameters.get("draft", "") or "")
            url_step = str(self.router.url.query_parameters.get("step", "") or "")
            if resume and resume == str(self.draft_id):
                # This draft is open in this tab already: Back/Forward between its steps
                # (the URL's ?step changed, which reruns on_load) or a refresh. Keep what
                # is here (newer than the saved copy while an edit is unsaved; a launch
                # checks the stored draft anyway) and go to the URL's step (none, as in
                # the history's link: stay); a reload from the database could not go
                # forward again.
                step = int(url_step) if url_step.isdigit() else self.step
                keep = True
            else:
                keep = False
        if keep:
            yield CampaignWizardState.follow_url(step)
            return
        async with self:
            self._reset()
            (await self.get_state(HoldoutState)).reset_advice()
            (await self.get_state(VariantsState)).reset_variants()
            self.segments_loading = True
            self.timezone = get_settings().brand_timezone
            self.tokens = reads.tokens()
            (await self.get_state(SegmentEditorState)).reset_editor()
        choices = await rx.run_in_thread(reads.segment_choices)
        context = await rx.run_in_thread(segment_answers.builder_context)
        draft = (await rx.run_in_thread(lambda: wizard_drafts.load(int(resume)))
                 if resume.isdigit() else None)
        async with self:
            self.segments, self.segments_loading = choices, False
            if preselect and any(s["id"] == preselect for s in choices):
                self.segment_id = preselect
            elif not choices:
                self.audience_mode = "rules"
            editor = await self.get_state(SegmentEditorState)
            editor.use_context(context)
            if resume and draft is None:
                self.draft_note = ("That draft is no longer editable (it was launched or "
                                   "deleted); this is a new campaign.")
            if draft is not None:
                self._resume(draft, editor)
                (await self.get_state(VariantsState)).restore(draft.get("variants"),
                                                              draft.get("ab_test"))
        yield SegmentEditorState.refresh_preview
        if draft is not None and draft["step"] > 0:
            # A refresh stays on the step in the URL (?step=N), if the draft got that far.
            step = min(draft["step"], len(STEPS) - 1)
            if url_step.isdigit() and int(url_step) <= step:
                step = int(url_step)
            if step > 0:
                yield CampaignWizardState.follow_url(step)
            if str(step) != url_step:
                # The history's link (no step) or a step not reached: the address says
                # where the draft really is, in place, so Back leaves the wizard.
                yield rx.call_script(f"window.__mcWizardStepUrl?.({int(step)}, true);")
        # The offline tag classifier trains on first use (seconds on a busy machine):
        # do it now, while the marketer picks an audience, not when they click Suggest.
        await rx.run_in_thread(reads.warm_ai)

    def _reset(self) -> None:
        for name, value in {
            "step": 0, "reached": 0, "audience_mode": "segment", "segment_id": "",
            "save_segment": False, "segment_name": "", "audience_error": "", "name": "",
            "channel": "sms", "template": "", "objective": "", "email_subject": "",
            "email_preheader": "", "sender_name": "", "email_error": "", "tags": [],
            "test_to": "", "preview_ref": "", "test_ok": "", "test_error": "",
            "preview_as": {}, "sending_test": False,
            "tag_input": "", "tag_error": "",
            "name_error": "", "template_error": "", "samples": [], "tone": "friendly",
            "suggestions": [], "suggest_engine": "", "suggest_note": "", "suggest_error": "",
            "suggested_tags": [], "tags_engine": "", "schedule_mode": "now",
            "schedule_local": "", "schedule_error": "", "windows": [], "heat": [],
            "windows_engine": "", "windows_note": "", "windows_error": "",
            "audience_size": -1, "eligible_size": -1, "reach_summary": "",
            "skipped_summary": "", "recent_warning": "", "launch_error": "", "launching": False,
            "draft_id": 0, "draft_status": "", "dirty": False, "draft_note": "",
        }.items():
            setattr(self, name, value)
        self._rules = {}
        self.form_rev += 1

    # ---- navigation ----------------------------------------------------------------
    @rx.event(background=True)
    async def next_step(self):
        async with self:
            if not self.ensure_signed_in() or self.launching:
                return
            step = self.step
        ok = await self._validate(step)
        if not ok:
            return
        async with self:
            self.step = min(step + 1, len(STEPS) - 1)
            self.reached = max(self.reached, self.step)
            new_step = self.step
            save = self._touch()
        yield _focus_title(new_step)
        yield save
        if new_step == 1:
            yield CampaignWizardState.refresh_samples
        elif new_step == 2:
            async with self:
                want = not self.windows
            if want:
                yield CampaignWizardState.load_send_times
        elif new_step == 3:
            yield CampaignWizardState.load_reach
            # The review's live preview and its subject line are the samples': loaded
            # only on the message step, they were missing after a reload or an audience
            # edit (the review showed an empty preview and a made-up "Test" customer).
            yield CampaignWizardState.refresh_samples

    @rx.event
    def prev_step(self):
        if self.step > 0:
            self.step -= 1
            return [_focus_title(self.step), self._touch()]

    @rx.event(background=True)
    async def go_to(self, index: int):
        """Jump to a step already reached; the steps before it are checked again (the
        audience may have been edited since), stopping at the first that fails. The URL
        follows (a history entry per step)."""
        async for event in self._move_to(index, sync_url=True):
            yield event

    @rx.event(background=True)
    async def follow_url(self, index: int):
        """Move to the step the URL names after Back, Forward or a refresh, leaving the
        URL alone: it already says where the marketer is. Syncing it here raced a second
        Back/Forward (the script for step 1 landed after Forward had moved the URL to
        step 2, pushed step 1 and cut off the Forward history: CI, stop 20)."""
        async for event in self._move_to(index, sync_url=False):
            yield event

    async def _move_to(self, index: int, sync_url: bool):
        async with self:
            if (not self.ensure_signed_in() or self.launching
                    or not 0 <= index <= self.reached or index == self.step):
                return
        for step in range(index):
            if not await self._validate(step):
                async with self:
                    self.step = step
                return
        async with self:
            self.step = index
            want_windows = index == 2 and not self.windows
            save = self._touch() if self.draft_status != "scheduled" else None
        yield _focus_title(index, sync_url=sync_url)
        if save is not None:
            yield save
        if index == 1:
            yield CampaignWizardState.refresh_samples
        elif want_windows:
            yield CampaignWizardState.load_send_times
        elif index == 3:
            yield CampaignWizardState.load_reach
            yield CampaignWizardState.refresh_samples  # the review's preview (next_step)

    async def _validate(self, step: int) -> bool:
        """Check one step; on failure its errors are set and the step stays put."""
        if step == 0:
            return await self._validate_audience()
        if step == 1:
            async with self:
                ok = self._validate_message()
                ab = await self.get_state(VariantsState)
                return ab.check(self.template, self.channel) and ok
        if step == 2:
            async with self:
                return self._validate_schedule()
        return True

    async def _validate_audience(self) -> bool:
        async with self:
            mode, segment_id = self.audience_mode, self.segment_id
            save, seg_name = self.save_segment, self.segment_name.strip()
            editor = await self.get_state(SegmentEditorState)
            tree = editor.tree
        if mode == "segment":
            if not segment_id.isdigit():
                async with self:
                    self.audience_error = "Pick a saved segment, or build new rules."
                return False
            rules = await rx.run_in_thread(lambda: reads.segment_rules(int(segment_id)))
            if rules is None:
                async with self:
                    self.audience_error = "That segment no longer exists; pick another."
                return False
        else:
            rules = editing.to_rules(tree)
            if save and not seg_name:
                async with self:
                    self.audience_error = "Give the new segment a name, or untick “Save”."
                return False
        if mode == "rules" and not rules.get("rules"):
            async with self:  # the blank builder: no audience chosen yet (not "everyone")
                self.audience_error = "Add a condition to choose who gets this campaign."
            return False
        try:
            segments.parse_audience(rules)  # a group without conditions is refused
        except segments.RulesError as exc:
            async with self:
                self.audience_error = f"Fix the audience rules first: {exc.reason}"
                if mode == "rules":
                    editor = await self.get_state(SegmentEditorState)
                    editor.error, editor.error_path = exc.reason, exc.path
            return False
        size = await rx.run_in_thread(lambda: reads.count(rules))
        async with self:
            if size == 0:
                self.audience_error = "No customer matches this audience yet."
                return False
            self._rules, self.audience_size, self.audience_error = rules, size, ""
        return True

    # ---- audience ------------------------------------------------------------------
    @rx.event
    def set_audience_mode(self, mode: str | list[str]):
        self.audience_mode = "rules" if mode == "rules" else "segment"
        self.audience_error = ""
        self._invalidate()
        if self.audience_mode == "rules":
            return [SegmentEditorState.refresh_preview, self._touch()]
        return self._touch()

    @rx.event
    def choose_segment(self, segment_id: str):
        self.segment_id, self.audience_error = segment_id, ""
        self._invalidate()
        return self._touch()

    @rx.event
    def set_save_segment(self, value: bool):
        self.save_segment = bool(value)
        self.audience_error = ""

    @rx.event
    def set_segment_name(self, value: str):
        self.segment_name, self.audience_error = value, ""

    def _invalidate(self) -> None:
        # The audience changed: anything computed from it is stale.
        self.samples, self.windows, self.heat, self.windows_engine = [], [], [], ""
        self.audience_size = self.eligible_size = -1
        self.reach_summary = self.skipped_summary = self.recent_warning = ""

    # ---- review and launch ---------------------------------------------------------
    @rx.event(background=True)
    async def load_reach(self):
        async with self:
            if not self.ensure_signed_in() or not self._rules:
                return
            self.reach_loading = True
            rules, channel = self._rules, self.channel
        try:
            reach = await rx.run_in_thread(lambda: reads.reach(rules, channel))
        except Exception:
            reach = None
        async with self:
            if reach is not None:
                self.audience_size = reach["size"]
                self.eligible_size = int(reach["eligible"])
                self.reach_summary = reach["text"]
                self.skipped_summary = reach["skipped_text"]
                self.recent_warning = reach["recent_text"]
            self.reach_loading = False
        # The holdout size is advised for the same audience and channel; the review's
        # counts are drawn from the eligible customers, as the launch draws them.
        yield HoldoutState.load(rules, channel,
                                reach["eligible"] if reach is not None else -1)

    async def _save_refused(self) -> rx.event.EventSpec | None:
        """After a refused launch: the draft saved at once, before the notice shows (an
        autosave that came due while launching stood down), so nothing typed is lost."""
        async with self:
            self.launching = False
        return await self._save_draft(None)

    @rx.event(background=True)
    async def launch(self):
        async with self:
            if self.launching:
                return
            if not self.ensure_role("admin", "marketer"):
                self.launch_error = ("Your role cannot launch campaigns; ask an admin to make "
                                     "you a marketer.")
                return
            self.launching, self.launch_error = True, ""
        # Every step again: the audience or a schedule may have gone stale meanwhile.
        for step in range(3):
            if not await self._validate(step):
                script = await self._save_refused()
                async with self:
                    self.step = step
                    self.launch_error = "Fix the highlighted step before launching."
                if script is not None:
                    yield script
                return
        async with self:
            user = self._current_user()
            mode = self.audience_mode
            payload = {
                "name": self.name.strip(), "template": self.template,
                "channel": self.channel, "objective": self.objective.strip(),
                "tags": list(self.tags), "rules": self._rules,
                "segment_id": int(self.segment_id) if mode == "segment" else None,
                "save_segment": mode == "rules" and self.save_segment,
                "segment_name": self.segment_name.strip(),
                "schedule_at": (reads.parse_local(self.schedule_local)
                                if self.schedule_mode == "later" else None),
                "user_id": user["id"] if user else None,
                "draft_id": self.draft_id, "scheduled": self.draft_status == "scheduled",
                **self._email_fields(),
                "holdout_percent": int((await self.get_state(HoldoutState)).percent),
                **(await self.get_state(VariantsState)).fields(self.template, self.channel),
            }
        try:
            campaign_id = await rx.run_in_thread(lambda: wizard_launch.launch(payload))
        except Exception as exc:  # shown inline; everything typed stays as it was
            field = getattr(exc, "field", None)
            message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
            script = await self._save_refused()
            async with self:
                self.launch_error = message[:1].upper() + message[1:]
                if field in FIELD_STEP and FIELD_STEP[field] != 3:
                    self.step = FIELD_STEP[field]
                    if self.step == 1:
                        target = "name_error" if field == "name" else "template_error"
                        setattr(self, target, self.launch_error)
                    elif self.step == 2:
                        self.schedule_error = self.launch_error
                    else:
                        self.audience_error = self.launch_error
            if script is not None:
                yield script
            return
        async with self:
            self.launching, self.dirty = False, False
            self._autosave_generation += 1  # a pending autosave must not touch it now
        yield rx.redirect(f"/campaigns/{campaign_id}")


# The builder and the A/B section it embeds answer with the wizard's handlers; they
# cannot import this module (it imports them), so it hands them over here.
segment_editor.notify_edits_under("/campaigns", CampaignWizardState.note_edit)
wizard_variants.answer_to(CampaignWizardState.note_edit, CampaignWizardState.use_suggestion)


def _focus_title(step: int, sync_url: bool = True) -> rx.event.EventSpec:
    # After a step change, focus its heading so keyboard and screen-reader users land
    # at the top of the new step instead of on a button that no longer exists.
    # The page goes back to its top first: Next and Back sit at the bottom of a step, and
    # the new step opened scrolled down by the old one's height, its title and the page
    # header under the sticky top bar (a full-page screenshot at 390x844 showed "New
    # campaign" across the top bar, issue 14); the focus then scrolls no further.
    # The URL follows the step (components/wizard_url.py): Back/Forward move between steps.
    sync = f"window.__mcWizardStepUrl?.({int(step)});" if sync_url else ""
    return rx.call_script(sync + "setTimeout(() => { window.scrollTo(0, 0); "
                          "document.getElementById('wizard-step-title')"
                          "?.focus({preventScroll: true}); }, 50)")
