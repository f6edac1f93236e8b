"""Item schemas and batch validation: each bad item gets its index, field and reason."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_serializer,
    field_validator,
    model_validator,
)

from mini_crm.core import brand_time, numbers, plain_errors, text_checks
from mini_crm.core.contacts import CHANNELS, blank_to_none, normalise_email, normalise_phone
from mini_crm.settings import get_settings

TIMESTAMP_DOC = ("ISO 8601. With an offset (`+05:30`, `Z`) it is converted to UTC; without "
                 "one it is read as wall-clock time in the brand's zone (BRAND_TIMEZONE, "
                 "default Asia/Kolkata); a bare date is the start of that brand day. "
                 "A JSON number is Unix time in UTC: seconds, or milliseconds when it is "
                 "above 20,000,000,000. Stored in UTC.")


def _timestamp(value: Any) -> Any:
    """Input timestamp -> naive UTC via brand_time (offset-less = brand time).

    Numbers (Unix seconds) and other types are left to pydantic, then `_naive_utc`.
    """
    if isinstance(value, str | datetime | date):
        return brand_time.parse_input_timestamp(value)
    return value


def _naive_utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is None:
        return value
    return brand_time.to_utc(value)  # range-checked: no OverflowError at the edges


# An input timestamp on any door (ingestion, campaign schedules): the same reading
# everywhere — offset-less = brand wall-clock time — stored as naive UTC.
InputTimestamp = Annotated[datetime, BeforeValidator(_timestamp), AfterValidator(_naive_utc),
                           WithJsonSchema({"type": "string", "format": "date-time",
                                           "description": TIMESTAMP_DOC})]


class ConsentIn(BaseModel):
    """Consent per channel: false = opted out, true = an explicit opt-in; absent = unchanged."""

    model_config = ConfigDict(extra="forbid")

    sms: bool | None = None
    email: bool | None = None
    whatsapp: bool | None = None


# CSV columns (and flat API keys) that fold into `consent`.
_FLAT_CONSENT = {f"consent_{c}": c for c in CHANNELS}




def _no_nul(value: Any, where: str = "") -> Any:
    """Refuse a NUL character anywhere in an item (text, attribute keys and values, items).

    PostgreSQL cannot store U+0000 in text or JSON (the whole batch would fail), and no
    real name, city or attribute holds one: a clear per-item error instead.
    """
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError(f"{where or 'a value'} contains a NUL character (\\u0000)")
    elif isinstance(value, dict):
        for k, v in value.items():
            _no_nul(k, f"the key {str(k)[:40]!r}")
            _no_nul(v, f"{where + '.' if where else ''}{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _no_nul(v, f"{where}[{i}]")
    return value


# Free-form JSON values (an attribute's value, an order's line items) may nest lists and
# objects at most this deep: enough for any real record, and far from where parsing,
# storing or serialising one (recursive on every layer) would fail with a 500.
MAX_NESTING = 10
# Attribute numbers are compared as doubles by rules (segments.schema.ATTRIBUTE_NUMBER):
# exact only up to 2**53, so a larger one is refused here rather than stored and then
# refused by every rule on it. Ids and card numbers that long belong in text.
MAX_ATTRIBUTE_NUMBER = 2**53


def nesting_problem(item: dict[str, Any]) -> tuple[str, str] | None:
    """(field, message) when a value of `item` (each attribute's value on its own) nests
    lists and objects more than MAX_NESTING levels deep, else None. Iterative, so a value
    nested thousands deep is measured without recursion: run it before the item's
    (recursive) validation."""
    for key, top in item.items():
        parts = ([(f"attributes.{k}", v) for k, v in top.items()]
                 if key == "attributes" and isinstance(top, dict) else [(key, top)])
        for field, value in parts:
            if _nesting(value) > MAX_NESTING:
                return field, (f"{field} nests lists and objects more than {MAX_NESTING} "
                               "levels deep; flatten it")
    return None


def _nesting(value: Any) -> int:
    """How many lists/objects deep `value` goes (0 for a plain value), counted only up
    to MAX_NESTING + 1."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        v, depth = stack.pop()
        if isinstance(v, dict | list):
            deepest = max(deepest, depth)
            if deepest > MAX_NESTING:
                break
            stack.extend((x, depth + 1) for x in (v.values() if isinstance(v, dict) else v))
    return deepest


def json_number_problem(value: Any, field: str, *, limit: int | None = None) -> str | None:
    """The sentence for the first number in `value` (a JSON value, walked without
    recursion) that cannot be stored as sent, else None: NaN and infinity (JSON has
    neither; `1e400`, `Infinity`, `NaN` reach us as floats a JSON column stores as null)
    and, with `limit`, numbers larger than it."""
    stack = [(value, field)]
    while stack:
        v, where = stack.pop()
        if isinstance(v, dict):
            stack.extend((x, f"{where}.{k}") for k, x in v.items())
        elif isinstance(v, list):
            stack.extend((x, f"{where}[{i}]") for i, x in enumerate(v))
        elif isinstance(v, float) and math.isinf(v):
            return (f"{where} is too large a number (past 1.8e308, read as infinity); "
                    "write it in digits, e.g. 150000 or 1499.50")
        elif isinstance(v, float) and math.isnan(v):
            return f"{where} is not a number (NaN); send a number or leave it out"
        elif limit is not None and isinstance(v, int | float) and not isinstance(v, bool) \
                and abs(v) > limit:
            return (f"{where} is {plain_errors.shown(v)}, larger than a number attribute "
                    f"can be ({limit:,}, 2**53: rules compare numbers exactly only up "
                    "to there); send it as text (in quotes) if it is an id or a code")
    return None


def normalise_external_id(value: Any) -> Any:
    """The one reading of an external id, for a body's `external_id` and a path's
    (`GET /customers/{id}`, `/orders/{id}`, consent): a number becomes its digits, text
    is trimmed (" t-1 " is t-1, so a path that writes the spaces finds the customer the
    write stored). Control characters (newline, tab, NUL) are refused with ValueError,
    since such an id could never be written in a URL path, a CSV cell or a log."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # shop backends send numeric ids (Shopify's are numbers)
    if isinstance(value, str):
        if m := text_checks.CONTROL_CHARACTERS.search(value):
            raise ValueError(f"an external id must be printable text; it contains the "
                             f"control character U+{ord(m.group()):04X}")
        return value.strip()
    return value



class FieldValueError(ValueError):
    """A model-level check's refusal that belongs to one field: pydantic gives a model
    validator's error no location, so `validate_items` reads the field from here (the
    JSON API and the CSV import then name the same field)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _printable(value: Any, field: str, *, multiline: bool = False) -> Any:
    """`value` unless it is text holding a control character (core.text_checks, the
    check every stored text shares): "name contains the control character U+0007;
    remove it". Tab and line breaks pass with `multiline` (an attribute note)."""
    if problem := text_checks.control_problem(value, field, multiline=multiline):
        raise ValueError(problem)
    return value


