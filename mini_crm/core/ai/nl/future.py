"""Times in the future: "ordered tomorrow", "next week", "in 2030" are refused with why.

An order or a sign-up can only have happened up to today, so a clause that places one
in the future matches no one, and reading it any other way would be a guess ("ordered
next month" once became a birthday next month; "ordered in the next 30 days" became
"ordered in the last 30 days"; "ordered in 2030" a window no order falls in). Such a
clause gives no rule at all, as an unplaceable named date does ("since next Diwali",
nl_named_dates), and the answer says why in the marketer's words:

    “next month” is in the future: no order can have been placed then

The shapes:
- "tomorrow" (and "the day after tomorrow");
- "next", "coming", "upcoming" or "following" before a unit or a period: "next week",
  "next month", "next year", "the coming weeks", "in the next 30 days", "next Monday";
- a written date that starts after today: "in 2030", "in December 2026" (in November
  2026), "on 2027-01-05", "since 2030";
- "after" a date that has not ended yet: "after 2027", "after today", "after this month".

"before 2030" (or "until", "by") is every order so far: true, if idle, so it is read.

A month without a year ("in December") is already the latest such month not in the
future, and a span that runs up to today ("this year") is read as usual. A birthday (or
any month-of-the-year attribute) may well be next month: a clause about one is left to
that reader ("birthday next month").
"""

from __future__ import annotations

from datetime import date

from mini_crm.core.ai.nl.birthdays import BIRTH_WORDS
from mini_crm.core.ai.nl.clauses import Clause, Context
from mini_crm.core.ai.nl.dates import _span, time_field
from mini_crm.core.ai.nl.fields import _key_mentions
from mini_crm.core.ai.nl.lexicon import UNITS
from mini_crm.core.ai.nl.tokens import Tok

# "ordered before 2030" is every order so far: true, not impossible, so read as usual
BOUNDS_UP_TO = {"before", "until", "till", "by"}
AHEAD = {"next", "coming", "upcoming", "following"}
WEEKDAYS = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
            "weekend"}
# what cannot have happened in the future, by the field the clause's time is about
_WHAT = {"days_since_signup": "no one can have signed up then",
         "days_since_first_order": "no first order can have been placed then"}
_ORDERS = "no order can have been placed then"


def future_refusal(c: Clause, ctx: Context) -> str | None:
    """Why the clause cannot be read because it places an order or a sign-up in the
    future ("“next month” is in the future: no order can have been placed then"), or
    None. A clause about a birthday (or another month-of-the-year attribute) is never
    refused here: its "next month" is a month of the year."""
    if c.has(BIRTH_WORDS) or any(
            "month" in k.lower() and _key_mentions(c, k, ctx.keys) for k in ctx.keys):
        return None
    words = _future_words(c.toks, ctx.today)
    if words is None:
        return None
    days_field, _, triggers = time_field(c)
    # no order or sign-up word in the clause ("customers next month"): say both
    what = _WHAT.get(days_field, _ORDERS) if triggers else \
        "no order or sign-up can have happened then"
    return f"“{words}” is in the future: {what}"


def _future_words(toks: list[Tok], today: date) -> str | None:
    """The prompt's words for the first future time in `toks`, or None."""
    for i, t in enumerate(toks):
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        if t.kind == "word" and t.text == "tomorrow":
            return _raw([t])
        if t.kind == "word" and t.text in AHEAD and nxt is not None and (
                nxt.kind == "period" or (nxt.kind == "word" and (
                    nxt.text in UNITS and len(nxt.text) > 1 or nxt.text in WEEKDAYS))):
            return _raw([t, nxt])
        if t.kind != "date":
            continue
        start, end = _span(t, today)
        lead = toks[i - 1].text if i > 0 else ""
        if start > today and lead not in BOUNDS_UP_TO:
            return _raw([t])
        if lead == "after" and end >= today:
            return _raw([toks[i - 1], t])
    return None


def _raw(toks: list[Tok]) -> str:
    """The marketer's own spelling of these tokens ("December 2026", not "december 2026")."""
    return " ".join(str(t.extra.get("raw", t.text)) for t in toks)
