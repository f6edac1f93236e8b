"""Contact normalisation: one spelling per email address and phone number.

Two customer records holding `Asha.Rao@Example.in` and `asha.rao@example.in`, or
`+91 98765 43210` and `098765-43210`, are one inbox and one handset. Every door that
stores a contact (API, CSV import, stream consumer, seed, migration) passes it through
here, so equality of the stored strings is equality of the addresses:

- emails are trimmed, checked for syntax with `email-validator` (no DNS lookups) and
  lower-cased whole. RFC 5321 lets the local part be case-sensitive, but no mailbox
  provider in use treats it so, and the product must not send twice to one inbox;
- phones are parsed with `phonenumbers` (Google's libphonenumber metadata) in the
  configured default region and stored in E.164 (`+919876543210`). Text that is not a
  phone number ("call me") and numbers a spreadsheet turned into floats ("9.19877E+11",
  whose last digits are lost) are refused rather than guessed at.

A refused value raises `InvalidContact` (a ValueError) whose message is written for a
marketer reading an import report.
"""

from __future__ import annotations

import re

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from mini_crm.settings import get_settings

CHANNELS = ("sms", "email", "whatsapp")
# Which customer field addresses a channel: SMS and WhatsApp both reach a phone number.
ADDRESS_FIELD = {"sms": "phone", "whatsapp": "phone", "email": "email"}
MAX_EMAIL_LENGTH = 254  # RFC 5321 path limit, and the column's length
_SCIENTIFIC = re.compile(r"^[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+$")
_FLOAT_INTEGER = re.compile(r"^(\+?\d+)\.0+$")
_LETTERS = re.compile(r"[^\W\d_]")  # any letter, in any script


class InvalidContact(ValueError):
    """An email or phone that cannot be stored; the message says why, in plain words."""


def blank_to_none(value: str | None) -> str | None:
    """The text trimmed, or None when it is None, empty or only whitespace."""
    if value is None:
        return None
    value = value.strip()
    return value or None


def normalise_email(raw: str | None) -> str | None:
    """`raw` trimmed and lower-cased after a syntax check; None for blank input.

    Raises InvalidContact when it is not an email address (no @, two @, spaces, a domain
    without a dot, too long ...). Deliverability (DNS) is not checked: ingestion must not
    depend on the network, and a bounce is the vendor's answer to a dead mailbox.
    """
    value = blank_to_none(raw)
    if value is None:
        return None
    if len(value) > MAX_EMAIL_LENGTH:
        raise InvalidContact(f"email address is longer than {MAX_EMAIL_LENGTH} characters")
    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidContact(f"{_shown(value)} is not a valid email address: {exc}") from exc
    return checked.normalized.lower()


def normalise_phone(raw: str | None, region: str | None = None) -> str | None:
    """`raw` as an E.164 string (`+919876543210`); None for blank input.

    `region` (ISO 3166 alpha-2, default the `default_phone_region` setting) is how a
    number without a country code is read: with IN, `98765 43210`, `098765 43210` and
    `+91-98765-43210` are one number. Raises InvalidContact for text that is not a phone
    number, for spreadsheet floats such as `9.19877E+11`, and for numbers that do not
    exist in the numbering plan of their country (wrong length, unassigned prefix).
    """
    value = blank_to_none(raw)
    if value is None:
        return None
    if _SCIENTIFIC.match(value):
        raise InvalidContact(
            f"{_shown(value)} is a number a spreadsheet shortened into scientific notation, "
            "so its last digits are lost; format the phone column as text and export again")
    # 919876543210.0: a float column that kept every digit; the ".0" is all that is wrong.
    integer = _FLOAT_INTEGER.match(value)
    if integer:
        value = integer.group(1)
    if _LETTERS.search(value):
        raise InvalidContact(f"{_shown(value)} is not a phone number (it contains letters)")
    region = (region or get_settings().default_phone_region).upper()
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidContact(f"{_shown(value)} is not a phone number") from exc
    if not phonenumbers.is_valid_number(number):
        where = phonenumbers.region_code_for_number(number) or region
        raise InvalidContact(f"{_shown(value)} is not a valid phone number for {where} "
                             "(check the number of digits and the country code)")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_address(channel: str, raw: str | None) -> str | None:
    """The address for `channel` (sms, whatsapp: a phone; email: an email), normalised."""
    if channel not in ADDRESS_FIELD:
        raise ValueError(f"unknown channel {channel!r}; expected one of {', '.join(CHANNELS)}")
    if ADDRESS_FIELD[channel] == "email":
        return normalise_email(raw)
    return normalise_phone(raw)


def _shown(value: str) -> str:
    """The user's text quoted for an error message, cut short if it is long."""
    return repr(value if len(value) <= 60 else value[:57] + "...")
