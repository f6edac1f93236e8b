"""Settings → Plain-English vocabulary: view, edit and reset what "VIP", "churned" … mean.

Thin: core/ai/vocabulary.py validates and stores. Admins and marketers may edit (the
words shape the audiences marketers build); viewers see the definitions only.
"""

from __future__ import annotations

import json
from typing import Any

import reflex as rx

from mini_crm.core.ai import vocabulary
from mini_crm.core.auth.audit import Actor
from mini_crm.db import session_scope
from mini_crm.state.base import AppState

EDITORS = ("admin", "marketer")


def _rows() -> list[dict[str, str]]:
    with session_scope() as db:
        return [_row(v) for v in vocabulary.list_terms(db)]


def _row(v: vocabulary.TermView) -> dict[str, str]:
    return {"key": v.key, "label": v.label, "words": ", ".join(v.words),
            "description": v.description, "sentence": v.sentence,
            "rules": json.dumps(v.rules, indent=1, ensure_ascii=False),
            "status": "edited" if v.edited else "default"}


class VocabularyState(AppState):
    terms: list[dict[str, str]] = []
    editing: str = ""  # the key being edited
    draft_rules: str = ""
    draft_description: str = ""
    # Bumped when the server clears or replaces typed text (components/text_field.py).
    form_rev: int = 0
    term_error: str = ""
    term_saved: str = ""
    terms_loading: bool = True

    @rx.event(background=True)
    async def load_terms(self) -> None:
        async with self:
            if not self.ensure_signed_in():
                return
            self.terms_loading = True
        rows = await rx.run_in_thread(_rows)
        async with self:
            self.terms, self.terms_loading = rows, False

    @rx.event
    def edit_term(self, key: str):
        row = next((r for r in self.terms if r["key"] == key), None)
        if row is None:
            return
        self.editing, self.draft_rules = key, row["rules"]
        self.draft_description, self.term_error, self.term_saved = row["description"], "", ""
        self.form_rev += 1

    @rx.event
    def cancel_edit(self):
        self.editing, self.term_error = "", ""

    @rx.event
    def set_draft_rules(self, text: str):
        self.draft_rules, self.term_error = text, ""

    @rx.event
    def set_draft_description(self, text: str):
        self.draft_description = text

    @rx.event
    def save_term(self):
        if not self.ensure_role(*EDITORS):
            self.term_error = "Only admins and marketers can change definitions."
            return
        try:
            rules: Any = json.loads(self.draft_rules)
        except ValueError as exc:
            self.term_error = f"The definition is not valid JSON ({exc.msg}, line {exc.lineno})."
            return
        with session_scope() as db:
            try:
                view = vocabulary.save_term(db, self.editing, rules, self.draft_description,
                                            actor=self._actor())
            except vocabulary.TermError as exc:
                self.term_error = str(exc)
                return
        self._replace(_row(view))
        self.editing, self.term_saved = "", f"Saved: “{view.label}” now means {view.sentence}"

    @rx.event
    def reset_term(self, key: str):
        if not self.ensure_role(*EDITORS):
            self.term_error = "Only admins and marketers can change definitions."
            return
        with session_scope() as db:
            view = vocabulary.reset_term(db, key, actor=self._actor())
        self._replace(_row(view))
        self.editing, self.term_error = "", ""
        self.term_saved = f"Reset: “{view.label}” is back to its default."

    def _actor(self) -> Actor:
        user = self._current_user()
        return Actor(user_id=user["id"], label=user["email"]) if user else Actor(label="ui")

    def _replace(self, row: dict[str, str]) -> None:
        self.terms = [row if r["key"] == row["key"] else r for r in self.terms]
