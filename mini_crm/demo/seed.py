"""Realistic demo data: customers and two years of orders, streamed into the database in bulk.

What the data looks like, so every screen and AI feature has something real to find:
- Indian names from many regions, matching cities (weighted by size), emails derived from the
  names, +91 mobile numbers, custom `attributes` (gender, age_band, loyalty_tier,
  preferred_channel, acquisition_source, language, state, app_installed, birthday_month);
- personas that behave differently: loyal high spenders, regulars, bargain hunters who buy in
  sales, festive-only shoppers, lapsed customers (nothing in the last six months and more), new
  signups with zero or one order, and people who never ordered;
- orders over the last two years with a weekly rhythm (weekends busier), a daily rhythm (evening
  peak, each customer with a habitual hour), seasonal peaks (Diwali, end-of-season sales,
  Valentine's, Holi, Raksha Bandhan, Independence Day sales, Christmas), and a small share of
  cancelled or refunded orders, which do not count towards a customer's stats.

Behaviour happens in India Standard Time; timestamps are stored as naive UTC like everything else
in the schema, so an evening peak at 21:00 IST is stored at 15:30 UTC.

Rows go in with Core `insert()` executemany, one transaction per chunk of customers, so memory
stays bounded whatever N is. Every customer gets its own random stream derived from
(random_seed, customer number), which makes the output independent of the chunk size and
identical for the same seed and `now`. A later run continues the numbering of external ids, so
it adds new people instead of colliding with (or duplicating) earlier ones.
"""

from __future__ import annotations

import bisect
import itertools
import random
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from mini_crm.core import suppression
from mini_crm.core.contacts import ADDRESS_FIELD
from mini_crm.core.contacts import CHANNELS as MESSAGE_CHANNELS
from mini_crm.db import get_engine
from mini_crm.demo import seed_data as data
from mini_crm.models import Customer, Order, OrderStatus, utcnow

IST = timedelta(hours=5, minutes=30)  # India has no daylight saving: a fixed offset is exact
ORDER_HISTORY_DAYS = 730
SIGNUP_HISTORY_DAYS = 912  # about two and a half years
EXTERNAL_ID_PREFIX = "demo-"
EXTERNAL_ID_DIGITS = 8
ORDER_INSERT_BATCH = 5000
DEFAULT_CHUNK_SIZE = 1000

CUSTOMER_TABLE: sa.Table = Customer.__table__  # type: ignore[assignment]
ORDER_TABLE: sa.Table = Order.__table__  # type: ignore[assignment]

T = TypeVar("T")


class Persona(StrEnum):
    LOYAL = "loyal"
    REGULAR = "regular"
    BARGAIN = "bargain"
    FESTIVE = "festive"
    LAPSED = "lapsed"
    NEW = "new"
    NEVER = "never"


# Out of every 50 consecutive customers; a fixed cycle (shuffled per seed) guarantees every
# persona shows up even in a small demo set.
PERSONA_MIX: dict[Persona, int] = {
    Persona.LOYAL: 4,
    Persona.REGULAR: 15,
    Persona.BARGAIN: 7,
    Persona.FESTIVE: 5,
    Persona.LAPSED: 7,
    Persona.NEW: 4,
    Persona.NEVER: 8,
}


@dataclass(frozen=True)
class PersonaTraits:
    price_exponent: float  # product weight ∝ price ** exponent: <0 favours cheap products
    items_weights: tuple[int, int, int, int]  # P(1, 2, 3, 4 products in an order)
    cancel_rate: float
    refund_rate: float
    unsubscribe_rate: float
    app_rate: float
    habit_share: float  # share of orders placed around the customer's habitual hour
    habit_hours: tuple[float, ...]  # where habitual hours fall (24 weights)
    sources: tuple[tuple[str, float], ...]


# fmt: off
_EVENING = (0.2, 0.1, 0, 0, 0, 0, 0.1, 0.3, 0.5, 0.6, 0.6, 0.6,
            0.8, 0.9, 0.6, 0.5, 0.6, 0.9, 1.6, 2.6, 3.4, 3.8, 3.0, 1.6)
