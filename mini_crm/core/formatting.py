"""Human formatting shared by the UI and messages: Indian digit grouping, dates."""

from __future__ import annotations

import calendar
import re
import unicodedata
from datetime import UTC, datetime
from datetime import date as Date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import phonenumbers

from mini_crm.core.brand_time import local_date
from mini_crm.settings import get_settings


def group_indian(whole: int) -> str:
    """12345678 -> '1,23,45,678' (last three digits, then pairs)."""
    sign, digits = ("-", str(-whole)) if whole < 0 else ("", str(whole))
    if len(digits) <= 3:
        return sign + digits
    head, tail = digits[:-3], digits[-3:]
    pairs = []
    while len(head) > 2:
        pairs.insert(0, head[-2:])
        head = head[:-2]
    return sign + ",".join([head, *pairs, tail])


def rupees(amount: Decimal | float | int | None, *, paise: bool = False) -> str:
    """Rupees in Indian grouping: "₹2,000" (rounded to the rupee), or with `paise`
    "₹2,499.50" — and "₹2,000" for a whole amount, so one order reads the same in the
    orders table as on the other pages (one rule: paise only when there are some)."""
    if amount is None:
        return "—"
    value = Decimal(str(amount))
    sign, value = ("-", -value) if value < 0 else ("", value)
    if not paise:
        whole = int(value.quantize(Decimal("1"), rounding=ROUND_HALF_UP))
        return f"{sign if whole else ''}₹{group_indian(whole)}"
    cents = int((value * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
    fraction = f".{cents % 100:02d}" if cents % 100 else ""
    return f"{sign if cents else ''}₹{group_indian(cents // 100)}{fraction}"


def phone(value: str | None) -> str:
    """A stored phone (E.164, "+917457262035") as people read it, in the international
    format: "+91 74572 62035"; "—" for none, the value as stored when it does not parse."""
    if not value:
        return "—"
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def address(channel: str, value: str | None) -> str:
    """An address on `channel` as shown: a phone (sms, whatsapp) formatted by `phone`,
    an email as it is; "" for none."""
    if not value:
        return ""
    return value if channel == "email" else phone(value)


CHANNEL_LABELS = {"sms": "SMS", "email": "Email", "whatsapp": "WhatsApp"}


def channel_label(channel: str | None) -> str:
    """A channel as people write it: "SMS", "Email", "WhatsApp" (the stored key is
    lower case); an unknown key is shown as it is."""
    return CHANNEL_LABELS.get((channel or "").lower(), channel or "—")


def count(n: int) -> str:
    return group_indian(n)


def share(part: int, whole: int) -> str:
    """`part` as a percentage of `whole`: "12.5%", "<0.1%" for a sliver, "0%" for none."""
    if not whole or not part:
        return "0%"
    pct = 100 * part / whole
    if pct < 0.1:
        return "<0.1%"
    return f"{pct:.1f}%".replace(".0%", "%")


def percent(rate: float | None, *, trim: bool = False) -> str:
    """A rate (0..1) as a percentage with one decimal: 0.1234 -> "12.3%"; "—" for None
    (no figure yet). `trim` drops a ".0" for sentences ("50%", not "50.0%"). The one
    formatter for rates on every page and in generated text."""
    if rate is None:
        return "—"
    text = f"{round(rate * 100, 1):.1f}%"
    return text.replace(".0%", "%") if trim else text


def plural(n: int, one: str, many: str | None = None) -> str:
    """ "1 message", "3 messages" (Indian grouping for the number)."""
    return f"{count(n)} {one if n == 1 else (many or one + 's')}"


def _first_letter(word: str) -> str:
    """The first letter of `word` with the combining marks that belong to it
    (Devanagari "वि" is a consonant plus a vowel sign: both, or the avatar shows half a
    syllable); "" when the word has no letter (a quote, a dash, digits)."""
    for i, ch in enumerate(word):
        if ch.isalpha():
            j = i + 1
            while j < len(word) and unicodedata.category(word[j]).startswith("M"):
                j += 1
            return word[i:j]
    return ""


def initials(name: str | None) -> str:
    """Up to two initials for an avatar, first and last name, from letters only:
    'Vikram "Vicky" Rao' -> "VR", 'Anita D\'Souza' -> "AD", "विक्रम राव" -> "विरा";
    "?" when the name has no letter at all (empty, digits, punctuation). Letters with a
    case are upper-cased."""
    letters = [first for word in (name or "").split() if (first := _first_letter(word))]
    picked = letters[:1] + letters[1:][-1:]
    return "".join(picked).upper() or "?"


def sentence(message: str) -> str:
    """An error message as a sentence: first character up, one closing full stop, the
    rest exactly as written (unlike str.capitalize, which lower-cases "Me@Brand.in").
    A message that opens with what the user typed quotes it (“me@brand.in” …), so
    their text is shown as typed."""
    text = (message or "").strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def date(value: datetime | Date | None) -> str:
    """A stored naive-UTC timestamp as its brand-calendar day ("29 Nov 2026"); a plain
    date as itself; "—" for None. 2026-11-28 20:00 UTC is 29 Nov in Asia/Kolkata."""
    if value is None:
        return "—"
    day = local_date(value) if isinstance(value, datetime) else value
    return day.strftime("%d %b %Y")


def month_label(month: str) -> str:
    """'2025-03' -> "Mar '25" (short enough for a chart axis)."""
    year, number = month.split("-")
    return f"{Date(int(year), int(number), 1):%b} '{year[2:]}"


def day_month(value: Date) -> str:
    """A week's first day on a chart axis: 3 Nov."""
    return f"{value.day} {value:%b}"


def brand_zone() -> ZoneInfo:
    return ZoneInfo(get_settings().brand_timezone)


def brand_time(utc_naive: datetime) -> datetime:
    """A stored (naive UTC) timestamp as the brand reads it: aware, in its own zone."""
    return utc_naive.replace(tzinfo=UTC).astimezone(brand_zone())


def date_time(value: datetime | None) -> str:
    """'29 Nov 2026, 01:30' in the brand's zone: a naive value is a stored UTC timestamp
    and is converted; an aware one is shown in its own zone."""
    if value is None:
        return "—"
    local = brand_time(value) if value.tzinfo is None else value
    return local.strftime("%d %b %Y, %H:%M")


# What <input type="datetime-local"> speaks: minutes, no zone (the brand's is meant).
LOCAL_INPUT_FORMAT = "%Y-%m-%dT%H:%M"


def local_input(utc_naive: datetime) -> str:
    """A stored naive-UTC timestamp as a datetime-local box's value in the brand's zone:
    2030-01-15 12:30 UTC -> "2030-01-15T18:00" (Asia/Kolkata)."""
    return brand_time(utc_naive).strftime(LOCAL_INPUT_FORMAT)


def days_ago(value: datetime | None, now: datetime) -> str:
    if value is None:
        return "never"
    days = (now - value).days
    if days <= 0:
        return "today"
    if days == 1:
        return "yesterday"
    if days < 60:
        return f"{days} days ago"
    if days < 730:
        return f"{days // 30} months ago"
    return f"{days // 365} years ago"


# ISO 639-1 codes as people name the languages (the codes the data stores).
LANGUAGE_NAMES = {"hi": "Hindi", "en": "English", "mr": "Marathi", "ta": "Tamil",
                  "te": "Telugu", "kn": "Kannada", "ml": "Malayalam", "bn": "Bengali",
                  "gu": "Gujarati", "pa": "Punjabi", "ur": "Urdu", "or": "Odia",
                  "as": "Assamese", "ne": "Nepali", "sd": "Sindhi", "kok": "Konkani"}
# Words a title case would get wrong in a code ("whatsapp" is WhatsApp, "sms" SMS).
_WORD_SPELLING = {"whatsapp": "WhatsApp", "sms": "SMS", "youtube": "YouTube",
                  "linkedin": "LinkedIn", "tiktok": "TikTok", "seo": "SEO", "upi": "UPI",
                  "cod": "COD", "vip": "VIP", "ios": "iOS"}
_CODE = re.compile(r"[a-z]+(?:[_-][a-z]+)*")


def code_label(key: str, value: str) -> str:
    """A stored code as a person reads it, for display only (the data keeps the code):
    a language attribute's ISO code as its name (language "hi" -> "Hindi"); a lower-case
    code word as words ("google_ads" -> "Google Ads", "platinum" -> "Platinum",
    "whatsapp_optin" -> "WhatsApp Optin"). Anything else (mixed case, spaces, digits,
    an email, a URL) is returned as stored."""
    text = value.strip()
    if "language" in key.lower() or key.lower() in ("lang", "locale"):
        name = LANGUAGE_NAMES.get(text.lower().split("-")[0].split("_")[0])
        if name:
            return name
    if not _CODE.fullmatch(text):
        return value
    words = re.split(r"[_-]", text)
    return " ".join(_WORD_SPELLING.get(w, w.capitalize()) for w in words)


def month_attribute(key: str, value: Any) -> str | None:
    """A month-number attribute's value as its name: key ending in "month" (birthday_month,
    anniversary_month) and a value 1-12 (number or digits) → "March"; else None. One
    convention for the customer page and the rule sentence ("Birthday month 7" read as a
    code, not a month)."""
    if not key.lower().endswith("month") or isinstance(value, bool):
        return None
    if isinstance(value, float | Decimal) and value == int(value):
        value = int(value)
    if isinstance(value, int | str) and str(value).strip().isdigit() \
            and 1 <= int(value) <= 12:
        return calendar.month_name[int(value)]
    return None


def customer_path(external_id: str) -> str:
    """The customer page's address for an external id of any printable form:
    "/customers/gid%3A%2F%2Fshop%2FCustomer%2F7001" — one path segment only when
    percent-encoded, slashes, "?" and "#" included (a raw "gid://…" id led nowhere)."""
    return "/customers/" + quote(external_id, safe="")
