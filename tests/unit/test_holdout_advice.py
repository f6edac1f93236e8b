"""The holdout suggestion never proposes a size the uplift report cannot measure
(core/outcomes/holdout.advise, counts only: no database)."""

from __future__ import annotations

from mini_crm.core.outcomes import holdout, uplift


def test_the_minimums_are_the_uplift_reports_own() -> None:
    assert holdout.UPLIFT_MIN_GROUP == uplift.MIN_GROUP_SIZE
    assert holdout.UPLIFT_MIN_CONVERTERS == uplift.MIN_CONVERTERS


def test_a_small_audience_gets_no_holdout_and_is_told_why() -> None:
    # The fresh-user run: 246 matching, about 3.5% ordering within the window: 20% was
    # suggested though 49 held out could never reach the report's 100 per group.
    advice = holdout.advise(246, 40, "sms")
    assert advice.base_rate is not None and advice.base_rate * 246 < 10
    assert advice.suggested_percent is None
    assert "too small for any holdout to show what the campaign earned" in advice.reason
    assert "100 people in each group" in advice.stats
    assert all(o["measurable"] is False for o in advice.options)
    # Group sizes alone: 150 people can never give both groups 100.
    assert holdout.advise(150, 150, "sms").suggested_percent is None


def test_the_suggestion_is_a_size_that_meets_the_minimums() -> None:
    # 600 people, plenty of buyers: 5-15% would leave under 100 held out.
    advice = holdout.advise(600, 300, "email")
    chosen = advice.mde_for(advice.suggested_percent)
    assert chosen["measurable"] and chosen["holdout_size"] >= 100
    assert advice.suggested_percent >= 20
    assert advice.mde_for(5)["measurable"] is False
    # A large audience is unchanged: the smallest size reaching the target MDE.
    big = holdout.advise(100_000, 12_000, "email")
    assert big.mde_for(big.suggested_percent)["mde_relative"] <= holdout.TARGET_RELATIVE_MDE


def test_the_split_is_of_the_eligible_customers_when_known() -> None:
    # 300 match but only 180 can be messaged: 50% of 180 leaves 90 per group, too few.
    assert holdout.advise(300, 290, "email").suggested_percent is not None
    small = holdout.advise(300, 290, "email", eligible=180)
    assert small.suggested_percent is None and "180 people" in small.stats
    assert small.mde_for(50)["holdout_size"] == 90
    assert holdout.advise(300, 290, "email", eligible=0).suggested_percent is None


def test_the_review_counts_the_holdout_from_the_eligible_customers() -> None:
    import mini_crm.mini_crm  # noqa: F401 - registers every state, as in the running app
    from mini_crm.state.campaign_holdout import HoldoutState

    s = HoldoutState()
    s.reset_advice()
    assert s.receive_text == ""  # not counted yet
    s.eligible = 234  # 246 matched; 12 skipped at launch
    assert s.receive_text == "234"
    s.set_percent("20")
    # Drawn from the 234 eligible (not the 246 matching), and only about: it is a hash.
    assert s.receive_text == "about 187"
    assert "About 47 of the 234 eligible are held out." in s.mde_text


def test_the_expected_buyers_read_in_words() -> None:
    """The wizard's review read "12 people would bring about 1 buyers"."""
    import re

    for audience, orders in ((246, 40), (30, 30), (600, 40)):
        reason = holdout.advise(audience, orders, "sms").stats
        found = re.search(r"bring about (\d[\d,]*) (buyers?)\b", reason)
        assert found, reason
        assert found.group(2) == ("buyer" if found.group(1) == "1" else "buyers"), reason
    # Under half a buyer expected: not "about 0 buyers".
    for audience in (12, 17):
        few = holdout.advise(audience, 1, "sms").stats
        assert "about 0" not in few and "would bring less than one buyer" in few, few


def test_the_suggestion_leads_with_what_it_means_statistics_after() -> None:
    """The explanation read "2.11% of this audience order within 120 h…; holding out 15%
    … can detect an uplift of 0.36% points … with 80% power": statistics first."""
    big = holdout.advise(100_000, 12_000, "email")
    assert big.reason.startswith(f"Keep {big.suggested_percent}% (about 15,000 people) back "
                                 "to see what the campaign really earned")
    for words in ("power", "points", "relative", "order within", "significance"):
        assert words not in big.reason.split(")", 1)[1], (words, big.reason)
    assert big.stats.startswith("2.11% of this audience order within 120 h")
    assert "0.36 points (17% relative) with 80% power" in big.stats
    # Out of reach of a typical lift: still plain words first, the honest figures after.
    wide = holdout.advise(12_000, 1_500, "sms")
    assert wide.reason.startswith(f"Keep {wide.suggested_percent}% (about 2,400 people) back")
    assert "Only a large effect will show" in wide.reason
    assert "could detect a 20% lift" in wide.stats and "power" not in wide.reason
    small = holdout.advise(246, 40, "sms")
    assert small.reason.startswith("This audience is too small") and "%" not in small.reason
    assert small.stats.startswith("0.59% of this audience order")
