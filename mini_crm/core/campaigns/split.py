"""How a launch splits its eligible recipients: holdout, A/B test share, variants.

The rule (exact sizes, stable members). The launch ranks its `n` eligible recipients
(not skipped) by a stable hash of (campaign id, customer id) (`draw_hash`: the
holdout's integer arithmetic with DRAW_SALT, ties broken by customer id), and deals
them out in that order:

1. the first H = round(n x holdout% / 100) are the holdout;
2. of the m = n - H after them, the next T = round(m x test% / 100) are the test share
   (all m when the test share is 100 %, or without an A/B test), `queued`;
3. the test share is dealt round-robin over the k variants: A, B, (C, D,) A, B, ... so
   the variants differ by at most one person (A gets any extra);
4. the rest wait for the winner (`waiting`, no variant yet).

round() is half up ("50 % of 3" holds 2 back), in integer arithmetic so SQL and Python
agree. Marketers expect an even split (Klaviyo and Mailchimp split evenly): the former
rule, an independent coin flip per person, gave 9 vs 14 for one 23-person test, which
is ordinary binomial spread but reads as a bug, and made a 2 x 100 test come out 98 vs
102 (below the winner rule's 100).

Stability. The ranks are computed inside the launch's one INSERT ... SELECT
(`split_select`: ROW_NUMBER() over the eligible rows; SQLite >= 3.25, PostgreSQL,
MariaDB >= 10.2), so the audience never passes through Python. The statement is
atomic and fill_log inserts only into an empty log, so a person's group never changes
after the launch committed; a launch killed before its commit left no rows and sent
nothing, so its re-run deals the audience as it is then. The hash order is a uniformly
random permutation, so consecutive blocks of it are random, independent-of-each-other
groups, just as the per-person coin flips were. `assign` is the Python twin the tests
hold the SQL to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from mini_crm.core.outcomes.holdout import hash_of, stable_hash
from mini_crm.models import DeliveryStatus

KEYS = ("A", "B", "C", "D")
DRAW_SALT = 15_485_863  # the 1,000,000th prime; the holdout's own salt is 7,919


def _round_share(n: int, percent: int) -> int:
    """round(n x percent / 100), halves up, in integers (the SQL's arithmetic)."""
    return (n * percent + 50) // 100


@dataclass(frozen=True)
class Sizes:
    """The group sizes for `eligible` recipients: holdout, test (sent now), waiting, and
    per variant (k entries, in key order; [] without an A/B test)."""

    holdout: int
    test: int
    waiting: int
    per_variant: list[int]


def sizes(eligible: int, holdout_percent: int = 0, n_variants: int = 0,
          test_percent: int = 100) -> Sizes:
    """The exact sizes the launch gives `eligible` recipients (module docstring)."""
    n = max(eligible, 0)
    held = _round_share(n, holdout_percent)
    rest = n - held
    test = _round_share(rest, test_percent) if n_variants else rest
    per = [test // n_variants + (1 if i < test % n_variants else 0)
           for i in range(n_variants)] if n_variants else []
    return Sizes(holdout=held, test=test, waiting=rest - test, per_variant=per)


def holdout_leaves_nobody(eligible: int, holdout_percent: int) -> str | None:
    """The warning when the holdout would keep back every one of `eligible` recipients
    (50 % of 1 rounds up to 1): nobody would be sent the campaign, and a launch is
    refused. None when someone receives, or there is no one eligible anyway."""
    if eligible <= 0 or holdout_percent <= 0:
        return None
    if sizes(eligible, holdout_percent).holdout < eligible:
        return None
    who = "the only eligible customer" if eligible == 1 else f"all {eligible} eligible customers"
    return (f"A {holdout_percent}% holdout keeps back {who}: nobody would be sent this "
            "campaign. Lower the holdout (or set it to 0) or widen the audience.")


def draw_hash(campaign_id: int, customer_id: int) -> int:
    """A customer's place-deciding hash in one campaign: `draw_expr`'s twin."""
    return hash_of(campaign_id, customer_id, DRAW_SALT)


def draw_expr(campaign_id: int, customer_id: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    return stable_hash(campaign_id, customer_id, DRAW_SALT)


def assign(campaign_id: int, eligible: list[int], holdout_percent: int = 0,
           n_variants: int = 0, test_percent: int = 100
           ) -> dict[int, tuple[str, str | None]]:
    """customer id -> (status, variant) for the eligible customers of one launch:
    `split_select`'s twin (holdout, queued with a variant, or waiting)."""
    order = sorted(eligible, key=lambda c: (draw_hash(campaign_id, c), c))
    s = sizes(len(order), holdout_percent, n_variants, test_percent)
    out: dict[int, tuple[str, str | None]] = {}
    for rank, customer in enumerate(order):
        q = rank - s.holdout
        if q < 0:
            out[customer] = (DeliveryStatus.HOLDOUT, None)
        elif q < s.test:
            out[customer] = (DeliveryStatus.QUEUED, KEYS[q % n_variants] if n_variants
                             else None)
        else:
            out[customer] = (DeliveryStatus.WAITING, None)
    return out


def _exact_share(n: sa.ColumnElement[Any], percent: int) -> sa.ColumnElement[Any]:
    """`_round_share` in SQL without integer division (whose meaning differs: MariaDB's
    `/` is exact decimal division): x - x % 100 is a multiple of 100, so dividing it by
    100 is exact on every database; the cast brings MariaDB's decimal back to integer."""
    big = sa.BigInteger()
    x = n * sa.literal(percent, big) + sa.literal(50, big)
    return sa.cast((x - x % sa.literal(100, big)) / sa.literal(100, big), big)


def split_select(campaign_id: int, reached: sa.Subquery, holdout_percent: int = 0,
                 n_variants: int = 0, test_percent: int = 100) -> sa.Subquery:
    """(customer_id, skip_reason, status, variant) for every reached row: skipped rows
    keep `skipped`; the eligible are dealt as the module docstring says. `reached` has
    customer_id and skip_reason (reach.reach_select)."""
    big = sa.BigInteger()
    customer = reached.c.customer_id
    eligible = sa.case((reached.c.skip_reason.is_(None), 1), else_=0)
    ranked = sa.select(
        customer.label("customer_id"), reached.c.skip_reason,
        sa.func.row_number().over(partition_by=eligible,
                                  order_by=(draw_expr(campaign_id, customer), customer))
        .label("rank"),
        sa.func.count().over(partition_by=eligible).label("n"),
    ).subquery("ranked")
    rank, n = sa.cast(ranked.c.rank, big), sa.cast(ranked.c.n, big)
    held = _exact_share(n, holdout_percent)
    rest = n - held
    test = _exact_share(rest, test_percent) if n_variants else rest
    q = rank - held - sa.literal(1, big)  # 0-based place after the holdout
    send = sa.case((q < sa.literal(0, big), sa.literal(DeliveryStatus.HOLDOUT)),
                   (q < test, sa.literal(DeliveryStatus.QUEUED)),
                   else_=sa.literal(DeliveryStatus.WAITING))
    status = sa.case((ranked.c.skip_reason.is_(None), send),
                     else_=sa.literal(DeliveryStatus.SKIPPED))
    variant: sa.ColumnElement[Any] = sa.null()
    if n_variants:
        slot = q % sa.literal(n_variants, big)
        keys = [(slot == sa.literal(i, big), sa.literal(KEYS[i], sa.String(8)))
                for i in range(n_variants - 1)]
        variant = sa.case((status != sa.literal(DeliveryStatus.QUEUED), sa.null()), *keys,
                          else_=sa.literal(KEYS[n_variants - 1], sa.String(8)))
    return sa.select(ranked.c.customer_id, ranked.c.skip_reason, status.label("status"),
                     variant.label("variant")).subquery("dealt")
