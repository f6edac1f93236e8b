"""Extractors for names, email domains, text matches, attributes and missing values."""

from __future__ import annotations

import calendar
from typing import Any

from mini_crm.core.ai.nl.birthdays import BIRTH_WORDS, DAY_SPANS, subject_of, unknown_birthdays
from mini_crm.core.ai.nl.clauses import Clause, Context, op_around, tidy
from mini_crm.core.ai.nl.combine import negate
from mini_crm.core.ai.nl.dates import time_field
from mini_crm.core.ai.nl.field_words import text_fields, words_of
from mini_crm.core.ai.nl.names import Name
from mini_crm.core.ai.nl.vocab import FILLER, NEG, NOT_BEFORE, TEXT_OPS
from mini_crm.core.segments.fields import ATTRIBUTE_KEY


def _local_neg(c: Clause, i: int) -> list[int] | None:
    """The negation just before token i: "not in", "outside", "not on", "non-"."""
    phrase = c.before(i, NOT_BEFORE)
    if phrase:
        return phrase
    near = [j for j in range(max(0, i - 2), i) if c.toks[j].text in ("not", "non", "without",
                                                                     "except", "excluding")
            and j not in c.used]
    if near:
        return near[:1] + [j for j in range(near[0] + 1, i) if c.toks[j].text in (
            "on", "using", "use", "with", "from", "a", "an")]
    # "doesn't live in Mumbai", "do not stay in Pune": a place verb between the negation
    # and the name (read as "in Mumbai", the "not" left over, before)
    j = i - 1
    while j >= 0 and i - j <= 4 and c.toks[j].text in _PLACE_GLUE and j not in c.used:
        j -= 1
    if j >= 0 and j < i - 1 and c.toks[j].text == "not" and j not in c.used:
        return list(range(j, i))
    return None


_PLACE_GLUE = {"live", "lives", "living", "stay", "stays", "staying", "reside", "resides",
               "residing", "based", "located", "in", "from", "at", "come", "comes", "belong",
               "belongs", "to"}


def read_names(c: Clause, ctx: Context) -> None:
    for i in c.index("name", "names"):
        t = c.toks[i]
        options: list[list[Name]] = t.value if t.kind == "names" else [t.value]
        field_name = _pick_field(c, options)
        if field_name is None:
            continue
        vals = list(dict.fromkeys(n.value for opts in options for n in opts
                                  if n.field == field_name))
        neg = _local_neg(c, i)
        used = [i, *(neg or [])]
        if field_name == "city":
            rule = {"field": "city", "operator": "not_in" if neg else "in", "value": vals}
        else:
            used += _key_mentions(c, field_name[len("attributes."):])
            if len(vals) == 1:
                rule = {"field": field_name, "operator": "!=" if neg else "=", "value": vals[0]}
            else:
                rule = {"field": field_name, "operator": "not_in" if neg else "in",
                        "value": vals}
        # the words that introduced the name are read too ("in", "from", "is")
        j = i - 1 - len(neg or [])
        while j >= 0 and c.toks[j].text in ("in", "from", "of", "is", "=", "living", "based",
                                            "located", "at", "to"):
            used.append(j)
            j -= 1
        c.add(rule, used)


def _pick_field(c: Clause, options: list[list[Name]]) -> str | None:
    fields = set.intersection(*({n.field for n in opts} for opts in options))
    if not fields:
        return None
    if len(fields) == 1:
        return fields.pop()
    mentioned = [f for f in fields if f.startswith("attributes.")
                 and _key_mentions(c, f[len("attributes."):])]
    return mentioned[0] if len(mentioned) == 1 else None


def _key_words(key: str) -> list[str]:
    return [w for w in key.lower().split("_") if w]


def _stem_match(word: str, kw: str) -> bool:
    if word == kw or word.rstrip("s") == kw.rstrip("s"):
        return True
    if len(kw) >= 3 and word.startswith(kw) and len(word) - len(kw) <= 3:
        return True
    return len(word) >= 5 and len(kw) >= 5 and word[:5] == kw[:5]


GENERIC_KEY_WORDS = {"id", "type", "is", "has", "at", "date", "value", "count", "total",
                     "name", "email", "phone", "city", "order", "orders", "last", "first",
                     "customer", "user", "source", "status", "the", "of",
                     # "month" alone is a time ("ordered next month"), not birthday_month
                     "month"}


