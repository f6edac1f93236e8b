"""Dates written in a prompt, for the tokenizer: month names, days, numeric dates, and the
previous calendar week / month / year.

A date that does not exist is refused with what was wrong, never moved to a nearby day
(issue 14: "ordered in 2026-02-30" was read as 28 February):

- ISO "2026-02-30", "31/04/2026" (slashes, dashes or dots are **day/month/year**, the
  Indian convention; "04/30/2026" has no month 30 and is refused with how to write it),
  "30 Feb 2026", "30th Feb", "the 30th of February", "Feb 30", "February 30th, 2026":
  a `refused` token "30 February 2026 is not a date (February has 28 days in 2026)" (a
  clause holding it gives no rule).
  A written day is that one day (`extra["day"]`), a month name alone is the whole month.
- "may" and "march" are also verbs, and "jan", "mar" … are short: such a word is a month
  after a date word ("in", "since", "before", "on" …), before a day or a year, or in a list
  of months ("March, April or May", "between March and May"), unless a verb follows
  ("customers who may buy", "ordered in March and may buy again" keep "may" a verb).
- "last week", "last month", "last quarter", "last year" (also "previous …") with no
  "the"/"in"/"within" before them are the previous calendar period in the brand's zone
  (`extra["calendar"]`, placed by core.brand_time.calendar_period): "ordered last month"
  in November is any order in October, "ordered last quarter" any order from 1 July to
  30 September. "in the last month", "in the past week", "in the last quarter", "in the
  last year" stay the rolling last 30 / 7 / 90 / 365 days. "this quarter" is the current
  calendar quarter up to today, "this week" the current week (from Monday) up to today.
- "today" and "yesterday" are that one brand day (`extra["calendar"]`), so "ordered
  today", "last ordered yesterday", "signed up today" read as other dates do.
"""

from __future__ import annotations

import calendar
import re
from datetime import date

from mini_crm.core import brand_time
from mini_crm.core.ai.nl.lexicon import DATE_LEAD, MONTHS, MULTIPLIERS, UNITS
from mini_crm.core.ai.nl.tok import Tok
from mini_crm.core.ai.nl.tok import merge as _merge
from mini_crm.core.ai.nl.vocab import ORDER_VERBS
from mini_crm.core.brand_time import MIN_DATE as EARLIEST
from mini_crm.core.segments.fields import FIELDS

ORDINALS = {"st", "nd", "rd", "th"}
LIST_SEPS = {",", "or", "and", "&", "/", "to", "-", "till", "until", "through", "nor"}
# "may"/"march" with one of these after it is the verb ("customers who may buy")
VERB_NEXT = ORDER_VERBS | FIELDS["total_spend"].words | {
    "be", "been", "have", "want", "like", "need", "get", "come", "return", "not", "also",
    "still", "soon", "again", "we", "you", "they", "he", "she", "i"}
CALENDAR = {"week": "last_week", "month": "last_month", "quarter": "last_quarter",
            "year": "last_year"}
# a bare year after these is a date ("since 2024"); one before 1900 is refused with why
# ("from" is left out: "spent from 1500 to 3000" is an amount range)
EARLY_LEAD = {"since", "before", "after", "in", "until", "till", "during"}
DAYS = {"today": "today", "yesterday": "yesterday"}
ROLLING_BEFORE = {"the", "in", "within", "over", "for", "past"}
_NUMERIC = re.compile(r"(\d{1,4})([/.-])(\d{1,2})\2(\d{1,4})")


def day_date(year: int | None, month: int, day: int, written: str = "") -> date | str:
    """The day, or why it does not exist (brand_time.no_such_day: "30 February 2026 is
    not a date (February has 28 days in 2026)"). Without a
    year, a day that no year has (30 February, 31 April) is refused; 29 February is
    placed later (the latest one not in the future). `written` names the date as the
    prompt wrote it ("2026-02-30"); by default it is spelled out ("30 February 2026")."""
    name = calendar.month_name[month] if 1 <= month <= 12 else ""
    if not name:
        return f"there is no month {month}: write a date as 2026-04-30 or 30 April 2026"
    written = written or f"{day} {name}" + ("" if year is None else f" {year}")
    # the one sentence every door gives a day the calendar lacks (brand_time)
    if (missing := brand_time.no_such_day(written, year, month, day)) is not None:
        return missing
    return date(year if year is not None else 2024, month, day)


