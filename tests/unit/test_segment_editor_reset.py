"""The segment builder starts itself afresh (the Segments page and the campaign wizard,
which embeds it, both ask it to), and a page embedding it hears of every edit."""

from __future__ import annotations

from reflex.istate.data import RouterData

import mini_crm.mini_crm  # noqa: F401 - registers every state, as in the running app
from mini_crm.core.segments import editing
from mini_crm.state.campaign_wizard import CampaignWizardState
from mini_crm.state.segments import SegmentEditorState

PUNE = {"combinator": "and", "rules": [{"field": "city", "operator": "=", "value": "Pune"}]}


def _at(path: str) -> SegmentEditorState:
    state = SegmentEditorState()
    state.router = RouterData.from_router_data({"pathname": path, "headers": {}, "query": {}})
    return state


def test_reset_editor_empties_what_was_edited_and_keeps_what_it_knows_of_the_data() -> None:
    s = _at("/campaigns/new")
    s.segment_id, s.name, s.tree = 7, "Pune spenders", editing.from_rules(PUNE)
    s.saved_message, s.save_error, s.error, s.error_path = "Saved.", "no", "bad", "rules[0]"
    s.drafts = {"rules[0]": "Mum"}
    s.ai_prompt, s.ai_engine, s.ai_note, s.ai_error = "gold tier in Pune", "offline", "n", "e"
    # A proposal held back for "Apply anyway": a new campaign must not offer it again.
    s.ai_source, s.ai_explanation = "description_unconfirmed", ["City is Pune"]
    s.ai_unused, s._ai_pending = ["gold", "tier"], {"rules": PUNE}
    s.ai_warnings = ["“Pume” is not a city in your data: did you mean Pune?"]
    s.cities = ["Pune", "Mumbai"]
    s.found, s.dirty = False, True  # a missing segment's card; unsaved edits
    s.unknown_cities = ["mumbay"]
    loads, generation = s.loads, s._generation

    s.reset_editor()

    assert (s.segment_id, s.name, s.tree) == (0, "", editing.empty_tree())
    assert (s.found, s.dirty) == (True, False)  # an editor again, nothing to lose
    assert (s.saved_message, s.save_error, s.error, s.error_path) == ("", "", "", "")
    assert s.drafts == {} and s.unknown_cities == []
    assert (s.ai_prompt, s.ai_engine, s.ai_note, s.ai_error, s.ai_source) == ("",) * 5
    assert (s.ai_explanation, s.ai_unused, s._ai_pending, s.ai_warnings) == ([], [], {}, [])
    # A load for the boxes (what was typed before it is sent again, not lost); a preview
    # still running is dropped.
    assert (s.loads, s._generation) == (loads + 1, generation + 1)
    assert s.cities == ["Pune", "Mumbai"]


def test_reset_editor_is_a_helper_not_an_event_the_browser_can_send() -> None:
    assert not {"reset_editor", "reset_assist", "use_context"} & set(
        SegmentEditorState.event_handlers)


def test_use_context_takes_the_cities_and_the_attribute_fields() -> None:
    """The one way the builder takes what it knows of the data (its own open, on a
    reconnect and afresh, and the campaign wizard's)."""
    s = _at("/segments/new")
    s.use_context({"cities": ["Pune", "Mumbai"], "keys": ["loyalty_tier"]})
    assert s.cities == ["Pune", "Mumbai"]
    assert s.field_options == editing.field_options(["loyalty_tier"])
    assert "attributes.loyalty_tier" in {o["value"] for o in s.field_options}


def test_an_edit_inside_the_campaign_wizard_also_saves_its_draft() -> None:
    tree = editing.from_rules(PUNE)
    assert _at("/campaigns/new")._edit(tree) == [SegmentEditorState.refresh_preview,
                                                 CampaignWizardState.note_edit]
    assert _at("/segments/new")._edit(tree) == SegmentEditorState.refresh_preview


def test_edits_and_a_new_name_are_unsaved_work_for_the_leave_guard() -> None:
    s = _at("/segments/new")
    assert s.dirty is False
    s.set_segment_name("")  # the same name again is no edit
    assert s.dirty is False
    s.set_segment_name("Pune spenders")
    assert s.dirty is True
    s.dirty = False
    s._edit(editing.from_rules(PUNE))
    assert s.dirty is True


def test_typed_text_records_its_keystroke_and_a_gone_rule_takes_nothing() -> None:
    """Each box's change carries the tab's keystroke number; the state keeps the last one
    applied (the boxes keep keys it has not applied yet over its older text), and text
    for a rule removed before it arrived is dropped, not an error."""
    s = _at("/segments/new")
    s.tree = editing.set_field(editing.empty_tree(), "0", "city")
    s.set_value("0", "Mumbai", 1764500000001)
    assert s.typed_seq == 1764500000001
    assert editing.to_rules(s.tree)["rules"][0]["value"] == "Mumbai"
    s.set_segment_name("Mumbai", 1764500000002)
    assert (s.typed_seq, s.name) == (1764500000002, "Mumbai")
    s.set_value("0", "Pune")  # not numbered: the last number stays
    assert s.typed_seq == 1764500000002
    loads = s.loads
    assert s.set_value("3", "Delhi", 1764500000003) is None  # no rule 3 (any more)
    assert s.typed_seq == 1764500000003
    assert editing.to_rules(s.tree)["rules"][0]["value"] == "Pune"
    # Typing is never a load: only an open, a load or a reset tells boxes to resend.
    assert s.loads == loads
