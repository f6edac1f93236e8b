"""A custom attribute means the same whether it arrived as the JSON number 12 or as the
text "12" (a CSV cell), on every database: the rule `> 3`, `> "3"`, `= 12`, `= "12"` and
`between ["1", "20"]` find both; ids with leading zeros stay text."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from mini_crm.core.segments import matching_customer_ids
from mini_crm.models import Customer

NOW = datetime(2026, 3, 15, 13, 30, 0)
VISITS = {"n12": 12, "t12": "12", "t12.0": "12.0", "t3": "3", "n2": 2, "zip": "0400",
          "n400": 400, "word": "twelve", "phone": "+12", "neg": "-4.5", "none": None,
          "newline": "12\n"}


@pytest.fixture
def people(session: Session) -> dict[str, int]:
    session.execute(sa.insert(Customer), [
        {"external_id": key, "attributes": {"visits": value}} for key, value in VISITS.items()])
    session.commit()
    rows = session.execute(sa.select(Customer.id, Customer.external_id)).all()
    return {ext: cid for cid, ext in rows}


def _who(session: Session, people: dict[str, int], op: str, value: Any) -> set[str]:
    rules = {"combinator": "and", "rules": [{"field": "attributes.visits", "operator": op,
                                             "value": value}]}
    ids = set(session.exec(matching_customer_ids(rules, NOW)).all())
    return {ext for ext, cid in people.items() if cid in ids}


@pytest.mark.parametrize("value", [3, "3", "3.0"])
def test_greater_than_reads_numeric_texts(session: Session, people: dict[str, int],
                                          value: Any) -> None:
    assert _who(session, people, ">", value) == {"n12", "t12", "t12.0", "n400"}


@pytest.mark.parametrize("value", [12, "12", "12.0"])
def test_equality_agrees_for_number_and_text(session: Session, people: dict[str, int],
                                             value: Any) -> None:
    assert _who(session, people, "=", value) == {"n12", "t12", "t12.0"}
    # != is NOT of =: the texts that are not numbers and the missing value match it
    assert _who(session, people, "!=", value) == set(VISITS) - {"n12", "t12", "t12.0"}


def test_between_in_and_negative_numbers(session: Session, people: dict[str, int]) -> None:
    assert _who(session, people, "between", ["1", "20"]) == {"n12", "t12", "t12.0", "t3",
                                                             "n2"}
    assert _who(session, people, "between", "-5,2") == {"neg", "n2"}
    assert _who(session, people, "in", ["12", "400"]) == {"n12", "t12", "t12.0", "n400"}


def test_leading_zero_ids_stay_text(session: Session, people: dict[str, int]) -> None:
    assert _who(session, people, "=", "0400") == {"zip"}
    assert _who(session, people, "=", 400) == {"n400"}
    assert _who(session, people, "=", "+12") == {"phone"}
    # text operators ask about the text, however number-like the value
    assert _who(session, people, "starts_with", "12") == {"t12", "t12.0", "newline"}
    assert _who(session, people, "contains", "2") == {"t12", "t12.0", "phone", "newline"}
    # a list mixing labels and number-looking ones means each label: "12" finds 12 stored
    # as a number or as text, as ["12"] alone does (test_segments_meanings)
    assert _who(session, people, "in", ["twelve", "12"]) == {"word", "t12", "n12", "t12.0"}
    assert _who(session, people, "in", ["twelve", "0400"]) == {"word", "zip"}
