"""Lookalike audiences: a fitted decision tree read back as rules and words.

Features are NUMERIC in order (days since last order is NEVER_DAYS for customers who
never ordered), then one-hot top cities. `paths` keeps the nodes whose leaves all hold
the seed clearly over-represented (`worth_targeting`), `tighten` merges a path's bounds
per feature, `conditions` turns them into rules, and `why` reads a group of rules the
way every rule sentence is read (`core/segments/describe`: one wording for the builder,
the campaign page and this explanation). Pure functions over the tree and the sample;
the sampling, fitting and counting are in `lookalike`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from mini_crm.core.ai.significance import two_proportion_z
from mini_crm.core.segments.describe import describe
from mini_crm.core.segments.schema import MAX_DAYS

NEVER_DAYS = float(3 * MAX_DAYS)  # "never ordered": far beyond any real days value
NUMERIC = ("total_spend", "order_count", "days_since_last_order", "days_since_signup")
TENURE = NUMERIC.index("days_since_signup")  # from created_at: for imports, the import date
TENURE_FIELDS = ("days_since_signup", "created_at")  # the rule fields that read created_at
# A rule group must hold this share of the seed, at this lift over others, at this z.
MIN_GROUP_SEED_SHARE = 0.03
MIN_LIFT = 3.0
MIN_Z = 3.3

Bound = tuple[int, str, float]  # feature index, "<=" or ">", threshold


def paths(tree: Any, good: Callable[[int], bool]) -> list[list[Bound]]:
    """Paths to the nodes whose every leaf is `good` (sibling leaves merged), so a split
    is kept whenever one side of it is not worth targeting."""
    left, right = tree.children_left, tree.children_right

    def all_good(node: int) -> bool:
        if left[node] == -1:
            return good(node)
        return all_good(left[node]) and all_good(right[node])

    out: list[list[Bound]] = []

    def walk(node: int, path: list[Bound]) -> None:
        if all_good(node):
            out.append(path)
            return
        if left[node] == -1:
            return
        f, t = int(tree.feature[node]), float(tree.threshold[node])
        walk(left[node], [*path, (f, "<=", t)])
        walk(right[node], [*path, (f, ">", t)])

    walk(0, [])
    return out


def worth_targeting(n_seed: int, n_other: int, seed_total: int, other_total: int) -> bool:
    """The seed is clearly over-represented: a tree fitted to noise still carves leaves,
    but not ones holding MIN_GROUP_SEED_SHARE of the seed at MIN_LIFT× the others' rate
    with z ≥ MIN_Z (p < 0.001)."""
    seed_share = n_seed / seed_total
    other_share = n_other / max(1, other_total)
    return (seed_share >= MIN_GROUP_SEED_SHARE and seed_share >= MIN_LIFT * other_share
            and two_proportion_z(n_seed, seed_total, n_other, other_total) >= MIN_Z)


def tighten(path: list[Bound]) -> dict[int, tuple[float | None, float | None]]:
    """Per feature: (strict lower bound, inclusive upper bound)."""
    bounds: dict[int, tuple[float | None, float | None]] = {}
    for f, op, t in path:
        lo, hi = bounds.get(f, (None, None))
        if op == ">":
            lo = t if lo is None else max(lo, t)
        else:
            hi = t if hi is None else min(hi, t)
        bounds[f] = (lo, hi)
    return bounds


def _whole(t: float) -> int:
    return min(MAX_DAYS, max(0, math.floor(t)))


# One branch per feature kind, each a few lines of threshold rounding: read top to
# bottom it is clearer than the same cases spread over helpers.
def conditions(bounds: dict[int, tuple[float | None, float | None]],  # noqa: C901
                cities: list[str]) -> list[dict[str, Any]]:
    """One path's bounds as rules: thresholds rounded to what a rule can say on the same
    side as the tree put the sample. Features: NUMERIC in order, then one-hot `cities`.
    In words: `why(rules)`."""
    rules: list[dict[str, Any]] = []
    for f in sorted(bounds):
        lo, hi = bounds[f]
        if f >= len(NUMERIC):
            continue
        name = NUMERIC[f]
        if name == "total_spend":
            # Thresholds sit midway between two spends; flooring keeps whole-rupee spends
            # on the same side as the tree put them (x > 15795.5 ⟺ x > 15795).
            if lo is not None:
                v = math.floor(lo)
                rules.append({"field": name, "operator": ">", "value": v})
            if hi is not None:
                v = math.floor(hi)
                rules.append({"field": name, "operator": "<=", "value": v})
        elif name == "order_count":
            if lo is not None:
                v = math.floor(lo) + 1
                rules.append({"field": name, "operator": ">=", "value": v})
            if hi is not None:
                v = math.floor(hi)
                rules.append({"field": name, "operator": "<=", "value": v})
        elif name == "days_since_last_order":
            # Never ordered = NEVER_DAYS, far past any real value, so a threshold between
            # the two lies above MAX_DAYS: bounds there only split ordered / never.
            never_in = hi is None or hi >= NEVER_DAYS
            if lo is not None and lo >= MAX_DAYS:
                rules.append({"field": name, "operator": "is_null"})
                if not never_in:  # an empty range; the tree never makes one
                    rules.append({"field": name, "operator": "is_not_null"})
                continue
            parts: list[dict[str, Any]] = []
            if lo is not None:
                parts.append({"field": name, "operator": ">=", "value": _whole(lo) + 1})
            if hi is not None and hi < MAX_DAYS:
                parts.append({"field": name, "operator": "<=", "value": _whole(hi)})
            if never_in and lo is not None:
                rules.append({"combinator": "or", "rules": [
                    *parts, {"field": name, "operator": "is_null"}]})
            elif not never_in and not parts:
                rules.append({"field": name, "operator": "is_not_null"})
            elif parts:
                rules.extend(parts)
        elif name == "days_since_signup":
            if lo is not None:
                v = min(MAX_DAYS, _whole(lo) + 1)
                rules.append({"field": name, "operator": ">=", "value": v})
            if hi is not None:
                v = _whole(hi)
                rules.append({"field": name, "operator": "<=", "value": v})
    inside = [cities[f - len(NUMERIC)] for f, (lo, _) in bounds.items()
              if f >= len(NUMERIC) and lo is not None]
    outside = [cities[f - len(NUMERIC)] for f, (lo, hi) in bounds.items()
               if f >= len(NUMERIC) and lo is None and hi is not None]
    if inside:
        rules.append({"field": "city", "operator": "=", "value": inside[0]})
    elif outside:
        # A negative operator keeps customers with no city (DESIGN.md, "Missing
        # values"), as the tree did: NOT (city in ...), said as one rule.
        rules.append({"field": "city", "operator": "not_in", "value": sorted(outside)})
    return rules


def why(rules: list[dict[str, Any]]) -> str:
    """A group of `conditions` in words, as the rule sentence reads them: "spent over
    ₹5,000 and have not ordered in 90 days" (describe's sentence for the AND of the
    rules, without its leading "Customers who"). A lone group reads without brackets."""
    group = rules[0] if len(rules) == 1 and "rules" in rules[0] else {"combinator": "and",
                                                                       "rules": rules}
    return describe(group).removeprefix("Customers who ")


def fields_of(rules: dict[str, Any] | list[Any]) -> set[str]:
    """Every field a rules group (or list of rules) names, at any depth."""
    items = rules.get("rules", []) if isinstance(rules, dict) else rules
    out: set[str] = set()
    for r in items:
        if isinstance(r, dict) and "rules" in r:
            out |= fields_of(r)
        elif isinstance(r, dict) and r.get("field"):
            out.add(str(r["field"]))
    return out


def only_tenure(groups: list[dict[str, Any]]) -> bool:
    """True when every AND group names tenure fields only (TENURE_FIELDS)."""
    return bool(groups) and all(fields_of(g) <= set(TENURE_FIELDS) for g in groups)


def evaluate(path: list[Bound], x: list[list[float]]) -> list[int]:
    """Indexes of the sample rows on `path` (every bound holds)."""
    return [i for i, row in enumerate(x)
            if all((row[f] <= t) if op == "<=" else (row[f] > t) for f, op, t in path)]
