"""The wizard's draft (a state mixin of CampaignWizardState): saved server-side after a
short pause from the first edit (`wizard_drafts`), so a refresh, Back or another tab
resumes it; a scheduled campaign being edited changes only on "Save changes". `_touch`
marks an edit and schedules the autosave."""

from __future__ import annotations

from typing import Any

import reflex as rx

from mini_crm.core.segments import editing
from mini_crm.state import wizard_drafts
from mini_crm.state import wizard_reads as reads
from mini_crm.state.base import own_handler
from mini_crm.state.debounce import settled
from mini_crm.state.segments import SegmentEditorState
from mini_crm.state.wizard_reads import STEPS
from mini_crm.state.wizard_variants import VariantsState


class WizardDraft(rx.State, mixin=True):
    """The wizard's draft (see the module docstring)."""

    # Draft: the campaign is saved server-side from the first edit (wizard_drafts), so a
    # refresh, Back or another tab resumes it; `dirty` = edits not saved yet.
    draft_id: int = 0
    draft_status: str = ""  # "" (not saved yet), "draft" or "scheduled" (being edited)
    dirty: bool = False
    draft_note: str = ""

    def _resume(self, draft: dict[str, Any], editor: SegmentEditorState) -> None:
        """Put a saved draft (or a scheduled campaign being edited) back in the wizard."""
        self.draft_id, self.draft_status = draft["id"], draft["status"]
        self.form_rev += 1
        self.name, self.channel, self.template = draft["name"], draft["channel"], \
            draft["template"]
        self.objective, self.tags = draft["objective"], draft["tags"]
        self.email_subject = draft.get("email_subject") or ""
        self.email_preheader = draft.get("email_preheader") or ""
        self.sender_name = draft.get("sender_name") or ""
        if draft["segment_id"] is not None:
            self.audience_mode, self.segment_id = "segment", str(draft["segment_id"])
        elif draft["rules"]:
            self.audience_mode = "rules"
            editor.tree = editing.from_rules(draft["rules"])
        if draft["scheduled_at"] is not None:
            self.schedule_mode = "later"
            self.schedule_local = reads.to_local_input(draft["scheduled_at"])
        self.reached = min(draft["step"], len(STEPS) - 1)
        self.draft_note = ("Editing a scheduled campaign: changes apply when you save them."
                           if draft["scheduled"] else "Draft restored.")

    def _touch(self) -> rx.event.EventSpec:
        """An edit: not saved yet; a draft saves itself after a short pause."""
        self.dirty = True
        self.launch_error = ""  # the notice was about what is being fixed now
        self._autosave_generation += 1
        return own_handler(self, "autosave")

    @rx.event
    def note_edit(self):
        """The rule builder (SegmentEditorState) changed the audience."""
        return self._touch()

    @rx.event(background=True)
    async def autosave(self):
        """Save the draft once edits pause for `wizard_drafts.AUTOSAVE_SECONDS`."""
        generation = await settled(self, "_autosave_generation", wizard_drafts.AUTOSAVE_SECONDS)
        if generation is None:
            return  # a later edit saves after its own pause
        script = await self._save_draft(generation)
        if script is not None:
            yield script

    async def _save_draft(self, generation: int | None) -> rx.event.EventSpec | None:
        """Save the draft unless an edit came after `generation` (None: save regardless);
        returns the script that puts the new draft's id in the URL, when one was made."""
        async with self:
            # A scheduled campaign changes only on "Save changes" (checked in full).
            stale = generation is not None and generation != self._autosave_generation
            if (stale or self.launching
                    or self.draft_status == "scheduled" or not self.dirty
                    or not self.ensure_role("admin", "marketer")):
                return None
            generation = self._autosave_generation
            editor = await self.get_state(SegmentEditorState)
            fields = self._draft_fields(editor.tree)
            fields.update((await self.get_state(VariantsState)).draft_fields(self.template,
                                                                             self.channel))
            draft_id, user = self.draft_id, self._current_user()
            untouched = wizard_drafts.untouched(fields)
            if untouched and not draft_id:
                # Nothing chosen or typed yet: no draft (nothing to lose by leaving).
                self.dirty = False
                return None
        if untouched:
            return await self._drop_untouched(draft_id, user, generation)
        try:
            saved = await rx.run_in_thread(
                lambda: wizard_drafts.save(draft_id, fields, user["id"] if user else None))
        except Exception as exc:  # a value no draft can hold: said, and kept on screen
            async with self:
                self.draft_note = f"Not saved: {getattr(exc, 'message', None) or exc}"
            return None
        async with self:
            created = not self.draft_id
            self.draft_id, self.draft_status = saved, "draft"
            if generation == self._autosave_generation:
                self.dirty = False
            self.draft_note = "Draft saved."
        if not created:
            return None
        # A refresh or Back comes back to this draft; only while the tab is still on the
        # new campaign's address (a late answer must not rename a page moved on to).
        return rx.call_script(
            "(() => {if (window.location.pathname.replace(/\\/$/, '') !== '/campaigns/new'"
            " || new URLSearchParams(window.location.search).get('draft')) return;"
            "const s = new URLSearchParams(window.location.search).get('step');"
            f"window.history.replaceState(window.history.state, '', '/campaigns/new?draft={saved}'"
            " + '&step=' + (s || '0'));})()")

    async def _drop_untouched(self, draft_id: int, user: dict[str, Any] | None,
                              generation: int) -> rx.event.EventSpec | None:
        """Everything chosen or typed was cleared again: the draft is deleted rather
        than left in the history as an "Untitled draft", and the address loses it."""
        await rx.run_in_thread(lambda: wizard_drafts.delete_if_draft(
            draft_id, user["id"] if user else None))
        async with self:
            if self.draft_id != draft_id:
                return None
            self.draft_id, self.draft_status, self.draft_note = 0, "", ""
            if generation == self._autosave_generation:
                self.dirty = False
        # Only while the tab is still on this draft's address (a late answer must not
        # rename a page moved on to).
        return rx.call_script(
            "(() => {if (window.location.pathname.replace(/\\/$/, '') !== '/campaigns/new'"
            f" || new URLSearchParams(window.location.search).get('draft') !== '{draft_id}')"
            " return;"
            "window.history.replaceState(window.history.state, '', '/campaigns/new');})()")

    def _draft_fields(self, tree: dict[str, Any]) -> dict[str, Any]:
        return wizard_drafts.fields(
            mode=self.audience_mode, rules=editing.to_rules(tree), segment_id=self.segment_id,
            name=self.name.strip(), channel=self.channel, template=self.template,
            objective=self.objective.strip(), tags=list(self.tags),
            schedule_at=(reads.parse_local(self.schedule_local)
                         if self.schedule_mode == "later" else None),
            step=self.step, **self._email_fields())

    @rx.event(background=True)
    async def discard_draft(self):
        """Delete this draft and start again (a scheduled campaign is cancelled on its
        own page instead)."""
        async with self:
            if not self.ensure_role("admin", "marketer") or self.draft_status != "draft":
                return
            draft_id, user = self.draft_id, self._current_user()
        await rx.run_in_thread(lambda: wizard_drafts.delete(draft_id,
                                                            user["id"] if user else None))
        async with self:
            self.dirty = False
        yield rx.redirect("/campaigns")
