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
import difflib
import re
from typing import Any

from mini_crm.core.segments import editing
from mini_crm.core.segments.fields import field_spec

TEXT_SEPARATOR = re.compile(r"[,;\n]")
# A near miss of a known value: difflib's ratio, 0..1 (0.6 is difflib's own default;
# "Mumbay" → "Mumbai" is 0.83, "Pue" → "Pune" 0.86, "Goa" → "Agra" 0.57, no match).
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


def did_you_mean(value: str, known: list[str]) -> str:
    """The known value `value` most likely meant when it is not one itself ("Mumbay" →
    "Mumbai"), or "" when it is known (any case), blank, or near none."""
    value = (value or "").strip()
    if not value or not known or value.casefold() in {k.casefold() for k in known}:
        return ""
    close = difflib.get_close_matches(value, known, n=1, cutoff=CLOSE_ENOUGH)
    if not close:  # a case slip on top of a typo: "mumbay"
        folded = {k.casefold(): k for k in known}
        close = [folded[c] for c in difflib.get_close_matches(
            value.casefold(), list(folded), n=1, cutoff=CLOSE_ENOUGH)]
    return close[0] if close else ""


def list_fixes(items: list[str], known: list[str]) -> list[dict[str, Any]]:
    """For a list rule's chips, the ones to offer a "did you mean" for: [{index, item,
    suggest}], by position; a chip whose suggestion is already a chip is left out."""
    chosen = {i.casefold() for i in items}
    fixes = []
    for index, item in enumerate(items):
        suggest = did_you_mean(item, known)
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
