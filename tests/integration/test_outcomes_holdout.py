"""Holdout groups on every database: the SQL bucket is the Python one, membership is a
function of (campaign, customer) only, holdout rows are never claimed, and the size
advice follows the power formula."""

from __future__ import annotations

import math
import random
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from mini_crm.core.campaigns import launch, service, split
from mini_crm.core.campaigns.errors import CampaignError
from mini_crm.core.delivery import claims, enqueue
from mini_crm.core.outcomes import holdout
from mini_crm.models import utcnow
from tests.integration.campaign_helpers import LOG, add_customers, city_rules
from tests.integration.outcomes_data import order, send_orders


def test_sql_hash_and_bucket_equal_the_python_ones(engine: sa.Engine) -> None:
    rng = random.Random(4)
    pairs = [(1, 1), (2_147_483_647, 2_147_483_647), (1, 2_147_483_647)] + [
        (rng.randint(1, 2**31 - 1), rng.randint(1, 2**31 - 1)) for _ in range(200)]
    with engine.connect() as conn:
        for campaign_id, customer_id in pairs:
            got = conn.execute(sa.select(holdout.stable_bucket(
                campaign_id, sa.literal(customer_id, sa.BigInteger()).label("cust")))).scalar()
            assert int(got) == holdout.bucket_of(campaign_id, customer_id), (campaign_id,
                                                                              customer_id)
            full = conn.execute(sa.select(holdout.stable_hash(
                campaign_id, sa.literal(customer_id, sa.BigInteger()), 99))).scalar()
            assert int(full) == holdout.hash_of(campaign_id, customer_id, 99)


def test_buckets_are_uniform_and_salts_independent() -> None:
    n = 20_000
    held = [holdout.bucket_of(7, c) < 1000 for c in range(1, n + 1)]
    share = sum(held) / n
    assert abs(share - 0.10) < 4 * math.sqrt(0.1 * 0.9 / n)
    other = [holdout.bucket_of(7, c, salt=1) < 5000 for c in range(1, n + 1)]
    inside = [o for h, o in zip(held, other, strict=True) if h]
    # Among holdout members the other split is still about half/half.
    assert abs(sum(inside) / len(inside) - 0.5) < 4 * math.sqrt(0.25 / len(inside))


def _launch(engine: sa.Engine, percent: int) -> tuple[int, dict[int, str]]:
    with Session(engine, expire_on_commit=False) as db:
        c = service.create_campaign(db, name="Holdout", rules=city_rules("Pune"),
                                    segment_id=None, message_template="Hi {name}",
                                    channel="sms", schedule_at=None, objective=None,
                                    created_by=None, holdout_percent=percent)
        db.commit()
    with engine.connect() as conn:
        rows = conn.execute(sa.select(LOG.c.customer_id, LOG.c.status)
                            .where(LOG.c.campaign_id == c.id)).all()
    return c.id, {int(a): b for a, b in rows}


