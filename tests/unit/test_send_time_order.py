"""Send-time windows read in order and with one rounding (a marketer saw Sun 7.3%,
Thu 6.1%, Fri 6.9%, and a badge of 7.3% over a reason saying 7%)."""

import random
from datetime import datetime
from zoneinfo import ZoneInfo

from mini_crm.core.ai import send_time as st
from mini_crm.core.formatting import percent


def _grid(seed: int) -> list[list[int]]:
    rng = random.Random(seed)
    return [[rng.randint(0, 30) for _ in range(24)] for _ in range(7)]


def test_windows_are_listed_highest_score_first_with_the_badges_rounding() -> None:
    tz = ZoneInfo("Asia/Kolkata")
    for seed in range(40):  # flat-ish random weeks: the pick order and the score differ
        windows = st.best_windows(_grid(seed), datetime(2026, 11, 30, 9), tz, "audience",
                                  "IST")
        scores = [w.score for w in windows]
        assert scores == sorted(scores, reverse=True), (seed, scores)
        for w in windows:
            assert w.reason.startswith(f"{percent(w.score, trim=True)} of this audience's")


def test_with_conversions_the_blend_orders_the_windows() -> None:
    window = st.SendWindow
    at = datetime(2026, 12, 1)
    weak_orders = window(weekday=3, hour=21, score=0.05, reason="", next_at=at,
                         conversion_share=0.9)
    strong_orders = window(weekday=1, hour=19, score=0.6, reason="", next_at=at,
                           conversion_share=0.0)
    assert st.strongest_first([strong_orders, weak_orders]) == [weak_orders, strong_orders]


def test_few_conversions_are_said_plainly() -> None:
    assert st._few(0) == "no orders"
