"""Unfinished rules (an empty value box) are left out of the count, not errors."""

from mini_crm.core.segments import editing, unfinished

TREE = {"combinator": "and", "not": False, "rules": [
    {"field": "total_spend", "operator": ">", "value": ""},
    {"combinator": "or", "not": False, "rules": [
        {"field": "city", "operator": "in", "value": ""},
        {"field": "order_count", "operator": ">=", "value": "3"}]},
    {"combinator": "and", "not": False, "rules": [
        {"field": "total_spend", "operator": "between", "value": ["100", ""]}]},
    {"field": "city", "operator": "is_null", "value": ""},
    {"field": "total_spend", "operator": "<", "value": "abc"},
]}


def test_empty_boxes_of_every_shape_are_unfinished() -> None:
    assert unfinished.unfinished_paths(TREE) == ["0", "1.0", "2.0"]


def test_finished_only_drops_them_and_maps_paths_back() -> None:
    pruned, paths = unfinished.finished_only(TREE)
    assert [r.get("field", "group") for r in pruned["rules"]] == [
        "group", "city", "total_spend"]
    assert pruned["rules"][0]["rules"] == [TREE["rules"][1]["rules"][1]]
    # The bad value "abc" is rules[2] in the pruned tree, rules[4] in the builder's.
    assert unfinished.original_error_path("rules[2]", paths) == "rules[4]"
    assert unfinished.original_error_path("rules[0].rules[0]", paths) == "rules[1].rules[1]"
    assert unfinished.original_error_path("rules[2].value[1]", paths) == "rules[4].value[1]"
    assert TREE["rules"][0]["value"] == ""  # the input is not changed


def test_a_new_rule_is_unfinished_only_if_its_box_is_empty() -> None:
    tree = editing.add_rule(editing.empty_tree(), "")
    expected = [] if tree["rules"][0].get("value") else ["0"]
    assert unfinished.unfinished_paths(tree) == expected
    changed = editing.set_field(tree, "0", "city")
    if not changed["rules"][0].get("value"):
        assert unfinished.unfinished_paths(changed) == ["0"]
    none = {"combinator": "and", "not": False, "rules": []}
    assert unfinished.finished_only(none)[0]["rules"] == []


def test_an_empty_window_day_count_is_unfinished() -> None:
    rule = {"field": "order_count", "operator": ">=", "value": "1",
            "window": {"last_days": ""}}
    assert unfinished.is_unfinished(rule)
    assert not unfinished.is_unfinished({**rule, "window": {"last_days": 30}})
