"""The offline parser scored on a labelled set of plain-English prompts.

Each prompt in tests/data/nl_prompts.json comes with the rules a marketer means. Over
a seeded, varied customer base, a prompt counts as right when the parsed rules select
exactly the same customers as the expected rules (Jaccard similarity 1). The accuracy
is printed per set; the test fails if it drops below what was measured.

The sets: "development" (80 prompts written first, the parser was improved against
them), then "held-out" (30), "held-out-2" (20) and "held-out-3" (20, casual wording),
each written later and scored before any change: 29/30, 18/20 and 17/20 on their first
run (64/70 = 91%), the honest figure for unseen wording. The misses were then fixed
with general rules ("3 orders or fewer", "this year", "more than 2 but fewer than 6
orders", "not on gmail", "Mumbai + Pune", "2x", "organically"), so every set scores
100% today. "held-out-6" (a marketer term with "since <festival>": "lapsed customers
since Diwali", "VIP customers since Holi") was written with its fix after a fresh-user
run found "lapsed customers since Diwali" read as "signed up before Diwali"; it is not
a blind score. Nor is "held-out-7" (birthdays relative to the brand's month: "birthday
next month", "this month or next month"; NOW's month is November), written with its fix
after "birthday next month" was refused and "birthday this month" read as an order date.
Nor is "held-out-8" (issue 14: "ordered in April" is any order in April, a windowed rule,
while "last ordered in April" stays the last order's date; "birthdays in March or April"
and "born in March" are the birthday month), written with its fix after a fresh user found
"ordered in April" read as "last order in April" (26 customers instead of 194): 2/10 before
the fix ("between 2026-01-01 and 2026-02-15" was January and February). Nor is
"held-out-9" (issue 14, second round: "May" in a list of months, "last month / week /
year" as the previous calendar period, "Diwali week", written days such as "15/03/2026"
and "1st March"), written with its fix: 3/14 before it. No older label changed: the ones
that say "in the last month", "in the past week", "in the last year" are rolling windows
and stay so. Nor is "held-out-10" (calendar quarters: "last quarter" is the previous
calendar quarter in the brand's zone, as "last month" is, "this quarter" quarter-to-date,
"in the last quarter" still the rolling 90 days; and impossible dates, which must be
refused naming the date and why: an item with "refused" passes only when that text is
among the answer's refusals, and one without "rules" only when nothing was read),
written with its fix: "last quarter" read as the rolling 90 days and "this quarter" was
not understood before it. Nor is "held-out-11" ("from March to January" as one range
starting in the year before, "from March to May" as one range, and periods of zero or
below zero refused), written with its fix: 0/7 before it. Nor is "held-out-12" (a
negated count or spend over a window negates the windowed comparison: "did not place
more than 3 orders last year" is at most 3 orders in 2025; "spent over ₹5K since March"
is a window from March to today; "today", "yesterday", "this
week" as dates; an amount, a period or a year beyond the calendar refused naming it),
written with its fix: 0/16 before it. "held-out-13" (a misspelt city in any position,
"Mumbay customers", with a "warned" sentence the answer must hold; "recently lapsed" as
lapsed within the definition's window; times in the future refused with why: "ordered
next month", "in 2030", "haven't ordered since tomorrow") was written before its fix
and scored 4/24 before it. "held-out-14" (a festival with a year, "email at gmail",
"phone is missing", "A or B in Pune", "Pune, mumbay and Delhi", future times; and two
"on or after" prompts found while fixing) was written before its fix: 2/21 before it.
Every set is at
100% on SQLite, PostgreSQL and MariaDB, and the test asks for 100%: a lower floor let
those misses pass.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from mini_crm.core.ai import segment_rules as nl
from mini_crm.core.segments import matching_customer_ids
from mini_crm.demo.seed import seed_database
from mini_crm.models import Customer
from mini_crm.settings import Settings

PROMPTS = json.loads((Path(__file__).parent.parent / "data" / "nl_prompts.json")
                     .read_text(encoding="utf-8"))
NOW = datetime(2026, 11, 20, 12, 0, 0)
MIN_ACCURACY = 1.0  # measured: 1.00 on every database (295 prompts)
OFFLINE = Settings(ai_engine="offline")


def audience(session: Session, rules: dict[str, Any]) -> set[int]:
    return set(session.exec(matching_customer_ids(_resolve(session, rules), NOW)).all())


def _resolve(session: Session, node: dict[str, Any]) -> dict[str, Any]:
    """Expected rules may say {"$quantile": {"field", "side", "percent"}}: "top 10% by
    spend" is a threshold over today's data, computed here independently of the parser
    (sorted in Python): the value of the ceil(N * p / 100)-th customer from that end."""
    if "$quantile" in node:
        q = node["$quantile"]
        column = getattr(Customer, q["field"])
        values = sorted((v for v in session.exec(select(column)).all() if v is not None),
                        reverse=q["side"] == "top")
        k = max(1, math.ceil(len(values) * q["percent"] / 100))
        value = values[k - 1]
        value = int(value) if value == int(value) else float(value)
        return {"field": q["field"], "operator": ">=" if q["side"] == "top" else "<=",
                "value": value}
    if "rules" in node:
        return {**node, "rules": [_resolve(session, n) for n in node["rules"]]}
    return node


def score(session: Session) -> tuple[float, list[str]]:
    right, failures = 0, []
    by_set: dict[str, list[int]] = {}
    for item in PROMPTS:
        counts = by_set.setdefault(item.get("set", "development"), [0, 0])
        counts[1] += 1
        # No "rules": nothing in the prompt may be read (got None, as expected).
        expected = audience(session, item["rules"]) if "rules" in item else None
        result = nl.segment_rules(session, item["prompt"], settings=OFFLINE, now=NOW)
        got = audience(session, result.value.rules) if result.value.understood else None
        # "refused": the part the parser must refuse, and why, in the answer's words
        # (the 422's top-line message when nothing else was read).
        refused_ok = "refused" not in item or any(
            item["refused"] in r for r in result.value.refused)
        # "warned": a sentence the answer must warn with ("did you mean Mumbai?")
        warned_ok = "warned" not in item or any(
            item["warned"] in w for w in result.value.warnings)
        if got == expected and refused_ok and warned_ok:
            right += 1
            counts[0] += 1
        else:
            jaccard = (len(got & expected) / len(got | expected)) if got is not None \
                and expected is not None and (got | expected) else 0.0
            failures.append(f"{item['prompt']!r}: J={jaccard:.2f} got "
                            f"{json.dumps(result.value.rules['rules'])}, refused "
                            f"{result.value.refused}, warned {result.value.warnings}")
    for name, (ok, n) in by_set.items():
        print(f"  {name}: {ok}/{n} = {ok / n:.1%}")
    return right / len(PROMPTS), failures


def test_labelled_set_is_large_varied_and_meaningful(engine: Engine, dialect: str) -> None:
    if dialect != "sqlite":
        pytest.skip("the set's properties do not depend on the database")
    assert len(PROMPTS) >= 60
    assert len({p["prompt"].lower() for p in PROMPTS}) == len(PROMPTS)
    seed_database(engine, 800, random_seed=11, now=NOW)
    with Session(engine) as session:
        total = len(audience(session, {"combinator": "and", "rules": []}))
        sizes = [len(audience(session, p["rules"])) for p in PROMPTS if "rules" in p]
    # Most expected audiences are neither empty nor everyone, so a match means something.
    meaningful = sum(1 for s in sizes if 0 < s < total)
    assert meaningful >= 0.9 * len(sizes), sizes
    # A prompt without rules is one the parser must refuse or warn about, saying why.
    assert all("refused" in p or "warned" in p for p in PROMPTS if "rules" not in p)


def test_offline_parser_accuracy(engine: Engine, dialect: str) -> None:
    seed_database(engine, 800, random_seed=11, now=NOW)
    with Session(engine) as session:
        accuracy, failures = score(session)
    print(f"\noffline parser accuracy on {dialect}: {accuracy:.1%} "
          f"({len(PROMPTS) - len(failures)}/{len(PROMPTS)})")
    for f in failures:
        print("  MISS", f)
    assert accuracy >= MIN_ACCURACY, failures
