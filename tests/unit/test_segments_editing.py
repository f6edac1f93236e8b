from __future__ import annotations

import pytest

from mini_crm.core.segments import RulesError, editing, parse_rules


def test_edits_by_path_build_the_nested_tree() -> None:
    tree = editing.empty_tree()
    tree = editing.add_group(tree, "")
    tree = editing.set_field(tree, "1.0", "city")
    tree = editing.set_value(tree, "1.0", "Mumbai, Pune")
    tree = editing.set_operator(tree, "1.0", "in")
    tree = editing.add_rule(tree, "1")
    tree = editing.set_field(tree, "1.1", "days_since_last_order")
    tree = editing.set_operator(tree, "1.1", "between")
    tree = editing.set_value(tree, "1.1", "30", slot=0)
    tree = editing.set_value(tree, "1.1", "90", slot=1)
    tree = editing.toggle_not(tree, "1")
    rules = editing.to_rules(tree)
    assert rules == {"combinator": "and", "not": False, "rules": [
        {"field": "total_spend", "operator": ">", "value": 5000},
        {"combinator": "or", "not": True, "rules": [
            {"field": "city", "operator": "in", "value": ["Mumbai", "Pune"]},
            {"field": "days_since_last_order", "operator": "between", "value": [30, 90]}]}]}
    parse_rules(rules)
    assert editing.to_rules(editing.from_rules(rules)) == rules


def test_duplicate_remove_and_flatten_rows() -> None:
    tree = editing.duplicate(editing.empty_tree(), "0")
    assert len(tree["rules"]) == 2
    tree = editing.remove(tree, "0")
    rows = editing.flatten(editing.add_group(tree, ""), "rules[1].rules[0]", "bad value")
    assert [(r["kind"], r["path"], r["depth"]) for r in rows] == [
        ("group", "", 0), ("rule", "0", 1), ("group", "1", 1), ("rule", "1.0", 2)]
    assert rows[3]["error"] == "bad value" and rows[1]["error"] == ""


def test_changing_field_keeps_only_operators_that_apply() -> None:
    tree = editing.set_field(editing.empty_tree(), "0", "city")  # '>' does not apply to text
    assert tree["rules"][0]["operator"] == "="
    tree = editing.set_field(tree, "0", "attributes.loyalty_tier")
    tree = editing.set_value(tree, "0", "true")
    assert editing.to_rules(tree)["rules"][0]["value"] is True


def test_an_attribute_value_is_a_number_only_when_it_plainly_is_one() -> None:
    tree = editing.set_field(editing.empty_tree(), "0", "attributes.visits")
    for typed, sent in (("12", 12), ("7.50", 7.5), ("-3", -3), ("0400", "0400"),
                        ("+91", "+91"), ("1,200", "1,200"),
                        ("12345678901234567", "12345678901234567")):
        tree = editing.set_value(tree, "0", typed)
        assert editing.to_rules(tree)["rules"][0]["value"] == sent, typed
    tree = editing.set_operator(tree, "0", "starts_with")
    tree = editing.set_value(tree, "0", "98")
    assert editing.to_rules(tree)["rules"][0]["value"] == "98"  # a text question


def test_list_values_are_added_once_and_removed_by_index() -> None:
    tree = {"combinator": "and", "not": False,
            "rules": [{"field": "city", "operator": "in", "value": ""}]}
    tree = editing.add_item(tree, "0", "Mumbai")
    tree = editing.add_item(tree, "0", " pune , Goa ")  # a pasted list adds each
    tree = editing.add_item(tree, "0", "MUMBAI")  # already there, in any case
    assert tree["rules"][0]["value"] == "Mumbai, pune, Goa"
    assert editing.flatten(tree)[1]["items"] == ["Mumbai", "pune", "Goa"]
    tree = editing.remove_item(tree, "0", 1)
    assert editing.to_rules(tree)["rules"][0]["value"] == ["Mumbai", "Goa"]
    assert editing.remove_item(tree, "0", 9) == tree  # out of range: unchanged


def test_changing_to_a_field_of_another_kind_clears_the_value() -> None:
    tree = {"combinator": "and", "not": False,
            "rules": [{"field": "total_spend", "operator": ">", "value": "5000"}]}
    assert editing.set_field(tree, "0", "order_count")["rules"][0]["value"] == "5000"
    assert editing.set_field(tree, "0", "city")["rules"][0]["value"] == ""


def _tree(*rules: dict) -> dict:
    return {"combinator": "and", "not": False, "rules": list(rules)}


