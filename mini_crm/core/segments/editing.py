"""Editing a rules tree by path, and flattening it into rows for the rule builder UI.

A path is the dot-joined child indices from the root group ("" is the root,
"1.0" the first child of the root's second child). Every function returns a new
tree; the input is never mutated.

At ~460 lines this module is past the codebase's 450-line mark on purpose: the edits
and the rows the builder renders (`flatten`, the field menu) change
together whenever a rule shape is added (a window, items_match), so they stay in one
place.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from mini_crm.core import numbers
from mini_crm.core.segments.fields import (
    ATTRIBUTE_PREFIX,
    NEGATIVE,
    NULLS,
    SET,
    field_spec,
    registry,
)

DEFAULT_RULE = {"field": "total_spend", "operator": ">", "value": "5000"}
DEFAULT_WINDOW = {"last_days": 30}
# In a list of numbers a comma also groups digits ("1,50,000"): values are separated by
# ";", a new line or a comma followed by a space (the builder joins chips with ", ").
NUMBER_LIST_SEPARATOR = re.compile(r"\s*(?:;|\n|,\s+)\s*")
NUMERIC_KINDS = ("number", "days", "window")


def empty_tree() -> dict[str, Any]:
    return {"combinator": "and", "not": False, "rules": [copy.deepcopy(DEFAULT_RULE)]}


def _indices(path: str) -> list[int]:
    return [int(p) for p in path.split(".")] if path else []


def _node(tree: dict[str, Any], path: str) -> dict[str, Any]:
    node = tree
    for i in _indices(path):
        node = node["rules"][i]
    return node


def _parent(tree: dict[str, Any], path: str) -> tuple[dict[str, Any], int]:
    indices = _indices(path)
    if not indices:
        raise ValueError("the root group has no parent")
    parent = tree
    for i in indices[:-1]:
        parent = parent["rules"][i]
    return parent, indices[-1]


def add_rule(tree: dict[str, Any], group_path: str) -> dict[str, Any]:
    new = copy.deepcopy(tree)
    _node(new, group_path)["rules"].append(copy.deepcopy(DEFAULT_RULE))
    return new


def add_group(tree: dict[str, Any], group_path: str) -> dict[str, Any]:
    new = copy.deepcopy(tree)
    _node(new, group_path)["rules"].append(
        {"combinator": "or", "not": False, "rules": [copy.deepcopy(DEFAULT_RULE)]})
    return new


def remove(tree: dict[str, Any], path: str) -> dict[str, Any]:
    new = copy.deepcopy(tree)
    parent, i = _parent(new, path)
    del parent["rules"][i]
    return new


def duplicate(tree: dict[str, Any], path: str) -> dict[str, Any]:
    new = copy.deepcopy(tree)
    parent, i = _parent(new, path)
    parent["rules"].insert(i + 1, copy.deepcopy(parent["rules"][i]))
    return new


def toggle_combinator(tree: dict[str, Any], path: str) -> dict[str, Any]:
    new = copy.deepcopy(tree)
    node = _node(new, path)
    node["combinator"] = "or" if node.get("combinator", "and") == "and" else "and"
    return new


def toggle_not(tree: dict[str, Any], path: str) -> dict[str, Any]:
    new = copy.deepcopy(tree)
    node = _node(new, path)
    node["not"] = not node.get("not", False)
    return new


def set_field(tree: dict[str, Any], path: str, field: str) -> dict[str, Any]:
    """Change a rule's field; keep the operator if it still applies, else pick the first."""
    new = copy.deepcopy(tree)
    rule = _node(new, path)
    spec = field_spec(field)
    if spec is None:
        raise ValueError(f"unknown field {field!r}")
    before = field_spec(rule.get("field", ""))
    rule["field"] = field
    if rule.get("operator") not in spec.operators:
        rule["operator"] = spec.operators[0]
    if spec.kind == "window":
        rule.setdefault("window", dict(DEFAULT_WINDOW))
    else:
        rule.pop("window", None)
        rule.pop("items_match", None)
    # A value only carries over between fields of the same kind (₹5000 is no city).
    kept = rule.get("value") if before is not None and before.kind == spec.kind else ""
    rule["value"] = _reshape(kept, rule["operator"])
    return new


def set_operator(tree: dict[str, Any], path: str, operator: str) -> dict[str, Any]:
    new = copy.deepcopy(tree)
    rule = _node(new, path)
    rule["operator"] = operator
    rule["value"] = _reshape(rule.get("value"), operator)
    return new


