"""Item schemas and batch validation: each bad item gets its index, field and reason."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from mini_crm.core.contacts import CHANNELS, blank_to_none, normalise_email, normalise_phone


def _naive_utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


class ConsentIn(BaseModel):
    """Consent per channel: false = opted out, true = an explicit opt-in; absent = unchanged."""

    model_config = ConfigDict(extra="forbid")

    sms: bool | None = None
    email: bool | None = None
    whatsapp: bool | None = None


# CSV columns (and flat API keys) that fold into `consent`.
_FLAT_CONSENT = {f"consent_{c}": c for c in CHANNELS}


class CustomerIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    external_id: str = Field(min_length=1, max_length=128)
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=32)
    city: str | None = Field(default=None, max_length=100)
    created_at: datetime | None = None
    attributes: dict[str, Any] | None = None
    unsubscribed: bool | None = Field(
        default=None, description="true: opted out of every channel; false: an explicit "
        "opt-in to every channel. Leave it out to keep consent as stored: an opt-out is only "
        "ever undone by an explicit opt-in.")
    consent: ConsentIn | None = Field(
        default=None, description="Per channel, e.g. {\"sms\": false}; channels left out "
        "keep their stored consent.")

    @model_validator(mode="before")
    @classmethod
    def _flat_consent(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not any(k in data for k in _FLAT_CONSENT):
            return data
        data = dict(data)
        nested = data.get("consent")
        consent = dict(nested) if isinstance(nested, dict) else {}
        for key, channel in _FLAT_CONSENT.items():
            if key in data:
                consent[channel] = data.pop(key)
        data["consent"] = consent
        return data

    @model_validator(mode="after")
    def _consent_agrees(self) -> CustomerIn:
        if self.unsubscribed is None or self.consent is None:
            return self
        for channel, value in self.consent.model_dump(exclude_none=True).items():
            if value == self.unsubscribed:
                raise ValueError(
                    f"unsubscribed is {str(self.unsubscribed).lower()} but consent.{channel} "
                    f"is {str(value).lower()}; send one of them, or make them agree")
        return self

    def consent_wanted(self) -> dict[str, bool]:
        """The consent this item sets explicitly ({} when it carries none)."""
        wanted: dict[str, bool] = {}
        if self.unsubscribed is not None:
            wanted = dict.fromkeys(CHANNELS, not self.unsubscribed)
        if self.consent is not None:
            wanted.update(self.consent.model_dump(exclude_none=True))
        return wanted

    @field_validator("name", "city")
    @classmethod
    def _blank(cls, v: str | None) -> str | None:
        return blank_to_none(v)

    @field_validator("email")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        return normalise_email(v)

    @field_validator("phone")
    @classmethod
    def _phone(cls, v: str | None) -> str | None:
        return normalise_phone(v)

    @field_validator("created_at")
    @classmethod
    def _utc(cls, v: datetime | None) -> datetime | None:
        return _naive_utc(v)

    @field_validator("attributes")
    @classmethod
    def _attribute_keys(cls, v: dict[str, Any] | None) -> dict[str, Any] | None:
        if v is None:
            return v
        bad = [k for k in v if not re.match(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$", k)]
        if bad:
            raise ValueError(f"attribute keys must be letters, digits and _ (bad: {bad[:3]})")
        # A blank text value is a missing one, stored as null like any other blank field.
        return {k: blank_to_none(x) if isinstance(x, str) else x for k, x in v.items()}


class OrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    external_id: str = Field(min_length=1, max_length=128)
    customer_external_id: str = Field(min_length=1, max_length=128)
    amount: Decimal = Field(ge=0, le=Decimal("999999999999.99"), decimal_places=2)
    currency: str = Field(default="INR", pattern=r"^[A-Z]{3}$")
    status: str = Field(default="completed", min_length=1, max_length=32)
    ordered_at: datetime
    items: list[dict[str, Any]] | None = None

    @field_validator("status")
    @classmethod
    def _status(cls, v: str) -> str:
        return v.lower()

    @field_validator("ordered_at")
    @classmethod
    def _utc(cls, v: datetime) -> datetime:
        return _naive_utc(v)  # type: ignore[return-value]


M = TypeVar("M", bound=BaseModel)


@dataclass
class Validated(Generic[M]):
    items: list[M]
    errors: list[dict[str, Any]]


def validate_items(raw: list[Any], model: type[M]) -> Validated[M]:
    good: list[M] = []
    errors: list[dict[str, Any]] = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            errors.append({"index": index, "field": None, "message": "expected an object"})
            continue
        try:
            good.append(model.model_validate(item))
        except ValidationError as exc:
            for e in exc.errors():
                field = ".".join(str(p) for p in e["loc"]) or None
                errors.append({"index": index, "field": field,
                               "message": e["msg"].removeprefix("Value error, ")})
    return Validated(good, errors)
