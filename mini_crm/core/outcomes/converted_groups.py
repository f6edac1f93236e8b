"""Which groups of a campaign's recipients converted better: conversion rate by city,
gender, spend tier and tenure, each group tested against the rest of the recipients.

A recipient is a log row the campaign touched (sent, delivered or undelivered; holdout
members are not recipients); it converted when at least one order is attributed to it
(core/outcomes/attribution.py: last touch within the channel's conversion window).
Per group: recipients, converted, rate = converted / recipients, attributed revenue.
Spend tier is lifetime spend less the revenue this campaign earned from the recipient,
so the conversions being measured do not move their buyers into a higher tier (orders
after the campaign that it did not earn still count: spend is a running total).

Significance: the same rule as every insights table (core/ai/significance.py — a
two-proportion z-test against the rest, |z| ≥ 2.58, at least 30 recipients on both
sides, and away from the typical group), with the smallest gap worth reporting
MIN_CONVERSION_GAP = 2 points instead of delivery's 5, because conversion rates are a
few percent: 6 % against 3 % is a doubling.

One GROUP BY per dimension over the campaign's log rows (its campaign_id index) with
the conversion table left-joined per log row. Channel is not a dimension: a campaign
has one channel; compare channels across campaigns on the history page.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from mini_crm.core.ai.groups import (
    SPEND_BANDS,
    TENURE_BANDS,
    UNKNOWN_GENDER,
    city_label,
    gender_expr,
    gender_label,
    spend_case,
    tenure_case,
)
from mini_crm.core.ai.significance import MIN_GROUP, test_against_rest
from mini_crm.core.formatting import plural
from mini_crm.models import CommunicationLog, Conversion, Customer, DeliveryStatus

LOG = CommunicationLog.__table__
CONVERSION = Conversion.__table__
MIN_CONVERSION_GAP = 0.02
TOP_CITIES = 12
DIMENSIONS = ("City", "Gender", "Spend tier", "Tenure")


def _counts(session: Session, campaign_id: int, key_of: Callable[[Any], Any]
            ) -> dict[Any, list[Any]]:
    """{group key: [recipients, converted, revenue]} for one GROUP BY; `key_of(per_log)`
    builds the key (it may read per_log.c.rev, the recipient's attributed revenue)."""
    per_log = (sa.select(CONVERSION.c.log_id, sa.func.sum(CONVERSION.c.amount).label("rev"))
               .where(CONVERSION.c.campaign_id == campaign_id,
                      CONVERSION.c.holdout == sa.false())
               .group_by(CONVERSION.c.log_id).subquery())
    # The key is selected in a subquery and grouped outside it: an expression with bound
    # parameters (attributes.gender) would otherwise be two different expressions to
    # PostgreSQL in SELECT and GROUP BY.
    rows = (sa.select(key_of(per_log).label("k"), per_log.c.log_id.label("conv"),
                      per_log.c.rev.label("rev"))
            .select_from(LOG.join(Customer, Customer.id == LOG.c.customer_id)
                         .outerjoin(per_log, per_log.c.log_id == LOG.c.id))
            .where(LOG.c.campaign_id == campaign_id,
                   LOG.c.status.in_(DeliveryStatus.TOUCHED))).subquery()
    stmt = (sa.select(rows.c.k, sa.func.count(), sa.func.count(rows.c.conv),
                      sa.func.sum(rows.c.rev)).group_by(rows.c.k))
    out: dict[Any, list[Any]] = {}
    for k, n, converted, revenue in session.execute(stmt).all():
        bucket = out.setdefault(k, [0, 0, Decimal("0")])
        bucket[0] += int(n)
        bucket[1] += int(converted)
        bucket[2] += Decimal(revenue or 0)
    return out


def _row(label: str, c: list[Any]) -> dict[str, Any]:
    recipients, converted, revenue = c
    return {"label": label, "recipients": recipients, "converted": converted,
            "rate": round(converted / recipients, 4) if recipients else None,
            "revenue": float(revenue)}


def _merged(counts: dict[Any, list[Any]], label: Any) -> dict[str, list[Any]]:
    merged: dict[str, list[Any]] = {}
    for key, c in counts.items():
        bucket = merged.setdefault(label(key), [0, 0, Decimal("0")])
        for i in range(3):
            bucket[i] += c[i]
    return merged


def _cities(session: Session, campaign_id: int) -> list[dict[str, Any]]:
    merged = _merged(_counts(session, campaign_id, lambda _: Customer.city), city_label)
    rows = sorted((_row(k, v) for k, v in merged.items()),
                  key=lambda r: (-r["recipients"], r["label"]))
    if len(rows) > TOP_CITIES:
        rest = rows[TOP_CITIES:]
        rows = [*rows[:TOP_CITIES], _row(f"{len(rest)} other cities", [
            sum(r["recipients"] for r in rest), sum(r["converted"] for r in rest),
            sum(Decimal(str(r["revenue"])) for r in rest)])]
    return rows


def _genders(session: Session, campaign_id: int) -> list[dict[str, Any]]:
    merged = _merged(_counts(session, campaign_id, lambda _: gender_expr()), gender_label)
    if set(merged) <= {UNKNOWN_GENDER}:
        return []  # no customer has the attribute: no table rather than one "Not given" row
    return sorted((_row(k, v) for k, v in merged.items()),
                  key=lambda r: (r["label"] == UNKNOWN_GENDER, -r["recipients"], r["label"]))


def _banded(session: Session, campaign_id: int, key_of: Callable[[Any], Any],
            bands: tuple[tuple[str, Any], ...]) -> list[dict[str, Any]]:
    counts = _counts(session, campaign_id, key_of)
    return [_row(label, counts[label]) for label, _ in bands if label in counts]


def _spend_before(per_log: Any) -> Any:
    # Lifetime spend minus what this campaign earned from the recipient: otherwise the
    # orders being measured move their buyers up a tier (₹1,500 + a ₹500 order is
    # "₹2,000–₹10,000") and that tier "converts" 100 %.
    return spend_case(Customer.total_spend - sa.func.coalesce(per_log.c.rev, 0))


def conversion_by_group(session: Session, campaign_id: int, started: datetime
                        ) -> dict[str, Any]:
    """Conversion rate per group of the campaign's recipients, each tested against the
    rest. `started`: the launch (tenure is customer age then).

    Returns {"recipients": int, "converted": int, "rate": float | None,
    "groups": {"City" | "Gender" | "Spend tier" | "Tenure": [{"label", "recipients",
    "converted", "rate", "revenue" (₹), "rest_rate", "z", "significant"}]}} — a dimension
    with no rows is left out (e.g. Gender when no customer has attributes.gender).
    """
    groups = {"City": _cities(session, campaign_id),
              "Gender": _genders(session, campaign_id),
              "Spend tier": _banded(session, campaign_id, _spend_before, SPEND_BANDS),
              "Tenure": _banded(session, campaign_id, lambda _: tenure_case(started),
                                TENURE_BANDS)}
    groups = {k: v for k, v in groups.items() if v}
    any_rows = next(iter(groups.values()), [])
    recipients = sum(r["recipients"] for r in any_rows)
    converted = sum(r["converted"] for r in any_rows)
    for rows in groups.values():
        test_against_rest(rows, converted, recipients, hits="converted", n="recipients",
                          min_gap=MIN_CONVERSION_GAP)
    return {"recipients": recipients, "converted": converted,
            "rate": round(converted / recipients, 4) if recipients else None,
            "groups": groups}


def _pct(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def _significant(result: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Significant groups, strongest first (better before worse at equal |z|); of a
    dimension with only two groups, each the mirror of the other, only the first."""
    found = sorted(((d, r) for d, rows in result["groups"].items() for r in rows
                    if r["significant"]), key=lambda t: (-abs(t[1]["z"]), -t[1]["rate"]))
    out: list[tuple[str, dict[str, Any]]] = []
    for dim, r in found:
        if len(result["groups"][dim]) == 2 and any(d == dim for d, _ in out):
            continue
        out.append((dim, r))
    return out


def _named(dimension: str, label: str) -> str:
    """'City is Pune', 'Spend tier is “No spend yet”': a group said as a condition, so
    a tier's own words never read as a place ("converted better in No spend yet")."""
    shown = label if dimension.lower() == "city" else f"“{label}”"
    return f"{dimension} is {shown}"


def highlights(result: dict[str, Any]) -> list[tuple[float, str]]:
    """(|z|, sentence) for each group that converted significantly better or worse."""
    found = []
    for dimension, r in _significant(result):
        direction = "better" if r["rate"] > r["rest_rate"] else "worse"
        found.append((abs(r["z"]), (
            f"{_named(dimension, r['label'])} converted {direction}: {_pct(r['rate'])} of "
            f"{plural(r['recipients'], 'recipient')} bought against "
            f"{_pct(r['rest_rate'])} of the rest (z = {r['z']:.1f})")))
    return found


def sentence(result: dict[str, Any]) -> str:
    """One sentence for the insights summary: who converted better, or that no group
    differed (only said when there are enough recipients to tell), or ""."""
    significant = _significant(result)
    if significant:
        bits = [f"{_named(dim.lower(), r['label'])} ({_pct(r['rate'])} bought against "
                f"{_pct(r['rest_rate'])} of the other recipients)"
                for dim, r in significant[:2]]
        better = all(r["rate"] > r["rest_rate"] for _, r in significant[:2])
        worse = all(r["rate"] < r["rest_rate"] for _, r in significant[:2])
        verb = ("converted better" if better else
                "converted worse" if worse else "differed")
        return f"Recipients {verb} where " + " and where ".join(bits) + "."
    if result["converted"] and result["recipients"] >= 2 * MIN_GROUP:
        names = [d.lower() for d in result["groups"]]
        dims = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
        return (f"No {dims} group converted significantly better or worse than the other "
                "recipients.")
    return ""