def set_value(tree: dict[str, Any], path: str, value: str, slot: int = 0) -> dict[str, Any]:
    """Set a value from a text input; slot 1 is the upper bound of `between`."""
    new = copy.deepcopy(tree)
    rule = _node(new, path)
    if rule["operator"] == "between":
        pair = list(rule.get("value") or ["", ""])[:2] + [""] * 2
        pair[slot] = value
        rule["value"] = pair[:2]
    else:
        rule["value"] = value
    return new


def list_items(text: str, field: str = "") -> list[str]:
    """The values of an `in` / `not in` rule, from the builder's comma-separated text.

    For a number field "1,50,000" is one value; numbers are separated by "; ", a new line
    or ", " (comma and space)."""
    spec = field_spec(field) if field else None
    if spec is not None and spec.kind in NUMERIC_KINDS:
        return [part for part in NUMBER_LIST_SEPARATOR.split((text or "").strip()) if part]
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def rule_field(tree: dict[str, Any], path: str) -> str:
    return str(_node(tree, path).get("field", ""))


def add_item(tree: dict[str, Any], path: str, item: str) -> dict[str, Any]:
    """Add one value to a list rule (ignored when empty or already there, any case)."""
    new = copy.deepcopy(tree)
    rule = _node(new, path)
    field = str(rule.get("field", ""))
    items = list_items(str(rule.get("value") or ""), field)
    for part in list_items(item, field):  # a pasted "Pune, Goa" adds both
        if part.casefold() not in {i.casefold() for i in items}:
            items.append(part)
    rule["value"] = ", ".join(items)
    return new


def remove_item(tree: dict[str, Any], path: str, index: int) -> dict[str, Any]:
    new = copy.deepcopy(tree)
    rule = _node(new, path)
    items = list_items(str(rule.get("value") or ""), str(rule.get("field", "")))
    if 0 <= index < len(items):
        del items[index]
    rule["value"] = ", ".join(items)
    return new


def set_window_days(tree: dict[str, Any], path: str, text: str) -> dict[str, Any]:
    """A window of the last N days (N as typed; the schema says if it is not a number)."""
    new = copy.deepcopy(tree)
    rule = _node(new, path)
    text = (text or "").strip()
    rule["window"] = {"last_days": int(text) if text.isdigit() else text}
    return new


def set_window_dates(tree: dict[str, Any], path: str, value: str, slot: int) -> dict[str, Any]:
    """A from/to window; slot 0 sets "from", 1 sets "to" (ISO dates from date inputs)."""
    new = copy.deepcopy(tree)
    rule = _node(new, path)
    window = rule.get("window") if isinstance(rule.get("window"), dict) else {}
    pair = {"from": window.get("from", ""), "to": window.get("to", "")}
    pair["from" if slot == 0 else "to"] = value
    rule["window"] = pair
    return new


def set_window_mode(tree: dict[str, Any], path: str, mode: str) -> dict[str, Any]:
    """'last_days' or 'dates': switch the kind of window, with a sensible default."""
    new = copy.deepcopy(tree)
    rule = _node(new, path)
    rule["window"] = dict(DEFAULT_WINDOW) if mode == "last_days" else {"from": "", "to": ""}
    return new


def set_items_match(tree: dict[str, Any], path: str, key: str, value: str) -> dict[str, Any]:
    """Only orders with an item whose `key` is `value`; an empty value removes the filter."""
    new = copy.deepcopy(tree)
    rule = _node(new, path)
    if (value or "").strip():
        rule["items_match"] = {"key": (key or "category").strip() or "category",
                               "value": value}
    else:
        rule.pop("items_match", None)
    return new


def exclude_unknowns(tree: dict[str, Any], path: str) -> dict[str, Any]:
    """Add an explicit `is_not_null` beside a negative rule, so customers without a value
    are left out ("not in Mumbai" then means "has a city, and it is not Mumbai"). In an OR
    group the rule and its `is_not_null` become an AND group in its place."""
    new = copy.deepcopy(tree)
    parent, i = _parent(new, path)
    rule = parent["rules"][i]
    guard = {"field": rule["field"], "operator": "is_not_null", "value": ""}
    if parent.get("combinator", "and") == "and":
        parent["rules"].insert(i + 1, guard)
    else:
        parent["rules"][i] = {"combinator": "and", "not": False, "rules": [rule, guard]}
    return new