_LUNCH_AND_LATE = (1.4, 0.6, 0.2, 0, 0, 0, 0, 0.2, 0.4, 0.6, 0.9, 1.6,
                   2.6, 2.8, 1.8, 0.9, 0.8, 0.9, 1.0, 1.3, 1.7, 2.2, 2.6, 2.2)
_DAYTIME = (0.2, 0.1, 0, 0, 0, 0, 0.3, 0.8, 1.4, 1.8, 2.0, 2.0,
            1.9, 1.8, 1.6, 1.5, 1.5, 1.6, 1.8, 2.0, 2.0, 1.8, 1.2, 0.6)
_SOURCES_DEFAULT = (("organic", 26), ("instagram", 18), ("google_ads", 17), ("facebook", 10),
                    ("referral", 10), ("influencer", 7), ("offline_store", 6), ("email_signup", 6))

TRAITS: dict[Persona, PersonaTraits] = {
    Persona.LOYAL: PersonaTraits(
        0.15, (42, 30, 17, 11), 0.02, 0.015, 0.015, 0.7, 0.65, _EVENING,
        (("organic", 30), ("referral", 24), ("offline_store", 14), ("instagram", 12),
         ("email_signup", 10), ("google_ads", 10))),
    Persona.REGULAR: PersonaTraits(
        -0.25, (62, 24, 10, 4), 0.04, 0.03, 0.04, 0.35, 0.5, _DAYTIME, _SOURCES_DEFAULT),
    Persona.BARGAIN: PersonaTraits(
        -0.6, (48, 28, 15, 9), 0.08, 0.06, 0.05, 0.45, 0.55, _LUNCH_AND_LATE,
        (("google_ads", 30), ("deal_site", 22), ("facebook", 16), ("instagram", 14),
         ("organic", 12), ("referral", 6))),
    Persona.FESTIVE: PersonaTraits(
        -0.05, (50, 30, 13, 7), 0.04, 0.03, 0.05, 0.25, 0.45, _DAYTIME, _SOURCES_DEFAULT),
    Persona.LAPSED: PersonaTraits(
        -0.25, (65, 22, 9, 4), 0.06, 0.05, 0.10, 0.2, 0.45, _DAYTIME, _SOURCES_DEFAULT),
    Persona.NEW: PersonaTraits(
        -0.2, (70, 20, 7, 3), 0.04, 0.02, 0.03, 0.4, 0.4, _EVENING,
        (("instagram", 32), ("influencer", 20), ("google_ads", 18), ("facebook", 12),
         ("organic", 12), ("referral", 6))),
    Persona.NEVER: PersonaTraits(
        -0.25, (80, 15, 5, 0), 1.0, 0.0, 0.06, 0.15, 0.4, _DAYTIME, _SOURCES_DEFAULT),
}

# fmt: on

_HABIT_CUM = {p: list(itertools.accumulate(t.habit_hours)) for p, t in TRAITS.items()}
CHANNELS = (("whatsapp", 36), ("sms", 28), ("email", 26), ("push", 10))
LOYALTY_TIERS = (
    (Decimal(50000), "platinum"),
    (Decimal(20000), "gold"),
    (Decimal(5000), "silver"),
    (Decimal(1), "bronze"),
)


# --------------------------------------------------------------------------- calendar


@dataclass
class Calendar:
    """The last ORDER_HISTORY_DAYS local days (index 0 = oldest, last = yesterday)."""

    today: date
    origin: date
    occasion: list[str | None]
    sale: list[bool]
    cum_all: list[float]  # cumulative day weights: every shopper
    cum_festive: list[float]  # only festive days (festive-only shoppers)
    cum_sale: list[float]  # sale days strongly preferred (bargain hunters)

    @property
    def days(self) -> int:
        return len(self.occasion)

    @staticmethod
    def has_weight(cum: list[float], lo: int, hi: int) -> bool:
        return cum[hi] > (cum[lo - 1] if lo > 0 else 0.0)

    def sample_day(self, rng: random.Random, cum: list[float], lo: int, hi: int) -> int | None:
        """A day index in [lo, hi] drawn by weight; None when the range carries no weight."""
        base = cum[lo - 1] if lo > 0 else 0.0
        top = cum[hi]
        if top <= base:
            return None
        u = base + (top - base) * rng.random()
        # u > base (almost surely), so bisect lands on a day with positive weight.
        return min(bisect.bisect_left(cum, u, lo, hi + 1), hi)


