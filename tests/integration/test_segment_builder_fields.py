"""The rule builder's field list on every database: its custom attributes come from the
same whole-table catalogue as the plain-English parser (core/ai/data_vocabulary), not
from the newest customers."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from mini_crm.core.ai import data_vocabulary
from mini_crm.core.ai.segment_rules import data_context
from mini_crm.core.segments import editing
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
