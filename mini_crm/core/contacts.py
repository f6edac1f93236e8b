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

For comparing (dedupe at launch, the suppression list) an email also has an inbox key,
`inbox_key`: Gmail's dots and the "+tag" of providers that ignore it are dropped, so
the spellings of one inbox compare equal while the address is stored (and sent to) as
the customer wrote it.

A refused value raises `InvalidContact` (a ValueError) whose message is written for a
marketer reading an import report.
"""

from __future__ import annotations

import re

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from mini_crm.core import formatting
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


# Inbox keys (dedupe and suppression, never sending). Gmail ignores dots in the local
# part and serves googlemail.com as the same inbox; these providers deliver
# "name+anything@" to "name@" (subaddressing). Other domains keep dots and "+": on a
# company's own server "a.rao" and "arao", or "+" in a name, may be two people.
GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})
PLUS_TAG_DOMAINS = GMAIL_DOMAINS | frozenset({
    "outlook.com", "hotmail.com", "live.com", "msn.com", "icloud.com", "me.com", "mac.com",
    "fastmail.com", "proton.me", "protonmail.com", "pm.me"})


def inbox_key(email: str | None) -> str | None:
    """The key of the inbox an email address delivers to: what dedupe at launch and the
    suppression list compare, so `Asha.Rao.Test@gmail.com`, `asharaotest+promo@gmail.com`
    and `asharaotest@googlemail.com` are one inbox (`asharaotest@gmail.com`).

    Lower-cased; for gmail.com / googlemail.com the dots of the local part go and the
    domain is gmail.com; for providers in PLUS_TAG_DOMAINS a "+tag" goes. Any other
    domain keeps its local part as is. Messages still go to the address as stored (the
    customer's own spelling): this key is only for comparing. None for None.
    """
    if email is None:
        return None
    local, at, domain = email.strip().lower().rpartition("@")
    if not at:
        return email.strip().lower()
    if domain in PLUS_TAG_DOMAINS:
        local = local.split("+", 1)[0] or local
    if domain in GMAIL_DOMAINS:
        local, domain = local.replace(".", "") or local, "gmail.com"
    return f"{local}@{domain}"


def address_key(channel: str, address: str | None) -> str | None:
    """The key of a normalised address on `channel`, as the suppression list and the
    launch's dedupe compare it: inbox_key for email, the E.164 phone itself otherwise."""
    return inbox_key(address) if ADDRESS_FIELD.get(channel) == "email" else address


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


# What kind of line a stored phone is (phonenumbers.PhoneNumberType, lower-cased), kept
# in customer.phone_type. Types that cannot take an SMS: a fixed line (an Indian
# landline such as +91 22 2345 6789 in Mumbai passes validation but no text can
# arrive), and service numbers. FIXED_LINE_OR_MOBILE (numbering plans that do not tell
# the two apart, e.g. the US) and UNKNOWN are kept: they may well be mobiles.
# WhatsApp is not limited by type: a WhatsApp Business account can be registered on a
# landline (verified by a voice call), so the channel decides reachability itself.
PHONE_TYPES = {getattr(phonenumbers.PhoneNumberType, name): name.lower() for name in (
    "FIXED_LINE", "MOBILE", "FIXED_LINE_OR_MOBILE", "TOLL_FREE", "PREMIUM_RATE",
    "SHARED_COST", "VOIP", "PERSONAL_NUMBER", "PAGER", "UAN", "VOICEMAIL", "UNKNOWN")}
NOT_FOR_SMS = ("fixed_line", "toll_free", "premium_rate", "shared_cost", "uan",
               "voicemail")
PHONE_TYPE_WORDS = {"fixed_line": "landline", "mobile": "mobile",
                    "fixed_line_or_mobile": "landline or mobile", "toll_free": "toll-free",
                    "premium_rate": "premium-rate", "shared_cost": "shared-cost",
                    "voip": "internet (VoIP)", "personal_number": "personal number",
                    "pager": "pager", "uan": "company number (UAN)",
                    "voicemail": "voicemail", "unknown": "unknown type"}


def phone_type(e164: str | None) -> str | None:
    """The line type of a stored (E.164) phone: "mobile", "fixed_line",
    "fixed_line_or_mobile", … (PHONE_TYPES values); None for no phone. A number that
    no longer parses (stored before normalisation) is "unknown"."""
    if not e164:
        return None
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return "unknown"
    return PHONE_TYPES.get(phonenumbers.number_type(number), "unknown")


def sms_reachable(kind: str | None) -> bool:
    """Whether a phone of this type (phone_type) can receive an SMS."""
    return kind not in NOT_FOR_SMS


def phone_label(phone: str | None, kind: str | None) -> str:
    """A stored phone as a page shows it: "+91 22 2345 6789 · landline, no SMS" for a
    line an SMS cannot reach (SMS campaigns skip it as no_address; WhatsApp does not),
    the bare number otherwise, "—" for none."""
    if not phone:
        return "—"
    shown = formatting.phone(phone)
    if sms_reachable(kind):
        return shown
    return f"{shown} · {PHONE_TYPE_WORDS.get(kind or '', 'not a mobile')}, no SMS"


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
