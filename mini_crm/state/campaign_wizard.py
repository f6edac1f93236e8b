"""The campaign wizard: audience → message → schedule → review, then launch.

"New rules" audiences reuse the segment editor's state (SegmentEditorState) and
its rule builder component: the wizard resets that state when it opens and reads
its tree at launch, so the builder, its validation and its debounced live size
behave exactly as on the Segments page.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Any

import reflex as rx

from mini_crm.core import brand_time, formatting, segments
from mini_crm.core.messages import render
from mini_crm.core.messages.email import default_subject, validate_email_fields
from mini_crm.core.segments import editing
from mini_crm.core.segments import service as segment_service
from mini_crm.core.sms import sms_length
from mini_crm.db import session_scope
from mini_crm.models import utcnow
from mini_crm.settings import get_settings
from mini_crm.state import wizard_drafts, wizard_test_send
from mini_crm.state.base import AppState
from mini_crm.state.campaign_common import local_text, reach_text, skipped_text
from mini_crm.state.campaign_holdout import HoldoutState
from mini_crm.state.segments import SegmentEditorState
from mini_crm.state.wizard_variants import VariantsState

STEPS = [("Audience", "users"), ("Message", "message-square-text"),
         ("Schedule", "calendar-clock"), ("Review", "rocket")]
CHANNELS = [("sms", "SMS", "smartphone"), ("email", "Email", "mail"),
            ("whatsapp", "WhatsApp", "message-circle")]
TONES = ["friendly", "urgent", "premium", "playful", "formal"]
PREVIEW_DEBOUNCE_SECONDS = 0.3
SAMPLE_SIZE = 3
LOCAL_INPUT_FORMAT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> speaks
# CampaignError.field -> the wizard step that holds that input.
FIELD_STEP = {"rules": 0, "segment_id": 0, "audience": 0, "segment": 0,
              "save_audience_as": 0, "name": 1,
              "message": 1, "message_template": 1, "template": 1, "channel": 1, "tags": 1,
              "objective": 1, "schedule_at": 2, "variants": 1, "ab_test": 1}


def _tokens() -> list[dict[str, str]]:
    return [{"token": "{" + t + "}", "hint": d} for t, d in render.TOKENS]


def _template_errors(template: str) -> list[str]:
    return render.validate_template(template)


def _segment_choices() -> list[dict[str, str]]:
    with session_scope() as db:
        return [{"id": str(seg.id), "name": seg.name, "sentence": seg.sentence,
                 "size": "—" if seg.size is None else formatting.count(seg.size),
                 "count": str(seg.size or 0), "valid": "" if seg.size is None else "1"}
                for seg in segment_service.segment_summaries(db)]


def _builder_context() -> dict[str, Any]:
    with session_scope() as db:
        return {"cities": segment_service.known_cities(db, limit=100),
                "keys": segment_service.attribute_keys(db)}


def _segment_rules(segment_id: int) -> dict[str, Any] | None:
    with session_scope() as db:
        seg = segment_service.get_segment(db, segment_id)
        return None if seg is None else dict(seg.rules)


def _reach(rules: dict[str, Any], channel: str) -> dict[str, Any]:
    """Matching, recipients and skipped per reason: the launch's own statement, counted
    (service.preview_campaign)."""
    from mini_crm.core.campaigns import service

    with session_scope() as db:
        reach = service.preview_campaign(db, rules=rules, segment_id=None, channel=channel)
    return {"size": reach.matching, "eligible": reach.recipients,
            "skipped": reach.skipped,
            "text": reach_text(reach.matching, reach.recipients, reach.skipped, channel),
            "skipped_text": skipped_text(reach.skipped, channel)}


def _render_samples(rules: dict[str, Any], template: str, channel: str
                    ) -> list[dict[str, str]]:
    """The message as three real recipients would get it (never a customer the launch
    would skip on this channel: opted out, suppressed, no address)."""
    from mini_crm.core.campaigns import service

    with session_scope() as db:
        rows = service.sample_recipients(db, rules=rules, segment_id=None, channel=channel,
                                         n=SAMPLE_SIZE)
    out = []
    for r in rows:
        text = render.render(template, r)
        out.append({"name": r.get("name") or "(no name)", "city": r.get("city") or "—",
                    "external_id": r.get("external_id") or "", "text": text,
                    "chars": str(len(text)), "sms": " · " + sms_length(text).describe()})
    return out


def _parse_local(value: str) -> datetime | None:
    """A datetime-local value in the brand's zone -> naive UTC (how timestamps are stored)."""
    try:
        return brand_time.to_utc(datetime.strptime(value.strip(), LOCAL_INPUT_FORMAT))
    except ValueError:  # unreadable, or outside the supported calendar (TimestampError)
        return None