def numeric(text: str) -> tuple[int, int, int] | str:
    """'2026-02-30' (year first) or '31/04/2026' (day/month/year) as (year, month, day),
    or why it cannot be read."""
    m = _NUMERIC.fullmatch(text)
    if not m:
        return f"“{text}” is not a date: write 2026-04-30 or 30 April 2026"
    a, _, b, c = m.groups()
    if len(a) == 4:
        y, mo, d = int(a), int(b), int(c)
    elif len(c) == 4:
        d, mo, y = int(a), int(b), int(c)
        if mo > 12 and d <= 12:
            return (f"“{text}” reads as day/month/year and there is no month {mo}: "
                    f"write 2026-{d:02d}-{mo:02d} or {mo} {calendar.month_name[d]} {y}")
    else:
        return f"“{text}” has no four-digit year: write 2026-04-30 or 30 April 2026"
    return y, mo, d


def date_words(tokens: list[Tok]) -> list[Tok]:
    """Month names (with an optional day and year), numeric dates, bare years after
    since/before/after/in, "this year/month", and the calendar "last week/month/year"."""
    out: list[Tok] = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        prev = out[-1].text if out else ""
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if t.kind == "numdate":
            out.append(_checked(t, numeric(t.text), t.start, t.end, t.text))
            i += 1
            continue
        # "this year", "this month": year 0 / month 0 stand for the current ones
        if t.text in ("this", "current") and nxt is not None and nxt.text in ("year", "month"):
            value = (0, None, 1) if nxt.text == "year" else (0, 0, 1)
            out.append(_merge(tokens, i, 2, "date", value))
            i += 2
            continue
        # "today", "yesterday": that one brand day, wherever other dates work
        if t.kind == "word" and t.text in DAYS:
            if len(out) > 1 and out[-1].text == "or" and out[-2].kind == "date" \
                    and out[-2].extra.get("calendar") in DAYS and out[-2].text != t.text:
                # "yesterday or today": one span of the two days, not a second clause
                first = out.pop(-2)
                out.pop()
                out.append(Tok("date", f"{first.text} or {t.text}", first.start, t.end,
                               (None, None, 1), extra={"calendar": "yesterday",
                                                       "calendar_to": "today"}))
            else:
                out.append(Tok("date", t.text, t.start, t.end, (None, None, 1),
                               extra={"calendar": DAYS[t.text]}))
            i += 1
            continue
        # "this week": week-to-date (Monday to today), by brand days
        if t.text in ("this", "current") and nxt is not None and nxt.text == "week":
            out.append(Tok("date", f"{t.text} week", t.start, nxt.end, (None, None, 1),
                           extra={"calendar": "this_week"}))
            i += 2
            continue
        # "this quarter": quarter-to-date, by calendar quarters in the brand's zone
        if t.text in ("this", "current") and nxt is not None and nxt.text == "quarter":
            out.append(Tok("date", f"{t.text} quarter", t.start, nxt.end, (None, None, 1),
                           extra={"calendar": "this_quarter"}))
            i += 2
            continue
        if t.kind == "period" and t.text in CALENDAR and out and out[-1].kind == "word" \
                and out[-1].text in ("last", "previous") \
                and not (len(out) > 1 and out[-2].text in ROLLING_BEFORE):
            last = out.pop()
            out.append(Tok("date", f"{last.text} {t.text}", last.start, t.end,
                           (None, None, 1), extra={"calendar": CALENDAR[t.text]}))
            i += 1
            continue
        if t.kind == "word" and t.text in MONTHS:
            j = _month(tokens, out, i)
            if j:
                i = j
                continue
        if _too_early(t) and prev in EARLY_LEAD:
            # "signed up in 1850": a year the calendar does not hold, refused with why
            out.append(Tok("refused", t.text, t.start, t.end, too_early(int(t.value))))
            i += 1
            continue
        if t.kind == "num" and 1900 <= t.value <= 2100 and t.value == int(t.value) \
                and "," not in t.text and prev in ("since", "before", "after", "in", "until",
                                                   "till", "during", "of", "from"):
            out.append(Tok("date", t.text, t.start, t.end, (int(t.value), None, 1)))
            i += 1
            continue
        out.append(t)
        i += 1
    return out