def _excludes_unknowns(siblings: list[dict[str, Any]], field: str) -> bool:
    return any(s.get("field") == field and s.get("operator") == "is_not_null"
               for s in siblings if "rules" not in s)


def _reshape(value: Any, operator: str) -> Any:
    if operator in NULLS:
        return ""
    if operator == "between":
        return value if isinstance(value, list) and len(value) == 2 else [_first(value), ""]
    return _first(value) if isinstance(value, list) else (value or "")


def _first(value: Any) -> str:
    if isinstance(value, list):
        return str(value[0]) if value else ""
    return "" if value is None else str(value)


def to_rules(tree: dict[str, Any]) -> dict[str, Any]:
    """The builder's tree (values typed as text) as rules JSON with proper types."""
    out: dict[str, Any] = {"combinator": tree.get("combinator", "and"),
                           "not": bool(tree.get("not", False)), "rules": []}
    for node in tree.get("rules", []):
        if "rules" in node:
            out["rules"].append(to_rules(node))
            continue
        rule = {"field": node["field"], "operator": node["operator"]}
        if node["operator"] not in NULLS:
            rule["value"] = _typed_value(node["field"], node["operator"], node.get("value"))
        for key in ("window", "items_match"):
            if key in node:
                rule[key] = copy.deepcopy(node[key])
        out["rules"].append(rule)
    return out


def from_rules(rules: dict[str, Any]) -> dict[str, Any]:
    """Saved rules JSON back into the builder's text-valued tree."""
    out: dict[str, Any] = {"combinator": rules.get("combinator", "and"),
                           "not": bool(rules.get("not", False)), "rules": []}
    for node in rules.get("rules", []):
        if "rules" in node:
            out["rules"].append(from_rules(node))
            continue
        value = node.get("value", "")
        if node.get("operator") == "between":
            value = [str(v) for v in (value if isinstance(value, list) else ["", ""])]
        elif isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        elif isinstance(value, bool):
            value = "true" if value else "false"
        else:
            value = "" if value is None else str(value)
        out["rules"].append({"field": node["field"], "operator": node["operator"],
                             "value": value,
                             **{k: copy.deepcopy(node[k]) for k in ("window", "items_match")
                                if k in node}})
    return out


TEXT_OPERATORS = ("contains", "not_contains", "starts_with", "ends_with")


def _typed_value(field: str, operator: str, value: Any) -> Any:
    if operator == "between":
        return [_typed_scalar(field, v) for v in (value or ["", ""])]
    if operator in SET:
        text = value if isinstance(value, str) else ", ".join(map(str, value or []))
        return [_typed_scalar(field, part) for part in list_items(text, field)]
    if operator in TEXT_OPERATORS:  # "starts with 98" is about text, whatever it looks like
        return "" if value is None else str(value).strip()
    return _typed_scalar(field, value)


def _typed_scalar(field: str, value: Any) -> Any:
    text = "" if value is None else str(value).strip()
    spec = field_spec(field)
    kind = spec.kind if spec else "text"
    if kind in NUMERIC_KINDS:
        # Read by the one number reader; text it refuses ("5.000,00") goes on as typed so
        # the schema's message says how to write it.
        try:
            number = numbers.parse_number(text)
        except numbers.NumberFormatError:
            return text
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == "attribute":
        if text.lower() in ("true", "false"):
            return text.lower() == "true"
        # The one reading of "a text that means a number" (the schema and the SQL share
        # it): "12" is 12, while a zip code or id such as "0400" stays text (it was 400).
        if (number := numbers.numeric_text(text)) is not None:
            return int(number) if number == number.to_integral_value() else float(number)
    return text


def flatten(tree: dict[str, Any], error_path: str = "", error_message: str = ""
            ) -> list[dict[str, Any]]:
    """Rows for rendering: groups (with their depth) and rules, in display order."""
    rows: list[dict[str, Any]] = []
    _flatten(tree, "", 0, rows, _ui_path(error_path), error_message)
    return rows


# What the builder's free-text boxes show, per row (components/rule_builder.py).
def _ui_path(error_path: str) -> str:
    # "rules[1].rules[0]" (RulesError) -> "1.0" (builder path)
    return ".".join(re.findall(r"\[(\d+)\]", error_path))


