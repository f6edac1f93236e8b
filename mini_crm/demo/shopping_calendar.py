"""The demo's shopping calendar: the last ORDER_HISTORY_DAYS days in India Standard
Time, each weighted by weekday, festival or sale season (Diwali, Raksha Bandhan, Holi,
Valentine's, end-of-season and Independence Day sales, Christmas), the brand's growth
and salary week, with cumulative weights per kind of shopper to draw order days from."""

from __future__ import annotations

import bisect
import itertools
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from mini_crm.demo import seed_data as data

IST = timedelta(hours=5, minutes=30)  # India has no daylight saving: a fixed offset is exact
ORDER_HISTORY_DAYS = 730


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
