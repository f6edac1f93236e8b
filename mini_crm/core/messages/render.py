"""Personalised messages: `{token}` substitution that cannot be turned against us.

- One regex pass over the template: a value is inserted as plain text and never
  read again, so a customer named "{email}" stays "{email}" (no template injection);
  no `str.format`, so no attribute or index lookups.
- `{{` and `}}` are literal braces. Any other brace text that is not a known token
  is refused when the campaign is created (`validate_template`).
- Values are sanitised: control characters and line breaks become spaces, runs of
  whitespace collapse, and a value is cut at 100 characters, so one odd record
  cannot reshape or bloat a message.
- A missing value gets a fallback that still reads well ("Hi there"), or the
  template's own: `{first_name|friend}` reads "friend" when the name is unknown.
- A count can carry its noun in both forms: `{order_count:order|orders}` reads
  "1 order" or "3 orders" (COUNT_TOKENS).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from mini_crm.core import text_checks
from mini_crm.core import unsubscribe_links as links
from mini_crm.core.formatting import date as brand_date
from mini_crm.core.formatting import group_indian, rupees

TOKENS: list[tuple[str, str]] = [
    ("name", "Full name (\"there\" when unknown)"),
    ("first_name", "First name (\"there\" when unknown)"),
    ("city", "City (\"your city\" when unknown)"),
    ("email", "Email address"),
    ("total_spend", "Lifetime spend in rupees, e.g. ₹12,450"),
    ("order_count", "Number of orders"),
    ("last_order_date", "Date of the last order in the brand's time zone, e.g. 03 Nov 2025 "
                        "(\"—\" when none)"),
    ("unsubscribe_url", "One-click unsubscribe link, signed for each recipient"),
]
TOKEN_NAMES = frozenset(t for t, _ in TOKENS)
MAX_TEMPLATE_CHARS = 2000
MAX_VALUE_CHARS = 100
# The customer column each token reads: when it is empty, a `{token|fallback}` applies.
TOKEN_SOURCES = {"name": "name", "first_name": "name", "city": "city", "email": "email",
                 "total_spend": "total_spend", "order_count": "order_count",
                 "last_order_date": "last_order_at"}
# Tokens that are counts, so they take singular and plural nouns: {order_count:order|orders}.
COUNT_TOKENS = {"order_count": "order_count"}

# `{{`, `}}`, `{ word }`, `{word|fallback}` or `{word:one|many}`: the only brace forms a
# template may hold. Groups: token, fallback, singular noun, plural noun.
_PIECE = re.compile(r"\{\{|\}\}|\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*"
                    r"(?:\|([^{}|]{0,60})|:([^{}|:]{1,40})\|([^{}|]{1,40}))?\}")
_STRAY = re.compile(r"[{}]")
_CONTROL_OR_SPACE = re.compile(r"\s+")


def validate_template(template: str) -> list[str]:
    """Problems with a template, each a sentence; empty when it can be sent."""
    errors: list[str] = []
    if not template or not template.strip():
        return ["the message is empty"]
    if len(template) > MAX_TEMPLATE_CHARS:
        errors.append(f"the message is longer than {MAX_TEMPLATE_CHARS} characters")
    if problem := text_checks.control_problem(template, "the message", multiline=True):
        errors.append(problem)
    unknown: list[str] = []
    for match in _PIECE.finditer(template):
        token = match.group(1)
        if token is not None and token not in TOKEN_NAMES and token not in unknown:
            unknown.append(token)
        elif match.group(3) is not None and token not in COUNT_TOKENS:
            errors.append(f"{match.group(0)}: only "
                          + ", ".join(f"{{{t}}}" for t in COUNT_TOKENS)
                          + " takes singular and plural words")
    for token in unknown:
        errors.append(f"unknown token {{{token}}}; known tokens: "
                      + ", ".join(f"{{{t}}}" for t, _ in TOKENS))
    if _STRAY.search(_PIECE.sub("", template)):
        errors.append("a '{' or '}' that is not part of a token; write {{ or }} for a "
                      "literal brace")
    return errors


def _clean(value: str) -> str:
    if value.isprintable():  # the common case: only collapse runs of spaces
        return " ".join(value.split())[:MAX_VALUE_CHARS].rstrip()
    # Drop control/format characters (bidi overrides, zero-width joiners included).
    text = "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in value)
    text = _CONTROL_OR_SPACE.sub(" ", text).strip()
    return text[:MAX_VALUE_CHARS].rstrip()


def _getter(customer: Any) -> Callable[[str], Any]:
    if isinstance(customer, Mapping):
        return customer.get
    return lambda key: getattr(customer, key, None)


def _name(get: Callable[[str], Any]) -> str:
    return _clean(str(get("name") or ""))


# Titles people put before a name in Indian and English customer records: "Dr. Amit
# Kumar" is greeted as "Amit", not "Dr.". Compared without dots, case-folded.
HONORIFICS = frozenset({"dr", "mr", "mrs", "ms", "miss", "mx", "prof", "shri", "sri",
                        "smt", "kumari", "capt", "col"})
# Abbreviations that are titles only with their dot ("Er. Ravi", "CA. Rao"): "Er" or "Ca"
# alone may be someone's name.
DOTTED_HONORIFICS = frozenset({"er", "ca", "km", "adv", "sir"})


def first_name(name: str | None) -> str | None:
    """The first word of `name` that is not a title ("Dr. अमित Kumar" → "अमित");
    None when the name is blank or only titles."""
    for word in (name or "").split():
        bare = word.rstrip(".").casefold()
        if bare not in HONORIFICS and not (word.endswith(".") and bare in DOTTED_HONORIFICS):
            return word
    return None


def _first_name(get: Callable[[str], Any]) -> str:
    return first_name(_name(get)) or "there"


def _spend(get: Callable[[str], Any]) -> str:
    spend = get("total_spend")
    return rupees(Decimal(str(spend)) if spend is not None else Decimal(0))


def _last_order(get: Callable[[str], Any]) -> str:
    last = get("last_order_at")
    # The brand-calendar day: an order at 01:30 IST on the 29th renders "29 Nov 2026".
    return brand_date(last) if isinstance(last, datetime) else "—"


def _unsubscribe_url(get: Callable[[str], Any]) -> str:
    # Delivery passes each recipient's signed link; a preview (no campaign yet) shows a
    # link of the same length that opens the "no longer on our list" page.
    link = get("unsubscribe_url")
    return str(link) if link else links.url(0, "sms", 0)


_VALUES: dict[str, Callable[[Callable[[str], Any]], str]] = {
    "name": lambda get: _name(get) or "there",
    "first_name": _first_name,
    "city": lambda get: _clean(str(get("city") or "")) or "your city",
    "email": lambda get: _clean(str(get("email") or "")),
    "total_spend": _spend,
    "order_count": lambda get: group_indian(int(get("order_count") or 0)),
    "last_order_date": _last_order,
    "unsubscribe_url": _unsubscribe_url,
}


def token_values(customer: Any) -> dict[str, str]:
    """Every token's text for one customer (an object or a mapping with customer columns)."""
    get = _getter(customer)
    return {token: value(get) for token, value in _VALUES.items()}


