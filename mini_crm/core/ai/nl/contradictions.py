"""Rules that can match no one because they contradict each other.

"spent less than 500 but more than 1000" reads as two rules joined by AND: each is
fine, together they describe an empty audience. The parser reports such a pair as a
warning (ParsedRules.warnings; the LLM engine's rules are checked the same way), so
the builder asks before applying (issue 14: a prompt is never silently applied as
something other than what was meant) instead of filling in an audience of 0 that looks
like a data problem.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# bound = (value, inclusive); a lower bound from >, >=, =, between; an upper from <, <=, =
_LOWER = {">": False, ">=": True, "=": True}
_UPPER = {"<": False, "<=": True, "=": True}


def _bounds(rule: dict[str, Any]) -> tuple[tuple[float, bool] | None,
                                           tuple[float, bool] | None]:
    op, value = rule.get("operator"), rule.get("value")
    if "window" in rule or "items_match" in rule:
        return None, None  # a windowed rule counts a different thing than a plain one
    if op == "between" and isinstance(value, list) and len(value) == 2:
        value = [v for v in value if isinstance(v, int | float) and not isinstance(v, bool)]
        return ((float(value[0]), True), (float(value[1]), True)) if len(value) == 2 \
            else (None, None)
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None, None
    low = (float(value), _LOWER[op]) if op in _LOWER else None
    high = (float(value), _UPPER[op]) if op in _UPPER else None
    return low, high


def _empty(low: tuple[float, bool], high: tuple[float, bool]) -> bool:
    return low[0] > high[0] or (low[0] == high[0] and not (low[1] and high[1]))


def contradictions(rules: dict[str, Any], phrase: Callable[[dict[str, Any]], str]
                   ) -> list[str]:
    """Pairs of number rules on one field, in the same AND group, that no value can meet
    together, as "spent under ₹500 and spent over ₹1,000 cannot both hold: this matches
    no one" (worded by `phrase`, the explanation's own). Nested groups are checked
    on their own; an OR group is never empty because of two of its rules."""
    found: list[str] = []
    children = rules.get("rules", [])
    for child in children:
        if "rules" in child:
            found += contradictions(child, phrase)
    if rules.get("combinator", "and") != "and" or rules.get("not"):
        return found
    plain = [c for c in children if "rules" not in c and "field" in c]
    for i, a in enumerate(plain):
        for b in plain[i + 1:]:
            if a["field"] != b["field"]:
                continue
            (a_low, a_high), (b_low, b_high) = _bounds(a), _bounds(b)
            if (a_low and b_high and _empty(a_low, b_high)) or \
                    (b_low and a_high and _empty(b_low, a_high)):
                found.append(f"{phrase(a)} and {phrase(b)} cannot both hold: "
                             f"this matches no one")
    return found