def test_exclude_unknowns_adds_is_set_beside_a_negative_rule() -> None:
    tree = _tree({"field": "city", "operator": "not_in", "value": "Mumbai"})
    row = editing.flatten(tree)[1]
    assert row["can_exclude"] is True
    done = editing.exclude_unknowns(tree, "0")
    assert editing.to_rules(done)["rules"] == [
        {"field": "city", "operator": "not_in", "value": ["Mumbai"]},
        {"field": "city", "operator": "is_not_null"}]
    assert editing.flatten(done)[1]["can_exclude"] is False  # offered once
    in_or = {"combinator": "or", "not": False, "rules": tree["rules"]}
    assert editing.to_rules(editing.exclude_unknowns(in_or, "0"))["rules"] == [
        {"combinator": "and", "not": False, "rules": [
            {"field": "city", "operator": "not_in", "value": ["Mumbai"]},
            {"field": "city", "operator": "is_not_null"}]}]
    spend = _tree({"field": "total_spend", "operator": "!=", "value": "5"})
    assert editing.flatten(spend)[1]["can_exclude"] is False  # never missing


def test_number_lists_keep_indian_grouping() -> None:
    tree = _tree({"field": "total_spend", "operator": "in", "value": ""})
    tree = editing.add_item(tree, "0", "1,50,000")
    tree = editing.add_item(tree, "0", "2,00,000; 10K")
    assert editing.flatten(tree)[1]["items"] == ["1,50,000", "2,00,000", "10K"]
    assert editing.to_rules(tree)["rules"][0]["value"] == [150000, 200000, 10000]
    city = editing.add_item(_tree({"field": "city", "operator": "in", "value": ""}), "0",
                            "Pune, Goa")
    assert editing.flatten(city)[1]["items"] == ["Pune", "Goa"]


def test_ambiguous_numbers_reach_the_schema_as_typed() -> None:
    tree = _tree({"field": "total_spend", "operator": ">", "value": "5.000,00"})
    assert editing.to_rules(tree)["rules"][0]["value"] == "5.000,00"
    with pytest.raises(RulesError, match="write 5000.00"):
        parse_rules(editing.to_rules(tree))


def test_window_fields_carry_their_period_and_item_filter() -> None:
    tree = editing.set_field(_tree(dict(editing.DEFAULT_RULE)), "0", "window_order_count")
    row = editing.flatten(tree)[1]
    assert row["is_window"] and row["window_mode"] == "last_days" and row["last_days"] == "30"
    tree = editing.set_operator(tree, "0", ">")
    tree = editing.set_value(tree, "0", "3")
    tree = editing.set_window_mode(tree, "0", "dates")
    tree = editing.set_window_dates(tree, "0", "2025-01-01", 0)
    tree = editing.set_window_dates(tree, "0", "2025-12-31", 1)
    tree = editing.set_items_match(tree, "0", "category", "shoes")
    rules = editing.to_rules(tree)
    assert rules["rules"] == [{"field": "window_order_count", "operator": ">", "value": 3,
                               "window": {"from": "2025-01-01", "to": "2025-12-31"},
                               "items_match": {"key": "category", "value": "shoes"}}]
    parse_rules(rules)
    assert editing.to_rules(editing.from_rules(rules)) == rules
    back = editing.set_field(tree, "0", "total_spend")
    assert "window" not in editing.to_rules(back)["rules"][0]
    assert editing.flatten(back)[1]["is_window"] is False




def test_attribute_fields_are_named_in_words() -> None:
    from mini_crm.core.segments import editing

    options = {o["value"]: o["label"] for o in editing.field_options(
        ["gender", "loyalty_tier", "city"])}
    assert options["attributes.gender"] == "Gender"
    assert options["attributes.loyalty_tier"] == "Loyalty tier"
    assert options["attributes.city"] == "City (custom attribute)"  # beside the built-in
    assert options["city"] == "City"


def test_each_rule_can_show_its_own_field_in_the_menu() -> None:
    """A rule whose field is not in the known list (an attribute no longer in the
    catalogue, an AI-filled rule) adds its field to the menu, named in words; a browser
    select would otherwise show the first option ("Total spend") for it."""
    options = editing.field_options([])
    tree = editing.from_rules({"combinator": "and", "rules": [
        {"field": "attributes.gender", "operator": "=", "value": "female"},
        {"combinator": "or", "rules": [
            {"field": "attributes.gender", "operator": "!=", "value": "male"},
            {"field": "total_spend", "operator": ">", "value": 5000}]}]})
    menu = editing.menu_with_tree_fields(options, tree)
    assert menu[:len(options)] == options
    assert menu[len(options):] == [{"value": "attributes.gender", "label": "Gender"}]
    # known fields add nothing
    known = editing.field_options(["gender"])
    assert editing.menu_with_tree_fields(known, tree) == known
