"""The rule builder's state: it edits a rules tree (core/segments/editing), previews it
live, saves it, and fills it from the AI assist for review. What it asks the database
and the AI is in `state/segment_answers`; the Segments list is `state/segment_list`."""

from __future__ import annotations

import json
from typing import Any

import reflex as rx
from reflex.event import EventHandler

from mini_crm.core import formatting, segments
from mini_crm.core.segments import editing, figures, list_values, service, unfinished
from mini_crm.db import session_scope
from mini_crm.state.base import AppState, helper
from mini_crm.state.debounce import settled
from mini_crm.state.segment_answers import builder_context, load_segment, preview
from mini_crm.state.segment_assist import SegmentAssist
from mini_crm.state.segment_list import EDITOR_ROLES, NOT_ALLOWED

PREVIEW_DEBOUNCE_SECONDS = 0.35
MAX_ID = 2**31 - 1  # larger ids exist on no database (PostgreSQL refuses them in a query)


def _segment_ref(raw: str) -> int | None:
    """The segment id an address names ("/segments/7"), or None for none that can exist."""
    return int(raw) if raw.isdigit() and int(raw) <= MAX_ID else None

# Pages that embed this builder, by route prefix → their handler to run after every edit
# of the rules. The campaign wizard registers its draft's autosave as it is built
# (`notify_edits_under`): it imports this module, so this one cannot import it back.
_EMBEDDERS: dict[str, EventHandler] = {}


def notify_edits_under(route_prefix: str, handler: EventHandler) -> None:
    """After each edit of the rules on a page whose path starts with `route_prefix`
    (e.g. "/campaigns"), run `handler` (no arguments) beside the live preview."""
    _EMBEDDERS[route_prefix] = handler