def occasion_of(day: date) -> tuple[str | None, float, bool, bool]:
    """(occasion, demand factor, is a sale, is a festival) for a local calendar day."""
    year = day.year
    diwali = data.festival_date(data.DIWALI, year, 11, 1)
    before_diwali = (diwali - day).days
    if 1 <= before_diwali <= 7:  # Dhanteras week: the year's biggest shopping days
        return "diwali", 3.2, False, True
    if 8 <= before_diwali <= 25:  # the big pre-festive sales
        return "diwali", 1.9, True, True
    if before_diwali in (0, -1):
        return "diwali", 1.3, False, True
    rakhi = data.festival_date(data.RAKSHA_BANDHAN, year, 8, 15)
    if 1 <= (rakhi - day).days <= 10:
        return "rakhi", 1.7, False, True
    holi = data.festival_date(data.HOLI, year, 3, 15)
    if 1 <= (holi - day).days <= 6:
        return "holi", 1.4, False, True
    md = (day.month, day.day)
    if (2, 7) <= md <= (2, 14):
        return "valentines", 1.6, False, True
    if (1, 2) <= md <= (1, 20) or (6, 20) <= md <= (7, 15):
        return "eoss", 1.7, True, False
    if (8, 6) <= md <= (8, 15):
        return "independence_sale", 1.5, True, False
    if (12, 18) <= md <= (12, 31):
        return "christmas", 1.4, False, True
    if (7, 16) <= md <= (9, 15):  # monsoon lull
        return None, 0.88, False, False
    return None, 1.0, False, False


def build_calendar(now: datetime) -> Calendar:
    today = (now + IST).date()
    origin = today - timedelta(days=ORDER_HISTORY_DAYS)
    occasion: list[str | None] = []
    sale: list[bool] = []
    w_all: list[float] = []
    w_festive: list[float] = []
    w_sale: list[float] = []
    for i in range(ORDER_HISTORY_DAYS):
        day = origin + timedelta(days=i)
        name, factor, is_sale, is_festive = occasion_of(day)
        weight = data.WEEKDAY_FACTOR[day.weekday()] * factor
        weight *= 0.7 + 0.6 * i / ORDER_HISTORY_DAYS  # the brand grows
        if day.day <= 5:  # salary week
            weight *= 1.1
        occasion.append(name)
        sale.append(is_sale)
        w_all.append(weight)
        w_festive.append(weight if is_festive else 0.0)
        w_sale.append(weight * (4.0 if is_sale else 0.35))
    return Calendar(
        today,
        origin,
        occasion,
        sale,
        list(itertools.accumulate(w_all)),
        list(itertools.accumulate(w_festive)),
        list(itertools.accumulate(w_sale)),
    )


# --------------------------------------------------------------------------- people


def _cum(weights: Iterable[float]) -> list[float]:
    return list(itertools.accumulate(weights))


_CITY_CUM = _cum(c.weight for c in data.CITIES)
_GROUP_NAMES = tuple(data.NAME_GROUPS)
# The national mix for people who moved: how often each group appears across all cities.
_GROUP_NATIONAL_CUM = _cum(
    sum(c.weight * c.groups.get(g, 0) / sum(c.groups.values()) for c in data.CITIES)
    for g in _GROUP_NAMES
)
_CITY_GROUP_CUM = {c.name: (tuple(c.groups), _cum(c.groups.values())) for c in data.CITIES}
_FREE_DOMAINS = tuple(d for d, _ in data.FREE_MAIL_DOMAINS)
_FREE_DOMAIN_CUM = _cum(w for _, w in data.FREE_MAIL_DOMAINS)
_HOUR_CUM_WEEKDAY = _cum(data.HOUR_WEIGHTS_WEEKDAY)
_HOUR_CUM_WEEKEND = _cum(data.HOUR_WEIGHTS_WEEKEND)
_HOURS = tuple(range(24))
_NON_ALPHA = re.compile(r"[^a-z]")
_AGE_RANGES = {
    "18-24": (18, 24),
    "25-34": (25, 34),
    "35-44": (35, 44),
    "45-54": (45, 54),
    "55+": (55, 70),
}


def _pick(rng: random.Random, options: Sequence[T], cum: list[float]) -> T:
    return rng.choices(options, cum_weights=cum)[0]


