"""A/B tests of message variants: input, assignment at launch, the winner, the rest.

Input. A campaign takes 2-4 variants (`[{"message", "subject"?}]`, keys "A".."D" by
position; variant A's message is also the campaign's `message_template`) and
`ab_test` = {"test_percent": 1-100, "test_hours": 1-168, "metric": "conversion" |
"delivery"} (defaults 100, 24, "conversion"). For email a variant may carry its own
subject line; without one it uses the campaign's (which message a row is sent is
`core/messages/variants.message_for`, so delivery reads it without importing this
package).

Assignment (launch.audience_select, inside the launch's one INSERT ... SELECT; the
rule is core/campaigns/split.py). The eligible recipients are ranked by a stable hash
of (campaign, customer); after the holdout, the first round(test_percent %) of the
others are the test share, `queued` with variants dealt round-robin (A, B, A, B, ...),
so the variants' sizes differ by at most one; the others are `waiting` with no variant
yet. Workers claim only `queued` rows, so a waiting row is never sent before the
winner. Holdout members get no variant: they receive no message, and they are the
control of the uplift, not of the variant comparison. The launch's statement is atomic
and runs once per campaign, so nobody's variant ever changes after it committed.

The winner. At `ab_decide_at` (launch + test_hours) the periodic task `decide_due`
compares the variants on the rows that reached the vendor (core/outcomes/ab_winner.py:
pairwise two-proportion z-tests, Holm-corrected, alpha 0.05, at least 100 sent per
variant). The decision is ONE transaction: a guarded UPDATE moves the campaign from
phase `testing` to `decided` (of two sweepers, one matches it; the other's UPDATE
matches nothing and it stops), and the same transaction turns every `waiting` row
into `queued` with the rest's variant; delivery jobs are enqueued after the commit.
So each waiting customer is queued exactly once, with one variant.
- A winner found: the rest gets the winner's message.
- No winner (not enough data, or no significant difference): the rest gets variant A,
  the first message, treated as the control: a clear choice that needs nobody, and
  the reason is shown ("no winner: B leads 3.4% vs 3.1% but p = 0.41").
The marketer can choose instead, any time before (`pick_winner`: the same
transaction with the chosen key, marked "decided by hand").
A test too small for the rule (a variant with fewer than ab_winner.MIN_RECIPIENTS in
the test, counted at launch) is launched "by hand": the launch stores
`ab_test["auto_winner"] = False` and no automatic winner is promised anywhere; the
page and the API say the marketer picks the winner, and that if nobody does by
`ab_decide_at` the rest gets variant A. That is what `decide_campaign` then does
(winner None, rest A), without a statistical verdict it could not reach.
With test_percent 100 ("send all at once") nobody waits; the decision at test_hours
only records which variant won, for the report.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from mini_crm.core.auth import audit
from mini_crm.core.campaigns import reach, split
from mini_crm.core.campaigns.errors import CampaignError, CampaignNotFound
from mini_crm.core.delivery import log_status
from mini_crm.core.messages import render
from mini_crm.core.messages.email import validate_email_fields
from mini_crm.core.outcomes import ab_winner
from mini_crm.db import session_scope
from mini_crm.models import (
    Campaign,
    CampaignStatus,
    CommunicationLog,
    Conversion,
    DeliveryStatus,
    utcnow,
)

log = logging.getLogger(__name__)

CAMPAIGN = Campaign.__table__
LOG = CommunicationLog.__table__
CONVERSION = Conversion.__table__
KEYS = split.KEYS
MIN_VARIANTS, MAX_VARIANTS = 2, len(KEYS)
DEFAULT_TEST = {"test_percent": 100, "test_hours": 24, "metric": "conversion"}
MAX_TEST_HOURS = 168
# "ended": the campaign was cancelled while testing; no winner is picked after a cancel.
TESTING, DECIDED, ENDED = "testing", "decided", "ended"
CONTROL = "A"
DECIDE_EVERY_SECONDS = 30.0


# Input ----------------------------------------------------------------------

def check_variants(variants: Any, channel: str = "sms") -> list[dict[str, Any]] | None:
    """[{"message", "subject"?}] (2-4) -> [{"key", "message", "subject"}]; None for
    None or []. Raises CampaignError(sentence, "variants") naming the variant at fault."""
    if variants is None or variants == []:
        return None
    if not isinstance(variants, list):
        raise CampaignError("variants is a list of {\"message\": ...}", "variants")
    if len(variants) < MIN_VARIANTS:
        raise CampaignError(f"an A/B test needs at least {MIN_VARIANTS} variants", "variants")
    if len(variants) > MAX_VARIANTS:
        raise CampaignError(f"at most {MAX_VARIANTS} variants", "variants")
    out = []
    for key, raw in zip(KEYS, variants, strict=False):
        item = raw if isinstance(raw, dict) else {"message": raw}
        message = item.get("message")
        if not isinstance(message, str) or not message.strip():
            raise CampaignError(f"variant {key} is empty", "variants")
        problems = render.validate_template(message)
        if problems:
            raise CampaignError(f"variant {key}: {'; '.join(problems)}", "variants")
        subject = item.get("subject") or None
        if subject is not None and channel != "email":
            raise CampaignError(f"variant {key}: a subject line is for email only",
                                "variants")
        for _field, problem in validate_email_fields(subject, None, None):
            raise CampaignError(f"variant {key}: {problem}", "variants")
        out.append({"key": key, "message": message.strip(), "subject": subject})
    # Variants differ by what the recipient reads: spacing alone is no difference (" a "
    # and "a" were two variants), while one message under two subject lines is the
    # commonest email test and is allowed.
    seen = {(" ".join(v["message"].split()), " ".join((v["subject"] or "").split()))
            for v in out}
    if len(seen) < len(out):
        raise CampaignError("two variants have the same message"
                            + (" and subject" if channel == "email" else "")
                            + ": each variant must differ", "variants")
    return out


def check_settings(ab_test: Any, variants: list[dict[str, Any]] | None
                   ) -> dict[str, Any] | None:
    """The test settings with defaults, or None without variants. Raises CampaignError
    (field "ab_test") for settings without variants or values out of range."""
    if not variants:
        if ab_test:
            raise CampaignError("an A/B test needs 2 to 4 message variants", "ab_test")
        return None
    raw = dict(ab_test or {})
    unknown = set(raw) - set(DEFAULT_TEST)
    if unknown:
        raise CampaignError(f"unknown A/B test setting(s): {', '.join(sorted(unknown))}",
                            "ab_test")
    out = {**DEFAULT_TEST, **{k: v for k, v in raw.items() if v is not None}}
    for name, low, high, words in (("test_percent", 1, 100, "the test share is a whole "
                                    "percentage from 1 to 100 (100 sends all at once)"),
                                   ("test_hours", 1, MAX_TEST_HOURS, "the test period is a "
                                    f"whole number of hours from 1 to {MAX_TEST_HOURS}")):
        value = out[name]
        if isinstance(value, bool) or not isinstance(value, int | float) \
                or value != int(value) or not low <= int(value) <= high:
            raise CampaignError(words, "ab_test")
        out[name] = int(value)
    if out["metric"] not in ab_winner.METRICS:
        raise CampaignError("the A/B metric is conversion or delivery", "ab_test")
    return out


# Test size --------------------------------------------------------------------

def expected_test_size(eligible: int, n_variants: int, test_percent: int,
                       holdout_percent: int = 0) -> tuple[int, int]:
    """(about, low): the number of people per variant in the test and the smallest
    variant's, from `eligible` recipients (reach.Reach.recipients) before the holdout.

    The launch deals the test share out evenly (core/campaigns/split.py), so these are
    the exact sizes for that many recipients; "about" only because the audience may
    change before the launch. A 20% test of 1,000 over 2 variants is 100 each.
    """
    got = split.sizes(eligible, holdout_percent, max(n_variants, 1), test_percent)
    return round(got.test / max(n_variants, 1)), min(got.per_variant)


def small_test_warning(eligible: int, n_variants: int, test_percent: int,
                       holdout_percent: int = 0) -> str | None:
    """The marketer's warning before launch when a variant would likely get fewer than
    ab_winner.MIN_RECIPIENTS people in the test (then no automatic winner can be
    picked: core/outcomes/ab_winner.decide), or None. The launch is not refused: it
    launches "by hand" (by_hand_at_launch), and the warning says so. Used by the API
    preview and the wizard's review."""
    if n_variants < MIN_VARIANTS or eligible < 0:
        return None
    about, low = expected_test_size(eligible, n_variants, test_percent, holdout_percent)
    if low >= ab_winner.MIN_RECIPIENTS:
        return None
    advice = ("raise the test share or pick the winner yourself" if test_percent < 100
              else "use fewer variants or a larger audience, or pick the winner yourself")
    # Said as what the launch will do (it launches "by hand": no automatic winner is
    # promised), not only as advice.
    then = (f"Launched like this, no winner is picked automatically: you pick it on the "
            f"campaign page, and if nobody does by the end of the test the rest gets "
            f"variant {CONTROL}." if test_percent < 100 else
            "Launched like this, no winner is picked automatically: you can pick one on "
            "the campaign page.")
    return (f"Each variant gets about {about:,} in the test; at least "
            f"{ab_winner.MIN_RECIPIENTS} are needed for an automatic winner — {advice}. "
            + then)