class SegmentEditorState(SegmentAssist, AppState):
    segment_id: int = 0
    found: bool = True  # False: the address names no saved segment (/segments/9999, /abc)
    # True while a saved segment's address is being read: the page shows no boxes until
    # its rules are in, so nothing typed into the blank rule is then mixed into them.
    opening: bool = False
    name: str = ""
    tree: dict[str, Any] = editing.empty_tree()
    # Edits not saved yet: the page's leave guard asks before they are lost.
    dirty: bool = False
    size: int = 0
    total: int = 0  # all customers, for the size's share
    sentence: str = ""
    error: str = ""
    error_path: str = ""
    sample: list[dict[str, str]] = []
    cities: list[str] = []
    field_options: list[dict[str, str]] = editing.field_options([])
    previewing: bool = False
    saved_message: str = ""
    save_error: str = ""
    # What each list rule's value box holds (by row path) as the server last left it.
    drafts: dict[str, str] = {}
    _sent: dict[str, str] = {}  # the text each list box sent last (list_values.split_draft)
    _visit: list[str] = []  # [address, websocket session] of the last open
    _moved_to: int = 0  # the segment a save just moved the page's address to
    # The unsaved editor, mirrored in the tab's sessionStorage: a reconnect that Reflex
    # answers with a new state token (the old socket not yet gone on the server, as
    # after a network blip or a failover) starts from a fresh state, and hydrate hands
    # the browser's copy back to it before on_load runs (see `_restore`).
    kept: str = rx.SessionStorage("", name="mc_segment_editor")
    # The value boxes and the name own what is typed (components/text_field.typed_box):
    # the last keystroke the server applied (the tab numbers them), and a counter of the
    # editor's opens and loads. A box shows the server's text unless keys typed into it
    # are not applied yet, or were applied before an open or load replaced the editor:
    # the marketer's latest text wins over any answer that lands after it was typed.
    typed_seq: int = 0
    loads: int = 0
    # Case-folded cities the rules name that no customer lives in, checked on the whole
    # table with each preview (service.unknown_cities): only these get "did you mean".
    unknown_cities: list[str] = []
    _generation: int = 0

    @rx.var
    def rows(self) -> list[dict[str, Any]]:
        rows = editing.flatten(self.tree, self.error_path, self.error)
        unknown = set(self.unknown_cities)
        waiting = set(unfinished.unfinished_paths(self.tree))
        for row in rows:  # what is typed but not yet added to a list rule
            row["draft"] = self.drafts.get(row["path"], "")
            # An empty box is not a mistake: a quiet hint, never a red error.
            row["hint"] = unfinished.HINT if row["path"] in waiting else ""
            row["suggest"], row["fixes"] = "", []
            if row.get("field") != "city":
                continue
            # A city nobody lives in (checked on the whole table by the preview) is most
            # often a typo: offer the closest known one (a click takes it; nothing is
            # replaced on its own). One merely outside the suggested top cities is real.
            value = str(row.get("value") or "")
            if row.get("operator") in ("=", "!=") and value.strip().casefold() in unknown:
                row["suggest"] = list_values.suggest_city(value, self.cities)
            elif row.get("items"):
                row["fixes"] = list_values.list_fixes(row["items"], self.cities, unknown)
        return rows

    @rx.var
    def field_menu(self) -> list[dict[str, str]]:
        """The Field menus' options: the known fields and any field a rule uses."""
        return editing.menu_with_tree_fields(self.field_options, self.tree)

    @rx.var
    def save_label(self) -> str:
        return "Save segment" if self.segment_id else "Save as new segment"

    @rx.var
    def blank(self) -> bool:
        """No condition yet: the builder shows "Add a condition", never a size (an
        audience without conditions is refused at launch and on save)."""
        return not self.tree.get("rules")

    @rx.var
    def uncounted(self) -> int:
        """Rules with an empty value box: left out of the size until they have one."""
        return len(unfinished.unfinished_paths(self.tree))

    @rx.var
    def uncounted_text(self) -> str:
        """Said next to the size: "1 rule not counted yet" (empty when none)."""
        n = self.uncounted
        return "" if not n else f"{n} rule{'' if n == 1 else 's'} not counted yet"

    @rx.var
    def none_counted(self) -> bool:
        """Rules exist but none has a value yet: there is no audience to count."""
        return not self.blank and not unfinished.finished_only(self.tree)[0]["rules"]

    @rx.var
    def size_text(self) -> str:
        if self.blank:
            return figures.BLANK_SIZE
        return figures.NO_SIZE if self.none_counted else figures.size_text(self.size)

    @rx.var
    def preview_sentence(self) -> str:
        """The rules in words; at once the blank state's sentence when the last condition
        is removed (the preview itself waits for the edits to pause)."""
        if self.none_counted:
            return "Enter a value in the rule to see who matches."
        return figures.BLANK_SENTENCE if self.blank else self.sentence

    @rx.var
    def preview_sample(self) -> list[dict[str, str]]:
        """The sample rows shown; none in the blank state (they were another audience's)."""
        return [] if self.blank or self.none_counted else self.sample

    @rx.var
    def share_text(self) -> str:
        """The size as a share of all customers, e.g. "12.5% of 3,000 customers"."""
        if self.blank or self.none_counted:
            return ""
        return figures.share_text(self.size, self.total)

    @rx.event(background=True)
    async def open(self) -> None:
        async with self:
            if not self.ensure_signed_in():
                return
            first_open = not self._visit
            reconnected, self._visit = self.reopened_after_reconnect(self._visit)
            moved, self._moved_to = self._moved_to, 0
            if moved and _segment_ref(str(self.router.page.params.get("segment_ref", "")
                                          or "")) == moved:
                return  # the save's own move to /segments/{id}: the editor already is it
            if first_open and not reconnected:
                reconnected = self._restore()
            missing = not self.found
        if reconnected and missing:  # still the "Segment not found" card
            return
        if reconnected:
            # Keep the unsaved rules, name and prompt, and what the boxes show (no
            # revision bump); only count again, as the data may have moved meanwhile.
            await self._load_context()
            yield SegmentEditorState.refresh_preview
            return
        async with self:
            raw_id = str(self.router.page.params.get("segment_ref", "") or "")
            # /segments/new?like_buyers_of=7: the campaign page's "customers like its
            # buyers" — a lookalike seeded from campaign 7's converters.
            buyers_of = str(self.router.page.params.get("like_buyers_of", "") or "")
            self.reset_editor()
            self.opening = bool(raw_id)
        try:
            await self._load_context()
            loaded = None
            if (ref := _segment_ref(raw_id)) is not None:
                loaded = await rx.run_in_thread(lambda: load_segment(ref))
        except Exception:
            async with self:  # the error's notice shows; the page is not left "opening"
                self.opening = False
            raise
        if raw_id and loaded is None:
            # Not a blank editor: saving it would make a new segment the address never named.
            async with self:
                self.found, self.opening = False, False
            return
        async with self:
            self.opening = False
            if loaded is not None:
                self.segment_id, self.name = loaded["id"], loaded["name"]
                self.tree = editing.from_rules(loaded["rules"])
                self.dirty = False
                self.loads += 1
        yield SegmentEditorState.refresh_preview
        if loaded is None and buyers_of.isdigit() and len(buyers_of) <= 12:
            yield SegmentEditorState.find_buyer_lookalikes(int(buyers_of))

    async def _load_context(self) -> None:
        """Read what the builder offers of the data (known cities, attribute keys) off
        the event loop, and take it. For background handlers (`open`): `self` is then
        Reflex's StateProxy, which binds this method to itself, so `async with self`
        here locks the state as it does in the handler; it must not be called while
        the state is held (`async with self` does not nest)."""
        context = await rx.run_in_thread(builder_context)
        async with self:
            self.use_context(context)

    @helper
    def use_context(self, context: dict[str, Any]) -> None:
        """Take `context`, `segment_answers.builder_context()`'s answer ({cities, keys}):
        the cities the value boxes suggest and the Field menus' options. The campaign
        wizard, which embeds the builder, reads it with its own data and calls this."""
        self.cities = context["cities"]
        self.field_options = editing.field_options(context["keys"])

    @helper
    def reset_editor(self) -> None:
        """Start the builder afresh: a new, empty, unsaved segment with no notices, no
        half-typed list values and an empty AI assist. The value boxes show it (revision
        bump, `loads`: text typed before it is sent again, not lost) and a preview still
        running for the old rules is dropped (generation bump); what the builder knows of
        the data (cities, fields) stays. The Segments page's open and the campaign
        wizard's (which embeds the builder) call it."""
        self.segment_id, self.name, self.tree = 0, "", editing.empty_tree()
        self.found, self.dirty, self.opening = True, False, False
        self.saved_message = self.save_error = self.error = self.error_path = ""
        self.drafts, self._sent, self.unknown_cities = {}, {}, []
        self.reset_assist()
        self.loads += 1
        self._generation += 1

    def _typed(self, seq: int) -> None:
        """Keystroke `seq` of the tab is applied (see `typed_seq`); -1: not numbered."""
        if seq > self.typed_seq:
            self.typed_seq = seq

    def _edit(self, tree: dict[str, Any], typed: bool = False):
        """Any change of the rules; `typed`: a box's own text, which it shows already.
        The boxes show the new tree's text themselves (text_field.typed_box): nothing
        is remounted, so no key typed meanwhile is lost with an old box."""
        if typed and tree == self.tree:
            return None
        self.tree, self.dirty = tree, True
        self.saved_message = self.save_error = ""  # an edit answers the last notice
        self._generation += 1
        path = str(self.router.page.path or "")
        for prefix, handler in _EMBEDDERS.items():
            if path.startswith(prefix):  # a page embedding the builder hears of the edit
                return [SegmentEditorState.refresh_preview, handler]
        return SegmentEditorState.refresh_preview

    @rx.event
    def add_rule(self, path: str):
        return self._edit(editing.add_rule(self.tree, path))

    @rx.event
    def add_group(self, path: str):
        return self._edit(editing.add_group(self.tree, path))

    @rx.event
    def remove(self, path: str):
        return self._edit(editing.remove(self.tree, path))

    @rx.event
    def duplicate(self, path: str):
        return self._edit(editing.duplicate(self.tree, path))

    @rx.event
    def toggle_combinator(self, path: str):
        return self._edit(editing.toggle_combinator(self.tree, path))

    @rx.event
    def toggle_not(self, path: str):
        return self._edit(editing.toggle_not(self.tree, path))

    @rx.event
    def set_field(self, path: str, field: str):
        return self._edit(editing.set_field(self.tree, path, field))

    @rx.event
    def set_operator(self, path: str, operator: str):
        return self._edit(editing.set_operator(self.tree, path, operator))

    def _typed_edit(self, seq: int, edit: Any, *args: Any):
        """Text typed into a rule's box (keystroke `seq`): `edit(tree, *args)` applied.
        A rule that went before the text arrived (removed meanwhile) takes nothing."""
        self._typed(int(seq))
        try:
            tree = edit(self.tree, *args)
        except (IndexError, KeyError, TypeError):
            return None
        return self._edit(tree, typed=True)

    @rx.event
    def set_value(self, path: str, value: str, seq: int = -1):
        return self._typed_edit(seq, editing.set_value, path, value)

    @rx.event
    def set_low(self, path: str, value: str, seq: int = -1):
        return self._typed_edit(seq, editing.set_value, path, value, 0)

    @rx.event
    def set_high(self, path: str, value: str, seq: int = -1):
        return self._typed_edit(seq, editing.set_value, path, value, 1)

    # Windowed order rules: the period and an optional item filter.
    @rx.event
    def set_window_mode(self, path: str, mode: str):
        return self._edit(editing.set_window_mode(self.tree, path, mode))

    @rx.event
    def set_window_days(self, path: str, text: str, seq: int = -1):
        return self._typed_edit(seq, editing.set_window_days, path, text)

    @rx.event
    def set_window_from(self, path: str, value: str):
        return self._edit(editing.set_window_dates(self.tree, path, value, 0))

    @rx.event
    def set_window_to(self, path: str, value: str):
        return self._edit(editing.set_window_dates(self.tree, path, value, 1))

    @rx.event
    def set_item_key(self, path: str, key: str):
        row = next((r for r in self.rows if r["path"] == path), {})
        return self._edit(editing.set_items_match(self.tree, path, key,
                                                  str(row.get("item_value", ""))))

    @rx.event
    def set_item_value(self, path: str, value: str, seq: int = -1):
        row = next((r for r in self.rows if r["path"] == path), {})
        return self._typed_edit(seq, editing.set_items_match, path,
                                str(row.get("item_key", "category")), value)

    @rx.event
    def use_value(self, path: str, value: str):
        """A value picked by a click ("Did you mean Mumbai?"): the box shows it."""
        return self._edit(editing.set_value(self.tree, path, value))

    @rx.event
    def exclude_unknowns(self, path: str):
        """One click: an explicit “is not empty” beside a negative rule (leave out the unknowns)."""
        return self._edit(editing.exclude_unknowns(self.tree, path))

    @rx.event
    def use_item(self, path: str, index: int, value: str):
        """A list value picked by a click ("Did you mean Pune?"): that chip becomes it."""
        return self._edit(list_values.replace_item(self.tree, path, int(index), value))

    # List rules (city in …): values are chips. The box's text goes to `set_draft` on
    # every change; a separator in it, Enter or leaving the box makes chips of it.
    @rx.event
    def set_draft(self, path: str, text: str):
        """A list rule's box changed to `text`: what a separator closed becomes chips,
        the box keeps the rest (list_values.split_draft), in one step, so no later key
        can slip in between the chips and the emptied box."""
        try:
            field = editing.rule_field(self.tree, path)
        except (IndexError, KeyError, TypeError):  # the rule went before this text came
            return None
        values, rest = list_values.split_draft(text, self._sent.get(path, ""), field)
        self._sent = {**self._sent, path: text}
        self.drafts = {**self.drafts, path: rest}
        if not values:
            return None
        return [*self._add_items(path, values), _strip_box(path, text, rest)]

    @rx.event
    def draft_key(self, path: str, key: str):
        if key == "Enter":
            return self._commit(path)
        return None

    @rx.event
    def commit_draft(self, path: str, _value: str = ""):
        return self._commit(path)

    def _commit(self, path: str):
        """The box's text (as the server has it) becomes a chip, and the box empties."""
        text = self.drafts.get(path, "")
        if not text.strip():
            return None
        self.drafts = {**self.drafts, path: ""}
        return [*self._add_items(path, [text.strip()]), _empty_box(path, text)]

    @rx.event
    def remove_item(self, path: str, index: int):
        return self._edit(editing.remove_item(self.tree, path, int(index)))

    def _add_items(self, path: str, values: list[str]) -> list[Any]:
        """Add `values` to the list rule at `path` (a known city in the data's own
        spelling: "pune" becomes "Pune"); the events the edit asks for."""
        if editing.rule_field(self.tree, path) == "city":
            values = list_values.known_spelling(values, self.cities)
        tree = self.tree
        for value in values:
            tree = editing.add_item(tree, path, value)
        events = self._edit(tree)
        return events if isinstance(events, list) else [] if events is None else [events]

    @rx.event
    def set_segment_name(self, name: str, seq: int = -1):
        self._typed(int(seq))
        if name != self.name:
            self.dirty = True
        self.name = name
        self.save_error = ""
        self._keep()

    def _keep(self, at: str | None = None) -> None:
        """Mirror the editor into the tab's sessionStorage (`kept`), for the address
        `at` (default: the page's)."""
        self.kept = json.dumps({"at": at or str(self.router.page.full_raw_path),
                                "segment_id": self.segment_id, "name": self.name,
                                "rules": editing.to_rules(self.tree), "dirty": self.dirty})

    def _restore(self) -> bool:
        """A fresh state on the address the tab's `kept` copy was made on: take the
        copy. It comes from the browser, so anything malformed is ignored."""
        try:
            kept = json.loads(self.kept or "{}")
            if kept.get("at") != str(self.router.page.full_raw_path):
                return False
            tree = editing.from_rules(kept["rules"])
            editing.flatten(tree)
            name = str(kept.get("name") or "")[:200]
        except (ValueError, TypeError, KeyError, AttributeError, IndexError):
            return False
        # The segment is the address's, never the copy's (which the browser could edit).
        self.segment_id = _segment_ref(str(self.router.page.params.get("segment_ref", "")
                                           or "")) or 0
        self.tree, self.name = tree, name
        self.dirty = kept.get("dirty") is not False  # unknown: unsaved, ask before leaving
        self.loads += 1
        self._generation += 1
        return True

    @rx.event(background=True)
    async def refresh_preview(self) -> None:
        """The live preview, once edits pause for `PREVIEW_DEBOUNCE_SECONDS`: only the
        last edit of a burst runs the query."""
        generation = await settled(self, "_generation", PREVIEW_DEBOUNCE_SECONDS,
                                   ready=lambda: self.ensure_signed_in())
        if generation is None:
            return
        async with self:
            if generation != self._generation:
                return
            self.previewing = True
            # Counted without the rules whose value box is still empty (not an error).
            counted, paths = unfinished.finished_only(self.tree)
            rules = editing.to_rules(counted)
            self._keep()
        result = await rx.run_in_thread(lambda: preview(rules))
        async with self:
            if generation != self._generation:
                return
            self.error = result["error"]
            self.error_path = unfinished.original_error_path(result["error_path"], paths)
            if not result["error"]:
                self.size, self.sentence = result["size"], result["sentence"]
                self.total, self.unknown_cities = result["total"], result["unknown_cities"]
                self.sample = result["sample"]
            self.previewing = False

    @rx.event
    def save(self):
        if not self.ensure_role(*EDITOR_ROLES):
            self.save_error = NOT_ALLOWED
            return
        if self.uncounted:  # an empty box is not a schema error: say what to do
            self.save_error = ("Enter a value in every rule first (or remove the rule): "
                               f"{self.uncounted_text}.")
            return
        rules = editing.to_rules(self.tree)
        user = self._current_user()
        user_id = user["id"] if user else None
        try:
            with session_scope() as session:
                seg = service.save_segment(session, name=self.name, rules=rules,
                                           segment_id=self.segment_id or None,
                                           created_by=user_id, actor_user_id=user_id)
                self.segment_id = seg.id
        except segments.RulesError as exc:
            self.save_error = f"Fix the highlighted rule first: {exc.reason}"
            self.error, self.error_path = exc.reason, exc.path
            return
        except (ValueError, LookupError) as exc:  # a name in use (NameTaken), empty, long
            self.save_error = formatting.sentence(str(exc))
            return
        self.save_error, self.dirty = "", False
        self.saved_message = "Saved."
        # The page moves to the segment's own address through the router (replacing the
        # entry), so the router and this state agree on where the editor is. A bare
        # history.replaceState left the router on /segments/new: a fresh tester who then
        # typed /segments/new got the saved segment back (a reload on the same address
        # reads as a reconnect), and the tab's copy was filed under /segments/new too.
        path = f"/segments/{int(self.segment_id)}"
        self._keep(at=path)
        if _segment_ref(str(self.router.page.params.get("segment_ref", "") or "")
                        ) != self.segment_id:  # saved from /segments/new (or a copy)
            self._moved_to = int(self.segment_id)
            # Where the editor is from now on, even if the tab leaves before the move's
            # on_load comes back: a later load of /segments/new is then no reconnect.
            self._visit = [path, str(self.router.session.session_id)]
            return rx.redirect(path, replace=True)
        return None