def _utc_text(value: datetime | None) -> str | None:
    # Validated timestamps are naive UTC: say so when serialising (the ingestion stream
    # re-validates its items, and an offset-less text would be read as brand time).
    return None if value is None else value.replace(tzinfo=UTC).isoformat()


# Any printable text, 1-128 characters; a JSON number is read as its digits.
ExternalId = Annotated[str, BeforeValidator(normalise_external_id),
                       Field(min_length=1, max_length=128)]


class _Item(BaseModel):
    """What every ingested item shares: unknown keys refused, text trimmed, no NUL."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        return _no_nul(data)


class CustomerIn(_Item):
    external_id: ExternalId
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=32)
    city: str | None = Field(default=None, max_length=100)
    created_at: datetime | None = Field(default=None, description=TIMESTAMP_DOC)
    attributes: dict[str, Any] | None = None
    unsubscribed: bool | None = Field(
        default=None, description="true: opted out of every channel; false: an explicit "
        "opt-in to every channel. Leave it out to keep consent as stored: an opt-out is only "
        "ever undone by an explicit opt-in.")
    consent: ConsentIn | None = Field(
        default=None, description="Per channel, e.g. {\"sms\": false}; channels left out "
        "keep their stored consent.")

    @field_validator("phone", mode="before")
    @classmethod
    def _phone_number(cls, v: Any) -> Any:
        # A JSON number is a phone written without its '+': read it as its digits.
        return str(v) if isinstance(v, int) and not isinstance(v, bool) else v

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
                raise FieldValueError("unsubscribed",
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
    def _blank(cls, v: str | None, info: ValidationInfo) -> str | None:
        # one line of printable text: a name is shown in pages, CSV cells and messages
        return blank_to_none(_printable(v, info.field_name or "the value"))

    @field_validator("email")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        return normalise_email(v)

    @field_validator("phone")
    @classmethod
    def _phone(cls, v: str | None) -> str | None:
        return normalise_phone(v)

    @field_validator("created_at", mode="before")
    @classmethod
    def _read_timestamp(cls, v: Any) -> Any:
        return _timestamp(v)

    @field_validator("created_at")
    @classmethod
    def _utc(cls, v: datetime | None) -> datetime | None:
        v = _naive_utc(v)
        return None if v is None else not_in_future(v, "created_at",
                                                      "a customer's signup date")

    @field_serializer("created_at", when_used="json")
    def _created_text(self, v: datetime | None) -> str | None:
        return _utc_text(v)

    @field_validator("attributes")
    @classmethod
    def _attribute_keys(cls, v: dict[str, Any] | None) -> dict[str, Any] | None:
        if v is None:
            return v
        bad = [k for k in v if not re.match(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$", k)]
        if bad:
            raise ValueError(f"attribute keys must be letters, digits and _ (bad: {bad[:3]})")
        for k, x in v.items():  # a note may span lines; no other control character
            _printable(x, f"attributes.{k}", multiline=True)
            if problem := json_number_problem(x, f"attributes.{k}",
                                              limit=MAX_ATTRIBUTE_NUMBER):
                raise ValueError(problem)
        # A blank text value is a missing one, stored as null like any other blank field.
        return {k: blank_to_none(x) if isinstance(x, str) else x for k, x in v.items()}


class OrderIn(_Item):
    external_id: ExternalId
    customer_external_id: ExternalId
    amount: Decimal = Field(
        ge=0, le=Decimal("999999999999.99"), decimal_places=2,
        description="A number, or text as people write it: `1499.5`, `\"1,499.00\"`, "
                    "`\"1,49,999\"` (Indian grouping), `\"₹2,500\"`, `\"Rs 1.5 lakh\"`. "
                    "Ambiguous text such as `\"5.000,00\"` or `\"1.234\"` is refused "
                    "with how to write it.")
    currency: str = Field(
        default_factory=lambda: get_settings().brand_currency, pattern=r"^[A-Z]{3}$",
        description="ISO 4217 code; must be the workspace's BRAND_CURRENCY (default INR), "
                    "which is also the default (for a blank or null value too). Another "
                    "currency is a per-item error: no exchange rates are kept, so convert "
                    "the amount before sending it.")
    status: str = Field(default="completed", min_length=1, max_length=32)
    ordered_at: datetime = Field(description=TIMESTAMP_DOC)
    items: list[dict[str, Any]] | None = None

    @field_validator("amount", mode="before")
    @classmethod
    def _read_amount(cls, v: Any) -> Any:
        # The one number reader (core.numbers) for text; JSON numbers pass through it too.
        if isinstance(v, str | int | float) and not isinstance(v, bool):
            return numbers.parse_number(v)
        return v

    @field_validator("currency", mode="before")
    @classmethod
    def _currency_code(cls, v: Any) -> Any:
        # Blank or null is a missing value, and a missing currency is the default (as
        # every blank optional field is stored as its default or null): not an error.
        if v is None or (isinstance(v, str) and not v.strip()):
            return get_settings().brand_currency
        return v.strip().upper() if isinstance(v, str) else v

    @field_validator("currency")
    @classmethod
    def _brand_currency(cls, v: str) -> str:
        # Every door (API sync and queued, stream consumer, CSV import and its check)
        # validates with this model, so this one check refuses the item everywhere.
        brand = get_settings().brand_currency
        if v != brand:
            raise ValueError(f"currency {v}: this workspace counts money in {brand}; "
                             "convert the amount before sending it")
        return v

    @field_validator("items")
    @classmethod
    def _line_items(cls, v: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
        # A JSON column stores NaN and infinity as null: refuse them as attributes do.
        if v is not None and (problem := json_number_problem(v, "items")):
            raise ValueError(problem)
        return v

    @field_validator("status")
    @classmethod
    def _status(cls, v: str) -> str:
        return _printable(v, "status").lower()

    @field_validator("ordered_at", mode="before")
    @classmethod
    def _read_timestamp(cls, v: Any) -> Any:
        return _timestamp(v)

    @field_validator("ordered_at")
    @classmethod
    def _utc(cls, v: datetime) -> datetime:
        return not_in_future(_naive_utc(v), "ordered_at",  # type: ignore[arg-type]
                              "an order's date")

    @field_serializer("ordered_at", when_used="json")
    def _ordered_text(self, v: datetime) -> str | None:
        return _utc_text(v)


def not_in_future(value: datetime, field: str, what: str) -> datetime:
    """`value` (naive UTC) unless it is later than now + ORDER_FUTURE_TOLERANCE_HOURS.

    For every ingested timestamp that records something that already happened (an
    order's `ordered_at`, a customer's signup `created_at`): an order cannot have been
    placed tomorrow, nor a customer have signed up then, and a future date would read
    as "ordered today" / "signed up today" and match every recency rule. `field` and
    `what` ("an order's date") word the per-item error."""
    hours = get_settings().order_future_tolerance_hours
    now = datetime.now(UTC).replace(tzinfo=None)
    if value > now + timedelta(hours=hours):
        day = brand_time.local_date(value)
        raise ValueError(f"{field} {day.day} {day:%B %Y} is in the future; {what} "
                         f"can be at most {hours:g} hours ahead of now "
                         "(ORDER_FUTURE_TOLERANCE_HOURS)")
    return value


M = TypeVar("M", bound=BaseModel)


@dataclass
class Validated(Generic[M]):
    """The valid items, `indexes` their positions in the input (for errors found when
    writing), and per-item errors {"index", "field", "message"}."""

    items: list[M]
    errors: list[dict[str, Any]]
    indexes: list[int] = dataclass_field(default_factory=list)

    def refuse(self, refused: dict[str, str], field: str = "amount") -> None:
        """Move items refused when writing ({external_id: why}) from `items` into
        `errors` (at the last input position with that id: the last duplicate wins)."""
        if not refused:
            return
        at = {getattr(item, "external_id", None): i
              for i, item in zip(self.indexes, self.items, strict=True)}
        self.errors.extend({"index": at.get(ext), "field": field, "message": why}
                           for ext, why in refused.items())
        self.errors.sort(key=lambda e: (e["index"] is None, e["index"] or 0))
        kept = [(i, item) for i, item in zip(self.indexes, self.items, strict=True)
                if getattr(item, "external_id", None) not in refused]
        self.indexes = [i for i, _ in kept]
        self.items = [item for _, item in kept]


def validate_items(raw: list[Any], model: type[M], labels: dict[str, str] | None = None,
                   missing: str = "is required") -> Validated[M]:
    """Validate each item of `raw` with `model`; errors are {"index", "field", "message"}
    with the message in the user's words (core.plain_errors). `labels` maps a field to
    the name the user knows it by (a CSV column); `missing` ends the sentence for an
    absent required field ("is empty" for a blank CSV cell)."""
    labels = labels or {}
    good: list[M] = []
    indexes: list[int] = []
    errors: list[dict[str, Any]] = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            errors.append({"index": index, "field": None, "message": "expected an object"})
            continue
        if deep := nesting_problem(item):
            errors.append({"index": index, "field": deep[0], "message": deep[1]})
            continue
        try:
            good.append(model.model_validate(item))
            indexes.append(index)
        except ValidationError as exc:
            for e in exc.errors():
                field = ".".join(str(p) for p in e["loc"]) or None
                if field is None and isinstance(cause := (e.get("ctx") or {}).get("error"),
                                                FieldValueError):
                    field = cause.field  # a model-level check that names its field
                label = labels.get(str(e["loc"][0])) if len(e["loc"]) == 1 else None
                errors.append({"index": index, "field": field, "message": plain_errors.message(
                    dict(e), label, missing=missing)})
    return Validated(good, errors, indexes)
