"""Extractors for periods ("in the last 6 months") and dates ("since March")."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from mini_crm.core import brand_time
from mini_crm.core.ai.nl.clauses import Clause, Context, negation_words, op_around
from mini_crm.core.ai.nl.combine import negate
from mini_crm.core.ai.nl.field_words import mentions, time_pairs
from mini_crm.core.ai.nl.tokens import Tok
from mini_crm.core.ai.nl.vocab import LAPSE, MAX_DAYS, NEG, ORDER_NOUNS, ORDER_VERBS, TENURE_NOUNS
from mini_crm.core.ai.nl.windows import NEGATED_WINDOW, SINCE_WINDOW
from mini_crm.core.ai.nl.windows import TARGETS as _WINDOWED

_LAST = {"last", "latest", "recent", "final"}  # "last order", "most recent purchase"


def time_field(c: Clause) -> tuple[str, str, list[int]]:
    """(days field, date field, trigger indices) that a period or date in this clause is about.

    A days field's own words (FieldSpec.words: "joined", "signups" for the signup) put
    the time on it and its date twin. A lapse word ("lapsed", "churned" …) says the time
    is about the last order, so "lapsed customers since Diwali" is not "customers since
    Diwali" (tenure): only an explicit sign-up word puts such a clause's date on the signup.
    """
    w = [t.text for t in c.toks]
    lapse = any(x in LAPSE for x in w)
    firsts = [i for i, x in enumerate(w) if x == "first"]
    if firsts and (c.has(ORDER_VERBS | ORDER_NOUNS) or c.lead in ("who",)):
        return "days_since_first_order", "first_order_at", firsts + [
            i for i, x in enumerate(w) if x in ORDER_VERBS | ORDER_NOUNS]
    tenure = [i for i, x in enumerate(w) if x in TENURE_NOUNS and i + 1 < len(w)
              and w[i + 1] in ("for", "since") and not lapse]
    if "with" in w and "us" in w and not lapse:
        tenure.append(w.index("us"))
    for days, dated in time_pairs():
        named = sorted({*mentions(days, w), *mentions(dated, w)})
        # "customers for 2 years", "with us since 2024": how long they have been customers
        named += tenure if days.name == "days_since_signup" else []
        if named:
            return days.name, dated.name, named
    return "days_since_last_order", "last_order_at", [
        i for i, x in enumerate(w) if x in ORDER_VERBS | ORDER_NOUNS | LAPSE
        or (x in _LAST and i + 1 < len(w) and w[i + 1] in ORDER_VERBS | ORDER_NOUNS)
        or (x == "most" and w[i + 1:i + 2] == ["recent"])]


def says_last(c: Clause) -> bool:
    """"last ordered", "whose last order was", "most recent purchase": the clause is about
    the last order, so a date in it is the last order's date (last_order_at). Without
    such a word, "ordered in April" means any order in April."""
    w = [t.text for t in c.toks]
    return any(x in _LAST and i + 1 < len(w) and w[i + 1] in ORDER_VERBS | ORDER_NOUNS
               for i, x in enumerate(w))


def ordered_within(start: date, end: date) -> dict[str, Any]:
    """At least one counted order (not cancelled or refunded) from start to end."""
    return {"field": "window_order_count", "operator": ">", "value": 0,
            "window": {"from": start.isoformat(), "to": end.isoformat()}}


def read_periods(c: Clause, ctx: Context) -> None:
    for i in c.index("period", "range"):
        t = c.toks[i]
        if t.kind == "range" and t.extra.get("kind") != "period":
            continue
        days_field, _, triggers = time_field(c)
        if t.kind == "range":
            lo, hi = (int(round(x)) for x in t.value)
            if hi > MAX_DAYS:
                c.refuse([i, *triggers], too_long(hi, ctx.today))
                continue
            rule = {"field": days_field, "operator": "between", "value": [lo, hi]}
            c.add(rule, [i, *triggers, *_ago(c, i)])
            continue
        days = int(t.value)
        if days > MAX_DAYS:
            window = [j for j in range(max(0, i - 3), i) if c.toks[j].kind == "window"]
            c.refuse([*window, i, *triggers], too_long(days, ctx.today))
            continue
        if days <= 0:
            # "in the last 0 days" is an audience of no one (and "haven't ordered in 0
            # days" of everyone): refused with how to say it, never applied silently
            window = [j for j in range(max(0, i - 3), i) if c.toks[j].kind == "window"]
            c.refuse([*window, i], "a period of zero is no time at all: say e.g. "
                                   "“in the last 30 days”")
            continue
        used = [i, *triggers]
        negated_window = False
        op, extra = op_around(c, i, default="")
        ago = _ago(c, i)
        window = c.before(i, [x.text for x in c.toks if x.kind == "window"], reach=3)
        window = [j for j in range(max(0, i - 3), i) if c.toks[j].kind == "window"]
        neg = _negations(c, days_field)
        if op:
            used += extra
            if window and not ago:
                # "within less than 30 days" reads like the window itself
                op = ">=" if neg else "<"
            used += neg if not ago else []
        elif ago:
            op = ">="
        elif window or (i > 0 and c.toks[i - 1].text in ("in", "for", "since")):
            lead = c.toks[i - 1].text if i > 0 else ""
            if neg:
                op, used = ">=", used + neg
                negated_window = True
            elif lead == "for" and not window:
                op = ">="  # "customers for 2 years", "inactive for 90 days" (lapse = neg)
            else:
                op = "<"
            used += window + ([i - 1] if i > 0 else [])
        else:
            op = ">=" if neg else "<"
            used += neg
        rule = {"field": days_field, "operator": op, "value": days}
        if _not_ordered(c, rule, ago):
            rule = _or_never(rule)
            if negated_window:
                # "didn't spend over ₹5,000 in the last 90 days": with a count or spend
                # in the clause, nl_windows.fold negates the windowed comparison instead
                rule[NEGATED_WINDOW] = {"last_days": days}
        c.add(rule, used + ago)


def too_long(days: int, today: date) -> str:
    """Why a period longer than MAX_DAYS is refused: "99999 days ago is before the
    earliest supported date 1900-01-01", else "40000 days is longer than a period can
    be: the most is 36,500 days, 100 years"."""
    if days > (today - brand_time.MIN_DATE).days:
        return (f"{days} days ago is before the earliest supported date "
                f"{brand_time.MIN_DATE.isoformat()}")
    return f"{days} days is longer than a period can be: the most is {MAX_DAYS:,} days, " \
        f"{MAX_DAYS // 365} years"


