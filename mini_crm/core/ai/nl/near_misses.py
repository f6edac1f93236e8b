""""Did you mean Mumbai?": an unused word that is a near-miss of a name the data knows.

A misspelt city ("Mumbay") reads as nothing and is only listed among the unused
words, so the marketer may not see why the audience lost its city. When such a word
sits where a place is expected (after "in", "from", "at", "live" …) or is written with
a capital (not as the prompt's first word), and is one or two letters away from a
city or a known attribute value, the parser adds a warning naming the likely value.
It never applies it: a guess at a name is the marketer's call. (Closer typos of longer
city names, "Banglore", are read as the city by nl_names; this covers what is left:
short names, "Pume", and looser matches, "Mumbay".)

Conservative on purpose: common words ("sales" is one letter from Salem) are skipped
unless written like a place, short words (under 4 letters) never match, and the
similarity (difflib's ratio, stdlib) must be at least 0.75 (one letter in four).
"""

from __future__ import annotations

import difflib
from typing import Any

from mini_crm.core.ai.nl.clauses import Clause

# Words after which a place name is expected ("customers in Mumbay", "who live Pune")
PLACE_LEADS = frozenset({"in", "from", "at", "near", "around", "live", "lives", "living",
                         "based", "located", "residing"})
MIN_LENGTH = 4
MIN_RATIO = 0.75  # one letter off in a 4-letter name ("Pume")


def near_misses(clauses: list[Clause], cities: list[str],
                values: dict[str, list[Any]], reserved: set[str]) -> list[str]:
    """Warnings such as "“Mumbay” is not a city in your data: did you mean Mumbai?" for
    the unused words of `clauses` (tokens no rule read) that are near-misses of a city in
    `cities` or a text value in `values` (attribute key → values). `reserved` are the
    grammar's own words, never suggested against. At most one warning per word."""
    known: dict[str, tuple[str, str]] = {}  # lower-case name → (name, what it is)
    for key, vals in values.items():
        for v in vals:
            if isinstance(v, str) and len(v) >= MIN_LENGTH:
                known.setdefault(v.lower(), (v, key.replace("_", " ")))
    for city in cities:  # a city wins over an attribute value spelt alike
        known[city.lower()] = (city, "")
    found: list[str] = []
    first = True
    for c in clauses:
        for i, t in enumerate(c.toks):
            raw = str(t.extra.get("raw", t.text))
            is_first, first = first, False
            if t.kind != "word" or i in c.used or len(t.text) < MIN_LENGTH \
                    or not t.text.isalpha() or t.text in reserved or t.text in known:
                continue
            after_lead = i > 0 and c.toks[i - 1].text in PLACE_LEADS
            capital = raw[:1].isupper() and not is_first
            if not (after_lead or capital):
                continue
            match = difflib.get_close_matches(t.text, list(known), n=1, cutoff=MIN_RATIO)
            if not match:
                continue
            name, key = known[match[0]]
            what = f"a known {key}" if key else "a city"
            line = f"“{raw}” is not {what} in your data: did you mean {name}?"
            if line not in found:
                found.append(line)
    return found
