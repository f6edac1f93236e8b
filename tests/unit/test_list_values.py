"""A list rule's value box (city is any of …): separators make chips and empty the box,
a paste makes one chip per value, and a typo is offered its known value, never swapped
in on its own. The builder state's handlers are played as the browser sends them."""

from __future__ import annotations

import json

from reflex.istate.data import RouterData

import mini_crm.mini_crm  # noqa: F401 - registers every state, as in the running app
from mini_crm.core import near_names
from mini_crm.core.ai.nl import near_misses
from mini_crm.core.segments import editing, list_values
from mini_crm.state.segments import SegmentEditorState

CITIES = ["Mumbai", "Pune", "Delhi", "Bengaluru", "Chennai"]


def test_a_separator_closes_a_value_and_the_box_keeps_nothing() -> None:
    assert list_values.split_draft("Pune", "Pun", "city") == ([], "Pune")
    for text in ("Pune,", "Pune;", "Pune, ", "Pune\n"):
        assert list_values.split_draft(text, "Pune", "city") == (["Pune"], "")


def test_a_paste_makes_one_chip_per_value() -> None:
    assert list_values.split_draft("Pune, Mumbai; Delhi", "", "city") == (
        ["Pune", "Mumbai", "Delhi"], "")
    # Pasted onto text already in the box, or replacing a selection: all of it.
    assert list_values.split_draft("GoaPune, Agra", "Goa", "city") == (
        ["GoaPune", "Agra"], "")
    assert list_values.split_draft(" , ;", "", "city") == ([], "")


def test_a_key_typed_after_a_separator_stays_in_the_box() -> None:
    # The browser sent "Pune," and then "Pune,M" before the server's answer came back:
    # the M starts the next value.
    assert list_values.split_draft("Pune,M", "Pune,", "city") == (["Pune"], "M")
    assert list_values.split_draft("Pune, M", "Pune, ", "city") == (["Pune"], "M")
    assert list_values.split_draft("Pune,Mu", "Pune,M", "city") == (["Pune"], "Mu")
    # A comma typed between two words (not at the end) splits them both.
    assert list_values.split_draft("Pune,Mumbai", "PuneMumbai", "city") == (
        ["Pune", "Mumbai"], "")


def test_numbers_keep_their_digit_grouping() -> None:
    assert list_values.split_draft("1,50,000", "1,50,00", "total_spend") == ([], "1,50,000")
    assert list_values.split_draft("1,50,000, ", "1,50,000,", "total_spend") == (
        ["1,50,000"], "")
    assert list_values.split_draft("500; 1,000", "", "order_count") == (["500", "1,000"], "")


def test_did_you_mean_offers_the_closest_known_value_only_for_an_unknown_one() -> None:
    assert list_values.suggest_city("Mumbay", CITIES) == "Mumbai"
    assert list_values.suggest_city("mumbay", CITIES) == "Mumbai"
    assert list_values.suggest_city("Pue", CITIES) == "Pune"
    assert list_values.suggest_city("pune", CITIES) == ""  # known, in another case
    assert list_values.suggest_city("Goa", CITIES) == ""  # near nothing
    assert list_values.suggest_city("  ", CITIES) == ""
    assert list_values.suggest_city("Mumbay", []) == ""


def test_one_did_you_mean_serves_the_builder_and_the_parser_at_their_cutoffs() -> None:
    """core/near_names is the one implementation: the builder's looser cutoff (0.6) and
    the parser's stricter one (0.75) are its callers' arguments."""
    assert list_values.CLOSE_ENOUGH == 0.6 and near_misses.MIN_RATIO == 0.75
    # "Mumbaikar" → "Mumbai" is 0.8: both offer it; "Pue" → "Pune" 0.86.
    assert near_names.did_you_mean("Mumbaikar", CITIES, cutoff=0.75) == "Mumbai"
    # "Chenai" → "Chennai" is 0.92; "Bangalore" → "Bengaluru" is 0.67: the builder
    # offers it (a city box, nobody lives in "Bangalore"), the parser does not.
    assert near_names.did_you_mean("Bangalore", CITIES, cutoff=0.6) == "Bengaluru"
    assert near_names.did_you_mean("Bangalore", CITIES, cutoff=0.75) == ""
    assert list_values.suggest_city("Bangalore", CITIES) == "Bengaluru"
    # The known spelling comes back, and a known name in any case is no miss.
    assert near_names.did_you_mean("CHENAI", CITIES, cutoff=0.75) == "Chennai"
    assert near_names.did_you_mean("DELHI", CITIES, cutoff=0.6) == ""