def _negations(c: Clause, time: str) -> list[int]:
    """Negation words for a time on this field. A lapse word ("lapsed since Diwali") means
    "no order since" only about orders: on a signup or first-order time it is no negation
    (it stays unread, so the marketer is told, never silently turned into "before")."""
    neg = negation_words(c)
    if time in ("days_since_last_order", "last_order_at"):
        return neg
    return [i for i in neg if c.toks[i].text not in LAPSE]


def _not_ordered(c: Clause, rule: dict[str, Any], ago: list[int]) -> bool:
    """"haven't ordered in 30 days", "not ordered since March": a negation (not a lapse
    word like "lapsed", which says they did order once) on the last order."""
    return rule["field"] in ("days_since_last_order", "last_order_at") and not ago \
        and rule["operator"] in (">=", ">", "<", "<=") and bool(
            {c.toks[i].text for i in negation_words(c)} & NEG)


def _or_never(rule: dict[str, Any]) -> dict[str, Any]:
    """The rule or 'never ordered': who has not ordered lately includes who never did."""
    return {"combinator": "or", "not": False,
            "rules": [rule, {"field": "last_order_at", "operator": "is_null"}]}


def _ago(c: Clause, i: int) -> list[int]:
    j = i + 1
    if j < len(c.toks) and c.toks[j].kind == "post":
        j += 1
    return [j] if j < len(c.toks) and c.toks[j].text in ("ago", "back", "old") else []


