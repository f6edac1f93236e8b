""""Did you mean Mumbai?": an unused word that is a near-miss of a name the data knows.

A misspelt city ("Mumbay") reads as nothing and is only listed among the unused
words, so the marketer may not see why the audience lost its city. When such a word
sits where a place is expected, in any position of the prompt, and is one or two
letters away from a city or a known attribute value, the parser adds a warning naming
the likely value. A place is expected:

- after a place word: "in", "from", "at", "live" … ("customers in Mumbay");
- in a list after a name the data knows: "in Pune or mumbay", "Pune, Mumbay", and between
  two of them ("Pune, mumbay and Delhi": the list goes on past it, nl_clauses.join_lists);
- before a people word, as in "Delhi customers": "Mumbay customers", "Pume shoppers"
  (also the prompt's first word, which the capital test below cannot tell from sentence
  case), or lower-case "mumbay customers" when the prompt names no city: a clause that
  already has one ("sales customers in Pune") is not asking for another;
- anywhere a word is written with a capital, except as the prompt's first word
  ("Sales in Pune" is sentence case, not a place).
It never applies it: a guess at a name is the marketer's call. (Closer typos of longer
city names, "Banglore", are read as the city by nl_names; this covers what is left:
short names, "Pume", and looser matches, "Mumbay".)

Conservative on purpose: common words ("sales" is one letter from Salem) are skipped
unless written like a place, short words (under 4 letters) never match, and the
similarity (difflib's ratio, through core/near_names, the one "did you mean" the rule
builder uses too) must be at least 0.75 (one letter in four).
"""

from __future__ import annotations

from typing import Any

from mini_crm.core.ai.nl.clauses import Clause
from mini_crm.core.near_names import did_you_mean

# Words after which a place name is expected ("customers in Mumbay", "who live Pune")
PLACE_LEADS = frozenset({"in", "from", "at", "near", "around", "live", "lives", "living",
                         "based", "located", "residing"})
# People words a place is written before ("Delhi customers")
PEOPLE = frozenset({"customers", "customer", "people", "shoppers", "shopper", "buyers",
                    "buyer", "users", "clients", "members", "folks", "audience",
                    "subscribers", "contacts", "fans", "residents", "based"})
LIST_JOINERS = frozenset({"or", "and", "nor", ",", "&", "/", "+"})
MIN_LENGTH = 4
# One letter off in a 4-letter name ("Pume"); stricter than the rule builder's 0.6, as
# any unused word of free text is tried (see core/near_names).
MIN_RATIO = 0.75


def near_misses(clauses: list[Clause], cities: list[str],
                values: dict[str, list[Any]], reserved: set[str]) -> list[str]:
    """Warnings such as "“Mumbay” is not a city in your data: did you mean Mumbai?" for
    the unused words of `clauses` (tokens no rule read) that are near-misses of a city in
    `cities` or a text value in `values` (attribute key → values). `reserved` are the
    grammar's own words, never suggested against. At most one warning per word."""
    known: dict[str, tuple[str, str]] = {}  # case-folded name → (name, what it is)
    for key, vals in values.items():
        for v in vals:
            if isinstance(v, str) and len(v) >= MIN_LENGTH:
                known.setdefault(v.casefold(), (v, key.replace("_", " ")))
    for city in cities:  # a city wins over an attribute value spelt alike
        known[city.casefold()] = (city, "")
    names = [name for name, _ in known.values()]
    found: list[str] = []
    first = True
    named_city = any(_is_city(t) for c in clauses for t in c.toks)
    previous: list[object] = []  # the tokens of the clause before (a list it continues)
    for c in clauses:
        for i, t in enumerate(c.toks):
            raw = str(t.extra.get("raw", t.text))
            is_first, first = first, False
            if t.kind != "word" or i in c.used or len(t.text) < MIN_LENGTH \
                    or not t.text.isalpha() or t.text in reserved \
                    or t.text.casefold() in known:
                continue
            if not _place_slot(c, i, raw, is_first, named_city, previous):
                continue
            match = did_you_mean(t.text, names, cutoff=MIN_RATIO)
            if not match:
                continue
            name, key = known[match.casefold()]
            what = f"a known {key}" if key else "a city"
            line = f"“{raw}” is not {what} in your data: did you mean {name}?"
            if line not in found:
                found.append(line)
        previous = list(c.toks)
    return found


def _is_city(t: object) -> bool:
    """A token that is a known city (alone or in a list: "Mumbai or Pune")."""
    kind, value = getattr(t, "kind", ""), getattr(t, "value", None)
    if kind == "name":
        value = [value]
    elif kind != "names":
        return False
    return any(getattr(n, "field", "") == "city" for v in value or [] for n in (v or []))


def _place_slot(c: Clause, i: int, raw: str, is_first: bool, named_city: bool,
                previous: list[object]) -> bool:
    """Is the word at i where a place is expected (see the module docstring)?"""
    before = c.toks[i - 1] if i > 0 else None
    after = c.toks[i + 1] if i + 1 < len(c.toks) else None
    capital = raw[:1].isupper()
    if before is not None and before.text in PLACE_LEADS:
        return True
    if c.toks[i].extra.get("in_list"):  # "Pune, mumbay and Delhi" (nl_clauses.join_lists)
        return True
    if capital and not is_first:
        return True
    # "in Pune or mumbay": the clause split at "or" began with this word, right after a
    # name; "Pune, mumbay": a comma between them is a split too
    if i == 0 and previous and _is_city(previous[-1]) and c.lead in ("", "or", "and", "nor"):
        return True
    if before is not None and before.text in LIST_JOINERS and i >= 2 \
            and _is_city(c.toks[i - 2]):
        return True
    if after is not None and after.text in PEOPLE:
        return capital or not named_city
    return False
