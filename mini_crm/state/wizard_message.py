"""The wizard's message step (a state mixin of CampaignWizardState): name, channel,
the template with its token chips and live samples, the email's subject, preheader and
sender, tags, the test send and "preview as a customer", and the AI assist (message
and tag suggestions). Its handlers run on the wizard's state; an edit saves the draft
through `_touch` (wizard_autosave)."""

from __future__ import annotations

import json
from typing import Any

import reflex as rx

from mini_crm.core import formatting
from mini_crm.core.campaigns import CampaignError, figures, test_send
from mini_crm.core.campaigns.service import clean_tags
from mini_crm.core.messages.email import validate_email_fields
from mini_crm.state import wizard_reads as reads
from mini_crm.state import wizard_test_send
from mini_crm.state.base import own_handler
from mini_crm.state.debounce import settled
from mini_crm.state.wizard_reads import CHANNELS, TONES

PREVIEW_DEBOUNCE_SECONDS = 0.3


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


def _clear_box_script(box_id: str, was: str) -> str:
    """Empty the uncontrolled box `box_id` if it still shows `was` (not typed in since),
    without remounting it: a `form_rev` bump remounts every box of the wizard, and one
    being typed in loses its focus. No input event: the server already holds ""."""
    return (f"(() => {{ const el = document.getElementById({json.dumps(box_id)}); "
            f"if (el && el.value === {json.dumps(was)}) el.value = ''; }})()")