def read_dates(c: Clause, ctx: Context) -> None:
    for i in c.index("date"):
        start, end = _span(c.toks[i], ctx.today)
        _, date_field, triggers = time_field(c)
        day_word = c.toks[i].extra.get("calendar") in ("today", "yesterday", "this_week")
        if day_word and not triggers:
            # "customers in Mumbai today" may mean "as of now": no order or sign-up
            # word says what happened then, so it is refused with how to say it
            word = c.toks[i].text
            c.refuse([i], "on its own it does not say what happened then: say "
                          f"“ordered {word}” or “signed up {word}”")
            continue
        lead = c.toks[i - 1].text if i > 0 else ""
        neg = _negations(c, date_field)
        # the word before is the date's lead ("in", "since", "ordered"), not an amount
        # ("spent over 5k last month")
        lead_used = i > 0 and c.toks[i - 1].kind in ("word", "cmp")
        used = [i, *triggers, *([i - 1] if lead_used else [])]
        if lead in ("since", "from") and not c.toks[i].extra.get("range"):
            rule = {"field": date_field, "operator": "<" if neg else ">=",
                    "value": start.isoformat()}
            if neg and _not_ordered(c, rule, []):
                rule = _or_never(rule)
            # "spent over 5k since March" (or "didn't …"): with a count or spend in the
            # clause, nl_windows.fold makes it a window from March to today
            since = {"from": start.isoformat(), "to": ctx.today.isoformat()}
            if date_field == "last_order_at" and not says_last(c) and start <= ctx.today:
                if not neg:
                    rule[SINCE_WINDOW] = since
                elif "rules" in rule:  # "haven't …" (a lapse word says they did order)
                    rule[NEGATED_WINDOW] = since
            used += neg
        elif neg and lead in ("after", "before", "until", "till"):
            _negated_bound(c, i, lead, date_field, end, used + neg)
            continue
        elif lead == "after":
            rule = {"field": date_field, "operator": ">", "value": end.isoformat()}
        elif lead in ("before",):
            rule = {"field": date_field, "operator": "<", "value": start.isoformat()}
        elif lead in ("until", "till"):
            rule = {"field": date_field, "operator": "<=", "value": end.isoformat()}
        elif c.toks[i].extra.get("holiday") and date_field == "last_order_at" and not neg \
                and start != end:
            # "bought during the festive season": any order in that span, not the last one
            rule = ordered_within(start, end)
        else:  # "in March", "during 2024", "on 2025-01-31"
            rule = {"field": date_field, "operator": "between",
                    "value": [start.isoformat(), end.isoformat()]}
            if date_field == "last_order_at" and not says_last(c):
                # "ordered in April" is any order in April (nl_windows.fold turns the span
                # into "ordered at all" or folds it into a count/spend); only "last
                # ordered in April" is about the last order
                rule = {**rule, "span_of": "orders"}
            if neg:  # "not ordered in April": no counted order in April (never ordered too)
                if rule.pop("span_of", None):
                    rule = {**ordered_within(start, end), "operator": "=", "value": 0}
                    # "did not place more than 3 orders last year": with a count or spend
                    # in the clause, nl_windows.fold negates the windowed comparison
                    rule[NEGATED_WINDOW] = dict(rule["window"])
                else:
                    rule = negate(rule)
                used += neg
        c.add(rule, used)


VAGUE_TIMES = {"recently", "lately"}
_TIME_FIELDS = {"days_since_last_order", "last_order_at", "days_since_first_order",
                "first_order_at", "days_since_signup", "created_at", *_WINDOWED.values()}


def read_vague_times(c: Clause, ctx: Context) -> None:
    """"recently", "lately": with a period or date in the clause they add nothing ("ordered
    recently, in the last 30 days"); alone ("signed up recently") they have no length, so
    they are refused with how to say it, never dropped as filler."""
    vague = [i for i, t in enumerate(c.toks) if t.text in VAGUE_TIMES and i not in c.used]
    if not vague:
        return
    if any(_times(cond.rule) for cond in c.conds):
        c.used.update(vague)
        return
    word = c.toks[vague[0]].text
    _, _, triggers = time_field(c)
    c.refuse([*vague, *(j for j in triggers if j not in c.used)],
             f"“{word}” does not say how long: say e.g. “in the last 30 days”")


def _times(rule: dict[str, Any]) -> bool:
    """Does the rule (or a group in it) hold a time: a date, days since, or a window?"""
    if "rules" in rule:
        return any(_times(r) for r in rule["rules"])
    return rule.get("field") in _TIME_FIELDS or "window" in rule