def _box_script(path: str, body: str) -> rx.event.EventSpec:
    """Run `body` (JavaScript) on a list rule's value box, `el`, if it is on the page."""
    return rx.call_script(f"(() => {{const el = document.getElementById("
                          f"{json.dumps(DRAFT_BOX_ID + path)}); if (el) {{{body}}}}})()")


def _empty_box(path: str, added: str) -> rx.event.EventSpec:
    """Empty a list rule's value box once its text became a chip, unless more was typed
    since (that text stays, to be added next). The box is not mounted afresh for it (its
    key has no revision): a key typed meanwhile would be lost with the old box."""
    return _box_script(path, f"if (el.value === {json.dumps(added)}) el.value = '';")


def _strip_box(path: str, sent: str, rest: str) -> rx.event.EventSpec:
    """The box sent `sent`, of which all but `rest` became chips: show `rest` followed by
    whatever was typed after `sent` meanwhile (those keys reach the server as `sent` plus
    them, which it reads the same way). A box that no longer starts with `sent` was
    handled by an earlier answer, or changed by the marketer: left alone."""
    return _box_script(path, f"const sent = {json.dumps(sent)}; if (el.value.startsWith(sent))"
                             f" el.value = {json.dumps(rest)} + el.value.slice(sent.length);")


DRAFT_BOX_ID = "rule-values-"  # + the rule's path: the id of a list rule's value box
