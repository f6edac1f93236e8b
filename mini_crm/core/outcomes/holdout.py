"""Holdout groups: stable random assignment at launch, and a size suggested by power.

Assignment. The launch ranks the eligible audience by a stable hash of (campaign id,
customer id) and holds back the first round(n x holdout_percent / 100) of them: an
exact share, drawn inside the launch's INSERT ... SELECT (core/campaigns/split.py, with
the A/B test share and variants), so the audience never passes through Python and the
members never change after the launch committed. The hash is integer arithmetic
modulo the prime 2^31 - 1, written once as a SQLAlchemy expression that means the same
on SQLite, PostgreSQL and MariaDB (`stable_hash`) and once in Python (`hash_of`, which
the tests hold it to): an affine step mixes in the ids and a salt, then two squaring
steps make it non-linear, so two salts give unrelated orders rather than shifted
copies of one.

Size. The wizard suggests the smallest holdout (in steps of 5 %, at most 50 %) whose
minimum detectable effect (MDE) is at most TARGET_RELATIVE_MDE of the audience's own
base conversion rate, at 80 % power and a two-sided alpha of 0.05 (when no size up to
50 % reaches that, the smallest whose MDE is within 25 % of the 50 % holdout's, about
20 %, with the honest MDE in the advice text):

    MDE = (z_{1-alpha/2} + z_{power}) * sqrt(p (1 - p) (1/n_recipients + 1/n_holdout))

the normal-approximation sample-size formula for two independent proportions (Chow,
Shao & Wang, "Sample Size Calculations in Clinical Research", 2nd ed., section 4.2;
the same as Kohavi, Tang & Xu, "Trustworthy Online Controlled Experiments", ch. 17,
with unequal groups). p is the base rate over the channel's conversion window,
estimated from the audience's last 30 days of orders: p30 = the share of the audience
with at least one counted order in those 30 days, and p = 1 - (1 - p30)^(window/30 d)
(orders assumed spread evenly over time).

Too small to measure. The uplift report (uplift.py) says "not enough data" until each
group has UPLIFT_MIN_GROUP people and both together UPLIFT_MIN_CONVERTERS buyers. A
size is only suggested when it can meet those counts: both groups at least
UPLIFT_MIN_GROUP, and the buyers expected in the window (base rate x audience, before
any lift) at least UPLIFT_MIN_CONVERTERS. When no size up to 50 % can, no holdout is
suggested and the advice says so: a holdout there only costs messages. The MDE above
is the normal approximation and is optimistic for such small groups anyway.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import NormalDist
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from mini_crm.core.formatting import plural
from mini_crm.core.outcomes.attribution import window_hours
from mini_crm.core.segments import matching_customer_ids, parse_rules
from mini_crm.models import Order, OrderStatus, utcnow

PRIME = 2_147_483_647  # 2^31 - 1
BUCKETS = 10_000
HOLDOUT_SALT = 7_919
MAX_HOLDOUT_PERCENT = 50
CANDIDATE_PERCENTS = tuple(range(5, MAX_HOLDOUT_PERCENT + 1, 5))
TARGET_RELATIVE_MDE = 0.20  # a 20 % lift over the base rate: a typical campaign effect
FALLBACK_MDE_FACTOR = 1.26  # 20 % sits exactly at 1.25 x: a margin over float rounding
BASE_RATE_DAYS = 30
# uplift.MIN_GROUP_SIZE / MIN_CONVERTERS (uplift.py imports scipy, kept off the launch
# path; tests/unit/test_holdout_advice.py holds the two equal).
UPLIFT_MIN_GROUP = 100
UPLIFT_MIN_CONVERTERS = 10
ALPHA = 0.05
POWER = 0.80
ORDER = Order.__table__


def hash_of(campaign_id: int, customer_id: int, salt: int = HOLDOUT_SALT) -> int:
    """The stable hash (0 .. PRIME - 1) of one customer in one campaign: `stable_hash`'s
    twin. core/campaigns/split.py ranks a launch's recipients by it."""
    h = (customer_id * 48_271 + campaign_id * 69_621 + salt) % PRIME
    h = (h * h + 12_345) % PRIME
    return (h * h + 54_321) % PRIME


def bucket_of(campaign_id: int, customer_id: int, salt: int = HOLDOUT_SALT) -> int:
    """The bucket (0..9999) of one customer in one campaign: the SQL expression's twin."""
    return hash_of(campaign_id, customer_id, salt) % BUCKETS


