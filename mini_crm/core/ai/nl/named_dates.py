"""Named dates in prompts: "since Diwali", "since last Christmas", "this festive season".

Festival dates come from the `holidays` package (python-holidays, offline data; its India
calendar computes the lunisolar festivals — Diwali, Holi, Dussehra, Eid … — year by year),
plus fixed-date days it does not list for India (New Year's Day, Valentine's Day).
Calendar days are brand days: `today` is the brand-zone date (core/brand_time).

- "Diwali", "since Diwali": the latest Diwali on or before today;
- "last Diwali": the latest one strictly before today; "this Diwali": this calendar year's;
- "Diwali 2024", "Holi of 2025", "the festive season 2025": that year's, whatever the
  qualifier; a year the calendar does not cover is refused, never read as another year,
  and one still to come is left to nl_future ("since Diwali 2027" is refused there,
  "before Diwali 2030" reads);
- "next Diwali" is in the future: refused (no order can have been placed since then);
- "Diwali week", "last Diwali week", "the week of Diwali": the 7 days centred on that
  day (Diwali −3 to +3 days: Dhanteras to Bhai Dooj and a day either side), chosen over
  "the week starting Diwali" because festival shopping runs up to the day; a season has
  no such week ("festive season week" is refused with how to say it);
- "festive season": Navratri to Bhai Dooj, i.e. from nine days before Dussehra to two
  days after Diwali (2026: 11 Oct – 10 Nov); "this"/bare = the latest season that has
  begun, "last" = the one before.

A name the calendar cannot place is refused with a message (a `refused` token): the
clause that holds it yields no rule at all, so "haven't ordered since Diwali" can never
quietly become "never ordered".
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from functools import lru_cache

import holidays

from mini_crm.core.ai.nl.tokens import Tok

# prompt words → the holiday's name in the `holidays` India calendar (or a fixed date)
NAMES: dict[str, str] = {
    "diwali": "Diwali", "deepavali": "Diwali", "deepawali": "Diwali", "divali": "Diwali",
    "holi": "Holi", "dussehra": "Dussehra", "dasara": "Dussehra", "dussera": "Dussehra",
    "vijayadashami": "Dussehra", "christmas": "Christmas", "xmas": "Christmas",
    "eid": "Eid al-Fitr", "ramzan eid": "Eid al-Fitr", "eid al fitr": "Eid al-Fitr",
    "bakrid": "Eid al-Adha", "eid al adha": "Eid al-Adha", "good friday": "Good Friday",
    "janmashtami": "Janmashtami", "ram navami": "Ram Navami",
    "independence day": "Independence Day", "republic day": "Republic Day",
    "new year": "New Year", "new years": "New Year", "new year's": "New Year",
    "valentines day": "Valentine's Day", "valentine's day": "Valentine's Day",
    "valentine": "Valentine's Day", "festive season": "festive season",
    "festival season": "festive season",
}
FIXED = {"New Year": (1, 1), "Valentine's Day": (2, 14)}
QUALIFIERS = {"last", "this", "next", "previous", "past", "coming"}
FIRST_YEAR, LAST_YEAR = 2015, 2035


@lru_cache(maxsize=64)
def occurrences(name: str) -> tuple[tuple[date, date], ...]:
    """(first, last) day of every occurrence of a named day or season, oldest first."""
    out: list[tuple[date, date]] = []
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        if name in FIXED:
            month, day = FIXED[name]
            out.append((date(year, month, day), date(year, month, day)))
            continue
        cal = holidays.India(years=year)
        days = {n.strip(): d for d, names in cal.items() for n in names.split(";")}
        if name == "festive season":
            dussehra, diwali = days.get("Dussehra"), days.get("Diwali")
            if dussehra and diwali:
                out.append((dussehra - timedelta(days=9), diwali + timedelta(days=2)))
            continue
        hit = next((d for n, d in days.items() if n.split(" (")[0] == name), None)
        if hit:
            out.append((hit, hit))
    return tuple(out)


def resolve(name: str, qualifier: str, today: date) -> tuple[date, date] | str:
    """The span a named date means today, or why it cannot be placed (a message)."""
    spans = occurrences(name)
    label = name if name != "festive season" else "the festive season"
    if not FIRST_YEAR < today.year <= LAST_YEAR:  # the latest one might be missing
        return f"{label}: the holiday calendar covers {FIRST_YEAR}–{LAST_YEAR} only"
    if qualifier in ("next", "coming"):
        return f"“{qualifier} {name}” is in the future: no order can be placed since then"
    if qualifier == "this":
        this_year = [s for s in spans if s[0].year == today.year]
        if this_year and this_year[0][0] <= today:
            return this_year[0]
        if this_year:
            return f"“this {name}” has not begun yet ({this_year[0][0]:%d %b %Y})"
    begun = [s for s in spans if s[0] <= today]
    if qualifier in ("last", "previous", "past"):
        begun = [s for s in begun if s[1] < today]
    if not begun:
        return f"{label} is not in the holiday calendar before {today:%d %b %Y}"
    return begun[-1]


def mark(tokens: list[Tok], today: date) -> list[Tok]:
    """Replace named dates by `date` tokens carrying their span (or `refused` tokens)."""
    out: list[Tok] = []
    i = 0
    keys = sorted(NAMES, key=lambda k: -len(k.split()))
    while i < len(tokens):
        hit = None
        for key in keys:
            parts = key.split()
            texts = [t.text for t in tokens[i:i + len(parts)]]
            if texts == parts or (len(parts) > 1 and _glued(tokens, i, parts)):
                hit = key
                break
        if hit is None or tokens[i].kind not in ("word", "period", "date"):
            out.append(tokens[i])
            i += 1
            continue
        n = len(hit.split())
        qualifier, start_tok, last = "", tokens[i], tokens[i + n - 1]
        if out and out[-1].kind == "word" and out[-1].text in QUALIFIERS:
            start_tok = out.pop()
            qualifier = start_tok.text
        year_at = _year_after(tokens, i + n)
        if year_at is not None:  # "Holi 2025", "Holi of 2025": that year's, never today's
            year, n_year = year_at
            span = in_year(NAMES[hit], year)
            last = tokens[i + n + n_year - 1]
            text = f"{hit} {year}"
            n += n_year
        else:
            span = resolve(NAMES[hit], qualifier, today)
            text = f"{qualifier} {hit}".strip()
        week_of = len(out) >= 2 and out[-1].text == "of" and out[-2].text == "week"
        if year_at is not None and last.kind == "period":  # "Diwali 2025 week"
            text = f"{text} week"
            span = holiday_week(NAMES[hit], span)
        elif week_of or (i + n < len(tokens) and tokens[i + n].text == "week"):
            if week_of:  # "the week of Diwali"
                out.pop()
                start_tok = out.pop()
                text = f"week of {text}"
            else:  # "Diwali week", "last Diwali week"
                last = tokens[i + n]
                n += 1
                text = f"{text} week"
            year_at = year_at or _year_after(tokens, i + n)
            if year_at is not None and not text.endswith(str(year_at[0])):
                # "Diwali week 2025": that year's Diwali week
                span = in_year(NAMES[hit], year_at[0])
                last = tokens[i + n + year_at[1] - 1]
                n += year_at[1]
                text = f"{text} {year_at[0]}"
            span = holiday_week(NAMES[hit], span)
        if isinstance(span, str):
            out.append(Tok("refused", text, start_tok.start, last.end, span))
        else:
            out.append(Tok("date", text, start_tok.start, last.end,
                           (span[0].year, span[0].month, span[0].day),
                           extra={"span": span, "holiday": NAMES[hit]}))
        i += n
    return out


def in_year(name: str, year: int) -> tuple[date, date] | str:
    """The span of a named day or season in one calendar year ("Holi 2025": 14 Mar 2025),
    or why it cannot be placed. A year still to come is returned as is: whether it can
    be used depends on the clause ("before Diwali 2030" reads; "since" it is refused
    as in the future by nl_future)."""
    label = name if name != "festive season" else "the festive season"
    if not FIRST_YEAR <= year <= LAST_YEAR:
        return f"{label} {year}: the holiday calendar covers {FIRST_YEAR}–{LAST_YEAR} only"
    spans = [s for s in occurrences(name) if s[0].year == year]
    if not spans:
        return f"{label} is not in the holiday calendar for {year}"
    return spans[0]


def _year_after(tokens: list[Tok], j: int) -> tuple[int, int] | None:
    """(year, tokens it takes) when a year follows a named date at tokens[j]: "Holi
    2025", "Holi of 2025", "Holi in 2025", "Holi, 2025"; else None."""
    k = j
    if k < len(tokens) and tokens[k].text in ("of", "in", ","):
        k += 1
    if k >= len(tokens):
        return None
    t = tokens[k]
    if t.kind == "num" and isinstance(t.value, float | int) and t.value == int(t.value) \
            and 1000 <= t.value <= 9999 and not t.glued:
        return int(t.value), k - j + 1
    if t.kind == "period" and re.fullmatch(r"\d{4} week", t.text) and k == j:
        # "Diwali 2025 week": the tokenizer read "2025 week" as a period of 2025 weeks
        return int(t.text[:4]), 1
    if t.kind == "date" and isinstance(t.value, tuple) and t.value[1] is None \
            and not t.extra.get("calendar") and not t.extra.get("span"):
        return int(t.value[0]), k - j + 1
    return None


def holiday_week(name: str, span: tuple[date, date] | str) -> tuple[date, date] | str:
    """"Diwali week": the 7 days centred on the day (3 before to 3 after; for Diwali that
    is Dhanteras to Bhai Dooj with a day either side), or why not (a season is already
    a span of weeks)."""
    if isinstance(span, str):
        return span
    if span[0] != span[1]:
        return (f"the {name} is already a span, {span[0]:%d %b} – {span[1]:%d %b %Y}, not a "
                f"day with a week: say “during the {name}”")
    return span[0] - timedelta(days=3), span[0] + timedelta(days=3)


def _glued(tokens: list[Tok], i: int, parts: list[str]) -> bool:
    """"new year's", "valentine's day": the tokenizer may split the apostrophe off."""
    texts = [t.text for t in tokens[i:i + len(parts) + 2] if t.text not in ("'", "’", "s")]
    return texts[:len(parts)] == parts
