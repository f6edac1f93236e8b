"""Demo people: cities weighted by size with their regional name mix, emails derived
from names, +91 mobile numbers, and the weighted picks the generator draws with."""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Iterable, Sequence
from typing import TypeVar

from mini_crm.demo import seed_data as data

T = TypeVar("T")


def cumulative(weights: Iterable[float]) -> list[float]:
    return list(itertools.accumulate(weights))


CITY_CUM = cumulative(c.weight for c in data.CITIES)
GROUP_NAMES = tuple(data.NAME_GROUPS)
# The national mix for people who moved: how often each group appears across all cities.
GROUP_NATIONAL_CUM = cumulative(
    sum(c.weight * c.groups.get(g, 0) / sum(c.groups.values()) for c in data.CITIES)
    for g in GROUP_NAMES
)
CITY_GROUP_CUM = {c.name: (tuple(c.groups), cumulative(c.groups.values())) for c in data.CITIES}
_FREE_DOMAINS = tuple(d for d, _ in data.FREE_MAIL_DOMAINS)
_FREE_DOMAIN_CUM = cumulative(w for _, w in data.FREE_MAIL_DOMAINS)
_NON_ALPHA = re.compile(r"[^a-z]")
AGE_RANGES = {
    "18-24": (18, 24),
    "25-34": (25, 34),
    "35-44": (35, 44),
    "45-54": (45, 54),
    "55+": (55, 70),
}


def pick(rng: random.Random, options: Sequence[T], cum: list[float]) -> T:
    return rng.choices(options, cum_weights=cum)[0]


def pick_weighted(rng: random.Random, pairs: Sequence[tuple[T, float]]) -> T:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def _slug(text: str) -> str:
    return _NON_ALPHA.sub("", text.lower())


def make_email(rng: random.Random, first: str, last: str, birth_year: int) -> str:
    """An address the way people actually pick them, derived from their name."""
    f, lst = _slug(first), _slug(last)
    if rng.random() < data.COMPANY_MAIL_SHARE:
        local = rng.choice((f"{f}.{lst}", f"{f[0]}{lst}", f"{f}.{lst[0]}"))
        return f"{local}@{rng.choice(data.COMPANY_DOMAINS)}"
    patterns = (
        (f"{f}.{lst}", 28),
        (f"{f}{lst}", 14),
        (f"{f}_{lst}", 6),
        (f"{f}.{lst}{birth_year % 100:02d}", 14),
        (f"{f}{birth_year}", 9),
        (f"{f[0]}{lst}", 7),
        (f"{lst}.{f}", 5),
        (f"{f}{lst}{rng.randint(1, 999)}", 12),
        (f"{f}.{lst}{rng.randint(1, 99)}", 5),
    )
    return f"{pick_weighted(rng, patterns)}@{pick(rng, _FREE_DOMAINS, _FREE_DOMAIN_CUM)}"


def make_phone(rng: random.Random) -> str:
    """An Indian mobile number in E.164: +91 and ten digits starting 6-9."""
    first = rng.choices("9876", weights=(40, 25, 25, 10))[0]
    return f"+91{first}{rng.randrange(10**9):09d}"