def by_hand_at_launch(per_variant: list[int], n_variants: int) -> bool:
    """True when the test counted at launch (`per_variant`: its people per variant)
    is too small for an automatic winner: then the winner is the marketer's to pick."""
    if n_variants < MIN_VARIANTS:
        return False
    counts = list(per_variant) + [0] * max(0, n_variants - len(per_variant))
    return min(counts) < ab_winner.MIN_RECIPIENTS


def auto_winner(settings: dict[str, Any] | None) -> bool:
    """False for a test launched too small for an automatic winner (by_hand_at_launch)."""
    return (settings or {}).get("auto_winner", True) is not False


def by_hand_plan(waiting: int) -> str:
    """What happens to a test launched too small for an automatic winner, in words
    (the API's `ab_test.plan` and the campaign page)."""
    rest = (f"the {waiting:,} still waiting get variant {CONTROL} (the first message)"
            if waiting else "it ends with no winner")
    return (f"Too few people in the test for an automatic winner (at least "
            f"{ab_winner.MIN_RECIPIENTS} per variant): pick the winner yourself. If "
            f"nobody does by the end of the test, {rest}.")


def launched_test_warning(figures: list[dict[str, Any]]) -> str | None:
    """After launch, from variant_figures while testing: the warning when a variant
    has fewer than MIN_RECIPIENTS in the test (its recipients), or None."""
    if len(figures) < MIN_VARIANTS:
        return None
    short = [f for f in figures if f["recipients"] < ab_winner.MIN_RECIPIENTS]
    if not short:
        return None
    counts = ", ".join(f"{f['key']} {f['recipients']:,}" for f in figures)
    return (f"The test has too few people for an automatic winner ({counts}; at least "
            f"{ab_winner.MIN_RECIPIENTS} per variant are needed): pick the winner "
            "yourself before the test ends, or the rest gets variant A.")


