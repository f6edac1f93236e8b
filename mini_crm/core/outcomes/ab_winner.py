"""Picking an A/B test's winner: plain statistics on per-variant counts, no database.

The rule (`decide`):
1. Every variant needs at least MIN_RECIPIENTS people whose message reached the vendor
   (n), and the normal approximation behind the test must hold: with the pooled rate p
   over all variants, n * p >= MIN_EXPECTED and n * (1 - p) >= MIN_EXPECTED for each
   variant (the "success-failure condition": Diez, Çetinkaya-Rundel & Barr, "OpenIntro
   Statistics", 4th ed., section 6.2). Otherwise: no winner, "not enough data".
2. Every pair of variants is compared with the two-sided two-proportion z-test with a
   pooled standard error (Fleiss, Levin & Paik, "Statistical Methods for Rates and
   Proportions", 3rd ed., ch. 3; the usual A/B test, Kohavi, Tang & Xu, "Trustworthy
   Online Controlled Experiments", ch. 17):
       z = (p1 - p2) / sqrt(p (1 - p) (1/n1 + 1/n2)),  p = (x1 + x2) / (n1 + n2).
   With 3 or 4 variants the k(k-1)/2 p-values are corrected with Holm's step-down
   method (Holm, "A simple sequentially rejective multiple test procedure",
   Scandinavian Journal of Statistics 6 (1979), 65-70), which keeps the chance of any
   false "this one is better" at ALPHA and is never less powerful than Bonferroni.
   With 2 variants there is one test and Holm changes nothing.
3. The winner is the variant with the highest rate whose difference from EVERY other
   variant is significant at ALPHA after correction. A tie at the top, or a leader not
   significantly ahead of the runner-up, is "no winner", with the figures in words.

The metric is the conversion rate (converters / sent) or, for metric "delivery" (and a
channel without a conversion window), the delivery rate (delivered / sent).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import combinations
from statistics import NormalDist
from typing import Any

ALPHA = 0.05
MIN_RECIPIENTS = 100
MIN_EXPECTED = 5
METRICS = ("conversion", "delivery")
_WORD = {"conversion": "conversion rate", "delivery": "delivery rate"}
_SUCCESS = {"conversion": "converted", "delivery": "delivered"}


@dataclass(frozen=True)
class Arm:
    """One variant's figures: n people whose message reached the vendor, x of them
    counted as a success (converted, or delivered)."""

    key: str
    n: int
    x: int

    @property
    def rate(self) -> float | None:
        return self.x / self.n if self.n else None


@dataclass
class Decision:
    """The answer: `winner` a key or None, `reason` one plain sentence, `p_value` the
    (Holm-adjusted) p-value that decided it (the largest of the winner's comparisons,
    or the leader's against the runner-up), `rates` per key (None when n is 0)."""

    winner: str | None
    reason: str
    metric: str
    method: str
    p_value: float | None = None
    rates: dict[str, float | None] = field(default_factory=dict)
    comparisons: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"winner": self.winner, "reason": self.reason, "metric": self.metric,
                "method": self.method, "p_value": self.p_value, "rates": dict(self.rates),
                "alpha": ALPHA, "comparisons": list(self.comparisons)}


def two_proportion_p(a: Arm, b: Arm) -> float:
    """Two-sided p-value of the pooled two-proportion z-test (1.0 when both rates are
    0 or both 1: no variance, no evidence of a difference)."""
    if a.n <= 0 or b.n <= 0:
        return 1.0
    pooled = (a.x + b.x) / (a.n + b.n)
    se = math.sqrt(pooled * (1 - pooled) * (1 / a.n + 1 / b.n))
    if se == 0:
        return 1.0
    z = (a.x / a.n - b.x / b.n) / se
    return 2 * (1 - NormalDist().cdf(abs(z)))


def holm(p_values: list[float]) -> list[float]:
    """Holm step-down adjusted p-values, in the input order (monotone, capped at 1)."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def _pct(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def _short_of_data(arms: list[Arm], metric: str) -> str | None:
    small = [a for a in arms if a.n < MIN_RECIPIENTS]
    if small:
        listed = ", ".join(f"{a.key} has {a.n}" for a in small)
        return (f"Not enough data yet: each variant needs at least {MIN_RECIPIENTS} "
                f"messages sent ({listed}).")
    total_n, total_x = sum(a.n for a in arms), sum(a.x for a in arms)
    pooled = total_x / total_n
    thin = [a for a in arms if min(a.n * pooled, a.n * (1 - pooled)) < MIN_EXPECTED]
    if thin:
        word = _SUCCESS[metric]
        lead = (f"no one {word} yet" if total_x == 0
                else f"only {total_x} of {total_n} people {word}")
        return (f"Not enough data yet: {lead} "
                f"({_pct(pooled)}); a fair comparison needs at least {MIN_EXPECTED} "
                f"expected {word} and {MIN_EXPECTED} not {word} per variant.")
    return None


def decide(arms: list[Arm], metric: str = "conversion", alpha: float = ALPHA) -> Decision:
    """The winner of 2-4 variants by the rule in the module docstring.

    Raises ValueError for fewer than 2 arms, an unknown metric or impossible counts.
    """
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {', '.join(METRICS)}")
    if len(arms) < 2:
        raise ValueError("a test needs at least 2 variants")
    if any(a.n < 0 or a.x < 0 or a.x > a.n for a in arms):
        raise ValueError("each variant needs 0 <= successes <= recipients")
    method = ("two-proportion z-test" if len(arms) == 2 else
              f"pairwise two-proportion z-tests, Holm-corrected over "
              f"{len(arms) * (len(arms) - 1) // 2} comparisons")
    rates = {a.key: a.rate for a in arms}
    short = _short_of_data(arms, metric)
    if short:
        return Decision(None, short, metric, method, None, rates)
    pairs = list(combinations(arms, 2))
    adjusted = holm([two_proportion_p(a, b) for a, b in pairs])
    p_of = {}
    comparisons = []
    for (a, b), p in zip(pairs, adjusted, strict=True):
        p_of[(a.key, b.key)] = p_of[(b.key, a.key)] = p
        comparisons.append({"a": a.key, "b": b.key, "p_value": round(p, 6)})
    ranked = sorted(arms, key=lambda a: (-(a.rate or 0.0), a.key))
    leader, runner_up = ranked[0], ranked[1]
    word = _WORD[metric]
    figures = ", ".join(f"{a.key} {_pct(a.rate)}" for a in ranked)
    worst_p = max(p_of[(leader.key, o.key)] for o in ranked[1:])
    if leader.rate == runner_up.rate:
        return Decision(None, f"No winner: {leader.key} and {runner_up.key} have the same "
                        f"{word} ({figures}).", metric, method, worst_p, rates, comparisons)
    if worst_p >= alpha:
        weakest = max(ranked[1:], key=lambda o: p_of[(leader.key, o.key)])
        return Decision(None, f"No winner: {leader.key} leads on {word} ({figures}), but "
                        f"its lead over {weakest.key} could be chance (p = {worst_p:.3f}; "
                        f"a winner needs p < {alpha:g}).", metric, method, worst_p, rates,
                        comparisons)
    return Decision(leader.key, f"{leader.key} wins on {word} ({figures}); the difference "
                    f"from every other variant is significant (p = {worst_p:.4f} < "
                    f"{alpha:g}, {method}).", metric, method, worst_p, rates, comparisons)