def _pick_weighted(rng: random.Random, pairs: Sequence[tuple[T, float]]) -> T:
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
    return f"{_pick_weighted(rng, patterns)}@{_pick(rng, _FREE_DOMAINS, _FREE_DOMAIN_CUM)}"


def make_phone(rng: random.Random) -> str:
    """An Indian mobile number in E.164: +91 and ten digits starting 6-9."""
    first = rng.choices("9876", weights=(40, 25, 25, 10))[0]
    return f"+91{first}{rng.randrange(10**9):09d}"


# --------------------------------------------------------------------------- orders


_PRODUCT_CUM_CACHE: dict[tuple[float, str | None], list[float]] = {}


def _product_cum(price_exponent: float, occasion: str | None) -> list[float]:
    key = (price_exponent, occasion)
    cached = _PRODUCT_CUM_CACHE.get(key)
    if cached is None:
        tilt = data.OCCASION_CATEGORY_TILT.get(occasion or "", {})
        weights = []
        for p in data.CATALOGUE:
            if p.occasion_only is not None and p.occasion_only != occasion:
                weights.append(0.0)
            else:
                weights.append(p.price**price_exponent * tilt.get(p.category, 1.0))
        cached = _PRODUCT_CUM_CACHE[key] = _cum(weights)
    return cached


def _sale_price(list_price: int, discount: float) -> int:
    """Discounted prices end in 9, like shop prices do."""
    if discount <= 0:
        return list_price
    return max(49, round(list_price * (1 - discount) / 10) * 10 - 1)


@dataclass
class _Shopper:
    persona: Persona
    traits: PersonaTraits
    habit_hour: int


def _order_items(
    rng: random.Random, shopper: _Shopper, occasion: str | None, is_sale: bool
) -> list[dict[str, Any]]:
    n_products = rng.choices((1, 2, 3, 4), weights=shopper.traits.items_weights)[0]
    cum = _product_cum(shopper.traits.price_exponent, occasion)
    if is_sale:
        discount = (
            rng.uniform(0.35, 0.6) if shopper.persona is Persona.BARGAIN else rng.uniform(0.2, 0.45)
        )
    elif shopper.persona is Persona.BARGAIN:
        discount = rng.uniform(0.1, 0.3) if rng.random() < 0.7 else 0.0
    else:
        discount = rng.uniform(0.05, 0.15) if rng.random() < 0.15 else 0.0  # a coupon
    lines: dict[str, dict[str, Any]] = {}
    for product in rng.choices(data.CATALOGUE, cum_weights=cum, k=n_products):
        line = lines.get(product.sku)
        if line is not None:
            line["qty"] += 1
            continue
        qty = rng.choices((1, 2, 3), weights=(70, 22, 8))[0] if product.price < 700 else 1
        price = (
            product.price
            if product.category == "Gifting" and "Card" in product.name
            else _sale_price(product.price, discount)
        )
        lines[product.sku] = {
            "sku": product.sku,
            "name": product.name,
            "category": product.category,
            "qty": qty,
            "price": price,
        }
    return list(lines.values())


def _order_status(
    rng: random.Random, traits: PersonaTraits, age_days: int, items: list[dict[str, Any]]
) -> str:
    r = rng.random()
    if r < traits.cancel_rate:
        return "cancelled"
    if r < traits.cancel_rate + traits.refund_rate and age_days > 3:
        return "refunded"
    if all(line["sku"] == "GFT-CRD-03" for line in items):
        return "completed"  # a gift card is delivered by email at once
    if age_days <= 2:
        return rng.choice(("processing", "shipped"))
    if age_days <= 6:
        return rng.choice(("shipped", "delivered"))
    return "delivered"


def _order_time(rng: random.Random, cal: Calendar, shopper: _Shopper, index: int) -> datetime:
    day = cal.origin + timedelta(days=index)
    if rng.random() < shopper.traits.habit_share:
        hour = (shopper.habit_hour + rng.choice((-1, 0, 0, 1))) % 24
    else:
        cum = _HOUR_CUM_WEEKEND if day.weekday() >= 5 else _HOUR_CUM_WEEKDAY
        hour = _pick(rng, _HOURS, cum)
    local = datetime(day.year, day.month, day.day, hour, rng.randrange(60), rng.randrange(60))
    return local - IST


