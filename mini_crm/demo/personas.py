"""Who the demo customers are: seven personas, how many of every 50 customers each
is (a fixed cycle, shuffled per seed), and how each shops (`PersonaTraits`: price taste,
basket size, cancellations, refunds, opt-outs, app installs, habitual hours, where
they came from). Used by `demo/shoppers` to generate one customer."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


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

HABIT_CUM = {p: list(itertools.accumulate(t.habit_hours)) for p, t in TRAITS.items()}
CHANNELS = (("whatsapp", 36), ("sms", 28), ("email", 26), ("push", 10))
LOYALTY_TIERS = (
    (Decimal(50000), "platinum"),
    (Decimal(20000), "gold"),
    (Decimal(5000), "silver"),
    (Decimal(1), "bronze"),
)


def persona_cycle(random_seed: int) -> list[Persona]:
    cycle = [p for p, n in PERSONA_MIX.items() for _ in range(n)]
    random.Random(f"mini-crm-personas:{random_seed}").shuffle(cycle)
    return cycle