def test_launch_keeps_a_stable_holdout_that_is_never_claimed(
        engine: sa.Engine, app_settings: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(enqueue, "enqueue_campaign", lambda campaign_id: None)
    ids = add_customers(engine, 600)
    campaign_id, rows = _launch(engine, 20)
    assert set(rows) == set(ids)
    held = {c for c, s in rows.items() if s == "holdout"}
    assert rows == {c: s for c, (s, _v) in split.assign(campaign_id, ids, 20).items()}
    # Exactly 20 % of the 600 eligible, not "about": the launch deals by rank.
    assert len(held) == 120 and set(rows.values()) == {"holdout", "queued"}
    # A second fill of the same campaign (a retried launch) adds and moves nothing, and
    # the statement itself, run again after a rollback (a killed launch), picks the same.
    with Session(engine) as db:
        assert launch.fill_log(db, campaign_id, city_rules("Pune"), utcnow(), "sms",
                               holdout_percent=20) == (600, 600 - len(held))
        db.commit()
    with Session(engine) as db:
        db.execute(LOG.delete().where(LOG.c.campaign_id == campaign_id))
        launch.fill_log(db, campaign_id, city_rules("Pune"), utcnow(), "sms",
                        holdout_percent=20)
        again = {int(c) for c in db.execute(sa.select(LOG.c.customer_id).where(
            LOG.c.campaign_id == campaign_id, LOG.c.status == "holdout")).scalars()}
        db.rollback()
    assert again == held
    # Workers only ever claim queued rows.
    with engine.connect() as conn:
        claimable = conn.execute(sa.select(LOG.c.customer_id).where(
            *claims.claimable(campaign_id, utcnow()))).scalars().all()
    assert set(claimable) == set(ids) - held


def test_holdout_percent_is_checked(engine: sa.Engine, app_settings: sa.Engine) -> None:
    for bad in (-1, 51, 12.5, "10", True):
        with Session(engine) as db, pytest.raises(CampaignError) as err:
            service.create_campaign(db, name="x", rules=city_rules("Pune"), segment_id=None,
                                    message_template="Hi", channel="sms", schedule_at=None,
                                    objective=None, created_by=None, holdout_percent=bad)
        assert err.value.field == "holdout_percent"


def test_holdout_rows_do_not_count_towards_the_frequency_cap(
        engine: sa.Engine, app_settings: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FREQUENCY_CAP_MESSAGES", "1")
    from mini_crm.settings import get_settings
    get_settings.cache_clear()
    monkeypatch.setattr(enqueue, "enqueue_campaign", lambda campaign_id: None)
    add_customers(engine, 50)
    _, first = _launch(engine, 50)
    _, second = _launch(engine, 0)
    # Those held out of the first campaign were never messaged, so they are still eligible.
    assert {c for c, s in second.items() if s == "queued"} == {
        c for c, s in first.items() if s == "holdout"}


def test_power_advice_follows_the_formula() -> None:
    # 100,000 people, 12,000 of whom bought in 30 days; email window 120 h = 5 days.
    advice = holdout.advise(100_000, 12_000, "email")
    p = 1 - (1 - 0.12) ** (120 / 720)
    assert advice.base_rate == pytest.approx(p)
    # z_{0.975} + z_{0.80} = 1.959964 + 0.841621 = 2.801585 (standard normal table).
    ten = advice.mde_for(10)
    assert ten["mde_absolute"] == pytest.approx(
        2.801585 * math.sqrt(p * (1 - p) * (1 / 90_000 + 1 / 10_000)), rel=1e-5)
    assert advice.suggested_percent is not None
    chosen = advice.mde_for(advice.suggested_percent)
    assert chosen["mde_relative"] <= holdout.TARGET_RELATIVE_MDE
    smaller = advice.mde_for(advice.suggested_percent - 5)
    assert smaller is None or smaller["mde_relative"] > holdout.TARGET_RELATIVE_MDE
    # Out of reach (a 2 % base rate in 10,000): the size with most of the precision, 20 %.
    small = holdout.advise(10_000, 1_200, "email")
    assert small.suggested_percent == 20 and "could detect" in small.stats
    assert small.mde_for(20)["mde_relative"] > holdout.TARGET_RELATIVE_MDE
    assert holdout.advise(500, 0, "sms").suggested_percent is None


def test_suggest_reads_the_audience_and_its_recent_buyers(engine: sa.Engine) -> None:
    ids = add_customers(engine, 40)
    now = utcnow()
    send_orders(engine, *[order(f"r{i}", f"c-Pune-{i}", now.replace(microsecond=0)
                                - timedelta(days=3))
                          for i in range(10)])
    with Session(engine) as db:
        advice = holdout.suggest(db, city_rules("Pune"), "sms", now=now)
    assert advice.audience == len(ids) and advice.base_rate_30d == pytest.approx(10 / 40)