def _to_local_input(utc_naive: datetime) -> str:
    return formatting.brand_time(utc_naive).strftime(LOCAL_INPUT_FORMAT)


def _insert_script(token: str) -> str:
    """Insert `token` at the caret of the template textarea and tell React about it
    (the native value setter plus an input event is what a controlled field hears)."""
    return (
        "(() => {const el = document.getElementById('campaign-template'); if (!el) return;"
        f"const t = {json.dumps(token)};"
        "const s = el.selectionStart ?? el.value.length, e = el.selectionEnd ?? s;"
        "const v = el.value.slice(0, s) + t + el.value.slice(e);"
        "Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value')"
        ".set.call(el, v);"
        "el.dispatchEvent(new Event('input', {bubbles: true}));"
        "el.focus(); el.setSelectionRange(s + t.length, s + t.length);})()"
    )


def _launch(payload: dict[str, Any]) -> int:
    """Launch (or schedule) from the wizard's inputs: one core call, one transaction.

    Saving the audience as a segment is the core's `save_audience_as` option, so a
    refused campaign leaves no segment behind (the session rolls back)."""
    from mini_crm.core.campaigns import service

    save_as = payload["segment_name"] if payload["save_segment"] else None
    with session_scope() as db:
        if payload.get("draft_id"):
            return _launch_draft(db, payload, save_as)
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


def _launch_draft(db: Any, payload: dict[str, Any], save_as: str | None) -> int:
    """The saved draft gets the wizard's final inputs, then launches or is scheduled; a
    scheduled campaign being edited keeps its (new) time, or is sent now. `save_as`
    names the segment the core saves the audience as (None: not saved)."""
    from mini_crm.core.campaigns import drafts

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


def _suggest_messages(objective: str, tone: str, rules: dict[str, Any] | None,
                      channel: str) -> dict[str, Any]:
    from mini_crm.core.ai import messages

    with session_scope() as db:
        result = messages.suggest_messages(db, objective=objective, tone=tone, rules=rules,
                                           channel=channel, n=3)
    return {"variants": [{"text": v.text, "rationale": v.rationale,
                          "intent": getattr(v, "intent", "") or ""} for v in result.value],
            "engine": result.engine, "note": result.note}


def _suggest_tags(name: str, message: str, objective: str) -> dict[str, Any]:
    from mini_crm.core.ai import tags

    result = tags.suggest_tags(name=name, message=message, objective=objective)
    return {"tags": list(result.value), "engine": result.engine, "note": result.note}


WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def _send_times(rules: dict[str, Any]) -> dict[str, Any]:
    from mini_crm.core.ai import send_time

    with session_scope() as db:
        result = send_time.suggest_send_times(db, rules)
    advice = result.value
    peak = max((max(row) for row in advice.heatmap if row), default=0) or 1
    heat = [{"day": WEEKDAYS[d], "cells": [{"hour": str(h), "level": str(round(4 * v / peak)),
                                            "count": str(v)}
                                           for h, v in enumerate(row)]}
            for d, row in enumerate(advice.heatmap[:7])]
    windows = [{"label": f"{WEEKDAYS[w.weekday % 7]} {w.hour:02d}:00",
                "when": local_text(w.next_at), "value": _to_local_input(w.next_at),
                "reason": w.reason, "score": f"{w.score:.0%} of orders"}
               for w in advice.windows]
    notes = [*getattr(advice, "notes", []), *([result.note] if result.note else [])]
    return {"windows": windows, "heat": heat, "engine": result.engine, "note": " ".join(notes)}