# --------------------------------------------------------------------------- one customer


@dataclass
class GeneratedCustomer:
    row: dict[str, Any]
    orders: list[dict[str, Any]] = field(default_factory=list)  # without customer_id yet


def _order_days(
    rng: random.Random, cal: Calendar, persona: Persona, signup_ago: int, lapsed_end_ago: int
) -> list[int]:
    lo = max(0, cal.days - signup_ago + 1)  # from the day after signup
    hi = cal.days - 1  # up to yesterday
    if persona is Persona.LAPSED:
        hi = cal.days - lapsed_end_ago
    if lo > hi:
        return []
    span = hi - lo + 1
    cum = cal.cum_all
    if persona is Persona.LOYAL:
        count = max(4, round(span / rng.uniform(18, 40)))
    elif persona is Persona.REGULAR:
        count = max(2, round(span / rng.uniform(70, 200)))
    elif persona is Persona.BARGAIN:
        count = max(2, round(span / rng.uniform(45, 110)))
        cum = cal.cum_sale
    elif persona is Persona.FESTIVE:
        count = max(1, round(rng.randint(1, 5) * span / cal.days))
        cum = cal.cum_festive if cal.has_weight(cal.cum_festive, lo, hi) else cal.cum_all
    elif persona is Persona.LAPSED:
        count = rng.randint(1, 6)
    elif persona is Persona.NEW:
        count = 1 if rng.random() < 0.55 else 0
    else:  # NEVER: a few cancelled their only checkout
        count = 1 if rng.random() < 0.12 else 0
    days = [cal.sample_day(rng, cum, lo, hi) for _ in range(count)]
    return sorted(d for d in days if d is not None)


