"""A list rule's value box ("city is any of …"): which typed or pasted text becomes chips,
what stays in the box, and the known value a typed one most likely meant.

The builder's box sends its whole text on every change. A separator (a comma, a
semicolon or a new line; for numbers, where "1,50,000" groups digits, a semicolon, a new
line or a comma followed by a space) closes a value: "Pune," makes the chip "Pune" and
leaves the box empty, and a pasted "Pune, Mumbai; Delhi" makes three chips. The one
exception is a key typed right after a separator, before the box was emptied (the
browser sends "Pune," and then "Pune,M" before the server's answer arrives): the "M"
is the start of the next value, so it stays in the box.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from mini_crm.core.near_names import did_you_mean
from mini_crm.core.segments import editing
from mini_crm.core.segments.fields import field_spec

TEXT_SEPARATOR = re.compile(r"[,;\n]")
# How near a typed city must be to a known one for the builder's "did you mean" (difflib's
# ratio, 0..1; core/near_names says why the builder's cutoff is looser than the parser's).
CLOSE_ENOUGH = 0.6


def _separator(field: str) -> re.Pattern[str]:
    spec = field_spec(field) if field else None
    numeric = spec is not None and spec.kind in editing.NUMERIC_KINDS
    return editing.NUMBER_LIST_SEPARATOR if numeric else TEXT_SEPARATOR


def split_draft(text: str, sent_before: str, field: str = "") -> tuple[list[str], str]:
    """Read a list rule's box after a change: `text` is what it holds now, `sent_before`
    the text it sent last time, `field` the rule's field (numbers separate differently).

    Returns (the values that become chips, in order, blanks dropped; the text that stays
    in the box). Text without a separator stays whole: ([], text). Text with one becomes
    chips entirely, unless the change was one character typed after the text sent
    before and the text ends in a value still being typed: that value stays in the box,
    without leading blanks.
    """
    parts = _separator(field).split(text or "")
    if len(parts) == 1:
        return [], text or ""
    *done, tail = parts
    typing_on = bool(tail.strip()) and text[:-1] == sent_before
    values = [p.strip() for p in (done if typing_on else parts) if p.strip()]
    return values, tail.lstrip() if typing_on else ""


def known_spelling(values: list[str], known: list[str]) -> list[str]:
    """Each value in the data's own spelling when it is a known one in another case
    ("pune" → "Pune"), else as typed."""
    by_fold = {k.casefold(): k for k in known}
    return [by_fold.get(v.casefold(), v) for v in values]


def suggest_city(value: str, known: list[str]) -> str:
    """The known city a rule's `value` most likely meant ("Mumbay" → "Mumbai"), or ""
    when it is known (any case), blank, or near none: core/near_names at the builder's
    cutoff."""
    return did_you_mean(value, known, cutoff=CLOSE_ENOUGH)


def city_values(rules: dict[str, Any]) -> list[str]:
    """Every city a rules tree (stored shape, as `editing.to_rules` gives) names in an
    is / is not / is any of / is none of rule, in order, as written."""
    found: list[str] = []
    for rule in rules.get("rules") or []:
        if not isinstance(rule, dict):
            continue
        if "rules" in rule:
            found += city_values(rule)
        elif rule.get("field") == "city" and rule.get("operator") in ("=", "!=", "in",
                                                                       "not_in"):
            value = rule.get("value")
            found += [str(v) for v in (value if isinstance(value, list) else [value])
                      if isinstance(v, str) and v.strip()]
    return found


def list_fixes(items: list[str], known: list[str],
               unknown: set[str] | None = None) -> list[dict[str, Any]]:
    """For a list rule's chips, the ones to offer a "did you mean" for: [{index, item,
    suggest}], by position; a chip whose suggestion is already a chip is left out. With
    `unknown` (case-folded cities no customer lives in, `service.unknown_cities`), only
    those chips: one that is merely not among the `known` cities suggested is a real
    city all the same."""
    chosen = {i.casefold() for i in items}
    fixes = []
    for index, item in enumerate(items):
        if unknown is not None and item.strip().casefold() not in unknown:
            continue
        suggest = suggest_city(item, known)
        if suggest and suggest.casefold() not in chosen:
            fixes.append({"index": index, "item": item, "suggest": suggest})
    return fixes


def replace_item(tree: dict[str, Any], path: str, index: int, value: str) -> dict[str, Any]:
    """A new tree where value number `index` of the list rule at `path` is `value` (a
    "did you mean" picked); out of range, or `value` already there: the tree as it was,
    copied."""
    row = next((r for r in editing.flatten(tree) if r["path"] == path), None)
    items = list(row["items"]) if row else []
    if not 0 <= index < len(items) or value.casefold() in {i.casefold() for i in items}:
        return copy.deepcopy(tree)
    items[index] = value
    return editing.set_value(tree, path, ", ".join(items))