def _key_mentions(c: Clause, key: str, keys: list[str] | None = None) -> list[int]:
    """Indices of clause words naming attribute `key` ("loyalty tier", "tier", "prefer")."""
    words = _key_words(key)
    hits = [i for i, t in enumerate(c.toks) if t.kind == "word"
            and any(_stem_match(t.text, w) for w in words)]
    if any("birth" in w for w in words):  # "born in March", "bdays" name birthday_month
        born = [i for i, t in enumerate(c.toks) if t.text in BIRTH_WORDS and i not in hits]
        if born:
            return sorted([*hits, *born])
    if not hits:
        return []
    matched = {w for w in words for i in hits if _stem_match(c.toks[i].text, w)}
    if matched == set(words):
        return hits
    # one distinctive word is enough ("tier" for loyalty_tier) unless other keys share it
    distinctive = {w for w in matched if w not in GENERIC_KEY_WORDS}
    if keys is not None:
        distinctive = {w for w in distinctive
                       if not any(w in _key_words(k) for k in keys if k != key)}
    return hits if distinctive else []


def read_domains(c: Clause, ctx: Context) -> None:
    found: list[tuple[list[int], list[str]]] = []
    for i in c.index("domain", "domains"):
        t = c.toks[i]
        texts = t.value if t.kind == "domains" else [t.text]
        if any(x.startswith(".") for x in texts):
            continue  # a bare ".in" is only meaningful after "email ends with"
        found.append(([i], [x.lstrip("@") for x in texts]))
    for i in c.index("word"):
        if c.toks[i].text in ctx.providers:
            # "gmail or yahoo users": lists of provider words
            found.append(([i], [c.toks[i].text]))
    for idx, items in found:
        if any(i in c.used for i in idx):
            continue
        rules = []
        for item in items:
            if "." in item:
                rules.append({"field": "email", "operator": "ends_with", "value": "@" + item})
            else:
                hits = ctx.providers.get(item, [])
                if len(hits) == 1:
                    rules.append({"field": "email", "operator": "ends_with",
                                  "value": "@" + hits[0]})
                else:
                    rules.append({"field": "email", "operator": "contains",
                                  "value": f"@{item}."})
        # provider words joined by or/and: one clause each would split them; merge here
        rule = rules[0] if len(rules) == 1 else {"combinator": "or", "not": False,
                                                 "rules": rules}
        neg = _local_neg(c, idx[0])
        used = [*idx, *(neg or [])]
        email = words_of("email") | {"address", "id", "domain", "account"}
        used += [j for j, t in enumerate(c.toks) if t.text in email
                 and j not in c.used and not _is_text_op_field(c, j)]
        c.add(negate(rule) if neg else rule, used)


def _is_text_op_field(c: Clause, j: int) -> bool:
    nxt = c.toks[j + 1].text if j + 1 < len(c.toks) else ""
    return nxt in ("contains", "starts", "ends", "begins", "is", "containing", "ending",
                   "starting", "beginning", "includes")


def _literal(c: Clause, i: int) -> tuple[Any, int] | None:
    """The value token at i: quoted text, a domain, a number or a word."""
    if i >= len(c.toks):
        return None
    t = c.toks[i]
    if t.text == "." and i + 1 < len(c.toks) and c.toks[i + 1].glued \
            and c.toks[i + 1].kind == "word":  # ".in", ".co"
        return "." + c.toks[i + 1].text, i + 1
    if t.kind == "str" or (t.kind == "domain"):
        return (t.value if t.kind == "str" else t.text), i
    if t.kind == "num":
        return (int(t.value) if t.value == int(t.value) else t.value), i
    if t.kind == "sym" and t.text == "+" and i + 1 < len(c.toks) and c.toks[i + 1].kind == "num":
        return "+" + str(int(c.toks[i + 1].value)), i + 1
    if t.kind in ("word", "name"):
        return (t.value[0].value if t.kind == "name" else t.extra.get("raw", t.text)), i
    return None