def campaign_warnings(db: Session, campaign: Campaign, figures: list[dict[str, Any]]
                      ) -> list[str]:
    """The detail's warnings for an A/B campaign: while testing, from the variants' real
    test counts (`figures` = variant_figures); while scheduled, the expected counts for
    the audience as it is now (one count query: reach.preview_reach). [] otherwise."""
    if not campaign.variants:
        return []
    warning = None
    settings = {**DEFAULT_TEST, **(campaign.ab_test or {})}
    if campaign.ab_phase == TESTING:
        warning = launched_test_warning(figures)
    elif campaign.status == CampaignStatus.SCHEDULED and campaign.rules:
        found = reach.preview_reach(db, campaign.rules, campaign.channel, utcnow())
        warning = small_test_warning(found.recipients, len(campaign.variants),
                                     int(settings["test_percent"]),
                                     int(campaign.holdout_percent or 0))
    return [warning] if warning else []


# Figures --------------------------------------------------------------------

def variant_figures(db: Session, campaign: Campaign) -> list[dict[str, Any]]:
    """Per variant: {"key", "message", "subject", "recipients", "sent", "delivered",
    "failed", "cancelled", "pending", "conversions", "converters", "revenue" (Decimal),
    "conversion_rate", "delivery_rate"} (rates None before anything was sent), in key
    order; [] for a campaign without variants. Two grouped queries.

    The counts are core/delivery/log_status's vocabulary: `failed` are real failures,
    and rows a cancel stopped are `cancelled`, never `failed`."""
    if not campaign.variants:
        return []
    counts: dict[str, dict[str, int]] = {v["key"]: {} for v in campaign.variants}
    status = log_status.bucket(LOG.c)
    for key, bucket, n in db.execute(
            sa.select(LOG.c.variant, status, sa.func.count())
            .where(LOG.c.campaign_id == campaign.id, LOG.c.variant.is_not(None))
            .group_by(LOG.c.variant, status)).all():
        if key in counts:
            counts[key][str(bucket)] = int(n)
    rows = {}
    for v in campaign.variants:
        tally = log_status.Tally.of(counts[v["key"]])
        rows[v["key"]] = {"key": v["key"], "message": v["message"],
                          "subject": v.get("subject"), "recipients": tally.recipients,
                          "sent": tally.sent, "delivered": tally.delivered,
                          "failed": tally.failed, "cancelled": tally.cancelled,
                          "pending": tally.pending, "conversions": 0, "converters": 0,
                          "revenue": Decimal(0)}
    for key, n, people, revenue in db.execute(
            sa.select(CONVERSION.c.variant, sa.func.count(),
                      sa.func.count(sa.distinct(CONVERSION.c.customer_id)),
                      sa.func.coalesce(sa.func.sum(CONVERSION.c.amount), 0))
            .where(CONVERSION.c.campaign_id == campaign.id,
                   CONVERSION.c.holdout == sa.false(), CONVERSION.c.variant.is_not(None))
            .group_by(CONVERSION.c.variant)).all():
        if key in rows:
            rows[key].update(conversions=int(n), converters=int(people),
                             revenue=Decimal(revenue))
    for row in rows.values():
        sent = row["sent"]
        row["conversion_rate"] = round(row["converters"] / sent, 6) if sent else None
        row["delivery_rate"] = round(row["delivered"] / sent, 6) if sent else None
    return [rows[k] for k in sorted(rows)]