def generate_customer(
    number: int, persona: Persona, cal: Calendar, now: datetime, random_seed: int
) -> GeneratedCustomer:
    """One customer and their orders; a pure function of its arguments."""
    rng = random.Random(f"mini-crm:{random_seed}:{number}")
    traits = TRAITS[persona]
    external_id = f"{EXTERNAL_ID_PREFIX}{number:0{EXTERNAL_ID_DIGITS}d}"

    city = _pick(rng, data.CITIES, _CITY_CUM)
    if rng.random() < data.MIGRANT_SHARE:
        group_name = _pick(rng, _GROUP_NAMES, _GROUP_NATIONAL_CUM)
    else:
        names, cum = _CITY_GROUP_CUM[city.name]
        group_name = _pick(rng, names, cum)
    group = data.NAME_GROUPS[group_name]
    gender = _pick_weighted(rng, data.GENDER_WEIGHTS)
    if gender == "undisclosed":
        first = rng.choice(group.female + group.male)
    else:
        first = rng.choice(group.female if gender == "female" else group.male)
    last = rng.choice(group.last)
    age_band = _pick_weighted(rng, data.AGE_BANDS)
    birth_year = now.year - rng.randint(*_AGE_RANGES[age_band])

    lapsed_end_ago = 0
    if persona is Persona.NEW:
        signup_ago = rng.randint(2, 45)
    elif persona is Persona.LAPSED:
        lapsed_end_ago = rng.randint(190, 480)
        signup_ago = rng.randint(min(lapsed_end_ago + 20, SIGNUP_HISTORY_DAYS), SIGNUP_HISTORY_DAYS)
    elif persona is Persona.LOYAL:
        signup_ago = int(120 + (SIGNUP_HISTORY_DAYS - 120) * rng.random() ** 0.8)
    else:  # more recent signups than old ones: the brand grows
        signup_ago = int(46 + (SIGNUP_HISTORY_DAYS - 46) * rng.random() ** 1.3)
    signup_day = cal.today - timedelta(days=signup_ago)
    created_at = (
        datetime(
            signup_day.year,
            signup_day.month,
            signup_day.day,
            _pick(rng, _HOURS, _HOUR_CUM_WEEKDAY),
            rng.randrange(60),
            rng.randrange(60),
        )
        - IST
    )

    shopper = _Shopper(persona, traits, _pick(rng, _HOURS, _HABIT_CUM[persona]))
    orders: list[dict[str, Any]] = []
    total = Decimal(0)
    counted = 0
    first_at: datetime | None = None
    last_at: datetime | None = None
    updated_at = created_at
    for seq, index in enumerate(_order_days(rng, cal, persona, signup_ago, lapsed_end_ago), 1):
        occasion = cal.occasion[index]
        items = _order_items(rng, shopper, occasion, cal.sale[index])
        age_days = cal.days - index
        status = (
            "cancelled" if persona is Persona.NEVER else _order_status(rng, traits, age_days, items)
        )
        ordered_at = _order_time(rng, cal, shopper, index)
        amount = Decimal(sum(line["qty"] * line["price"] for line in items)).quantize(
            Decimal("0.01")
        )
        changed_at = min(
            ordered_at
            + timedelta(days=rng.randint(0, min(age_days, 6)), minutes=rng.randrange(1, 600)),
            now,
        )
        orders.append(
            {
                "external_id": f"{external_id}-o{seq:03d}",
                "amount": amount,
                "currency": "INR",
                "status": status,
                "ordered_at": ordered_at,
                "items": items,
                "created_at": ordered_at,
                "updated_at": changed_at,
            }
        )
        updated_at = max(updated_at, changed_at)
        if status in OrderStatus.NOT_COUNTED:
            continue
        total += amount
        counted += 1
        first_at = ordered_at if first_at is None else min(first_at, ordered_at)
        last_at = ordered_at if last_at is None else max(last_at, ordered_at)

    app_installed = rng.random() < traits.app_rate
    channel = _pick_weighted(rng, CHANNELS)
    if channel == "push" and not app_installed:
        channel = "whatsapp"
    language = group.language if rng.random() < 0.45 else "en"
    if language == "ur" and rng.random() < 0.6:
        language = "hi"
    attributes = {
        "gender": gender,
        "age_band": age_band,
        "birthday_month": rng.randint(1, 12),
        "state": city.state,
        "language": language,
        "acquisition_source": _pick_weighted(rng, traits.sources),
        "preferred_channel": channel,
        "app_installed": app_installed,
        "loyalty_tier": next((tier for floor, tier in LOYALTY_TIERS if total >= floor), "member"),
    }
    row = {
        "external_id": external_id,
        "name": f"{first} {last}",
        "email": None if rng.random() < 0.02 else make_email(rng, first, last, birth_year),
        "phone": None if rng.random() < 0.03 else make_phone(rng),
        "city": city.name,
        "attributes": attributes,
        "is_stub": False,
        **_consent(rng, traits.unsubscribe_rate),
        "created_at": created_at,
        "updated_at": updated_at,
        "total_spend": total,
        "order_count": counted,
        "first_order_at": first_at,
        "last_order_at": last_at,
    }
    return GeneratedCustomer(row, orders)


def _consent(rng: random.Random, unsubscribe_rate: float) -> dict[str, bool]:
    """consent_<channel> columns: some who opt out leave every channel, the rest just one."""
    opted_out: tuple[str, ...] = ()
    if rng.random() < unsubscribe_rate:
        opted_out = (MESSAGE_CHANNELS if rng.random() < 0.4
                     else (rng.choice(MESSAGE_CHANNELS),))
    return {f"consent_{c}": c not in opted_out for c in MESSAGE_CHANNELS}


def persona_cycle(random_seed: int) -> list[Persona]:
    cycle = [p for p, n in PERSONA_MIX.items() for _ in range(n)]
    random.Random(f"mini-crm-personas:{random_seed}").shuffle(cycle)
    return cycle


# --------------------------------------------------------------------------- database


def is_empty(session: Session) -> bool:
    """True when the database has no customers yet."""
    return session.execute(sa.select(CUSTOMER_TABLE.c.id).limit(1)).first() is None


def next_customer_number(conn: Connection) -> int:
    """One past the highest demo external id already stored, so runs never collide."""
    ext = CUSTOMER_TABLE.c.external_id
    pattern = EXTERNAL_ID_PREFIX + "_" * EXTERNAL_ID_DIGITS
    id_shape = re.compile(rf"{re.escape(EXTERNAL_ID_PREFIX)}(\d{{{EXTERNAL_ID_DIGITS}}})")
    # Fixed-width numbers sort as strings; a few rows cover stray ids of the same shape.
    rows = conn.execute(sa.select(ext).where(ext.like(pattern)).order_by(ext.desc()).limit(50))
    for (value,) in rows:
        match = id_shape.fullmatch(value)
        if match:
            return int(match.group(1)) + 1
    return 1