def join_date_ranges(tokens: list[Tok], today: date) -> list[Tok]:
    """'between 2026-01-01 and 2026-02-15', 'between March and May': one date token whose
    span runs from the first's start to the second's end (the "and" once split it into
    two clauses, "in January" and "in February"). "between" stays before it."""
    out: list[Tok] = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if t.kind == "cmp" and t.value == "between" and i + 3 < len(tokens) \
                and tokens[i + 1].kind == "date" and tokens[i + 3].kind == "date" \
                and tokens[i + 2].text in ("and", "to", "-", "till", "until", "&"):
            a, b = tokens[i + 1], tokens[i + 3]
            # Written the other way round ("between 1 March and 1 February") it is the
            # same range, as "between ₹10,000 and ₹5,000" is; the explanation shows the
            # dates in order. (It used to fall apart into two one-day rules.)
            (a_start, a_end), (b_start, b_end) = _span(a, today), _span(b, today)
            start, end = min(a_start, b_start), max(a_end, b_end)
            out += [t, Tok("date", f"{a.text} {tokens[i + 2].text} {b.text}", a.start,
                           b.end, a.value, extra={"span": (start, end), "range": True})]
            i += 4
            continue
        if t.text == "from" and i + 3 < len(tokens) and tokens[i + 1].kind == "date" \
                and tokens[i + 3].kind == "date" \
                and tokens[i + 2].text in ("to", "-", "till", "until", "through", "thru"):
            # "from March to May" is one range, not "since March" and "in May"; a range
            # that wraps the year ("from March to January") starts in the earlier year
            a, b = tokens[i + 1], tokens[i + 3]
            start, end = _from_to(a, b, today)
            out += [t, Tok("date", f"{a.text} {tokens[i + 2].text} {b.text}", a.start,
                           b.end, a.value, extra={"span": (start, end), "range": True})]
            i += 4
            continue
        out.append(t)
        i += 1
    return out


def _from_to(a: Tok, b: Tok, today: date) -> tuple[date, date]:
    """The span of "from A to B": B is read as on its own (the latest such month or day
    not after today); A without a year of its own is the latest such month or day
    starting on or before B, so "from March to January" runs from March of the year
    before that January, as "from 20 December to 5 January" does. Written the other way
    round with years ("from 2026-03-01 to 2026-01-01") it is the same range, as with
    "between"."""
    b_start, b_end = _span(b, today)
    bare = not a.extra.get("span") and not a.extra.get("calendar") \
        and isinstance(a.value, tuple) and a.value[0] is None
    if bare and a.extra.get("day"):
        a_start = a_end = _latest_day(a.value[1], a.value[2], b_start)
    elif bare and a.value[1]:
        month = a.value[1]
        a_start, a_end = _date_span(b_start.year - (month > b_start.month), month, today)
    else:
        a_start, a_end = _span(a, today)
    return min(a_start, b_start), max(a_end, b_end)


def _span(t: Tok, today: date) -> tuple[date, date]:
    """The first and last brand day a date token means today: its fixed span, the
    previous calendar week/month/year ("last month"), one written day ("30 April": the
    latest such day not after today), or a month / year."""
    span = t.extra.get("span")
    if span:
        return span
    if t.extra.get("calendar"):
        start, end = brand_time.calendar_period(t.extra["calendar"], today)
        if t.extra.get("calendar_to"):  # "yesterday or today"
            end = brand_time.calendar_period(t.extra["calendar_to"], today)[1]
        # "this week" runs to today, as "this quarter" does (no future days in a window)
        return start, min(end, today)
    year, month, day = t.value
    if t.extra.get("day"):
        return (d := _latest_day(month, day, today)), d
    return _date_span(year, month, today)


def _latest_day(month: int, day: int, today: date) -> date:
    """The latest month/day on or before today (29 February: the latest leap year's);
    date_words refused the days no year has."""
    year = today.year
    while True:
        try:
            d = date(year, month, day)
        except ValueError:
            year -= 1
            continue
        if d <= today:
            return d
        year -= 1


def _negated_bound(c: Clause, i: int, lead: str, date_field: str, end: date,
                   used: list[int]) -> None:
    """A negation with "after"/"before"/"until" (the negation was ignored before, so
    "haven't ordered after Diwali" read as "last order after Diwali"). "not … after X" is
    "on or before X" (or never, for a "haven't ordered"); a lapse word with a bound
    ("stopped ordering after Diwali") or a negated "before"/"until" has no one reading:
    refused with how to say it, never guessed."""
    neg_words = {c.toks[j].text for j in used} & NEG
    if lead == "after" and neg_words:
        rule: dict[str, Any] = {"field": date_field, "operator": "<=", "value": end.isoformat()}
        c.add(_or_never(rule) if _not_ordered(c, rule, []) else rule, used)
        return
    c.refuse(used, f"unclear with “{lead}”: say e.g. “haven't ordered since Diwali” or "
                   "“last ordered before Diwali”")


def _date_span(year: int | None, month: int | None, today: date) -> tuple[date, date]:
    """A whole month or year; no year is the latest such month not in the future."""
    if year == 0:  # "this year", "this month"
        year, month = today.year, (today.month if month == 0 else month)
    if month is None:  # a whole year
        return date(year or today.year, 1, 1), date(year or today.year, 12, 31)
    if year is None:
        year = today.year if month <= today.month else today.year - 1
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return date(year, month, 1), nxt - timedelta(days=1)
