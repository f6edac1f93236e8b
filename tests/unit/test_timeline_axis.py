"""The campaign timeline's axis: round slices and labels in s / min / h."""

from datetime import datetime, timedelta

import pytest

from mini_crm.core.campaigns.timeline import nice_step
from mini_crm.state.campaign_detail import _time_labels, elapsed_label
from mini_crm.state.outcome_view import outcome_view


@pytest.mark.parametrize(("span", "step"), [
    (timedelta(seconds=1.5), timedelta(seconds=1)),
    (timedelta(seconds=90), timedelta(seconds=5)),
    (timedelta(minutes=10), timedelta(seconds=30)),
    (timedelta(hours=3), timedelta(minutes=10)),
    (timedelta(days=2), timedelta(hours=2)),
])
def test_nice_step_is_round_and_fits_in_30(span: timedelta, step: timedelta) -> None:
    assert nice_step(span, 30) == step
    assert span / step <= 30


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "0s"), (5, "+5s"), (60, "+1 min"), (90, "+1 min 30s"), (3600, "+1 h"),
    (5400, "+1 h 30 min"), (3605, "+1 h"),
])
def test_elapsed_label(seconds: float, text: str) -> None:
    assert elapsed_label(seconds) == text


def test_a_short_run_reads_whole_seconds_not_tenths() -> None:
    start = datetime(2026, 11, 30, 9, 0, 0)
    labels = _time_labels([start, start + timedelta(seconds=1)])
    assert labels == ["0s", "+1s"]
    minutes = _time_labels([start + timedelta(minutes=10) * i for i in range(6)])
    assert minutes == ["0s", "+10 min", "+20 min", "+30 min", "+40 min", "+50 min"]


def test_one_holdout_order_is_singular() -> None:
    class Outcome:  # the Outcome fields outcome_view reads
        conversions = converters = 3
        revenue = 300.0
        revenue_per_message = 3.0
        conversion_rate = 0.03
        holdout_size = 10
        holdout_conversions = 1
        holdout_revenue = 100.0
        holdout_rate = 0.1
        uplift = None
    assert outcome_view(Outcome(), 100)["holdout_conversions"] == "1 order"
