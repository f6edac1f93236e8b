"""Plain English against real data on every database: the data vocabulary learnt from
the whole table (kept current incrementally), shares of the base computed from the data,
the marketer vocabulary stored in the database, and named dates."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import Session, select

from mini_crm.core import formatting
from mini_crm.core.ai import data_vocabulary, quantiles, vocabulary
from mini_crm.core.ai import segment_rules as nl
from mini_crm.core.auth.audit import Actor
from mini_crm.models import AuditEvent, Customer, utcnow
from mini_crm.settings import Settings

OFFLINE = Settings(ai_engine="offline")
NOW = datetime(2026, 11, 20, 12, 0, 0)


def _customers(session: Session, prefix: str, n: int, attrs: Any, city: str = "Pune",
               spend: int = 0) -> None:
    now = utcnow()
    for i in range(n):
        session.add(Customer(external_id=f"{prefix}{i}", city=city,
                             email=f"{prefix}{i}@{prefix}.example.in",
                             attributes=attrs(i) if callable(attrs) else attrs,
                             total_spend=Decimal(spend + i), order_count=i % 7,
                             created_at=now, updated_at=now))
    session.commit()


def ask(session: Session, prompt: str) -> nl.SegmentRules:
    return nl.segment_rules(session, prompt, settings=OFFLINE, now=NOW).value


def flat(rules: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for r in rules.get("rules", []):
        out += flat(r) if "rules" in r else [r]
    return out


def test_gold_tier_survives_a_batch_of_newer_customers(session: Session) -> None:
    data_vocabulary.forget()
    _customers(session, "old", 30, {"loyalty_tier": "gold"}, city="Lucknow")
    assert ask(session, "gold tier customers in Lucknow").unparsed == []
    # 600 newer customers with other attributes: the newest 500 no longer hold the key
    _customers(session, "new", 600, lambda i: {"favourite_sport": ["cricket", "hockey"][i % 2]})
    got = ask(session, "gold tier customers in Lucknow")
    assert {"field": "attributes.loyalty_tier", "operator": "=", "value": "gold"} in \
        flat(got.rules)
    assert {"field": "city", "operator": "in", "value": ["Lucknow"]} in flat(got.rules)
    assert got.unparsed == []
    # and what the batch brought is known too (read incrementally, not from scratch)
    got = ask(session, "customers whose favourite sport is hockey")
    assert flat(got.rules) == [{"field": "attributes.favourite_sport", "operator": "=",
                                "value": "hockey"}]


def test_incremental_counts_equal_a_full_count(session: Session) -> None:
    data_vocabulary.forget()
    _customers(session, "a", 40, lambda i: {"tier": ["gold", "silver"][i % 2]})
    data_vocabulary.current(session)
    # changes inside the overlap (re-read: never counted twice) and new customers
    session.exec(update(Customer).where(Customer.external_id.in_(["a0", "a2", "a4"]))
                 .values(attributes={"tier": "platinum"}, updated_at=utcnow()))
    session.commit()
    _customers(session, "b", 10, {"tier": "gold"})
    stats = data_vocabulary.current(session)
    expected: dict[str, int] = {}
    for attrs in session.exec(select(Customer.attributes)).all():
        expected[attrs["tier"]] = expected.get(attrs["tier"], 0) + 1
    assert stats.values["tier"] == expected
    assert stats.keys == {"tier": 50}
    # deleting customers (count(*) no longer matches) starts again from scratch
    session.exec(update(Customer).where(Customer.external_id == "b0")
                 .values(attributes={}, updated_at=utcnow() - timedelta(days=30)))
    session.commit()
    for c in session.exec(select(Customer).where(Customer.external_id.like("a%"))).all():
        session.delete(c)
    session.commit()
    stats = data_vocabulary.current(session)
    assert stats.values["tier"] == {"gold": 9}


def test_a_share_of_the_base_is_a_threshold_from_the_data(session: Session) -> None:
    data_vocabulary.forget()
    got = ask(session, "top 10% spenders in Pune")  # no customers: refused, said why
    assert "needs customer data" in " ".join(got.unparsed)
    assert not any(r["field"] == "total_spend" for r in flat(got.rules))
    _customers(session, "s", 50, {}, spend=1000)
    got = ask(session, "top 10% spenders")
    spends = sorted((c.total_spend for c in session.exec(select(Customer)).all()), reverse=True)
    edge = spends[math.ceil(len(spends) * 0.10) - 1]
    assert flat(got.rules) == [{"field": "total_spend", "operator": ">=", "value": int(edge)}]
    assert any(f"top 10% by spend = total spend at least {formatting.rupees(edge)} today"
               in line for line in got.explanation), got.explanation
    assert quantiles.threshold(session, "order_count", "bottom", 25) == 1
    got = ask(session, "top 10% customers")  # of what? refused, not guessed
    assert not got.understood and "by spend" in " ".join(got.unparsed)


def test_vocabulary_definitions_are_stored_edited_and_reset(session: Session) -> None:
    data_vocabulary.forget()
    _customers(session, "v", 5, {}, spend=60000)
    got = ask(session, "VIP customers")
    assert flat(got.rules) == [{"field": "total_spend", "operator": ">=", "value": 50000}]
    assert any("VIP (your definition in Settings" in line for line in got.explanation)
    one_lakh = {"combinator": "and", "not": False, "rules": [
        {"field": "total_spend", "operator": ">=", "value": 100000}]}
    view = vocabulary.save_term(session, "vip", one_lakh, "₹1 lakh or more",
                                actor=Actor(label="test"))
    assert view.edited and "₹1,00,000" in view.sentence
    got = ask(session, "VIP customers")
    assert flat(got.rules) == one_lakh["rules"]
    assert any("₹1 lakh or more" in line for line in got.explanation)
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "segment_term.save")
                        ).first() is not None
    with pytest.raises(vocabulary.TermError, match="not valid"):
        vocabulary.save_term(session, "vip", {"combinator": "and", "rules": [
            {"field": "total_spend", "operator": "is about", "value": 5}]})
    with pytest.raises(vocabulary.TermError, match="at least one rule"):
        vocabulary.save_term(session, "vip", {"combinator": "and", "rules": []})
    with pytest.raises(vocabulary.TermError, match="not a vocabulary word"):
        vocabulary.save_term(session, "whale", one_lakh)
    assert not vocabulary.reset_term(session, "vip").edited
    assert flat(ask(session, "VIP customers").rules)[0]["value"] == 50000


def test_named_dates_resolve_or_refuse_never_replaced(session: Session) -> None:
    data_vocabulary.forget()
    _customers(session, "d", 3, {})
    got = ask(session, "customers who haven't ordered since Diwali")
    assert got.rules["rules"] == [{"combinator": "or", "not": False, "rules": [
        {"field": "last_order_at", "operator": "<", "value": "2026-11-08"},
        {"field": "last_order_at", "operator": "is_null"}]}]
    got = ask(session, "customers who ordered since last Christmas")
    assert flat(got.rules) == [{"field": "last_order_at", "operator": ">=",
                                "value": "2025-12-25"}]
    got = ask(session, "customers who haven't ordered since next Diwali")
    assert not got.understood and "in the future" in " ".join(got.unparsed)


def test_the_sql_pass_counts_what_the_streamed_pass_counts(session: Session) -> None:
    now = utcnow()
    samples = [{"tier": "gold", "visits": 3, "score": 4.5, "vip": True, "note": None},
               {"tier": "gold", "visits": 3, "vip": False, "tags": ["a", "b"]},
               {"tier": "silver", "bio": "x" * 80, "prefs": {"sms": True}},
               {}, {"tier": "gold", "visits": 12}]
    for i, attrs in enumerate(samples):
        session.add(Customer(external_id=f"m{i}", attributes=attrs,
                             email=None if i == 3 else f"m{i}@{['a.in', 'b.com'][i % 2]}",
                             created_at=now, updated_at=now))
    session.commit()
    data_vocabulary.forget()
    built = data_vocabulary._build(session)  # SQL on SQLite/PostgreSQL, streamed on MariaDB
    streamed = data_vocabulary.Stats()
    data_vocabulary._read(session, streamed, None)
    assert built.keys == streamed.keys
    assert built.values == streamed.values
    assert built.domains == streamed.domains == {"a.in": 3, "b.com": 1}
    assert built.rows == streamed.rows == 5
    assert built.values["tier"] == {"gold": 3, "silver": 1}
    assert built.values["vip"] == {True: 1, False: 1} and "bio" not in built.values


def test_the_first_pass_can_run_at_app_start(session: Session, engine: Any,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from contextlib import contextmanager

    @contextmanager
    def this_database():  # noqa: ANN202 - the app's session_scope, on the test database
        with Session(engine) as s:
            yield s

    _customers(session, "w", 3, {"tier": "gold"})
    data_vocabulary.forget()
    monkeypatch.setattr(data_vocabulary, "session_scope", this_database)
    data_vocabulary.warm_in_background().join(timeout=60)
    assert data_vocabulary._cache[str(engine.url)].values["tier"] == {"gold": 3}


def test_a_burst_larger_than_an_incremental_read_is_not_rebuilt_on_every_call(
        session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    """A push of more customers than one incremental read takes, all stamped within the
    overlap of the newest stamp: once counted, later calls read only what changed since
    they last looked, not the burst again (which made every call a full pass)."""
    monkeypatch.setattr(data_vocabulary, "INCREMENTAL_ROWS", 10)
    data_vocabulary.forget()
    burst = utcnow() - timedelta(hours=1)
    session.add_all(Customer(external_id=f"p{i}", attributes={"tier": "gold"},
                             created_at=burst, updated_at=burst) for i in range(30))
    session.commit()
    builds: list[int] = []
    real_build = data_vocabulary._build
    monkeypatch.setattr(data_vocabulary, "_build",
                        lambda db: builds.append(1) or real_build(db))
    assert data_vocabulary.current(session).keys == {"tier": 30}
    assert data_vocabulary.current(session).keys == {"tier": 30}
    assert len(builds) == 1
    # what changes afterwards is still read incrementally, and counted once
    _customers(session, "q", 3, {"tier": "silver"})
    stats = data_vocabulary.current(session)
    assert stats.values["tier"] == {"gold": 30, "silver": 3}
    assert len(builds) == 1