# A template piece: ("text", text), ("token", name, fallback or None) or
# ("plural", name, singular, plural).
Piece = tuple[str, ...] | tuple[str, str, str | None]


@lru_cache(maxsize=256)
def _parts(template: str) -> tuple[Piece, ...]:
    """The template split once into pieces; unknown tokens stay text."""
    parts: list[Piece] = []
    at = 0
    for match in _PIECE.finditer(template):
        parts.append(("text", template[at:match.start()]))
        text, token, fallback, one, many = match.group(0, 1, 2, 3, 4)
        if text in ("{{", "}}"):
            parts.append(("text", text[0]))
        elif token in _VALUES and one is not None and token in COUNT_TOKENS:
            parts.append(("plural", token, one.strip(), many.strip()))
        elif token in _VALUES and one is None:
            parts.append(("token", token, None if fallback is None else fallback.strip()))
        else:
            parts.append(("text", text))
        at = match.end()
    parts.append(("text", template[at:]))
    return tuple(p for p in parts if p[0] != "text" or p[1])


def _missing(token: str, get: Callable[[str], Any]) -> bool:
    source = TOKEN_SOURCES.get(token)
    return source is not None and not _clean(str(get(source) or ""))


def _piece(piece: Piece, get: Callable[[str], Any]) -> str:
    kind = piece[0]
    if kind == "text":
        return piece[1]
    if kind == "plural":
        n = int(get(COUNT_TOKENS[piece[1]]) or 0)
        return f"{group_indian(n)} {piece[2] if n == 1 else piece[3]}"
    token, fallback = piece[1], piece[2]
    if fallback is not None and _missing(token, get):
        return fallback
    return _VALUES[token](get)


def uses_token(template: str, token: str) -> bool:
    """Whether the template contains `{token}` (not counting literal `{{token}}`)."""
    return any(piece[0] in ("token", "plural") and piece[1] == token
               for piece in _parts(template))


def render(template: str, customer: Any) -> str:
    """The message for one customer. Unknown tokens (refused at creation) are kept as typed.

    The template is parsed once (cached) and only the tokens it uses are computed, so
    a worker rendering a batch pays per customer only for what the message shows.
    """
    get = _getter(customer)
    return "".join(_piece(piece, get) for piece in _parts(template))