def evaluate(figures: list[dict[str, Any]], metric: str) -> ab_winner.Decision:
    """The winner rule on variant_figures (converters or delivered out of sent)."""
    success = "converters" if metric == "conversion" else "delivered"
    return ab_winner.decide([ab_winner.Arm(f["key"], f["sent"], f[success])
                             for f in figures], metric)


def waiting_count(db: Session, campaign_id: int) -> int:
    return int(db.execute(sa.select(sa.func.count()).select_from(LOG).where(
        LOG.c.campaign_id == campaign_id, LOG.c.status == DeliveryStatus.WAITING))
        .scalar_one())


# Deciding -------------------------------------------------------------------

def _settle(db: Session, campaign: Campaign, winner: str | None, detail: dict[str, Any],
            now: datetime) -> bool:
    """Record the decision and queue the rest with `detail["rest_variant"]`, in the
    caller's transaction; False when another process decided first."""
    won = db.execute(CAMPAIGN.update().where(CAMPAIGN.c.id == campaign.id,
                                             CAMPAIGN.c.ab_phase == TESTING)
                     .values(ab_phase=DECIDED, winner=winner, winner_detail=detail)).rowcount
    if won != 1:
        return False
    released = db.execute(LOG.update().where(LOG.c.campaign_id == campaign.id,
                                             LOG.c.status == DeliveryStatus.WAITING)
                          .values(status=DeliveryStatus.QUEUED,
                                  variant=detail["rest_variant"], updated_at=now)).rowcount
    detail["released"] = int(released)
    db.execute(CAMPAIGN.update().where(CAMPAIGN.c.id == campaign.id)
               .values(winner_detail=detail))
    if released:
        from mini_crm.core.campaigns import service  # cycle: service imports ab_test

        service.enqueue_after_commit(db, campaign.id, released)
    db.expire(campaign)
    return True


def decide_campaign(db: Session, campaign_id: int, now: datetime | None = None
                    ) -> dict[str, Any] | None:
    """The automatic decision for one campaign in the test phase, in the caller's
    transaction: returns winner_detail, or None when it is not (or no longer) testing.
    The decision is an audit event (`ab_winner_decided`, actor "system") in the same
    transaction, whether a variant won or not.

    winner_detail = {"decided_by": "auto", "decided_at": ISO time, "winner": key|None,
    "reason", "metric", "method", "p_value", "rates", "rest_variant", "released"}.
    """
    now = now or utcnow()
    campaign = db.get(Campaign, campaign_id)
    if campaign is None or campaign.ab_phase != TESTING or not campaign.variants:
        return None
    metric = (campaign.ab_test or DEFAULT_TEST).get("metric", "conversion")
    decision = evaluate(variant_figures(db, campaign), metric)
    rest = decision.winner or CONTROL
    detail = {**decision.as_dict(), "decided_by": "auto", "decided_at": now.isoformat(),
              "rest_variant": rest}
    if not auto_winner(campaign.ab_test):
        # Launched "by hand" (too small for the rule): no verdict was promised, so the
        # record says what was: nobody picked, and the rest got the control.
        detail["reason"] = ("Nobody picked a winner before the test ended, and the test "
                            f"was too small for an automatic one ({decision.reason}): the "
                            f"rest of the audience gets variant {CONTROL} (the first "
                            "message, the control).")
    elif decision.winner is None:
        detail["reason"] += f" The rest of the audience gets variant {CONTROL} (the first " \
                            "message, the control)."
    if not _settle(db, campaign, decision.winner, detail, now):
        return None
    audit.record_by(db, audit.SYSTEM, audit.AB_WINNER_DECIDED,
                    target=f"campaign:{campaign_id}",
                    details={"winner": decision.winner, "decided_by": "auto",
                             "metric": metric, "p_value": decision.p_value,
                             "rest_variant": rest, "released": detail.get("released", 0)})
    return detail


