"""Uplift: did the campaign cause orders that would not have happened anyway?

Recipients (log rows whose message reached the vendor) are compared with the holdout
(rows kept back at random at launch), both measured over the same conversion window.

- conversion rate = people with at least one attributed order / people in the group;
- revenue per person = attributed revenue / people in the group;
- absolute uplift = rate(recipients) - rate(holdout), in rate points (0.012 = 1.2 pt);
- relative uplift = absolute / rate(holdout) (None when the holdout rate is 0);
- 95 % confidence interval of the absolute uplift: Newcombe's hybrid score interval
  (method 10 of R. G. Newcombe, "Interval estimation for the difference between
  independent proportions: comparison of eleven methods", Statistics in Medicine 17,
  873-890, 1998), built from the two groups' Wilson score intervals. Chosen over the
  Wald interval because it keeps its 95 % coverage with the small counts and rates
  near 0 that campaigns have (Wald undercovers there and can leave [-1, 1]);
- incremental orders / revenue = (orders or revenue per recipient - the same per
  holdout member) x recipients: what the campaign added over what the recipients would
  have bought without it.

"Not enough data yet" (uplift None): until each group has MIN_GROUP_SIZE people and
the two together MIN_CONVERTERS converters. Below that the interval is so wide it
says nothing, and a rate of 0 in the holdout makes the relative figure meaningless.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from scipy.stats import binomtest

MIN_GROUP_SIZE = 100
MIN_CONVERTERS = 10
CONFIDENCE = 0.95


@dataclass(frozen=True)
class GroupFigures:
    """One group's counts: people, how many of them converted, orders, revenue."""

    people: int
    converters: int
    orders: int
    revenue: Decimal

    @property
    def rate(self) -> float | None:
        return self.converters / self.people if self.people else None

    @property
    def revenue_per_person(self) -> float | None:
        return float(self.revenue) / self.people if self.people else None


def wilson(successes: int, trials: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson score interval of one proportion (no continuity correction)."""
    ci = binomtest(successes, trials).proportion_ci(confidence, method="wilson")
    return float(ci.low), float(ci.high)


def newcombe(k1: int, n1: int, k2: int, n2: int,
             confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """(p1 - p2, low, high): Newcombe's hybrid score interval for a difference of two
    independent proportions k1/n1 and k2/n2. Raises ValueError on an empty group."""
    if n1 <= 0 or n2 <= 0:
        raise ValueError("both groups need at least one person")
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson(k1, n1, confidence)
    l2, u2 = wilson(k2, n2, confidence)
    d = p1 - p2
    return d, d - ((p1 - l1) ** 2 + (u2 - p2) ** 2) ** 0.5, d + ((u1 - p1) ** 2
                                                                  + (p2 - l2) ** 2) ** 0.5


def enough_data(recipients: GroupFigures, holdout: GroupFigures) -> bool:
    return (recipients.people >= MIN_GROUP_SIZE and holdout.people >= MIN_GROUP_SIZE
            and recipients.converters + holdout.converters >= MIN_CONVERTERS)


def uplift(recipients: GroupFigures, holdout: GroupFigures) -> dict[str, Any] | None:
    """The uplift figures, or None while data is short (thresholds above).

    Keys: absolute, relative, ci_low, ci_high (rates as fractions), significant (the
    interval excludes 0), incremental_orders, incremental_revenue (float, currency).
    """
    if not enough_data(recipients, holdout):
        return None
    d, low, high = newcombe(recipients.converters, recipients.people,
                            holdout.converters, holdout.people)
    base = holdout.converters / holdout.people
    n = recipients.people
    orders_gap = recipients.orders / n - holdout.orders / holdout.people
    revenue_gap = float(recipients.revenue) / n - float(holdout.revenue) / holdout.people
    return {"absolute": round(d, 6), "relative": round(d / base, 6) if base else None,
            "ci_low": round(low, 6), "ci_high": round(high, 6),
            "significant": low > 0 or high < 0,
            "incremental_orders": round(orders_gap * n, 1),
            "incremental_revenue": round(revenue_gap * n, 2)}

