"""One demo customer, a pure function of (number, persona, calendar, now, seed): their
profile (name, contact details, attributes, consent) and their orders (days drawn from
the shopping calendar by persona, products by price taste and occasion, hours by habit,
a share cancelled or refunded). `demo/seed` writes them to the database in chunks."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from mini_crm.core import contacts
from mini_crm.core.contacts import CHANNELS as MESSAGE_CHANNELS
from mini_crm.demo import seed_data as data
from mini_crm.demo.people import (
    AGE_RANGES,
    CITY_CUM,
    CITY_GROUP_CUM,
    GROUP_NAMES,
    GROUP_NATIONAL_CUM,
    cumulative,
    make_email,
    make_phone,
    pick,
    pick_weighted,
)
from mini_crm.demo.personas import (
    CHANNELS,
    HABIT_CUM,
    LOYALTY_TIERS,
    TRAITS,
    Persona,
    PersonaTraits,
)
from mini_crm.demo.shopping_calendar import IST, Calendar
from mini_crm.models import OrderStatus

SIGNUP_HISTORY_DAYS = 912  # about two and a half years
EXTERNAL_ID_PREFIX = "demo-"
EXTERNAL_ID_DIGITS = 8
_HOUR_CUM_WEEKDAY = cumulative(data.HOUR_WEIGHTS_WEEKDAY)
_HOUR_CUM_WEEKEND = cumulative(data.HOUR_WEIGHTS_WEEKEND)
_HOURS = tuple(range(24))


# Orders ------------------------------------------------------------------------

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
        cached = _PRODUCT_CUM_CACHE[key] = cumulative(weights)
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
        hour = pick(rng, _HOURS, cum)
    local = datetime(day.year, day.month, day.day, hour, rng.randrange(60), rng.randrange(60))
    return local - IST


# One customer ------------------------------------------------------------------

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

    city = pick(rng, data.CITIES, CITY_CUM)
    if rng.random() < data.MIGRANT_SHARE:
        group_name = pick(rng, GROUP_NAMES, GROUP_NATIONAL_CUM)
    else:
        names, cum = CITY_GROUP_CUM[city.name]
        group_name = pick(rng, names, cum)
    group = data.NAME_GROUPS[group_name]
    gender = pick_weighted(rng, data.GENDER_WEIGHTS)
    if gender == "undisclosed":
        first = rng.choice(group.female + group.male)
    else:
        first = rng.choice(group.female if gender == "female" else group.male)
    last = rng.choice(group.last)
    age_band = pick_weighted(rng, data.AGE_BANDS)
    birth_year = now.year - rng.randint(*AGE_RANGES[age_band])

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
            pick(rng, _HOURS, _HOUR_CUM_WEEKDAY),
            rng.randrange(60),
            rng.randrange(60),
        )
        - IST
    )

    shopper = _Shopper(persona, traits, pick(rng, _HOURS, HABIT_CUM[persona]))
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
    channel = pick_weighted(rng, CHANNELS)
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
        "acquisition_source": pick_weighted(rng, traits.sources),
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
    # make_phone draws mobiles only (contacts.phone_type would say the same, slower).
    row["phone_type"] = "mobile" if row["phone"] else None
    row["email_key"] = contacts.inbox_key(row["email"])
    return GeneratedCustomer(row, orders)


def _consent(rng: random.Random, unsubscribe_rate: float) -> dict[str, bool]:
    """consent_<channel> columns: some who opt out leave every channel, the rest just one."""
    opted_out: tuple[str, ...] = ()
    if rng.random() < unsubscribe_rate:
        opted_out = (MESSAGE_CHANNELS if rng.random() < 0.4
                     else (rng.choice(MESSAGE_CHANNELS),))
    return {f"consent_{c}": c not in opted_out for c in MESSAGE_CHANNELS}