def read_text_matches(c: Clause, ctx: Context) -> None:
    """'email ends with .in', 'name contains Kumar', 'phone starts with +9198'."""
    named = text_fields()
    for i in c.index("word"):
        f = named.get(c.toks[i].text)
        if f is None or i in c.used:
            continue
        j = i + 1
        if c.toks[i].text == "e" and j < len(c.toks) and c.toks[j].text in ("mail", "-"):
            j += 1 if c.toks[j].text == "mail" else 2
        if j < len(c.toks) and c.toks[j].text in ("address", "number", "id"):
            j += 1
        op_words = [t.text for t in c.toks[j:j + 3]]
        op = None
        for phrase in sorted(TEXT_OPS, key=lambda p: -len(p.split())):
            parts = phrase.split()
            if op_words[:len(parts)] == parts:
                op, j = TEXT_OPS[phrase], j + len(parts)
                break
        if op is None or op in ("=", "!=") and f == "city":
            continue
        lit = _literal(c, j)
        if lit is None:
            continue
        value, end = lit
        value = str(value)
        if op in ("=", "!=") and value.lower() in ABSENT | PRESENT:
            # "phone is missing" is a missing phone, not the text "missing"
            missing = (value.lower() in ABSENT) == (op == "=")
            c.add({"field": f, "operator": "is_null" if missing else "is_not_null"},
                  range(i, end + 1))
            continue
        if f == "email" and op == "=" and value.startswith("@"):
            op = "ends_with"
        if f == "email" and op in ("=", "ends_with") and "." not in value:
            # "email at gmail", "email ends with yahoo": a bare name is a mail provider
            # (its domains), never an address ending "@gmail", which no one has
            c.add(provider_rule(value.lstrip("@").lower(), ctx), range(i, end + 1))
            continue
        if f == "email" and c.toks[j - 1].text == "at" and not value.startswith(("@", ".")):
            value = "@" + value  # "emails at acme.in": the domain, not any address ending so
        rule = {"field": f, "operator": op, "value": value}
        c.add(rule, range(i, end + 1))


# "phone is missing / empty / blank", "email is not set": no value; "phone is present": one
ABSENT = frozenset({"missing", "empty", "blank", "none", "null", "unknown", "unset", "absent",
                    "nil", "na", "n/a"})
PRESENT = frozenset({"present", "set", "known", "available", "filled", "there"})


def provider_rule(label: str, ctx: Context) -> dict[str, Any]:
    """An email at a provider named without its domain ("gmail", "yahoo"): ends with
    each of its known domains (gmail.com; yahoo.com or yahoo.co.in), or, for a name no
    known domain has ("acme"), an address at acme.<anything>."""
    hits = ctx.providers.get(label) or [d for d in ctx.domains if d.split(".")[0] == label]
    if not hits:
        return {"field": "email", "operator": "contains", "value": f"@{label}."}
    rules = [{"field": "email", "operator": "ends_with", "value": "@" + d} for d in hits]
    return rules[0] if len(rules) == 1 else {"combinator": "or", "not": False, "rules": rules}


def read_attributes(c: Clause, ctx: Context) -> None:
    """Attributes named by key: 'tier is gold', 'attribute plan = pro', 'app installed'."""
    explicit = [i for i in c.index("word") if c.toks[i].text in ("attribute", "attributes")]
    for i in explicit:
        j = i + 1
        while j < len(c.toks) and c.toks[j].text in ("the", "called", "named"):
            j += 1
        if j >= len(c.toks) or c.toks[j].kind not in ("word", "str", "name"):
            continue
        key = str(c.toks[j].value if c.toks[j].kind == "str" else c.toks[j].text)
        if c.toks[j].kind == "name":
            continue
        known = {k.lower(): k for k in ctx.keys}
        key = known.get(key.lower(), key)
        if not ATTRIBUTE_KEY.match(key):
            continue
        _attribute_value(c, ctx, key, [i, j], j + 1)
    for key in ctx.keys:
        mentions = [m for m in _key_mentions(c, key, ctx.keys) if m not in c.used]
        if mentions:
            _attribute_value(c, ctx, key, mentions, max(mentions) + 1)
    unknown_birthdays(c, ctx)