def pick_winner(db: Session, campaign_id: int, key: str, *,
                actor_user_id: int | None = None, now: datetime | None = None
                ) -> dict[str, Any]:
    """The marketer chooses the winner (API, campaign page): the rest is queued with
    `key`'s message at once. Returns winner_detail (decided_by "manual", and the test's
    figures at that moment for the record).

    Raises CampaignNotFound; CampaignError(sentence, "variant") for an unknown key;
    CampaignError(sentence, "ab_test") for a campaign that is not an A/B test, already
    decided, cancelled or not launched.
    """
    now = now or utcnow()
    campaign = db.get(Campaign, campaign_id)
    if campaign is None:
        raise CampaignNotFound(f"campaign {campaign_id} does not exist")
    keys = [v["key"] for v in campaign.variants or ()]
    if not keys:
        raise CampaignError("this campaign is not an A/B test", "ab_test")
    key = (key or "").strip().upper()
    if key not in keys:
        raise CampaignError(f"variant must be one of {', '.join(keys)}", "variant")
    if campaign.status not in (CampaignStatus.SENDING, CampaignStatus.COMPLETED):
        raise CampaignError(f"this campaign is {campaign.status}: a winner can be chosen "
                            "once it has been launched and before it is cancelled",
                            "ab_test")
    if campaign.ab_phase != TESTING:
        raise CampaignError(f"the winner was already decided ({campaign.winner or 'none'})",
                            "ab_test")
    metric = (campaign.ab_test or DEFAULT_TEST).get("metric", "conversion")
    decision = evaluate(variant_figures(db, campaign), metric)
    detail = {**decision.as_dict(), "winner": key, "decided_by": "manual",
              "decided_at": now.isoformat(), "rest_variant": key,
              "reason": f"Chosen by hand. At that moment: {decision.reason}"}
    if not _settle(db, campaign, key, detail, now):
        raise CampaignError("the winner was decided meanwhile", "ab_test")
    audit.record(db, audit.AB_WINNER_PICKED, actor_user_id=actor_user_id,
                 target=f"campaign:{campaign_id}",
                 details={"winner": key, "decided_by": "manual"})
    return detail


def due_for_decision(db: Session, now: datetime, limit: int = 50) -> list[int]:
    """Launched campaigns in the test phase whose test period is over."""
    return [int(i) for i in db.execute(
        sa.select(CAMPAIGN.c.id).where(
            CAMPAIGN.c.ab_phase == TESTING, CAMPAIGN.c.ab_decide_at <= now,
            CAMPAIGN.c.status.in_((CampaignStatus.SENDING, CampaignStatus.COMPLETED)))
        .order_by(CAMPAIGN.c.ab_decide_at).limit(limit)).scalars()]


def decide_due(now: datetime | None = None) -> list[int]:
    """Periodic task: decide every test whose period is over; returns the campaigns
    decided here. Each in its own transaction (one failing does not hold the others)."""
    now = now or utcnow()
    with session_scope() as db:
        due = due_for_decision(db, now)
    decided = []
    for campaign_id in due:
        try:
            with session_scope() as db:
                if decide_campaign(db, campaign_id, now) is not None:
                    decided.append(campaign_id)
        except Exception:
            log.exception("A/B decision for campaign %s failed; retried next round",
                          campaign_id)
    if decided:
        log.info("A/B winners decided for campaigns %s", decided)
    return decided


def decide_at(started: datetime, settings: dict[str, Any]) -> datetime:
    return started + timedelta(hours=int(settings.get("test_hours", 24)))

