"""The A/B winner rule on planted counts: clear winners are found, ties and noise are
not, the sample minimums hold, and the test's p-values match known values."""

from __future__ import annotations

import math

import pytest

from mini_crm.core.outcomes.ab_winner import Arm, decide, holm, two_proportion_p


def test_two_proportion_p_matches_a_hand_computed_value() -> None:
    # 60/1000 vs 40/1000: pooled p = 0.05, se = sqrt(.05*.95*.002) = 0.009747, z = 2.0520
    p = two_proportion_p(Arm("A", 1000, 60), Arm("B", 1000, 40))
    z = 0.02 / math.sqrt(0.05 * 0.95 * 0.002)
    assert p == pytest.approx(2 * (1 - 0.5 * (1 + math.erf(z / math.sqrt(2)))), rel=1e-9)
    assert p == pytest.approx(0.0402, abs=2e-4)
    assert two_proportion_p(Arm("A", 100, 0), Arm("B", 100, 0)) == 1.0


def test_holm_adjusts_step_down_and_keeps_order() -> None:
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5]) == [0.5]
    assert holm([0.2, 0.9]) == pytest.approx([0.4, 0.9])


def test_clear_winner_of_two() -> None:
    d = decide([Arm("A", 2000, 60), Arm("B", 2000, 110)])
    assert d.winner == "B"
    assert d.p_value is not None and d.p_value < 0.001
    assert d.rates == {"A": 0.03, "B": 0.055}
    assert "B wins on conversion rate" in d.reason and "A 3.0%" in d.reason


def test_a_tie_has_no_winner() -> None:
    d = decide([Arm("A", 1500, 45), Arm("B", 1500, 45)])
    assert d.winner is None and "same conversion rate" in d.reason


def test_a_small_lead_is_not_a_winner() -> None:
    d = decide([Arm("A", 1000, 31), Arm("B", 1000, 34)])
    assert d.winner is None
    assert "could be chance" in d.reason and d.p_value is not None and d.p_value > 0.05


def test_minimum_sample_per_variant() -> None:
    d = decide([Arm("A", 99, 30), Arm("B", 500, 5)])
    assert d.winner is None and "at least 100" in d.reason and "A has 99" in d.reason
    # Enough people but too few conversions for the normal approximation.
    d = decide([Arm("A", 300, 0), Arm("B", 300, 4)])
    assert d.winner is None and "Not enough data" in d.reason


def test_four_variants_need_the_leader_to_beat_every_other_after_holm() -> None:
    clear = decide([Arm("A", 3000, 90), Arm("B", 3000, 95), Arm("C", 3000, 180),
                    Arm("D", 3000, 88)])
    assert clear.winner == "C" and "Holm" in clear.method
    assert len(clear.comparisons) == 6
    # C beats A and D but not B: no winner, and the reason names B.
    close = decide([Arm("A", 3000, 90), Arm("B", 3000, 165), Arm("C", 3000, 180),
                    Arm("D", 3000, 88)])
    assert close.winner is None and "over B" in close.reason


def test_holm_can_withhold_what_a_single_test_would_call() -> None:
    # p ~= 0.03 for C vs A alone; with 3 variants (3 comparisons) Holm multiplies it.
    two = decide([Arm("A", 2000, 60), Arm("C", 2000, 85)])
    three = decide([Arm("A", 2000, 60), Arm("B", 2000, 61), Arm("C", 2000, 85)])
    assert two.winner == "C"
    assert three.winner is None


def test_delivery_metric_words_and_bad_input() -> None:
    d = decide([Arm("A", 500, 400), Arm("B", 500, 480)], metric="delivery")
    assert d.winner == "B" and "delivery rate" in d.reason
    with pytest.raises(ValueError):
        decide([Arm("A", 10, 1)])
    with pytest.raises(ValueError):
        decide([Arm("A", 10, 11), Arm("B", 10, 1)])
    with pytest.raises(ValueError):
        decide([Arm("A", 10, 1), Arm("B", 10, 1)], metric="clicks")


def test_no_conversions_yet_is_said_in_words() -> None:
    got = decide([Arm("A", 150, 0), Arm("B", 150, 0)], "conversion")
    assert got.winner is None
    assert got.reason.startswith("Not enough data yet: no one converted yet")
