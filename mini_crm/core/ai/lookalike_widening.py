"""Lookalike audiences, when no one resembles the seed: why, and what to change.

When the seed is defined by the very features the model uses (seed "order_count >= 5"),
the learned rules AND NOT the seed select no one. `nothing_found` says so in the data's
own terms and suggests the nearest wider thresholds of the seed's own conditions that
reach someone new, each counted in SQL (see `lookalike` for the engines).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from mini_crm.core.formatting import group_indian, plural, rupees
from mini_crm.core.segments import describe, parse_rules
from mini_crm.core.segments.fields import field_spec
from mini_crm.core.segments.schema import MAX_DAYS, Condition, Group
from mini_crm.core.segments.service import audience_size

# How far a seed threshold is moved to see who a wider audience would add.
LOWER_STEPS = (0.8, 0.6, 0.4)
RAISE_STEPS = (1.25, 1.5, 2.0)
MAX_WIDENED = 2  # suggestions named in the answer


def _clause(rule: dict[str, Any]) -> str:
    """Rules in words without the leading "Customers who"."""
    return describe(rule).removeprefix("Customers who ")


def _leaves(node: Group | Condition) -> list[Condition]:
    if isinstance(node, Condition):
        return [node]
    return [leaf for child in node.rules for leaf in _leaves(child)]


def _features(rules: dict[str, Any]) -> list[str]:
    """The fields the rules use, in order of first use."""
    names: list[str] = []
    for leaf in _leaves(parse_rules(rules)):
        if leaf.field not in names:
            names.append(leaf.field)
    return names


def _label(name: str) -> str:
    spec = field_spec(name)
    return spec.label.lower() if spec is not None else name


def _and_list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


@dataclass
class _Widened:
    field: str
    operator: str
    before: float
    after: float
    added: int  # customers the wider audience has that the seed has not

    def words(self) -> str:
        """E.g. "lowering number of orders from ≥ 5 to ≥ 4": the builder's own terms."""
        symbol = {">": ">", ">=": "≥", "<": "<", "<=": "≤"}[self.operator]
        verb = "lowering" if self.operator in (">", ">=") else "raising"
        return (f"{verb} {_label(self.field)} from {symbol} {_amount(self.field, self.before)} "
                f"to {symbol} {_amount(self.field, self.after)}")


def _amount(name: str, value: float) -> str:
    spec = field_spec(name)
    if spec is not None and spec.unit == "money":
        return rupees(value)
    return group_indian(int(value)) if value == int(value) else f"{value:g}"


def _wider_values(c: Condition) -> list[float | int]:
    """Thresholds further out than the seed's, nearest first, rounded the way a marketer
    would type them (whole counts and days, two significant figures of rupees)."""
    value = float(c.value)
    lower = c.operator in (">", ">=")
    whole = c.kind == "days" or c.field == "order_count"
    out: list[float | int] = []
    for i, step in enumerate(LOWER_STEPS if lower else RAISE_STEPS):
        raw = value * step
        if c.field == "order_count":  # few distinct values: one order at a time
            moved: float | int = int(value) - (i + 1) if lower else int(value) + i + 1
        elif whole:
            moved = min(int(value) - 1, math.floor(raw)) if lower else \
                max(int(value) + 1, math.ceil(raw))
        else:
            scale = 10.0 ** max(0, math.floor(math.log10(raw)) - 1) if raw >= 1 else 1.0
            moved = (math.floor(raw / scale) if lower else math.ceil(raw / scale)) * scale
            moved = int(moved) if moved == int(moved) else moved
        if moved < 0 or (c.kind == "days" and moved > MAX_DAYS) or moved in out:
            continue
        if (lower and moved >= value) or (not lower and moved <= value):
            continue
        out.append(moved)
    return out


def _widenings(session: Session, seed_rules: dict[str, Any], prefer: list[str],
               seed_size: int, now: datetime) -> list[_Widened]:
    """For each threshold in the seed's top group (features the model used first), the
    nearest wider threshold that reaches someone new, or the widest tried if none does;
    the ones that reach someone when any do."""
    tree = parse_rules(seed_rules)
    if tree.negate:  # widening inside a NOT narrows: nothing simple to suggest
        return []
    raw_rules = list(seed_rules.get("rules", []))
    candidates = [(i, node) for i, node in enumerate(tree.rules)
                  if isinstance(node, Condition) and node.kind in ("number", "days")
                  and node.operator in ("<", "<=", ">", ">=")]
    candidates.sort(key=lambda pair: (pair[1].field not in prefer, pair[0]))
    found: list[_Widened] = []
    for i, condition in candidates:
        tried: _Widened | None = None
        for value in _wider_values(condition):
            rule = {**raw_rules[i], "value": value}
            wider = {**seed_rules, "rules": [*raw_rules[:i], rule, *raw_rules[i + 1:]]}
            added = max(0, audience_size(session, parse_rules(wider), now) - seed_size)
            tried = _Widened(condition.field, condition.operator, float(condition.value),
                             float(value), added)
            if added:
                break
        if tried is not None:
            found.append(tried)
        if sum(1 for w in found if w.added) >= MAX_WIDENED:
            break
    reaching = [w for w in found if w.added]
    return reaching[:MAX_WIDENED] if reaching else found[:MAX_WIDENED]


def nothing_found(session: Session, *, seed_rules: dict[str, Any] | None,
                  rules: dict[str, Any], groups: list[dict[str, Any]], seed_size: int,
                  covered: int, excluded: bool, now: datetime) -> str:
    """Why no one resembles the seed, and what to change, in the data's own terms.

    `rules`/`groups`: what the engine proposed (groups carry the tree's words, "why");
    `seed_rules`: the seed segment's rules, None for a campaign seed (nothing to widen);
    `covered`: seed customers the proposed rules match; `excluded`: whether the seed was
    left out with a NOT group. Sizes are counted in SQL (one count per widening tried)."""
    # The tree's own words per group read better than the generic sentence.
    learned = (" or ".join(g["why"] for g in groups) if groups else _clause(rules))
    fields = _features(rules)
    features = _and_list([_label(f) for f in fields])
    if not excluded:
        # Campaign seeds stay in the rules, so size 0 means the rules miss the seed too.
        return (f"No customer matches the rules proposed for this audience (“{learned}”), "
                "so there is no lookalike audience to suggest.")
    if covered == seed_size:
        rule_matches = "rule, “{}”, matches" if len(groups) <= 1 else "rules, “{}”, match"
        head = (f"Nothing outside this audience resembles it: its "
                f"{plural(seed_size, 'customer is', 'customers are')} already described "
                f"exactly by {features} (the model's {rule_matches.format(learned)} all of "
                "them and no one else).")
    else:
        head = (f"Nothing outside this audience resembles it: what sets it apart, {features} "
                f"(“{learned}”), matches {group_indian(covered)} of its "
                f"{plural(seed_size, 'customer')} and no one else.")
    widened = ([] if seed_rules is None
               else _widenings(session, seed_rules, fields, seed_size, now))
    reaching = [w for w in widened if w.added]
    if reaching:
        tips = ", or ".join(f"{w.words()} would add {plural(w.added, 'customer')}"
                            for w in reaching)
        return f"{head} Widen a threshold to reach more people: {tips}."
    if widened:
        tried = " or ".join(w.words() for w in widened)
        return (f"{head} Even {tried} adds no one; start from a different audience to find "
                "lookalikes.")
    return f"{head} Loosen its conditions on {features} to reach more people."