def _attribute_value(c: Clause, ctx: Context, key: str, mentions: list[int], after: int
                     ) -> None:
    field_name = f"attributes.{key}"
    known = ctx.values.get(key, [])
    neg_words = [i for i, t in enumerate(c.toks) if t.text in NEG and i not in c.used]
    negated = bool(neg_words)
    if known and all(isinstance(v, bool) for v in known):
        c.add({"field": field_name, "operator": "=", "value": not negated},
              [*mentions, *neg_words])
        return
    numeric = known and all(isinstance(v, int | float) and not isinstance(v, bool)
                            for v in known)
    if numeric:
        if "month" in key and _relative_month(c, ctx, key, mentions, neg_words):
            return
        for i in c.index("date", "range", "num"):
            t = c.toks[i]
            if t.kind == "date" and t.extra.get("months") and "month" in key:
                months = list(dict.fromkeys(t.extra["months"]))
                rule = {"field": field_name, "operator": "not_in" if negated else "in",
                        "value": months}
                c.add(rule, [*mentions, i, *(neg_words if negated else [])],
                      _month_note(key, months, negated))
                return
            if t.kind == "date" and t.value[1] and "month" in key and not (
                    "birth" in key and t.value[0] is not None):  # "born in March 1990"
                rule = {"field": field_name, "operator": "!=" if negated else "=",
                        "value": t.value[1]}
                c.add(rule, [*mentions, i, *(neg_words if negated else [])],
                      _month_note(key, t.value[1], negated))
                return
            if t.kind == "range":
                c.add({"field": field_name, "operator": "between",
                       "value": [tidy(t.value[0]), tidy(t.value[1])]}, [*mentions, i])
                return
            if t.kind == "num":
                op, extra = op_around(c, i, default="=")
                c.add({"field": field_name, "operator": op, "value": tidy(t.value)},
                      [*mentions, i, *extra])
                return
        return
    # text values: a known value anywhere in the clause, else the literal after "is" / "="
    low = {str(v).lower().replace("_", " "): v for v in known if isinstance(v, str)}
    words = [(i, t) for i, t in enumerate(c.toks) if i not in c.used and i not in mentions]
    found = [(i, low[t.text]) for i, t in words if t.kind == "word" and t.text in low]
    if found:
        vals = list(dict.fromkeys(v for _, v in found))
        op = ("!=" if negated else "=") if len(vals) == 1 else ("not_in" if negated else "in")
        c.add({"field": field_name, "operator": op,
               "value": vals[0] if len(vals) == 1 else vals},
              [*mentions, *(i for i, _ in found), *neg_words])
        return
    j = after
    while j < len(c.toks) and c.toks[j].text in ("is", "=", ":", "equals", "of", "as", "set",
                                                  "to", "cmp", "not"):
        j += 1
    if j == after and not (c.toks[mentions[0] - 1].text == "attribute" if mentions[0] else 0):
        return
    if j < len(c.toks) and c.toks[j].kind == "cmp" and c.toks[j].value == "=":
        j += 1
    lit = _literal(c, j)
    if lit is None or (c.toks[j].kind == "word" and c.toks[j].text in FILLER):
        return
    value, end = lit
    if isinstance(value, str):
        value = {"true": True, "yes": True, "false": False}.get(value.lower(), value)
        if isinstance(value, str):
            # the marketer's own spelling from the prompt, matched to the data's if known
            value = low.get(value.lower(), _raw(c, j) or value)
    c.add({"field": field_name, "operator": "!=" if negated else "=", "value": value},
          [*mentions, *range(after, end + 1), *neg_words])


# Relative months for a month-number attribute ("birthday next month"): the word before
# "month" and how many months from the brand's current one.
_MONTH_SHIFT = {"this": 0, "current": 0, "next": 1, "coming": 1, "upcoming": 1, "last": -1,
                "previous": -1, "past": -1}


