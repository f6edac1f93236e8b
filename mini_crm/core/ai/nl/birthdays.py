"""Birthday words for the offline parser: a birthday phrase is never read as an order date.

Only a month-number attribute (birthday_month, 1-12) can hold a birthday, so: a list of
months after a birthday word is one list ("birthdays in March or April" → birthday_month
in [3, 4]); "born in March" names the same attribute; and a date or span the attribute
cannot take ("born in 1990", "birthday within 30 days", "in 2 months") is refused with
how to say it, as is any birthday phrase when the data has no birthday attribute.
"""

from __future__ import annotations

from mini_crm.core.ai.nl.clauses import Clause, Context
from mini_crm.core.ai.nl.tokens import Tok

BIRTH_WORDS = {"birthday", "birthdays", "born", "birth", "bday", "bdays"}
# Spans shorter than a month: a month-number attribute cannot answer them.
DAY_SPANS = {"today", "tomorrow", "yesterday", "week", "weeks", "fortnight", "weekend"}


def join_birth_months(tokens: list[Tok]) -> list[Tok]:
    """'birthdays in March or April', 'born in March, April and May': a list of months
    after a birthday word is one date token holding every month (extra["months"]), so the
    months after the first stay with the birthday instead of becoming clauses of their
    own (where "April" was read as an order date)."""
    out: list[Tok] = []
    birth = False
    i = 0
    while i < len(tokens):
        t = tokens[i]
        birth = birth or t.text in BIRTH_WORDS
        if birth and _month_only(t):
            months, j = [t], i + 1
            while True:
                k = j
                while k < len(tokens) and tokens[k].text in (",", "and", "or", "&", "/"):
                    k += 1
                if k == j or k >= len(tokens) or not _month_only(tokens[k]):
                    break
                months.append(tokens[k])
                j = k + 1
            if len(months) > 1:
                out.append(Tok("date", " ".join(x.text for x in tokens[i:j]), t.start,
                               tokens[j - 1].end, t.value,
                               extra={"months": [x.value[1] for x in months]}))
                i = j
                birth = False
                continue
        out.append(t)
        i += 1
    return out


def _month_only(t: Tok) -> bool:
    """A month name without a year or day ("March")."""
    return t.kind == "date" and isinstance(t.value, tuple) and t.value[0] is None \
        and bool(t.value[1]) and t.value[2] == 1 and not t.extra.get("span") \
        and not t.extra.get("day")


def unknown_birthdays(c: Clause, ctx: Context) -> None:
    """'birthday next month' when the data has no birthday attribute: refused, so the
    date is never read as an order date ("birthday this month" once became "last ordered
    this month")."""
    words = [i for i, t in enumerate(c.toks) if t.kind == "word" and t.text in BIRTH_WORDS]
    if not words:
        return
    keys = [k for k in ctx.keys if "birth" in k.lower()]
    if keys:  # a date the birthday attribute could not take ("born in 1990"): refused
        left = [i for i, t in enumerate(c.toks) if i not in c.used and i > min(words)
                and t.kind in ("date", "period", "window", "range")]
        if left:
            subject = subject_of(keys[0])
            c.refuse([*(i for i in words if i not in c.used), *left],
                     f"only the {subject} month is stored: say e.g. “{subject} in March” "
                     f"or “{subject} next month”")
        return
    when = [i for i, t in enumerate(c.toks) if i not in c.used and i > min(words) and (
        t.kind in ("date", "period", "window") or t.text in (
            "in", "on", "the", "this", "next", "coming", "month", *DAY_SPANS))]
    c.refuse([*words, *when], "no birthday is stored for customers: that needs an "
                              "attribute such as birthday_month")


def subject_of(key: str) -> str:
    """'birthday' for birthday_month, 'anniversary' for anniversary_month."""
    words = [w for w in key.lower().split("_") if w and w != "month"]
    return " ".join(words) or key
