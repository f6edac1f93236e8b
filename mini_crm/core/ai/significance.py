"""When a group of the audience "stood out": one rule for every insights table.

A group differs from the rest of the audience when, by a two-proportion z-test with the
pooled standard error, |z| ≥ Z_CRITICAL (2.58, p < 0.01 two-sided), both the group and
the rest have at least MIN_GROUP people, the gap to the rest is at least `min_gap`, and
(with three or more sized groups) its rate is also `min_gap` away from the typical
(median) group — one bad group drags "the rest" down for every other group, which would
then look significantly *better*.

Used for delivery rates (core/ai/insights.py) and conversion rates
(core/outcomes/groups.py).
"""

from __future__ import annotations

import math
import statistics
from typing import Any

MIN_GROUP = 30
Z_CRITICAL = 2.58
MIN_GAP = 0.05


def two_proportion_z(d1: int, n1: int, d2: int, n2: int) -> float:
    """z for H0: p1 = p2 with the pooled standard error; 0 when undefined."""
    if not n1 or not n2:
        return 0.0
    pooled = (d1 + d2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return 0.0 if se == 0 else (d1 / n1 - d2 / n2) / se


def test_against_rest(rows: list[dict[str, Any]], total_hits: int, total_n: int, *,
                      hits: str, n: str, min_gap: float = MIN_GAP) -> None:
    """Mark each row (keys `hits`, `n`, "rate") in place with "rest_rate", "z" and
    "significant" against the rest of the audience (totals `total_hits` of `total_n`).
    """
    sized = [r["rate"] for r in rows if r["rate"] is not None and r[n] >= MIN_GROUP]
    typical = statistics.median(sized) if len(sized) >= 3 else None
    for r in rows:
        rest_n = total_n - r[n]
        rest_hits = total_hits - r[hits]
        r["rest_rate"] = round(rest_hits / rest_n, 4) if rest_n else None
        z = two_proportion_z(r[hits], r[n], rest_hits, rest_n)
        r["z"] = round(z, 2)
        gap = (r["rate"] - r["rest_rate"]) if r["rate"] is not None and r["rest_rate"] \
            is not None else 0.0
        r["significant"] = (r[n] >= MIN_GROUP and rest_n >= MIN_GROUP
                            and abs(z) >= Z_CRITICAL and abs(gap) >= min_gap
                            and (typical is None or abs(r["rate"] - typical) >= min_gap))
