from __future__ import annotations

from mini_crm.core.segments import editing, parse_rules


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