class WizardMessage(rx.State, mixin=True):
    """The wizard's message step (see the module docstring)."""

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

    @rx.var
    def template_problems(self) -> list[str]:
        return reads.template_errors(self.template) if self.template.strip() else []

    @rx.var
    def length_note(self) -> str:
        """The message box's counter: the length as sent (the samples', personalised),
        which is what a customer's SMS count follows, not the template's."""
        texts = [s["text"] for s in self.samples] if self.template.strip() else []
        return figures.sent_length_note(self.template, texts, self.channel)

    @rx.var
    def subject_review(self) -> dict[str, str]:
        """The email's subject as the review shows it: {"text", "warning"}. An empty
        subject line is allowed (the body's first line is used, email.default_subject),
        so it is a warning naming that line, not an error; "" for SMS/WhatsApp."""
        if self.channel != "email":
            return {"text": "", "who": "", "warning": ""}
        # Rendered for the live preview's first customer (as delivery renders it: tokens
        # filled, a missing subject taken from the rendered first line), never the raw
        # template, which the first-line cut could split mid-token.
        first = self.samples[0] if self.samples else {}
        if first.get("subject"):
            text, who = first["subject"], first.get("name", "")
        else:
            text = test_send.preview_for(None, channel="email", template=self.template,
                                         subject=self.email_subject or None)["subject"]
            who = "a sample customer"
        if self.email_subject.strip():
            return {"text": text, "who": who, "warning": ""}
        return {"text": text, "who": who,
                "warning": ("No subject line: each email's subject will be the message's "
                            f"first line, for {who} “{text}”." if self.template.strip() else
                            "No subject line and no message: the email will read "
                            "“(no subject)”.")}

    def _validate_message(self) -> bool:
        self.name_error = self.template_error = ""
        name = self.name.strip()
        if not name:
            self.name_error = "Give the campaign a name."
        elif len(name) > 200:
            self.name_error = "At most 200 characters."
        problems = reads.template_errors(self.template)
        if problems:
            self.template_error = formatting.sentence("; ".join(problems))
        self.email_error = ""
        fields = self._email_fields()
        email_problems = validate_email_fields(fields["email_subject"],
                                               fields["email_preheader"], fields["sender_name"])
        if email_problems:
            self.email_error = formatting.sentence("; ".join(p for _, p in email_problems))
        return not (self.name_error or self.template_error or self.email_error)

    @rx.event
    def set_name(self, value: str):
        self.name, self.name_error = value, ""
        return self._touch()

    @rx.event
    def set_channel(self, value: str | list[str]):
        if value in {c for c, _, _ in CHANNELS}:
            self.channel = str(value)
            # Who can be reached depends on the channel: the samples follow it.
            return [own_handler(self, "refresh_samples"), self._touch()]

    @rx.event
    def set_email_subject(self, value: str):
        self.email_subject, self.email_error = value, ""
        self._generation += 1
        # The samples carry each customer's rendered subject: they follow it.
        return [own_handler(self, "refresh_samples"), self._touch()]

    @rx.event
    def set_email_preheader(self, value: str):
        self.email_preheader, self.email_error = value, ""
        self._generation += 1
        # The samples show each customer's rendered preheader too.
        return [own_handler(self, "refresh_samples"), self._touch()]

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
            typed = self.test_to
            # An empty box sends to my own address (the "sent to" line names it).
            to = typed if typed.strip() or self.channel != "email" else self.user_email
            self.sending_test, self.test_error, self.test_ok = True, "", ""
            message, ref = self._message(), self.preview_ref
            user = self._current_user()
        answer = await rx.run_in_thread(lambda: wizard_test_send.send(message, to, ref, user))
        async with self:
            self.sending_test = False
            self.test_ok, self.test_error = answer["ok"], answer["error"]
            if not answer["ok"] or self.test_to != typed:
                return
            # Sent: the box is emptied, so the next address typed is not appended to
            # this one (the box is the browser's: the server's "" alone did not show).
            self.test_to = ""
        yield rx.call_script(_clear_box_script("test-to", typed))

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
        return [own_handler(self, "refresh_samples"), self._touch()]

    @rx.event
    def insert_token(self, token: str):
        return rx.call_script(_insert_script(token))

    @rx.event
    def use_suggestion(self, text: str):
        self.template, self.template_error = text, ""
        self.form_rev += 1
        self._generation += 1
        return [own_handler(self, "refresh_samples"), self._touch(),
                rx.call_script("document.getElementById('campaign-template')?.focus()")]

    @rx.event
    def set_tag_input(self, value: str):
        self.tag_input, self.tag_error = value, ""

    def _add_tag(self, raw: str) -> bool:
        """Add `raw` to the tags; False (and `tag_error` set) when it is refused."""
        try:
            self.tags = clean_tags([*self.tags, raw])
        except CampaignError as exc:
            self.tag_error = exc.message[:1].upper() + exc.message[1:] + "."
            return False
        self.tag_error = ""
        self.suggested_tags = [t for t in self.suggested_tags if t not in self.tags]
        return True

    @rx.event
    def add_tag(self, tag: str):
        """A suggested tag clicked: the tag box (perhaps half typed) is left as it is."""
        if tag.strip() and self._add_tag(tag.strip()):
            return self._touch()

    @rx.event
    def tag_key(self, key: str, text: str = ""):
        """A key in the tag box; on Enter `text` is the box's text, which the browser
        has emptied already (components/text_field.take_on_enter): the box keeps its
        focus and the next tag is typed into an empty box at once."""
        if key != "Enter":
            return
        raw = text.strip().strip(",")
        self.tag_input = ""
        if not raw:
            return
        if self._add_tag(raw):
            return self._touch()
        # Refused: the text goes back into the box to be corrected (unless typed in since).
        self.tag_input = text
        return rx.call_script(
            "(() => { const el = document.getElementById('campaign-tag-input'); "
            f"if (el && el.value === '') el.value = {json.dumps(text)}; }})()")

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
        """The sample messages, once edits pause for `PREVIEW_DEBOUNCE_SECONDS`."""
        generation = await settled(self, "_generation", PREVIEW_DEBOUNCE_SECONDS,
                                   ready=lambda: self.ensure_signed_in())
        if generation is None:
            return  # signed out, or a later edit refreshes after its own pause
        async with self:
            if generation != self._generation or not self._rules:
                return
            rules, template, channel = self._rules, self.template, self.channel
            subject, preheader = self.email_subject, self.email_preheader
            self.samples_loading = True
        try:
            samples = await rx.run_in_thread(
                lambda: reads.render_samples(rules, template, channel, subject, preheader))
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
            result = await rx.run_in_thread(lambda: reads.suggest_messages(*args))
        except Exception as exc:
            async with self:
                self.suggesting, self.suggest_error = False, f"No suggestions: {exc}"
            return
        async with self:
            self.suggestions = result["variants"]
            self.suggest_engine, self.suggest_note = result["engine"], result["note"]
            self.suggesting = False
        yield own_handler(self, "suggest_tags")

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
            result = await rx.run_in_thread(lambda: reads.suggest_tags(*args))
        except Exception:  # tags are optional; keep the wizard usable
            result = {"tags": [], "engine": ""}
        async with self:
            self.suggested_tags = [t for t in result["tags"] if t not in self.tags]
            self.tags_engine, self.tagging = result["engine"], False

    def _email_fields(self) -> dict[str, str]:
        email = self.channel == "email"
        return {"email_subject": self.email_subject.strip() if email else "",
                "email_preheader": self.email_preheader.strip() if email else "",
                "sender_name": self.sender_name.strip() if email else ""}
