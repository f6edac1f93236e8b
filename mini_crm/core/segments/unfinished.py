"""Rules the marketer has not finished yet: a rule just added, or whose field changed,
has an empty value box. That is not an error (nothing was typed wrong): the builder
counts the audience without such rules and says how many it left out, and the box shows
a quiet "enter a value" hint instead of a red message."""

from __future__ import annotations

import copy
import re
from typing import Any

from mini_crm.core.segments.editing import list_items
from mini_crm.core.segments.fields import NULLS, SET

HINT = "enter a value"


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def is_unfinished(rule: dict[str, Any]) -> bool:
    """A rule (builder tree node, values as text) with a value box still empty: its
    value, either end of a range, a list with no values, or a window's day count."""
    window = rule.get("window")
    if isinstance(window, dict) and "last_days" in window and _blank(window["last_days"]):
        return True
    operator = rule.get("operator")
    if operator in NULLS:
        return False
    value = rule.get("value")
    if operator == "between":
        pair = list(value) if isinstance(value, list) else [value]
        return len(pair) < 2 or any(_blank(v) for v in pair[:2])
    if operator in SET:
        text = value if isinstance(value, str) else ", ".join(map(str, value or []))
        return not list_items(text, str(rule.get("field", "")))
    return _blank(value)


def unfinished_paths(tree: dict[str, Any]) -> list[str]:
    """The builder paths ("1.0") of the unfinished rules in `tree`, in display order."""
    found: list[str] = []

    def walk(node: dict[str, Any], path: str) -> None:
        for i, child in enumerate(node.get("rules", [])):
            child_path = f"{path}.{i}" if path else str(i)
            if "rules" in child:
                walk(child, child_path)
            elif is_unfinished(child):
                found.append(child_path)

    walk(tree, "")
    return found


def finished_only(tree: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """`tree` without its unfinished rules (and without groups left empty by that), and
    a map from each kept node's path in the pruned tree to its path in `tree`, so an
    error the schema finds in the pruned tree is shown on the right row."""
    paths: dict[str, str] = {}

    def prune(node: dict[str, Any], old: str, new: str) -> dict[str, Any] | None:
        kept: list[dict[str, Any]] = []
        for i, child in enumerate(node.get("rules", [])):
            old_child = f"{old}.{i}" if old else str(i)
            new_child = f"{new}.{len(kept)}" if new else str(len(kept))
            if "rules" in child:
                pruned = prune(child, old_child, new_child)
                if pruned is None:
                    continue
                kept.append(pruned)
            elif is_unfinished(child):
                continue
            else:
                kept.append(copy.deepcopy(child))
            paths[new_child] = old_child
        if not kept and old:
            return None  # a group holding only unfinished rules counts as not there yet
        return {**{k: v for k, v in node.items() if k != "rules"}, "rules": kept}

    return prune(tree, "", "") or {"combinator": "and", "not": False, "rules": []}, paths


def original_error_path(error_path: str, paths: dict[str, str]) -> str:
    """A schema error path in the pruned tree ("rules[0].rules[1]") as the same node's
    schema path in the full tree."""
    match = re.match(r"(?:\.?rules\[\d+\])+", error_path)
    if not match:
        return error_path
    old = paths.get(".".join(re.findall(r"\[(\d+)\]", match.group(0))))
    if old is None:
        return error_path
    return ".".join(f"rules[{i}]" for i in old.split(".")) + error_path[match.end():]