class CampaignWizardState(AppState):
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
    # Message
    name: str = ""
    channel: str = "sms"
    template: str = ""
    # Email only: subject line and preheader (templates), sender name.
    email_subject: str = ""
    email_preheader: str = ""
    sender_name: str = ""
    email_error: str = ""
    # Test send and "preview as a customer" (wizard_test_send)
    test_to: str = ""
    preview_ref: str = ""
    sending_test: bool = False
    test_ok: str = ""
    test_error: str = ""
    preview_as: dict[str, str] = {}
    objective: str = ""
    tags: list[str] = []
    tag_input: str = ""
    tag_error: str = ""
    tokens: list[dict[str, str]] = []
    name_error: str = ""
    template_error: str = ""
    samples: list[dict[str, str]] = []
    samples_loading: bool = False
    # AI assistance (each only when its core module exists)
    tone: str = "friendly"
    suggestions: list[dict[str, str]] = []
    suggesting: bool = False
    suggest_engine: str = ""
    suggest_note: str = ""
    suggest_error: str = ""
    suggested_tags: list[str] = []
    tags_engine: str = ""
    tagging: bool = False
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
    # Review and launch
    reach_loading: bool = False
    audience_size: int = -1
    eligible_size: int = -1
    reach_summary: str = ""  # "1,480 match · 1,402 will receive · skipped: …"
    skipped_summary: str = ""  # "31 unsubscribed, 22 no phone …"
    launching: bool = False
    launch_error: str = ""
    timezone: str = ""
    # Draft: the campaign is saved server-side from the first edit (wizard_drafts), so a
    # refresh, Back or another tab resumes it; `dirty` = edits not saved yet.
    draft_id: int = 0
    draft_status: str = ""  # "" (not saved yet), "draft" or "scheduled" (being edited)
    dirty: bool = False
    draft_note: str = ""
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
    def template_problems(self) -> list[str]:
        return _template_errors(self.template) if self.template.strip() else []

    @rx.var
    def chars(self) -> int:
        return len(self.template)

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
    def subject_review(self) -> dict[str, str]:
        """The email's subject as the review shows it: {"text", "warning"}. An empty
        subject line is allowed (the body's first line is used, email.default_subject),
        so it is a warning naming that line, not an error; "" for SMS/WhatsApp."""
        if self.channel != "email":
            return {"text": "", "warning": ""}
        if self.email_subject.strip():
            return {"text": self.email_subject.strip(), "warning": ""}
        fallback = default_subject(self.template)
        return {"text": fallback or "(no subject)",
                "warning": ("No subject line: each email's subject will be the message's "
                            f"first line, “{fallback}”." if fallback else
                            "No subject line and no message: the email will read "
                            "“(no subject)”.")}

    @rx.var
    def schedule_text(self) -> str:
        if self.schedule_mode == "now":
            return "Immediately after launch"
        when = _parse_local(self.schedule_local)
        return f"{local_text(when)} ({self.timezone})" if when else "—"

    @rx.var
    def launch_label(self) -> str:
        if self.draft_status == "scheduled":
            return "Save changes" if self.schedule_mode == "later" else "Send now"
        return "Schedule campaign" if self.schedule_mode == "later" else "Launch campaign"

    @rx.var
    def min_local(self) -> str:
        return _to_local_input(utcnow())

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
            yield CampaignWizardState.go_to(step)
            return
        async with self:
            self._reset()
            (await self.get_state(HoldoutState)).reset_advice()
            (await self.get_state(VariantsState)).reset_variants()
            self.segments_loading = True
            self.timezone = get_settings().brand_timezone
            self.tokens = _tokens()
            editor = await self.get_state(SegmentEditorState)
            editor.segment_id, editor.name, editor.tree = 0, "", editing.empty_tree()
            editor.saved_message = editor.save_error = editor.error = editor.error_path = ""
            # The builder's plain-English box (when present) starts empty too.
            for name, empty in (("ai_prompt", ""), ("ai_engine", ""), ("ai_note", ""),
                                ("ai_error", ""), ("ai_explanation", [])):
                if hasattr(editor, name):
                    setattr(editor, name, empty)
            editor._generation += 1
        choices = await rx.run_in_thread(_segment_choices)
        context = await rx.run_in_thread(_builder_context)
        draft = (await rx.run_in_thread(lambda: wizard_drafts.load(int(resume)))
                 if resume.isdigit() else None)
        async with self:
            self.segments, self.segments_loading = choices, False
            if preselect and any(s["id"] == preselect for s in choices):
                self.segment_id = preselect
            elif not choices:
                self.audience_mode = "rules"
            editor = await self.get_state(SegmentEditorState)
            editor.cities = context["cities"]
            editor.field_options = editing.field_options(context["keys"])
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
                yield CampaignWizardState.go_to(step)
        # The offline tag classifier trains on first use (seconds on a busy machine):
        # do it now, while the marketer picks an audience, not when they click Suggest.
        await rx.run_in_thread(_warm_ai)

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
            self.schedule_local = _to_local_input(draft["scheduled_at"])
        self.reached = min(draft["step"], len(STEPS) - 1)
        self.draft_note = ("Editing a scheduled campaign: changes apply when you save them."
                           if draft["scheduled"] else "Draft restored.")

    def _touch(self) -> rx.event.EventSpec:
        """An edit: not saved yet; a draft saves itself after a short pause."""
        self.dirty = True
        self.launch_error = ""  # the notice was about what is being fixed now
        self._autosave_generation += 1
        return CampaignWizardState.autosave

    @rx.event
    def note_edit(self):
        """The rule builder (SegmentEditorState) changed the audience."""
        return self._touch()

    @rx.event(background=True)
    async def autosave(self):
        async with self:
            generation = self._autosave_generation
        await asyncio.sleep(wizard_drafts.AUTOSAVE_SECONDS)
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
        # A refresh or Back comes back to this draft.
        return rx.call_script(
            "(() => {const s = new URLSearchParams(window.location.search).get('step');"
            f"window.history.replaceState(window.history.state, '', '/campaigns/new?draft={saved}'"
            " + '&step=' + (s || '0'));})()")

    def _draft_fields(self, tree: dict[str, Any]) -> dict[str, Any]:
        return wizard_drafts.fields(
            mode=self.audience_mode, rules=editing.to_rules(tree), segment_id=self.segment_id,
            name=self.name.strip(), channel=self.channel, template=self.template,
            objective=self.objective.strip(), tags=list(self.tags),
            schedule_at=(_parse_local(self.schedule_local)
                         if self.schedule_mode == "later" else None),
            step=self.step, **self._email_fields())

    def _email_fields(self) -> dict[str, str]:
        email = self.channel == "email"
        return {"email_subject": self.email_subject.strip() if email else "",
                "email_preheader": self.email_preheader.strip() if email else "",
                "sender_name": self.sender_name.strip() if email else ""}

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
            "skipped_summary": "", "launch_error": "", "launching": False,
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

    @rx.event
    def prev_step(self):
        if self.step > 0:
            self.step -= 1
            return [_focus_title(self.step), self._touch()]

    @rx.event(background=True)
    async def go_to(self, index: int):
        """Jump to a step already reached; the steps before it are checked again (the
        audience may have been edited since), stopping at the first that fails."""
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
        yield _focus_title(index)
        if save is not None:
            yield save
        if index == 1:
            yield CampaignWizardState.refresh_samples
        elif want_windows:
            yield CampaignWizardState.load_send_times
        elif index == 3:
            yield CampaignWizardState.load_reach

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
            rules = await rx.run_in_thread(lambda: _segment_rules(int(segment_id)))
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
        try:
            segments.parse_rules(rules)
        except segments.RulesError as exc:
            async with self:
                self.audience_error = f"Fix the audience rules first: {exc.reason}"
                if mode == "rules":
                    editor = await self.get_state(SegmentEditorState)
                    editor.error, editor.error_path = exc.reason, exc.path
            return False
        size = await rx.run_in_thread(lambda: _count(rules))
        async with self:
            if size == 0:
                self.audience_error = "No customer matches this audience yet."
                return False
            self._rules, self.audience_size, self.audience_error = rules, size, ""
        return True

    def _validate_message(self) -> bool:
        self.name_error = self.template_error = ""
        name = self.name.strip()
        if not name:
            self.name_error = "Give the campaign a name."
        elif len(name) > 200:
            self.name_error = "At most 200 characters."
        problems = _template_errors(self.template)
        if problems:
            self.template_error = formatting.sentence("; ".join(problems))
        self.email_error = ""
        fields = self._email_fields()
        email_problems = validate_email_fields(fields["email_subject"],
                                               fields["email_preheader"], fields["sender_name"])
        if email_problems:
            self.email_error = formatting.sentence("; ".join(p for _, p in email_problems))
        return not (self.name_error or self.template_error or self.email_error)

    def _validate_schedule(self) -> bool:
        self.schedule_error = ""
        if self.schedule_mode == "later":
            when = _parse_local(self.schedule_local)
            if when is None:
                self.schedule_error = "Pick a date and time."
            elif when <= utcnow():
                self.schedule_error = "That time has passed; pick a time in the future."
        return not self.schedule_error

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
        self.reach_summary = self.skipped_summary = ""

    # ---- message -------------------------------------------------------------------
    @rx.event
    def set_name(self, value: str):
        self.name, self.name_error = value, ""
        return self._touch()

    @rx.event
    def set_channel(self, value: str | list[str]):
        if value in {c for c, _, _ in CHANNELS}:
            self.channel = str(value)
            # Who can be reached depends on the channel: the samples follow it.
            return [CampaignWizardState.refresh_samples, self._touch()]

    @rx.event
    def set_email_subject(self, value: str):
        self.email_subject, self.email_error = value, ""
        return self._touch()

    @rx.event
    def set_email_preheader(self, value: str):
        self.email_preheader, self.email_error = value, ""
        return self._touch()

    @rx.event
    def set_sender_name(self, value: str):
        self.sender_name, self.email_error = value, ""
        return self._touch()

    @rx.event
    def set_test_to(self, value: str):
        self.test_to, self.test_error, self.test_ok = value, "", ""

    @rx.event
    def set_preview_ref(self, value: str):
        self.preview_ref = value

    def _message(self) -> dict[str, Any]:
        return {"channel": self.channel, "template": self.template, **self._email_fields()}

    @rx.event(background=True)
    async def preview_customer(self):
        """The message as the customer typed in `preview_ref` (id or email) gets it."""
        async with self:
            if not self.ensure_signed_in():
                return
            message, ref = self._message(), self.preview_ref
        shown = await rx.run_in_thread(lambda: wizard_test_send.preview(message, ref))
        async with self:
            self.preview_as = shown

    @rx.event(background=True)
    async def send_test(self):
        async with self:
            if self.sending_test:
                return
            if not self.ensure_role("admin", "marketer"):
                self.test_error = "Your role cannot send messages; ask an admin."
                return
            if not self.test_to.strip() and self.channel == "email":
                self.test_to = self.user_email
                self.form_rev += 1
            self.sending_test, self.test_error, self.test_ok = True, "", ""
            message, to, ref = self._message(), self.test_to, self.preview_ref
            user = self._current_user()
        answer = await rx.run_in_thread(lambda: wizard_test_send.send(message, to, ref, user))
        async with self:
            self.sending_test = False
            self.test_ok, self.test_error = answer["ok"], answer["error"]

    @rx.event
    def set_objective(self, value: str):
        self.objective = value
        return self._touch()

    @rx.event
    def set_tone(self, value: str | list[str]):
        if value in TONES:
            self.tone = str(value)

    @rx.event
    def set_template(self, value: str):
        self.template, self.template_error = value, ""
        self._generation += 1
        return [CampaignWizardState.refresh_samples, self._touch()]

    @rx.event
    def insert_token(self, token: str):
        return rx.call_script(_insert_script(token))

    @rx.event
    def use_suggestion(self, text: str):
        self.template, self.template_error = text, ""
        self.form_rev += 1
        self._generation += 1
        return [CampaignWizardState.refresh_samples, self._touch(),
                rx.call_script("document.getElementById('campaign-template')?.focus()")]

    @rx.event
    def set_tag_input(self, value: str):
        self.tag_input, self.tag_error = value, ""

    @rx.event
    def add_tag(self, tag: str = ""):
        from mini_crm.core.campaigns import CampaignError
        from mini_crm.core.campaigns.service import clean_tags

        raw = (tag or self.tag_input).strip().strip(",")
        if not raw:
            return
        try:
            self.tags = clean_tags([*self.tags, raw])
        except CampaignError as exc:
            self.tag_error = exc.message[:1].upper() + exc.message[1:] + "."
            return
        self.tag_input, self.tag_error = "", ""
        self.form_rev += 1  # the emptied box shows
        self.suggested_tags = [t for t in self.suggested_tags if t not in self.tags]
        return self._touch()

    @rx.event
    def tag_key(self, key: str):
        if key == "Enter":  # the box is mounted afresh (emptied): keep typing in it
            return [CampaignWizardState.add_tag(""), rx.call_script(
                "setTimeout(() => document.getElementById('campaign-tag-input')?.focus(), 50)")]

    @rx.event
    def remove_tag(self, tag: str):
        self.tags = [t for t in self.tags if t != tag]
        return self._touch()

    @rx.event
    def name_key(self, key: str):
        if key == "Enter":
            return rx.call_script("document.getElementById('campaign-template')?.focus()")

    @rx.event(background=True)
    async def refresh_samples(self):
        async with self:
            if not self.ensure_signed_in():
                return
            generation = self._generation
        await asyncio.sleep(PREVIEW_DEBOUNCE_SECONDS)
        async with self:
            if generation != self._generation or not self._rules:
                return
            rules, template, channel = self._rules, self.template, self.channel
            self.samples_loading = True
        try:
            samples = await rx.run_in_thread(lambda: _render_samples(rules, template, channel))
        except Exception:  # the preview is a help; a failure must not block the wizard
            samples = []
        async with self:
            if generation == self._generation:
                self.samples = samples
            self.samples_loading = False

    @rx.event(background=True)
    async def suggest_messages(self):
        async with self:
            if not self.ensure_signed_in() or self.suggesting:
                return
            objective = self.objective.strip() or self.name.strip()
            if not objective:
                self.suggest_error = "Describe the objective first (e.g. “win back lapsed "\
                                     "customers with 10% off”)."
                return
            self.suggesting, self.suggest_error = True, ""
            args = (objective, self.tone, self._rules or None, self.channel)
        try:
            result = await rx.run_in_thread(lambda: _suggest_messages(*args))
        except Exception as exc:
            async with self:
                self.suggesting, self.suggest_error = False, f"No suggestions: {exc}"
            return
        async with self:
            self.suggestions = result["variants"]
            self.suggest_engine, self.suggest_note = result["engine"], result["note"]
            self.suggesting = False
        yield CampaignWizardState.suggest_tags

    @rx.event(background=True)
    async def suggest_tags(self):
        async with self:
            if not self.ensure_signed_in() or self.tagging:
                return
            args = (self.name, self.template, self.objective)
            if not any(a.strip() for a in args):
                return
            self.tagging = True
        try:
            result = await rx.run_in_thread(lambda: _suggest_tags(*args))
        except Exception:  # tags are optional; keep the wizard usable
            result = {"tags": [], "engine": ""}
        async with self:
            self.suggested_tags = [t for t in result["tags"] if t not in self.tags]
            self.tags_engine, self.tagging = result["engine"], False

    # ---- schedule ------------------------------------------------------------------
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
            result = await rx.run_in_thread(lambda: _send_times(rules))
        except Exception as exc:
            async with self:
                self.windows_loading = False
                self.windows_error = f"No send-time advice: {exc}"
            return
        async with self:
            self.windows, self.heat = result["windows"], result["heat"]
            self.windows_engine, self.windows_note = result["engine"], result["note"]
            self.windows_loading = False

    # ---- review and launch ---------------------------------------------------------
    @rx.event(background=True)
    async def load_reach(self):
        async with self:
            if not self.ensure_signed_in() or not self._rules:
                return
            self.reach_loading = True
            rules, channel = self._rules, self.channel
        try:
            reach = await rx.run_in_thread(lambda: _reach(rules, channel))
        except Exception:
            reach = None
        async with self:
            if reach is not None:
                self.audience_size = reach["size"]
                self.eligible_size = int(reach["eligible"])
                self.reach_summary = reach["text"]
                self.skipped_summary = reach["skipped_text"]
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
                "schedule_at": (_parse_local(self.schedule_local)
                                if self.schedule_mode == "later" else None),
                "user_id": user["id"] if user else None,
                "draft_id": self.draft_id, "scheduled": self.draft_status == "scheduled",
                **self._email_fields(),
                "holdout_percent": int((await self.get_state(HoldoutState)).percent),
                **(await self.get_state(VariantsState)).fields(self.template, self.channel),
            }
        try:
            campaign_id = await rx.run_in_thread(lambda: _launch(payload))
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


def _warm_ai() -> None:
    try:
        from mini_crm.core.ai import tags

        tags.predict("warm up")
    except Exception:  # only a warm-up: the real call reports its own errors
        pass


def _count(rules: dict[str, Any]) -> int:
    with session_scope() as db:
        return segments.audience_size(db, rules)


def _focus_title(step: int) -> rx.event.EventSpec:
    # After a step change, focus its heading so keyboard and screen-reader users land
    # at the top of the new step instead of on a button that no longer exists.
    # The URL follows the step (components/wizard_url.py): Back/Forward move between steps.
    return rx.call_script(f"window.__mcWizardStepUrl?.({int(step)});"
                          "setTimeout(() => document.getElementById('wizard-step-title')"
                          "?.focus(), 50)")