def _month(tokens: list[Tok], out: list[Tok], i: int) -> int:
    """Read a month name at tokens[i] (with a day before or after it and a year), append
    its date token to `out` and return the next index; 0 when the word is not a month."""
    t = tokens[i]
    k = _day_before(out)  # "30 Feb", "30th of Feb", "the 30th of February"
    j, day = i + 1, None
    if k is not None:
        day = int(out[k].value)
    elif _is_day(tokens, j):  # "Feb 30", "February 30th"
        day, j = int(tokens[j].value), j + 1 + (j + 1 < len(tokens)
                                               and tokens[j + 1].text in ORDINALS
                                               and tokens[j + 1].glued)
    if j < len(tokens) and tokens[j].text == "," and day is not None and _is_year(tokens, j + 1):
        j += 1  # "February 30, 2026"
    if _too_early(tokens[j] if j < len(tokens) else None):  # "March 1850"
        out.append(Tok("refused", t.text, t.start, tokens[j].end,
                       too_early(int(tokens[j].value))))
        return j + 1
    year = int(tokens[j].value) if _is_year(tokens, j) else None
    if not (year or day is not None or _month_context(out, tokens, i)
            or (len(t.text) > 3 and t.text not in ("march", "may"))):
        return 0
    end = tokens[j].end if year else tokens[j - 1].end
    start = t.start
    if k is not None:
        start = out[k].start
        del out[k:]
    if day is None:
        out.append(Tok("date", t.text, start, end, (year, MONTHS[t.text], 1)))
    else:
        text = f"{day} {calendar.month_name[MONTHS[t.text]]}" + (f" {year}" if year else "")
        out.append(_checked(t, (year, MONTHS[t.text], day), start, end, text))
    return j + (1 if year else 0)


def _checked(t: Tok, ymd: tuple[int | None, int, int] | str, start: int, end: int,
             text: str) -> Tok:
    """A date token for one written day, or a refused token saying why it does not exist."""
    if isinstance(ymd, str):
        return Tok("refused", t.text, start, end, ymd)
    year, month, day = ymd
    if year is not None and year < EARLIEST.year:  # "1850-03-01"
        return Tok("refused", text.lower(), start, end, too_early(year))
    # a numeric date is named as the prompt wrote it ("2026-02-30 is not a date …")
    got = day_date(year, month, day, text if _NUMERIC.fullmatch(text) else "")
    if isinstance(got, str):
        return Tok("refused", text.lower(), start, end, got)
    extra: dict[str, object] = {"day": True}
    if year is not None:
        extra["span"] = (got, got)
    return Tok("date", text.lower(), start, end, (year, month, day), extra=extra)


def too_early(year: int) -> str:
    """Why a year before the supported calendar is refused."""
    return f"{year} is before the earliest supported date {EARLIEST.isoformat()}"


def _too_early(t: Tok | None) -> bool:
    """A written year before 1900 ("1850"): four digits, no comma, not a count."""
    return t is not None and t.kind == "num" and not t.times and t.value == int(t.value) \
        and 1000 <= t.value < EARLIEST.year and t.text.isdigit()


def _day_before(out: list[Tok]) -> int | None:
    """Where a day written before a month starts in `out` ("30", "30th", "30th of",
    "the 30th of"), or None. A bare number needs a date word before it ("on 30 Feb") or
    nothing at all, so "3 March orders" stays readable as a count elsewhere."""
    k = len(out)
    if k and out[k - 1].text == "of":
        k -= 1
    ordinal = k >= 2 and out[k - 1].text in ORDINALS and out[k - 1].glued
    if ordinal:
        k -= 1
    if not k or out[k - 1].kind != "num" or out[k - 1].times \
            or out[k - 1].value != int(out[k - 1].value) or not 1 <= out[k - 1].value <= 99:
        return None
    k -= 1
    if ordinal or k == 0 or out[k - 1].text in DATE_LEAD | {"on", "the", ","}:
        return k
    return None


def _is_day(tokens: list[Tok], j: int) -> bool:
    """A day after a month name: a whole number 1-99 not counting something
    ("March 3 times", "May 5 orders" are not days)."""
    if j >= len(tokens) or tokens[j].kind != "num" or tokens[j].times \
            or tokens[j].value != int(tokens[j].value) or not 1 <= tokens[j].value <= 99:
        return False
    after = tokens[j + 1].text if j + 1 < len(tokens) else ""
    return after not in UNITS and after not in MULTIPLIERS and after not in (
        "orders", "order", "times", "purchases", "transactions", "x")


def _is_year(tokens: list[Tok], j: int) -> bool:
    return j < len(tokens) and tokens[j].kind == "num" and 1900 <= tokens[j].value <= 2100 \
        and tokens[j].value == int(tokens[j].value)


def _month_context(out: list[Tok], tokens: list[Tok], i: int) -> bool:
    """A date word before ("in May", "since Mar"), or a list of months ("March, April or
    May", "between March and May") — unless a verb follows ("and may buy")."""
    nxt = tokens[i + 1].text if i + 1 < len(tokens) else ""
    if nxt in VERB_NEXT:
        return False
    prev = out[-1].text if out else ""
    if prev in DATE_LEAD - {"and", "to"}:
        return True
    k = len(out)
    while k and out[k - 1].text in LIST_SEPS:
        k -= 1
    return k < len(out) and k > 0 and out[k - 1].kind == "date" \
        and isinstance(out[k - 1].value, tuple) and bool(out[k - 1].value[1])
