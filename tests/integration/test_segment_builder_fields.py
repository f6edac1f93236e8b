"""The rule builder's data on every database: its custom attributes come from the same
whole-table catalogue as the plain-English parser (core/ai/data_vocabulary), not from
the newest customers; a city it calls unknown is one no customer in the table has."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from mini_crm.core.ai import data_vocabulary
from mini_crm.core.ai.segment_rules import data_context
from mini_crm.core.segments import editing, list_values, service
from mini_crm.models import Customer, utcnow
from mini_crm.state import segment_answers


def _customers(session: Session, prefix: str, n: int, attrs: dict[str, Any] | None) -> None:
    now = utcnow()
    session.add_all(Customer(external_id=f"{prefix}{i}", city="Chennai", attributes=attrs,
                             created_at=now, updated_at=now) for i in range(n))
    session.commit()


def test_attributes_of_older_customers_stay_in_the_field_list(
        app_settings: Engine, session: Session) -> None:
    data_vocabulary.forget()
    _customers(session, "old", 20, {"gender": "female", "loyalty_tier": "gold"})
    assert segment_answers.builder_context()["keys"] == ["gender", "loyalty_tier"]
    # 700 newer customers without attributes: the newest 500 hold none of the keys
    _customers(session, "new", 700, None)
    context = segment_answers.builder_context()
    assert context["keys"] == ["gender", "loyalty_tier"]
    assert context["keys"] == data_context(session).attribute_keys  # one catalogue
    labels = {o["value"]: o["label"] for o in editing.field_options(context["keys"])}
    assert labels["attributes.gender"] == "Gender"
    assert labels["attributes.loyalty_tier"] == "Loyalty tier"
    # kept current: a key brought by a later customer joins the list
    _customers(session, "late", 1, {"favourite_sport": "hockey"})
    assert segment_answers.builder_context()["keys"] == [
        "favourite_sport", "gender", "loyalty_tier"]


def test_a_city_outside_the_top_hundred_is_known_and_a_typo_is_not(
        app_settings: Engine, session: Session) -> None:
    """"No customer is in …" / "did you mean" is asked of the whole table, not of the
    100 most common cities the boxes suggest: the 101st is a real city."""
    now = utcnow()
    # 100 cities with two customers each, then "Nashik" with one: the 101st most common.
    session.add_all(Customer(external_id=f"c{i}-{j}", city=f"Town{i:03d}", created_at=now,
                             updated_at=now) for i in range(100) for j in range(2))
    session.add(Customer(external_id="nashik", city="Nashik", created_at=now,
                         updated_at=now))
    session.add(Customer(external_id="delhi", city="new delhi", created_at=now,
                         updated_at=now))
    session.commit()
    cities = segment_answers.builder_context()["cities"]
    assert len(cities) == 100 and "Nashik" not in cities
    rules = {"combinator": "and", "not": False, "rules": [
        {"field": "city", "operator": "=", "value": "Nashik"},
        {"combinator": "or", "not": False, "rules": [
            {"field": "city", "operator": "in", "value": ["nashik", "Nashk", "New Delhi"]},
            {"field": "city", "operator": "!=", "value": "TOWN007"}]}]}
    # Case-insensitive as the rules compare; only the typo is unknown.
    assert service.unknown_cities(session, list_values.city_values(rules)) == ["nashk"]
    assert segment_answers.preview(rules)["unknown_cities"] == ["nashk"]
    assert service.unknown_cities(session, ["", "  "]) == []
    # Every answer carries the key the builder reads, the blank builder's too.
    assert segment_answers.preview({"combinator": "and", "rules": []})["unknown_cities"] == []
