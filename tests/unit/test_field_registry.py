"""A rule field on an existing column is one FieldSpec (issue 11, item 4).

Three throwaway fields are registered in a test registry, each on a column the built-in
fields already use, and nothing else changes: the plain-English parser reads their words,
the rule sentence says them, validation accepts them and the compiler selects the right
customers on SQLite. Outside the block the built-in catalogue is untouched.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import Session, SQLModel

from mini_crm.core.ai.nl import parse
from mini_crm.core.segments import RulesError, catalogue, describe, fields, parse_rules
from mini_crm.core.segments.fields import FIELDS, FieldSpec
from mini_crm.core.segments.service import matching_customer_ids
from mini_crm.db import create_db_engine
from mini_crm.models import Customer

NOW = datetime(2026, 11, 20, 12, 0)
TOWN = FieldSpec("town", "text", "Town", "text", Customer.city, missing="with no town",
                 words=frozenset({"town", "towns"}))
CLV = FieldSpec("lifetime_value", "number", "Lifetime value", "money", Customer.total_spend,
                nullable=False, words=frozenset({"clv"}))
BOOKS = FieldSpec("days_on_books", "days", "Days on the books", "days", Customer.created_at,
                  nullable=False, phrases={"<": "have been on our books for under {days}"},
                  words=frozenset({"books"}))
TEST_FIELDS = FIELDS.plus(TOWN, CLV, BOOKS)


def _parse(text: str) -> dict:
    parsed = parse(text, cities=[], attribute_keys=[], today=NOW.date())
    assert parsed.unparsed == [], parsed.unparsed
    return parsed.rules


def test_the_parser_reads_a_new_fields_words() -> None:
    with fields.using(TEST_FIELDS):
        rules = _parse("customers whose town starts with Pu and clv over 5000 who have "
                       "been on the books for less than 30 days")
        missing = _parse("customers with no town")
    assert rules["rules"] == [
        {"field": "town", "operator": "starts_with", "value": "Pu"},
        {"field": "lifetime_value", "operator": ">", "value": 5000},
        {"field": "days_on_books", "operator": "<", "value": 30}]
    assert missing["rules"] == [{"field": "town", "operator": "is_null"}]


def test_a_new_field_is_described_and_catalogued() -> None:
    with fields.using(TEST_FIELDS):
        sentence = describe(_parse("clv between 1000 and 5000 and town is not Pune"
                                   " and on the books for less than 30 days"))
        names = {f["name"] for f in catalogue()}
    assert "have a lifetime value between ₹1,000 and ₹5,000" in sentence
    assert "have been on our books for under 30 days" in sentence
    assert "(including customers with no town)" in sentence
    assert {"town", "lifetime_value", "days_on_books"} <= names


def test_the_built_in_fields_still_win_with_their_own_words() -> None:
    # "spent" stays total spend and "joined" the signup next to the new fields
    with fields.using(TEST_FIELDS):
        rules = _parse("spent over 5000 and joined in the last 30 days")
    assert rules["rules"] == [{"field": "total_spend", "operator": ">", "value": 5000},
                              {"field": "days_since_signup", "operator": "<", "value": 30}]


def test_a_new_field_compiles_on_sqlite(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'fields.db'}")
    SQLModel.metadata.create_all(engine)
    people = [("pune-rich-new", "Pune", "9000", date(2026, 11, 10)),
              ("pune-poor-new", "Pune", "100", date(2026, 11, 10)),
              ("pune-rich-old", "Pune", "9000", date(2024, 1, 1)),
              ("delhi-rich-new", "Delhi", "9000", date(2026, 11, 10)),
              ("nowhere-rich-new", None, "9000", date(2026, 11, 10))]
    with Session(engine) as s:
        for ext, city, spend, joined in people:
            s.add(Customer(external_id=ext, city=city, total_spend=Decimal(spend),
                           created_at=datetime.combine(joined, datetime.min.time())))
        s.commit()
        with fields.using(TEST_FIELDS):
            rules = _parse("town starts with pu and clv over 5000 and on the books for "
                           "less than 30 days")
            ids = set(s.exec(matching_customer_ids(rules, NOW)).all())
            unknown_town = set(s.exec(matching_customer_ids(
                {"combinator": "and", "rules": [{"field": "town", "operator": "not_in",
                                                 "value": ["Pune"]}]}, NOW)).all())
        by_id = {c.id: c.external_id for c in s.exec(Customer.__table__.select()).all()}
    engine.dispose()
    assert {by_id[i] for i in ids} == {"pune-rich-new"}
    # a negative rule on a nullable text field includes the customers without a value
    assert {by_id[i] for i in unknown_town} == {"delhi-rich-new", "nowhere-rich-new"}


def test_outside_the_block_the_field_is_unknown() -> None:
    with fields.using(TEST_FIELDS):
        pass
    with pytest.raises(RulesError, match="unknown field"):
        parse_rules({"combinator": "and", "rules": [
            {"field": "town", "operator": "=", "value": "Pune"}]})
    assert "town" not in FIELDS and fields.registry() is FIELDS