def _flatten(node: dict[str, Any], path: str, depth: int, rows: list[dict[str, Any]],
             error_path: str, error_message: str,
             siblings: list[dict[str, Any]] | None = None) -> None:
    if "rules" in node:
        rows.append({"kind": "group", "path": path, "depth": depth,
                     "combinator": node.get("combinator", "and"),
                     "negate": bool(node.get("not", False)), "count": len(node["rules"]),
                     "is_root": path == "",
                     "error": error_message if error_path == path and path else ""})
        for i, child in enumerate(node["rules"]):
            _flatten(child, f"{path}.{i}" if path else str(i), depth + 1, rows, error_path,
                     error_message, node["rules"] if node.get("combinator", "and") == "and"
                     else [])
        return
    spec = field_spec(node["field"])
    value = node.get("value", "")
    between = node["operator"] == "between"
    pair = list(value) + ["", ""] if isinstance(value, list) else [value, ""]
    rows.append({
        "kind": "rule", "path": path, "depth": depth, "field": node["field"],
        "operator": node["operator"],
        "operators": list(spec.operators) if spec else [],
        "value": "" if between else _first(value) if isinstance(value, list) else str(value),
        "low": str(pair[0]) if between else "", "high": str(pair[1]) if between else "",
        "input": _input_kind(spec.kind if spec else "text", node["operator"]),
        "items": (list_items(str(value), node["field"]) if node["operator"] in SET
                  and not between else []),
        "unit": spec.symbol if spec else "",
        "error": error_message if error_path == path else "",
        # "exclude unknowns": offered beside a negative rule on a field that can be missing
        "can_exclude": node["operator"] in NEGATIVE and (spec is None or spec.nullable)
        and not _excludes_unknowns(siblings or [], node["field"]),
        **_window_row(node),
    })


def _window_row(node: dict[str, Any]) -> dict[str, Any]:
    window = node.get("window") if isinstance(node.get("window"), dict) else {}
    items = node.get("items_match") if isinstance(node.get("items_match"), dict) else {}
    dates = "from" in window or "to" in window
    return {"is_window": "window" in node, "window_mode": "dates" if dates else "last_days",
            "last_days": "" if dates else str(window.get("last_days", "")),
            "window_from": str(window.get("from", "")), "window_to": str(window.get("to", "")),
            "item_key": str(items.get("key", "category")),
            "item_value": str(items.get("value", ""))}


def _input_kind(kind: str, operator: str) -> str:
    if operator in NULLS:
        return "none"
    if operator == "between":
        return "date_pair" if kind == "date" else "number_pair"
    if operator in SET:
        return "list"
    return {"number": "number", "days": "number", "date": "date", "window": "number"}.get(
        kind, "text")


def attribute_label(key: str) -> str:
    """A custom attribute as a marketer names it: "loyalty_tier" -> "Loyalty tier"."""
    words = key.replace("_", " ").replace("-", " ").replace(".", " ").split()
    return " ".join(words).capitalize() if words else key


def field_options(attribute_keys: list[str]) -> list[dict[str, str]]:
    """The field menu: built-in fields, then custom attributes by their plain name ("Gender",
    not attributes.gender), marked only where a built-in field has the same name."""
    options = [{"value": f.name, "label": f.label} for f in registry().values()]
    taken = {o["label"].casefold() for o in options}
    for k in attribute_keys:
        label = attribute_label(k)
        if label.casefold() in taken:
            label = f"{label} (custom attribute)"
        options.append({"value": f"attributes.{k}", "label": label})
    return options


def _fields_used(node: dict[str, Any]) -> list[str]:
    if "rules" in node:
        return [f for child in node["rules"] for f in _fields_used(child)]
    return [str(node.get("field", ""))]


def menu_with_tree_fields(options: list[dict[str, str]], tree: dict[str, Any]
                          ) -> list[dict[str, str]]:
    """`options` (from `field_options`) plus every field a rule of `tree` uses that they
    lack, so each rule's Field menu can show its own field. A browser select whose value
    is not among its options shows the first one: an AI-filled "gender is female" read as
    "Total spend is female" while the stored rule said gender."""
    known = {o["value"] for o in options}
    extra: list[dict[str, str]] = []
    for name in _fields_used(tree):
        if not name or name in known:
            continue
        known.add(name)
        if name.startswith(ATTRIBUTE_PREFIX):
            label = attribute_label(name[len(ATTRIBUTE_PREFIX):])
        else:
            spec = field_spec(name)
            label = spec.label if spec else name
        extra.append({"value": name, "label": label})
    return options + extra if extra else options
