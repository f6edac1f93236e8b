"""The customer groups campaign insights compare: city, gender, spend tier, tenure.

SQL expressions over `customer` (for one GROUP BY each) and the labels they produce, so
the delivery tables (core/ai/insights.py) and the conversion tables
(core/outcomes/converted_groups.py) mean the same groups.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from mini_crm.core.segments import sqlfuncs
from mini_crm.models import Customer

# Lifetime-spend bands in ₹ (upper bound exclusive); fixed so tiers mean the same in
# every campaign and can be compared.
SPEND_BANDS: tuple[tuple[str, float | None], ...] = (
    ("No spend yet", 0.0),
    ("Under ₹2,000", 2000.0),
    ("₹2,000–₹10,000", 10000.0),
    ("₹10,000–₹50,000", 50000.0),
    ("₹50,000 and over", None),
)
# Customer age (days since signup) when the campaign started.
TENURE_BANDS: tuple[tuple[str, int | None], ...] = (
    ("Under 30 days", 30),
    ("30–180 days", 180),
    ("6–12 months", 365),
    ("1–2 years", 730),
    ("2 years and over", None),
)
UNKNOWN_CITY = "Unknown city"
UNKNOWN_GENDER = "Not given"
GENDER_KEY = "gender"  # the custom attribute (attributes.gender) the seed and imports use


def spend_case(spend: Any = None) -> Any:
    """CASE over lifetime spend (or the `spend` expression given) → a SPEND_BANDS label."""
    spend = Customer.total_spend if spend is None else spend
    return sa.case((spend <= 0, SPEND_BANDS[0][0]),
                   *[(spend < bound, label) for label, bound in SPEND_BANDS[1:]
                     if bound is not None], else_=SPEND_BANDS[-1][0])


def tenure_case(started: datetime) -> Any:
    """CASE over signup time → a TENURE_BANDS label (customer age at `started`)."""
    whens = [(Customer.created_at > started - timedelta(days=days), label)
             for label, days in TENURE_BANDS if days is not None]
    return sa.case(*whens, else_=TENURE_BANDS[-1][0])


def city_label(city: Any) -> str:
    """Cities differ only by case or spacing in imported data ("pune", "Pune ")."""
    return " ".join(str(city).split()).title() if city and str(city).strip() else UNKNOWN_CITY


def gender_expr() -> Any:
    """attributes.gender as text (NULL when absent or not a string)."""
    return sqlfuncs.json_text(Customer.attributes, GENDER_KEY)


def gender_label(value: Any) -> str:
    text = " ".join(str(value).split()) if value is not None else ""
    return text.capitalize() if text else UNKNOWN_GENDER
