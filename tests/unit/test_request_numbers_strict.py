"""No request body of the API takes a boolean for a number: every numeric field of every
model a route reads (FastAPI bodies, nested models, and the bodies routes parse by hand:
ingestion items, consent, vendor callbacks) refuses `true` and `false`. Found by walking
the app's routes, so a numeric field added later is checked too."""

from __future__ import annotations

import types
import typing
from decimal import Decimal
from typing import Annotated, Any

import pytest
from fastapi.routing import APIRoute
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from mini_crm.api.app import ROUTERS
from mini_crm.api.consent import SubscribeIn, SuppressionIn, UnsubscribeIn
from mini_crm.core.delivery.receipt_model import ReceiptIn
from mini_crm.core.inbound import InboundMessage
from mini_crm.core.ingestion.schemas import CustomerIn, OrderIn

PARSED_BY_HAND = [CustomerIn, OrderIn, UnsubscribeIn, SubscribeIn, SuppressionIn, ReceiptIn,
                  InboundMessage]
NUMBERS = (int, float, Decimal)


def _parts(annotation: Any) -> list[Any]:
    """The plain types inside Optional[...], list[...], Annotated[...] and unions."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _parts(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, list, tuple, set):
        return [p for a in typing.get_args(annotation) for p in _parts(a)]
    return [annotation]


def _numeric_fields(model: type[BaseModel]) -> list[tuple[type[BaseModel], str]]:
    """(model, field) for each numeric field of `model` and of the models nested in it."""
    found = []
    for name, info in model.model_fields.items():
        for part in _parts(info.annotation):
            if part in NUMBERS:
                found.append((model, info.alias or name))
            elif isinstance(part, type) and issubclass(part, BaseModel):
                found.extend(_numeric_fields(part))
    return found


def _request_models() -> list[type[BaseModel]]:
    models: list[type[BaseModel]] = list(PARSED_BY_HAND)
    for route in (r for router in ROUTERS for r in router.routes):
        field = getattr(route, "body_field", None) if isinstance(route, APIRoute) else None
        for part in _parts(field.field_info.annotation) if field else []:
            if isinstance(part, type) and issubclass(part, BaseModel) and part not in models:
                models.append(part)
    return models


FIELDS = sorted({(m.__name__, m, f) for model in _request_models()
                 for m, f in _numeric_fields(model)}, key=lambda x: (x[0], x[2]))


def test_the_walk_finds_the_known_numeric_fields() -> None:
    found = {f"{name}.{field}" for name, _, field in FIELDS}
    assert {"CampaignIn.holdout_percent", "AbTestIn.test_percent", "DraftIn.step",
            "OrderIn.amount", "MessagesIn.n"} <= found, found


@pytest.mark.parametrize(("name", "model", "field"), FIELDS,
                         ids=[f"{n}.{f}" for n, _, f in FIELDS])
@pytest.mark.parametrize("value", [True, False])
def test_a_boolean_is_not_a_number(name: str, model: type[BaseModel], field: str,
                                   value: bool) -> None:
    with pytest.raises(ValidationError) as caught:
        model.model_validate({field: value})
    assert any(e["loc"][:1] == (field,) for e in caught.value.errors()), (
        f"{name}.{field} accepted {value}")



def _info(model: type[BaseModel], field: str) -> FieldInfo:
    return next(i for n, i in model.model_fields.items() if (i.alias or n) == field)


def _read(model: type[BaseModel], field: str, json_value: str) -> Any:
    """The field alone (its type and constraints) reading a JSON value."""
    info = _info(model, field)
    return TypeAdapter(Annotated[info.annotation, info]).validate_json(json_value)


INT_FIELDS = [(name, model, field) for name, model, field in FIELDS
              if int in _parts(_info(model, field).annotation)]


def test_the_walk_finds_the_whole_number_fields() -> None:
    found = {f"{name}.{field}" for name, _, field in INT_FIELDS}
    assert {"CampaignIn.holdout_percent", "AbTestIn.test_percent", "DraftIn.step",
            "PreviewIn.sample", "MessagesIn.n"} <= found, found


@pytest.mark.parametrize(("name", "model", "field"), INT_FIELDS,
                         ids=[f"{n}.{f}" for n, _, f in INT_FIELDS])
def test_an_integral_float_is_a_whole_number(name: str, model: type[BaseModel],
                                             field: str) -> None:
    # JSON has one number type: 2.0 is the whole number 2 (every field here takes 2)
    value = _read(model, field, "2.0")
    assert value == 2 and type(value) is int


@pytest.mark.parametrize(("name", "model", "field"), INT_FIELDS,
                         ids=[f"{n}.{f}" for n, _, f in INT_FIELDS])
@pytest.mark.parametrize("value", ["2.5", '"2"', "true"])
def test_a_fraction_text_or_boolean_is_not_a_whole_number(name: str, model: type[BaseModel],
                                                          field: str, value: str) -> None:
    with pytest.raises(ValidationError) as caught:
        _read(model, field, value)
    assert caught.value.errors()[0]["type"] == "int_type", (name, field, value)