def _batches(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _insert_chunk(conn: Connection, generated: list[GeneratedCustomer]) -> None:
    conn.execute(sa.insert(CUSTOMER_TABLE), [g.row for g in generated])
    # Opted-out addresses go on the suppression list, as a real opt-out would put them.
    suppression.insert_missing(conn, [
        (g.row[ADDRESS_FIELD[channel]], channel)
        for g in generated for channel in MESSAGE_CHANNELS
        if not g.row[f"consent_{channel}"] and g.row[ADDRESS_FIELD[channel]]],
        source="seed", reason="opted out (demo data)")
    ext = CUSTOMER_TABLE.c.external_id
    ids = dict(
        conn.execute(
            sa.select(ext, CUSTOMER_TABLE.c.id).where(
                ext.in_([g.row["external_id"] for g in generated])
            )
        )
        .tuples()
        .all()
    )
    order_rows = [
        {**order, "customer_id": ids[g.row["external_id"]]} for g in generated for order in g.orders
    ]
    for batch in _batches(order_rows, ORDER_INSERT_BATCH):
        conn.execute(sa.insert(ORDER_TABLE), list(batch))


@dataclass
class SeedResult:
    customers: int = 0
    orders: int = 0
    counted_orders: int = 0
    revenue: Decimal = Decimal(0)
    first_external_id: str = ""
    last_external_id: str = ""
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"seeded {self.customers:,} customers and {self.orders:,} orders "
            f"({self.counted_orders:,} counted, INR {self.revenue:,.0f} revenue) "
            f"as {self.first_external_id}..{self.last_external_id} "
            f"in {self.seconds:.1f}s"
        )


def seed_database(
    engine: Engine,
    customers: int,
    random_seed: int = 7,
    *,
    now: datetime | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: Callable[[str], None] | None = None,
) -> SeedResult:
    """Generate and insert `customers` demo customers with their orders, chunk by chunk."""
    if customers < 1:
        raise ValueError(f"customers must be at least 1, got {customers}")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
    started = time.perf_counter()
    now = (now or utcnow()).replace(microsecond=0)
    cal = build_calendar(now)
    cycle = persona_cycle(random_seed)
    with engine.connect() as conn:
        first_number = next_customer_number(conn)
    result = SeedResult()
    for chunk_start in range(0, customers, chunk_size):
        numbers = range(
            first_number + chunk_start, first_number + min(customers, chunk_start + chunk_size)
        )
        generated = [
            generate_customer(n, cycle[(n - 1) % len(cycle)], cal, now, random_seed)
            for n in numbers
        ]
        try:
            with engine.begin() as conn:
                _insert_chunk(conn, generated)
        except sa.exc.IntegrityError as exc:
            raise RuntimeError(
                f"seeding stopped: customers {generated[0].row['external_id']}.."
                f"{generated[-1].row['external_id']} conflict with rows already stored (is "
                "another seed running at the same time?); earlier chunks were kept and a new "
                f"run continues after them. Database said: {exc.orig}"
            ) from exc
        for g in generated:
            result.orders += len(g.orders)
            result.counted_orders += g.row["order_count"]
            result.revenue += g.row["total_spend"]
        result.customers += len(generated)
        if not result.first_external_id:
            result.first_external_id = generated[0].row["external_id"]
        result.last_external_id = generated[-1].row["external_id"]
        if progress is not None:
            progress(
                f"  {result.customers:,}/{customers:,} customers, "
                f"{result.orders:,} orders ({time.perf_counter() - started:.1f}s)"
            )
    result.seconds = time.perf_counter() - started
    return result


def seed(
    customers: int = 2000,
    random_seed: int = 7,
    progress: Callable[[str], None] | None = None,
    *,
    engine: Engine | None = None,
    now: datetime | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> str:
    """Seed demo data (into the app's database unless `engine` is given); a one-line summary."""
    return seed_database(
        engine or get_engine(),
        customers,
        random_seed,
        now=now,
        chunk_size=chunk_size,
        progress=progress,
    ).summary()
