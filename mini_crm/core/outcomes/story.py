"""Outcomes in plain words: the sentences that open a campaign's insights.

Revenue first, then the uplift against the holdout (or why there is none yet), then
one sentence on how it is counted. Every figure comes from the outcome read model
(reports.Outcome); nothing here queries.
"""

from __future__ import annotations

from mini_crm.core.formatting import group_indian, plural, rupees
from mini_crm.core.outcomes.reports import Outcome
from mini_crm.core.outcomes.uplift import MIN_CONVERTERS, MIN_GROUP_SIZE


def _window(hours: int) -> str:
    if hours % 24 == 0:
        return plural(hours // 24, "day")
    return plural(hours, "hour")


def _pct(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def _points(value: float) -> str:
    return f"{value * 100:+.1f} points"


def outcome_summary(o: Outcome, campaign_name: str, window_hours: int) -> str:
    """The revenue-and-uplift paragraph; "" before any message was sent."""
    if not o.sent:
        return ""
    parts = []
    rpm = o.revenue_per_message
    if o.conversions:
        parts.append(
            f"“{campaign_name}” earned {rupees(o.revenue)} from "
            f"{plural(o.conversions, 'attributed order')}: {group_indian(o.converters)} "
            f"of {plural(o.sent, 'recipient')} bought ({_pct(o.conversion_rate)}), "
            f"{rupees(rpm, paise=True)} per message sent.")
    else:
        parts.append(f"“{campaign_name}” has no attributed orders yet from its "
                     f"{plural(o.sent, 'recipient')}.")
    u = o.uplift
    if not o.holdout_size:
        parts.append("There was no holdout, so we cannot tell how many of these orders "
                     "would have happened anyway.")
    elif u is None:
        parts.append(
            f"{plural(o.holdout_size, 'person was', 'people were')} held back as a "
            "control group "
            f"({group_indian(o.holdout_converters)} of them bought); there is not enough "
            f"data yet to measure uplift (it needs {MIN_GROUP_SIZE} people in each group "
            f"and {MIN_CONVERTERS} buyers in all).")
    else:
        rel = f", {u['relative'] * 100:+.0f}% relative" if u["relative"] is not None else ""
        parts.append(
            f"Against the {plural(o.holdout_size, 'person', 'people')} held back, who "
            "bought at "
            f"{_pct(o.holdout_rate)}, that is an uplift of {_points(u['absolute'])}{rel} "
            f"(95% confidence interval {_points(u['ci_low'])} to {_points(u['ci_high'])}): "
            f"{_incremental(u['incremental_orders'], u['incremental_revenue'])}.")
        parts.append("The whole interval is above zero, so the campaign very likely caused "
                     "extra orders." if u["ci_low"] > 0 else
                     "The whole interval is below zero: people who got the message bought "
                     "less than those held back." if u["ci_high"] < 0 else
                     "The interval includes zero, so the difference could still be chance.")
    counted = (f"How it is counted: an order is credited to the last message its customer "
               f"got within {_window(window_hours)} before ordering")
    parts.append(counted + ("; the holdout was picked at random and never messaged, so the "
                            "gap between the two groups is what the campaign caused."
                            if o.holdout_size else "."))
    return " ".join(parts)


def incremental_parts(orders: float, revenue: float) -> tuple[str, str]:
    """The uplift's extra orders and revenue in words, signed by direction: ("12 extra
    orders", "₹8,400 extra revenue"), or when recipients bought less than the holdout
    ("30 fewer orders", "₹7,981 less revenue") — a "-₹7,981 extra revenue" read as
    nonsense. Used by the insights sentence and the campaign page's uplift card."""
    n = round(orders)
    count = plural(abs(n), "fewer order") if n < 0 else plural(n, "extra order")
    money = (f"{rupees(abs(revenue))} less revenue" if revenue < 0
             else f"{rupees(revenue)} extra revenue")
    return count, money


def _incremental(orders: float, revenue: float) -> str:
    """"about 12 extra orders and ₹8,400 of revenue the campaign added", or, when the
    recipients bought less than the holdout, the shortfall in the same words."""
    if round(orders) >= 0 and revenue >= 0:
        return (f"about {plural(round(orders), 'extra order')} and {rupees(revenue)} of "
                "revenue the campaign added")
    count, money = incremental_parts(orders, revenue)
    return f"about {count} and {money} than if they had bought like the holdout"
