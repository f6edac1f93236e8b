"""A campaign's outcome figures (core/outcomes/reports.Outcome) as the pages show them:
the history table, the campaign page's outcome card and funnel step all read this."""

from __future__ import annotations

from typing import Any

from mini_crm.core import formatting
from mini_crm.core.outcomes.story import incremental_parts


def _points(value: float) -> str:
    return f"{value * 100:+.1f} pt"


def _rate(rate: float | None) -> str:
    return formatting.percent(rate)


def outcome_view(o: Any, recipients: int) -> dict[str, Any]:
    """Display strings for one Outcome (None before the read model ran: all blank);
    `converted_pct` is the funnel's last step, a share of the recipients."""
    if o is None:
        return {"conversions": "0", "revenue": formatting.rupees(0), "rpm": "—",
                "conv_rate": "—", "converters": "0", "converted_pct": 0,
                "has_holdout": False, "holdout_size": "0", "holdout_conversions": "0 orders",
                "holdout_revenue": formatting.rupees(0), "holdout_rate": "—",
                "uplift_ready": False, "uplift": "", "uplift_ci": "", "uplift_verdict": "",
                "incremental": "", "uplift_wait": ""}
    u = o.uplift
    view: dict[str, Any] = {
        "conversions": formatting.count(o.conversions),
        "converters": formatting.count(o.converters),
        "revenue": formatting.rupees(o.revenue),
        "rpm": formatting.rupees(o.revenue_per_message, paise=True)
        if o.revenue_per_message is not None else "—",
        "conv_rate": _rate(o.conversion_rate),
        "converted_pct": max(0, min(100, round(100 * o.converters / recipients)))
        if recipients else 0,
        "has_holdout": bool(o.holdout_size),
        "holdout_size": formatting.count(o.holdout_size),
        "holdout_conversions": formatting.plural(o.holdout_conversions, "order"),
        "holdout_revenue": formatting.rupees(o.holdout_revenue),
        "holdout_rate": _rate(o.holdout_rate),
        "uplift_ready": u is not None,
        "uplift": "", "uplift_ci": "", "uplift_verdict": "", "incremental": "",
        "uplift_wait": "Not enough data yet: uplift needs 100 people in each group and 10 "
                       "buyers in all." if o.holdout_size and u is None else "",
    }
    if u is not None:
        rel = f" ({u['relative'] * 100:+.0f}%)" if u["relative"] is not None else ""
        view.update(
            uplift=_points(u["absolute"]) + rel,
            uplift_ci=f"95% CI {_points(u['ci_low'])} to {_points(u['ci_high'])}",
            uplift_verdict="Significant: the campaign very likely caused extra orders"
            if u["ci_low"] > 0 else "Significant: recipients bought less than the holdout"
            if u["ci_high"] < 0 else "Not significant yet: the interval includes zero",
            incremental="≈ " + ", ".join(incremental_parts(u["incremental_orders"],
                                                          u["incremental_revenue"])))
    return view