def stable_hash(campaign_id: int | sa.ColumnElement[Any], customer_id: sa.ColumnElement[Any],
                salt: int = HOLDOUT_SALT) -> sa.ColumnElement[Any]:
    """`hash_of` as a SQL expression over a customer-id column (BIGINT arithmetic:
    every intermediate stays below 2^62)."""
    big = sa.BigInteger()
    prime = sa.literal(PRIME, big)
    h = (sa.cast(customer_id, big) * sa.literal(48_271, big)
         + sa.cast(sa.literal(campaign_id, big) if isinstance(campaign_id, int)
                   else campaign_id, big) * sa.literal(69_621, big)
         + sa.literal(salt, big)) % prime
    h = (h * h + sa.literal(12_345, big)) % prime
    return (h * h + sa.literal(54_321, big)) % prime


def stable_bucket(campaign_id: int | sa.ColumnElement[Any], customer_id: sa.ColumnElement[Any],
                  salt: int = HOLDOUT_SALT) -> sa.ColumnElement[Any]:
    """`bucket_of` as a SQL expression over a customer-id column."""
    return stable_hash(campaign_id, customer_id, salt) % sa.literal(BUCKETS, sa.BigInteger())


def check_percent(value: Any) -> int:
    """A holdout percent as an int 0..50; ValueError with a sentence otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise ValueError("the holdout is a whole percentage from 0 to 50")
    if not 0 <= int(value) <= MAX_HOLDOUT_PERCENT:
        raise ValueError(f"the holdout is between 0 and {MAX_HOLDOUT_PERCENT} % of the "
                         "audience")
    return int(value)


def mde(base_rate: float, n_recipients: int, n_holdout: int, alpha: float = ALPHA,
        power: float = POWER) -> float | None:
    """Smallest absolute difference in conversion rate detectable (formula above);
    None when a group is empty or the base rate is 0 or 1 (no variance to work with)."""
    if n_recipients <= 0 or n_holdout <= 0 or not 0 < base_rate < 1:
        return None
    # The standard library's normal quantiles, not scipy's: this module is on the launch
    # path, and importing scipy there cost every worker ~90 MB and, on a loaded 2-core
    # machine, 16-20 s at start-up (measured this round).
    z = NormalDist().inv_cdf(1 - alpha / 2) + NormalDist().inv_cdf(power)
    return float(z * (base_rate * (1 - base_rate) * (1 / n_recipients + 1 / n_holdout)) ** 0.5)


@dataclass
class HoldoutAdvice:
    audience: int
    base_rate_30d: float | None
    base_rate: float | None  # over the channel's conversion window
    window_hours: int
    suggested_percent: int | None
    options: list[dict[str, Any]] = field(default_factory=list)
    # What the suggestion means to the marketer, in plain words (leads); then `stats`,
    # the figures behind it (base rate, detectable uplift, power) for the curious.
    reason: str = ""
    stats: str = ""

    def mde_for(self, percent: int) -> dict[str, Any] | None:
        return next((o for o in self.options if o["percent"] == percent), None)


def advise(audience: int, buyers_30d: int, channel: str,
           eligible: int | None = None) -> HoldoutAdvice:
    """Size advice from counts: audience size and how many of it ordered in 30 days.
    The base rate is the matching audience's; the split is of `eligible` when given
    (those left after consent, suppressions and caps: the launch draws the holdout from
    them), else of the whole audience.

    `options` holds every candidate percent ({"percent", "holdout_size", "mde_absolute",
    "mde_relative", "measurable"}: measurable False when that split cannot reach the
    uplift report's minimum counts); `suggested_percent` is None for an empty audience,
    no recent buyers, or an audience too small for any holdout to be measured."""
    hours = window_hours().get(channel, window_hours()["sms"])
    if audience <= 0:
        return HoldoutAdvice(audience, None, None, hours, None,
                             reason="The audience is empty, so there is nothing to hold out.")
    p30 = buyers_30d / audience
    p = 1 - (1 - p30) ** (hours / (BASE_RATE_DAYS * 24))
    n = audience if eligible is None else max(0, min(int(eligible), audience))
    if n <= 0:
        return HoldoutAdvice(audience, p30, p, hours, None,
                             reason="Nobody in this audience can be messaged, so there is "
                                    "nothing to hold out.")
    options = []
    for pct in CANDIDATE_PERCENTS:
        n_c = n * pct // 100
        d = mde(p, n - n_c, n_c)
        options.append({"percent": pct, "holdout_size": n_c, "mde_absolute": d,
                        "mde_relative": d / p if d is not None and p > 0 else None})
    rate_text = f"{p:.2%} of this audience order within {hours} h in a normal period"
    if p <= 0:
        return HoldoutAdvice(audience, p30, p, hours, None, options,
                             "Nobody in this audience ordered in the last 30 days, so a "
                             "holdout could not show what the campaign earned; none is "
                             "suggested.")
    for o in options:
        o["measurable"] = (min(o["holdout_size"], n - o["holdout_size"])
                           >= UPLIFT_MIN_GROUP and p * n >= UPLIFT_MIN_CONVERTERS)
    options_all, options = options, [o for o in options if o["measurable"]]
    if not options:
        return HoldoutAdvice(
            audience, p30, p, hours, None, options_all,
            "This audience is too small for any holdout to show what the campaign "
            "earned, so none is suggested; orders after the message are still counted.",
            f"{rate_text}. The uplift report needs at least {UPLIFT_MIN_GROUP} people in "
            f"each group and {UPLIFT_MIN_CONVERTERS} buyers in all, and {n:,} people "
            f"would bring {_expected_buyers(p * n)}.")
    reachable = [o for o in options if o["mde_relative"] is not None
                 and o["mde_relative"] <= TARGET_RELATIVE_MDE]
    if reachable:
        best = reachable[0]
        return HoldoutAdvice(audience, p30, p, hours, best["percent"], options_all,
                             _keep_back(best) + " It is the smallest share that can show a "
                             f"typical campaign's lift ({TARGET_RELATIVE_MDE:.0%} more "
                             "buyers).",
                             f"{rate_text}; holding out {best['percent']}% "
                             f"({best['holdout_size']:,} people) can detect an uplift of "
                             f"{best['mde_absolute'] * 100:.2f} points "
                             f"({best['mde_relative']:.0%} relative) with 80% power.")
    # Out of reach: most of the precision a 50 % holdout would give, for far fewer people
    # left unmessaged (the MDE grows as sqrt(1/h + 1/(1-h)): 20 % is within 25 % of 50 %).
    widest = options[-1]
    fallback = next(o for o in options if o["mde_absolute"] is not None
                    and o["mde_absolute"] <= FALLBACK_MDE_FACTOR * widest["mde_absolute"])
    return HoldoutAdvice(audience, p30, p, hours, fallback["percent"], options_all,
                         _keep_back(fallback) + " Only a large effect will show: a smaller "
                         "one will read as 'not significant', and holding back more would "
                         "barely help.",
                         f"{rate_text}; no holdout up to {widest['percent']}% could detect a "
                         f"{TARGET_RELATIVE_MDE:.0%} lift; {fallback['percent']}% "
                         f"({fallback['holdout_size']:,} people) can detect an uplift of "
                         f"{fallback['mde_absolute'] * 100:.2f} points "
                         f"({fallback['mde_relative']:.0%} relative) with 80% power.")


def _keep_back(option: dict[str, Any]) -> str:
    """The suggestion in the marketer's words: "Keep 10% (about 1,200 people) back to see
    what the campaign really earned: they get no message, and their orders show what
    would have sold anyway." (about: the launch draws from the audience as it is then)."""
    people = plural(option["holdout_size"], "person", "people")
    return (f"Keep {option['percent']}% (about {people}) back to see what the campaign "
            "really earned: they get no message, and their orders show what would have "
            "sold anyway.")


def _expected_buyers(expected: float) -> str:
    """ "about 12 buyers", "about 1 buyer"; "less than one buyer" under a half (the
    review read "17 people would bring about 0 buyers")."""
    if round(expected) == 0:
        return "less than one buyer"
    return f"about {plural(round(expected), 'buyer')}"


def suggest(session: Session, rules: dict[str, Any], channel: str,
            now: datetime | None = None, eligible: int | None = None) -> HoldoutAdvice:
    """Advice for an audience: one statement counts it and its buyers of the last 30 days;
    `eligible` (how many of it can be messaged, when known) is what gets split (advise).

    Raises RulesError for invalid rules.
    """
    now = now or utcnow()
    ids = matching_customer_ids(parse_rules(rules), now).subquery()
    recent = (sa.select(ORDER.c.customer_id)
              .where(ORDER.c.ordered_at >= now - timedelta(days=BASE_RATE_DAYS),
                     ORDER.c.ordered_at <= now,
                     ORDER.c.status.not_in(OrderStatus.NOT_COUNTED))
              .distinct().subquery())
    audience, buyers = session.execute(
        sa.select(sa.func.count(ids.c.id), sa.func.count(recent.c.customer_id))
        .select_from(ids.outerjoin(recent, recent.c.customer_id == ids.c.id))).one()
    return advise(int(audience), int(buyers or 0), channel, eligible)
