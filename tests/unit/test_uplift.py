"""Uplift and its confidence interval against textbook calculations on known counts."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from mini_crm.core.outcomes.uplift import GroupFigures, newcombe, uplift, wilson

Z = 1.959964  # two-sided 95 % point of the standard normal


def _wilson_by_hand(k: int, n: int) -> tuple[float, float]:
    # (2np + z^2 ± z sqrt(4np(1-p) + z^2)) / (2(n + z^2)): Wilson (1927), as printed in
    # Newcombe (1998), eq. for method 3.
    p = k / n
    root = Z * math.sqrt(4 * n * p * (1 - p) + Z * Z)
    return ((2 * n * p + Z * Z - root) / (2 * (n + Z * Z)),
            (2 * n * p + Z * Z + root) / (2 * (n + Z * Z)))


def test_wilson_matches_the_closed_form() -> None:
    for k, n in ((56, 70), (48, 80), (0, 150), (3, 1000)):
        assert wilson(k, n) == pytest.approx(_wilson_by_hand(k, n), abs=1e-6)


def test_newcombe_reproduces_the_published_example() -> None:
    # Newcombe (1998), Table II, example (a): 56/70 - 48/80, method 10 = 0.0524 to 0.3339.
    d, low, high = newcombe(56, 70, 48, 80)
    assert d == pytest.approx(0.2)
    assert (round(low, 4), round(high, 4)) == (0.0524, 0.3339)
    # A group with no successes still gives a proper interval inside [-1, 1].
    _, low0, high0 = newcombe(5, 56, 0, 29)
    assert -1 < low0 < 0 < 5 / 56 < high0 < 1


def test_uplift_figures_on_known_counts() -> None:
    recipients = GroupFigures(people=9000, converters=450, orders=500,
                              revenue=Decimal("450000.00"))
    holdout = GroupFigures(people=1000, converters=30, orders=32, revenue=Decimal("25600.00"))
    u = uplift(recipients, holdout)
    assert u is not None
    assert u["absolute"] == pytest.approx(0.05 - 0.03)
    assert u["relative"] == pytest.approx(0.02 / 0.03, rel=1e-5)
    d, low, high = newcombe(450, 9000, 30, 1000)
    assert (u["ci_low"], u["ci_high"]) == (pytest.approx(low, abs=1e-6),
                                           pytest.approx(high, abs=1e-6))
    # By hand: Wilson 450/9000 and 30/1000 combined as Newcombe describes.
    l1, u1 = _wilson_by_hand(450, 9000)
    l2, u2 = _wilson_by_hand(30, 1000)
    assert u["ci_low"] == pytest.approx(0.02 - math.hypot(0.05 - l1, u2 - 0.03), abs=1e-5)
    assert u["ci_high"] == pytest.approx(0.02 + math.hypot(u1 - 0.05, 0.03 - l2), abs=1e-5)
    assert u["significant"] is True
    # (500/9000 - 32/1000) * 9000 = 212 orders; (50 - 25.6) * 9000 = 219,600 rupees.
    assert u["incremental_orders"] == pytest.approx(212.0)
    assert u["incremental_revenue"] == pytest.approx(219_600.0)


def test_not_enough_data_until_the_minimum_counts() -> None:
    big = GroupFigures(5000, 200, 210, Decimal("1000"))
    assert uplift(big, GroupFigures(99, 5, 5, Decimal("10"))) is None  # holdout < 100
    assert uplift(GroupFigures(100, 4, 4, Decimal("1")),
                  GroupFigures(100, 5, 5, Decimal("1"))) is None  # 9 converters
    u = uplift(GroupFigures(100, 5, 5, Decimal("1")), GroupFigures(100, 5, 5, Decimal("1")))
    assert u is not None and u["absolute"] == 0 and u["significant"] is False
    zero = uplift(big, GroupFigures(400, 0, 0, Decimal("0")))
    assert zero is not None and zero["relative"] is None