def test_only_the_cities_the_whole_table_lacks_get_a_did_you_mean() -> None:
    """A chip outside the suggested top cities is a real city all the same unless the
    preview's whole-table check (service.unknown_cities) found no one in it."""
    assert list_values.list_fixes(["Pue", "Pun"], CITIES, unknown={"pue"}) == [
        {"index": 0, "item": "Pue", "suggest": "Pune"}]
    rules = {"combinator": "and", "rules": [
        {"field": "city", "operator": "=", "value": "Pue"},
        {"combinator": "or", "rules": [
            {"field": "city", "operator": "in", "value": ["Delhi", " ", "Agra"]},
            {"field": "total_spend", "operator": ">", "value": 5},
            {"field": "city", "operator": "is_null"}]}]}
    assert list_values.city_values(rules) == ["Pue", "Delhi", "Agra"]
    s = _editor()
    s.tree = editing.from_rules({"combinator": "and", "rules": [
        {"field": "city", "operator": "=", "value": "Pue"}]})
    assert s.rows[1]["suggest"] == ""  # not checked yet: nothing said
    s.unknown_cities = ["pue"]
    assert s.rows[1]["suggest"] == "Pune"
    s.tree = editing.set_value(s.tree, "0", "Nashik")  # known to the table, not the top
    s.unknown_cities = []
    assert s.rows[1]["suggest"] == ""


def test_list_fixes_and_replace_item_keep_the_chips_order() -> None:
    items = ["Delhi", "Pue", "Mumbay", "Punee"]
    assert list_values.list_fixes(items, CITIES) == [
        {"index": 1, "item": "Pue", "suggest": "Pune"},
        {"index": 2, "item": "Mumbay", "suggest": "Mumbai"},
        {"index": 3, "item": "Punee", "suggest": "Pune"}]
    tree = editing.set_operator(editing.set_field(editing.empty_tree(), "0", "city"), "0", "in")
    tree = editing.set_value(tree, "0", ", ".join(items))
    fixed = list_values.replace_item(tree, "0", 2, "Mumbai")
    assert editing.to_rules(fixed)["rules"][0]["value"] == ["Delhi", "Pue", "Mumbai", "Punee"]
    assert editing.to_rules(tree)["rules"][0]["value"] == items  # not mutated
    # Out of range, or the value is a chip already: nothing changes.
    assert list_values.replace_item(tree, "0", 9, "Pune") == tree
    once = list_values.replace_item(tree, "0", 1, "Pune")
    assert list_values.replace_item(once, "0", 3, "pune") == once
    assert list_values.list_fixes(editing.to_rules(once)["rules"][0]["value"], CITIES) == [
        {"index": 2, "item": "Mumbay", "suggest": "Mumbai"}]  # Punee: Pune is there


def _editor() -> SegmentEditorState:
    s = SegmentEditorState()
    s.router = RouterData.from_router_data({"pathname": "/segments/new", "headers": {},
                                            "query": {}})
    s.tree = editing.set_operator(editing.set_field(editing.empty_tree(), "0", "city"), "0",
                                  "in")
    s.cities = CITIES
    return s


def _chips(s: SegmentEditorState) -> list[str]:
    return next(r for r in s.rows if r["path"] == "0")["items"]


def _scripts(events: object) -> list[str]:
    return [str(e) for e in (events or []) if "_call_script" in str(e)]


def test_typing_a_comma_makes_a_chip_and_empties_the_box_in_one_step() -> None:
    s = _editor()
    for text in ("p", "pu", "pun", "pune"):
        assert s.set_draft("0", text) is None
    assert _chips(s) == [] and s.drafts["0"] == "pune"
    events = s.set_draft("0", "pune,")
    assert _chips(s) == ["Pune"]  # the data's own spelling
    assert s.drafts["0"] == ""  # the box's copy: a remounted box shows nothing
    assert s.dirty is True
    (script,) = _scripts(events)
    assert json.dumps("pune,") in script and "startsWith" in script
    # A key typed before that answer arrived comes as "pune,M": it stays in the box.
    s.set_draft("0", "pune,M")
    assert _chips(s) == ["Pune"] and s.drafts["0"] == "M"
    s.set_draft("0", "Mu")  # the box after the answers: "M", and a key
    assert s.drafts["0"] == "Mu"
    events = s.draft_key("0", "Enter")
    assert _chips(s) == ["Pune", "Mu"] and s.drafts["0"] == ""
    assert _scripts(events)
    assert s.commit_draft("0", "") is None  # leaving the empty box adds nothing


def test_a_pasted_list_makes_three_chips_and_blur_adds_the_last_typed_value() -> None:
    s = _editor()
    s.set_draft("0", "Pune, Mumbai; Delhi")
    assert _chips(s) == ["Pune", "Mumbai", "Delhi"] and s.drafts["0"] == ""
    s.set_draft("0", "Bengaluur")
    s.commit_draft("0", "Bengaluur")  # leaving the box
    assert _chips(s) == ["Pune", "Mumbai", "Delhi", "Bengaluur"]
    s.unknown_cities = ["bengaluur"]  # what the preview's whole-table check found
    row = next(r for r in s.rows if r["path"] == "0")
    # Offered, not applied: the chip stays as typed until the marketer clicks.
    assert row["fixes"] == [{"index": 3, "item": "Bengaluur", "suggest": "Bengaluru"}]
    s.use_item("0", 3, "Bengaluru")
    assert _chips(s) == ["Pune", "Mumbai", "Delhi", "Bengaluru"]
    assert next(r for r in s.rows if r["path"] == "0")["fixes"] == []


def test_a_draft_for_a_rule_that_went_is_ignored() -> None:
    s = _editor()
    assert s.set_draft("7", "Pune,") is None
    assert _chips(s) == []