def _month_note(key: str, month: int | list[int], negated: bool, label: str = "") -> str:
    """The explanation in words: 'have a birthday in December (next month)', 'have a
    birthday in March or April'."""
    names = [calendar.month_name[m] for m in (month if isinstance(month, list) else [month])]
    when = (", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else names[0]) \
        + (f" ({label})" if label else "")
    return f"{'do not have' if negated else 'have'} a {subject_of(key)} in {when}"


def _relative_month(c: Clause, ctx: Context, key: str, mentions: list[int],
                    neg_words: list[int]) -> bool:
    """'birthday this month / next month / last month' on a month-number attribute
    (1-12): the brand's current month (ctx.today, a brand day), shifted, wrapping the
    year (next month in December is January). A span shorter than a month ("birthday in
    the next 7 days", "this week", "today") is refused with how to say it: only the
    month is stored, so any answer would be a guess. True when the clause was read."""
    field_name = f"attributes.{key}"
    for i, t in enumerate(c.toks):
        if i in c.used:
            continue
        if t.kind == "date" and t.value == (0, 0, 1):  # "this month"
            shift, words, label = 0, [i], "this month"
        elif t.kind == "date" and t.extra.get("calendar") == "last_month":
            shift, words, label = -1, [i], "last month"
        elif t.text in _MONTH_SHIFT and i + 1 < len(c.toks) \
                and c.toks[i + 1].text == "month":
            shift, words = _MONTH_SHIFT[t.text], [i, i + 1]
            label = {0: "this month", 1: "next month", -1: "last month"}[shift]
        else:
            continue
        month = (ctx.today.month - 1 + shift) % 12 + 1
        negated = bool(neg_words)
        c.add({"field": field_name, "operator": "!=" if negated else "=", "value": month},
              [*mentions, *words, *neg_words], _month_note(key, month, negated, label))
        return True
    # any span of days or months ("within 30 days", "in 2 months") is not a month of the
    # year either: refused with advice, never left for the order-date reader
    short = [i for i, t in enumerate(c.toks) if i not in c.used and (
        t.kind in ("period", "window") or t.text in DAY_SPANS)]
    if short:
        lead = [j for j in range(min(short) - 3, min(short)) if j >= 0 and j not in c.used
                and c.toks[j].text in ("in", "the", "next", "this", "coming", "within",
                                        "upcoming", "window")]
        subject = subject_of(key)
        c.refuse([*mentions, *lead, *short],
                 f"only the {subject} month is stored, not the day: say “{subject} this "
                 f"month”, “{subject} next month” or name the months (“{subject} in "
                 f"March or April”)")
        return True
    return False


def read_month_continuation(c: Clause, ctx: Context, key: str) -> bool:
    """"birthday this month or next month": the clause after "or" ("next month") names no
    attribute of its own ("month" alone is a time, not birthday_month), so it continues
    the month-of-the-year attribute `key` the clause before read, when it has no word of
    another time of its own ("ordered", "joined"). True when it was read."""
    if time_field(c)[2] or c.has(BIRTH_WORDS):
        return False
    words = {t.text for t in c.toks if t.kind == "word"} - FILLER
    if words - {"month", *_MONTH_SHIFT}:
        return False
    return _relative_month(c, ctx, key, [], [])


def month_key(c: Clause) -> str | None:
    """The month-of-the-year attribute a clause read ("birthday_month"), or None."""
    for cond in c.conds:
        f = str(cond.rule.get("field", ""))
        if f.startswith("attributes.") and "month" in f:
            return f.removeprefix("attributes.")
    return None


def _raw(c: Clause, j: int) -> str | None:
    return c.toks[j].extra.get("raw")


def read_missing(c: Clause, ctx: Context) -> None:
    """'without an email', 'no phone number', 'with a phone number'."""
    named = text_fields()
    for i in c.index("word"):
        f = named.get(c.toks[i].text)
        if f is None or f == "name" and c.toks[i].text == "names":
            continue
        if c.toks[i].text == "e":
            continue
        around = {t.text for t in c.toks[max(0, i - 3):i + 3]}
        neg = around & (NEG | {"missing", "empty", "blank", "unknown", "lacking"})
        if neg:
            c.add({"field": f, "operator": "is_null"},
                  [i, *(j for j in range(max(0, i - 3), min(len(c.toks), i + 3))
                        if c.toks[j].text in neg | {"address", "number"})])
        elif c.lead in ("with", "who") or around & {"has", "have", "having", "known"}:
            c.add({"field": f, "operator": "is_not_null"},
                  [i, *(j for j in range(i, min(len(c.toks), i + 2))
                        if c.toks[j].text in ("address", "number"))])
