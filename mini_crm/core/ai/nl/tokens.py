"""The offline parser's lexicon and tokenizer: words, numbers, amounts, periods, dates.

`tokenize(text, names)` turns a prompt into typed tokens:

- `num`    a plain number ("3", "three", "once" → 1 with `times=True`);
- `money`  an amount with a currency mark or an Indian multiplier (₹5K, Rs 5,000,
           1.5 lakh, 2 crore, INR 500, 5k);
- `period` a length of time in days (6 months → 180, a year → 365, a fortnight → 14);
- `date`   a calendar point (January, March 2025, 2024, 2025-01-31, 30 April) as
           (year|None, month, day); see `date_words`;
- `refused` a date that does not exist ("2026-02-30"); its value says why;
- `cmp`    a comparison in words or symbols (over, at least, fewer than, <=, between …);
- `post`   a comparison that follows its number (or more, and above, +, or less);
- `window` "in the last", "within", "over the past" … (a recency window);
- `name`   a known name found in the text (a city or an attribute value, see nl_names);
- `domain` an email domain (@gmail.com, gmail.com) or a mail provider word (gmail);
- `str`    a quoted literal;
- `badnum` a number written ambiguously ("5.000,00"); its value is the how-to-write message;
- `word`, `sym`, `punct` everything else.

Every token keeps its character span in the original prompt so explanations can
quote what was read. The word lists it reads are in `lexicon`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from mini_crm.core import numbers
from mini_crm.core.ai.nl.date_words import date_words
from mini_crm.core.ai.nl.lexicon import (
    CMP_PHRASES,
    CONTRACTIONS,
    COUNT_NOUNS,
    CURRENCY_AFTER,
    CURRENCY_BEFORE,
    MULTIPLIERS,
    NUMBER_WORDS,
    POST_PHRASES,
    TIMES_WORDS,
    TYPOGRAPHY,
    UNITS,
    WINDOW_PHRASES,
)
from mini_crm.core.ai.nl.tok import Tok
from mini_crm.core.ai.nl.tok import merge as _merge

_TOKEN = re.compile(r"""
    (?P<ph>\x00\d+\x00)
  | (?P<str>"[^"]{1,200}"|'[^']{1,200}')
  | (?P<numdate>\b(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}(?P<sep>[/.-])\d{1,2}(?P=sep)\d{4})\b)
  | (?P<domain>@?[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.(?:com|in|net|org|io|co|co\.in|me)\b
               |@[a-z0-9][a-z0-9.-]*
               |(?<![a-z0-9])\.(?:com|in|net|org|io|co\.in|co|me)\b)
  | (?P<num>\d+(?:[.,]\d+)*|\.\d+)
  | (?P<sym>>=|<=|=>|=<|!=|<>|/-|[₹$%<>=+:&/-])
  | (?P<word>[a-z]+(?:'[a-z]+)?)
  | (?P<punct>[,;.!?()\[\]])
""", re.VERBOSE)


@dataclass
class Mapped:
    """Text with, for every character position, the position it came from in the prompt."""
    text: str
    origin: list[int]

    @classmethod
    def of(cls, text: str) -> Mapped:
        return cls(text, list(range(len(text) + 1)))

    def replace(self, spans: list[tuple[int, int, str]]) -> Mapped:
        """Replace non-overlapping [start, end) spans; new text maps to the span's start."""
        out, origin, pos = [], [], 0
        for start, end, new in sorted(spans):
            if start < pos:
                continue
            out.append(self.text[pos:start])
            origin.extend(self.origin[pos:start])
            out.append(new)
            origin.extend([self.origin[start]] * len(new))
            pos = end
        out.append(self.text[pos:])
        origin.extend(self.origin[pos:])
        return Mapped("".join(out), origin)

    def source(self, start: int, end: int) -> tuple[int, int]:
        return self.origin[start], self.origin[end] if end < len(self.origin) else \
            self.origin[-1]


_CONTRACTION = re.compile("|".join(re.escape(k) for k in sorted(CONTRACTIONS, key=len,
                                                                  reverse=True)))


def normalise(text: str) -> Mapped:
    """Lower-case with contractions and typographic quotes expanded, keeping the mapping
    back to the prompt so explanations quote the marketer's own words."""
    lowered = text.translate(TYPOGRAPHY).lower()
    # lower() may change a length in rare scripts; positions are then approximate.
    mapped = Mapped(lowered, [min(i, len(text)) for i in range(len(lowered) + 1)])
    spans = [(m.start(), m.end(), CONTRACTIONS[m.group()])
             for m in _CONTRACTION.finditer(mapped.text)]
    return mapped.replace(spans)


def lex(text: str, names: dict[str, Any] | None = None) -> list[Tok]:
    """Raw tokens. `text` is normalised and may hold \\x00N\\x00 placeholders for names."""
    tokens: list[Tok] = []
    prev_end = -1
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup or "word"
        raw = m.group()
        tok = Tok(kind, raw, m.start(), m.end(), glued=m.start() == prev_end)
        if kind == "ph":
            tok.kind, tok.value = "name", (names or {}).get(raw)
        elif kind == "str":
            tok.value = raw[1:-1]
        elif kind == "num":
            try:  # the one reader of typed numbers: 1,50,000 is one number, 5.000,00 refused
                tok.value = float(numbers.parse_number("0" + raw if raw[0] == "." else raw))
            except numbers.NumberFormatError as exc:
                tok.kind, tok.value = "badnum", str(exc)
                tok.extra["refusal"] = f"“{exc.text}”: it {exc.reason}: {exc.hint}"
        tokens.append(tok)
        prev_end = m.end()
    return tokens


def _phrase_at(tokens: list[Tok], i: int, phrases: Any) -> tuple[str, int] | None:
    """The longest phrase (space-separated words) starting at token i, with its length."""
    best: tuple[str, int] | None = None
    for phrase in phrases:
        parts = phrase.split(" ")
        if i + len(parts) > len(tokens):
            continue
        if all(tokens[i + k].text == p and tokens[i + k].kind in ("word", "sym")
               for k, p in enumerate(parts)) and (best is None or len(parts) > best[1]):
            best = (phrase, len(parts))
    return best


def _numbers(tokens: list[Tok]) -> list[Tok]:
    """Number words, 'a dozen', 'once'/'twice', and multipliers into num/money tokens."""
    out: list[Tok] = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if t.kind == "num" and i + 1 < len(tokens) and tokens[i + 1].text == "x" \
                and tokens[i + 1].glued:  # "2x": two times
            out.append(Tok("num", t.text + "x", t.start, tokens[i + 1].end, t.value, times=True))
            i += 2
            continue
        if t.kind == "word" and t.text in TIMES_WORDS:
            out.append(Tok("num", t.text, t.start, t.end, float(TIMES_WORDS[t.text]),
                           times=True))
            i += 1
            continue
        if t.kind == "word" and t.text in NUMBER_WORDS and not (
                t.text == "one" and i + 1 < len(tokens) and tokens[i + 1].text == "of"):
            value = float(NUMBER_WORDS[t.text])
            j = i + 1
            # "twenty five", "two hundred"
            if j < len(tokens) and tokens[j].text in NUMBER_WORDS and value >= 20 \
                    and NUMBER_WORDS[tokens[j].text] < 10:
                value += NUMBER_WORDS[tokens[j].text]
                j += 1
            out.append(Tok("num", " ".join(x.text for x in tokens[i:j]), t.start,
                           tokens[j - 1].end, value))
            i = j
            continue
        if t.kind == "word" and t.text in ("a", "an") and i + 1 < len(tokens) \
                and tokens[i + 1].text == "dozen":
            out.append(_merge(tokens, i, 2, "num", 12.0))
            i += 2
            continue
        if t.kind == "word" and t.text == "couple" and i + 1 < len(tokens) \
                and tokens[i + 1].text == "of":
            out.append(_merge(tokens, i, 2, "num", 2.0))
            i += 2
            continue
        out.append(t)
        i += 1
    # multipliers and currency
    merged: list[Tok] = []
    i = 0
    while i < len(out):
        t = out[i]
        if t.kind == "num":
            value, j, money = t.value, i + 1, False
            while j < len(out) and out[j].kind == "word" and out[j].text in MULTIPLIERS \
                    and not (out[j].text == "l" and not out[j].glued) \
                    and not (out[j].text == "hundred" and value >= 100):
                value *= MULTIPLIERS[out[j].text]
                money = money or out[j].text not in ("hundred", "dozen")
                j += 1
            if j < len(out) and (out[j].text in CURRENCY_AFTER):
                money, j = True, j + 1
            tok = Tok("money" if money else "num", " ".join(x.text for x in out[i:j]),
                      t.start, out[j - 1].end, value, times=t.times)
            # currency before: "₹ 5,000", "rs. 500", "inr 500"
            k = len(merged)
            while k > 0 and (merged[k - 1].text in CURRENCY_BEFORE
                             or (merged[k - 1].text == "." and k > 1
                                 and merged[k - 2].text == "rs")):
                k -= 1
            if k < len(merged):
                tok = Tok("money", " ".join([*(m.text for m in merged[k:]), tok.text]),
                          merged[k].start, tok.end, value)
                del merged[k:]
            merged.append(tok)
            i = j
            continue
        merged.append(t)
        i += 1
    return merged


def _periods(tokens: list[Tok]) -> list[Tok]:
    """'6 months', 'a year', 'a fortnight', 'half a year', 'last week' → period tokens."""
    out: list[Tok] = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if t.kind == "num" and nxt is not None and nxt.kind == "word" and nxt.text in UNITS \
                and not (nxt.text in ("d", "y") and not nxt.glued):
            days = t.value * UNITS[nxt.text]
            if UNITS[nxt.text] == 30 and t.value % 12 == 0:
                days = t.value / 12 * 365  # "12 months" is a year, not 360 days
            out.append(Tok("period", f"{t.text} {nxt.text}", t.start, nxt.end,
                           int(round(days)), extra={"unit": UNITS[nxt.text]}))
            i += 2
            continue
        if t.text == "half" and nxt is not None and nxt.text in ("a", "an") \
                and i + 2 < len(tokens) and tokens[i + 2].text in UNITS:
            out.append(_merge(tokens, i, 3, "period", UNITS[tokens[i + 2].text] // 2
                              if tokens[i + 2].text not in ("year", "years") else 180))
            i += 3
            continue
        if t.kind == "word" and t.text in ("a", "an", "one", "per") and nxt is not None \
                and nxt.kind == "word" and nxt.text in UNITS and len(nxt.text) > 1:
            out.append(_merge(tokens, i, 2, "period", UNITS[nxt.text]))
            i += 2
            continue
        # bare unit after last/past/this/previous: "last week" → 7 days
        if t.kind == "word" and t.text in UNITS and len(t.text) > 2 and out \
                and out[-1].text in ("last", "past", "previous", "the"):
            out.append(Tok("period", t.text, t.start, t.end, UNITS[t.text]))
            i += 1
            continue
        out.append(t)
        i += 1
    return out


def mark_negatives(tokens: list[Tok]) -> list[Tok]:
    """A minus sign glued to a number ("under -500") makes a refused number: spend,
    counts and days are never below zero, and the sign used to be dropped, so "spent
    under -500" read as "spent at least ₹500"; a period too ("in the last -3 days" read
    as 3 days). A dash between two numbers ("18-24", "1-2 orders") is a range, not a
    sign."""
    out: list[Tok] = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        prev = out[-1] if out else None
        if (t.kind == "sym" and t.text in ("-", "\u2212") and nxt is not None
                and nxt.kind in ("num", "money", "period") and nxt.start == t.end
                and not (prev is not None and prev.end == t.start
                         and prev.kind in ("num", "money"))):
            raw = f"-{nxt.text}"
            why = "it is below zero: spend, order counts and days are never negative"
            bad = Tok("badnum", raw, t.start, nxt.end, f"'{raw}': {why}")
            bad.extra["refusal"] = f"“{raw}”: {why}"
            out.append(bad)
            i += 2
            continue
        out.append(t)
        i += 1
    return out


def _quantity_follows(tokens: list[Tok], k: int) -> bool:
    """A number (past "than", "₹", "rs") starts at k: the phrase before it compares *that*
    number, so it is no post-comparison of the one before. "over 1000 or under 500" is
    two comparisons joined by "or" (read as "over 1000, at most 500" before), "5 or more"
    one; likewise "at least 3" after a number."""
    while k < len(tokens) and tokens[k].text in ("than", "₹", "rs", "inr"):
        k += 1
    return k < len(tokens) and tokens[k].kind in ("num", "money", "period")


def _comparisons(tokens: list[Tok]) -> list[Tok]:
    """Comparison, post-comparison and window phrases into single tokens."""
    out: list[Tok] = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        # a window needs a period (or number) after it: "in the last 30 days", "past week"
        win = _phrase_at(tokens, i, WINDOW_PHRASES)
        if win:
            after = tokens[i + win[1]] if i + win[1] < len(tokens) else None
            if after is not None and after.kind in ("period", "num", "money"):
                out.append(_merge(tokens, i, win[1], "window", None))
                i += win[1]
                continue
        # "5 or more", and "3 orders or fewer" (the comparison after the counted noun)
        counted = len(out) >= 2 and out[-2].kind == "num" and out[-1].text in COUNT_NOUNS
        if out and (out[-1].kind in ("num", "money", "period") or counted):
            post = _phrase_at(tokens, i, POST_PHRASES)
            if post and not _quantity_follows(tokens, i + post[1]):
                out.append(_merge(tokens, i, post[1], "post", POST_PHRASES[post[0]]))
                i += post[1]
                continue
        cmp_ = _phrase_at(tokens, i, CMP_PHRASES)
        if cmp_:
            out.append(_merge(tokens, i, cmp_[1], "cmp", CMP_PHRASES[cmp_[0]]))
            i += cmp_[1]
            continue
        if t.kind == "sym" and t.text == "=":
            out.append(Tok("cmp", "=", t.start, t.end, "="))
            i += 1
            continue
        out.append(t)
        i += 1
    return out


def _ranges(tokens: list[Tok]) -> list[Tok]:
    """'between X and Y', 'from X to Y', 'X to Y', 'X-Y' → range tokens (value (lo, hi))."""
    quantity = ("num", "money", "period")
    out: list[Tok] = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        # between / from X (and|to|-) Y
        if (t.kind == "cmp" and t.value == "between") or t.text == "from":
            j = i + 1
            if j + 2 < len(tokens) + 0 and tokens[j].kind in quantity \
                    and tokens[j + 1].text in ("and", "to", "-", "&") \
                    and tokens[j + 2].kind in quantity:
                rng = _range(tokens[j], tokens[j + 2])
                if rng is not None:
                    out.append(Tok("range", " ".join(x.text for x in tokens[i:j + 3]), t.start,
                                   tokens[j + 2].end, rng[0], extra={"kind": rng[1]}))
                    i = j + 3
                    continue
        if t.kind in quantity and i + 2 < len(tokens) and tokens[i + 1].text in ("to", "-") \
                and tokens[i + 2].kind in quantity:
            rng = _range(t, tokens[i + 2])
            if rng is not None:
                out.append(Tok("range", " ".join(x.text for x in tokens[i:i + 3]), t.start,
                               tokens[i + 2].end, rng[0], extra={"kind": rng[1]}))
                i += 3
                continue
        out.append(t)
        i += 1
    return out


def _range(a: Tok, b: Tok) -> tuple[tuple[float, float], str] | None:
    """Two quantities as one range; '5 to 10k' means 5k to 10k, '3 to 6 months' 90 to 180."""
    if a.kind == b.kind:
        lo, hi, kind = a.value, b.value, a.kind
    elif a.kind == "num" and b.kind == "money":
        # "5 to 10k": the multiplier carries over when the low end alone would be tiny
        scale = b.value / _plain(b) if _plain(b) else 1
        lo = a.value * scale if a.value * scale <= b.value else a.value
        hi, kind = b.value, "money"
    elif a.kind == "money" and b.kind == "num":
        lo, hi, kind = a.value, b.value, "money"
    elif a.kind == "num" and b.kind == "period":
        unit = b.extra.get("unit") or (b.value / _plain(b) if _plain(b) else 1)
        lo = a.value * unit
        if unit == 30 and a.value % 12 == 0:
            lo = a.value / 12 * 365
        lo, hi, kind = int(round(lo)), b.value, "period"
    else:
        return None
    if lo > hi:
        lo, hi = hi, lo
    return (lo, hi), kind


def _plain(t: Tok) -> float:
    m = re.search(r"\d[\d,]*(?:\.\d+)?", t.text)
    if m:
        return float(m.group().replace(",", "")) or 0.0
    for w in t.text.split():
        if w in NUMBER_WORDS:
            return float(NUMBER_WORDS[w])
        if w in ("a", "an", "one"):
            return 1.0
    return 0.0


def tokenize(text: str, names: dict[str, Any] | None = None) -> list[Tok]:
    """Typed tokens of a normalised text (see the module docstring)."""
    tokens = lex(text, names)
    for step in (_numbers, _periods, date_words, _comparisons, _ranges):
        tokens = step(tokens)
    return tokens
