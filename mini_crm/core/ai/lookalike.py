"""Lookalike audiences: what sets a good audience apart, as editable rules.

Seed: a segment's audience (rules), or a campaign's converters ("customers like those
who bought": recipients with an order attributed to the campaign — last touch within
its channel's conversion window, core/outcomes/attribution.py; holdout members never
count) when there are at least MIN_SEED of them, else the customers its messages were
delivered to.

Offline engine: one streamed pass over the customer table (yield_per) keeps a fixed-size
random sample of seed and of non-seed customers (reservoir sampling, seeded, so the
same data gives the same answer). A decision tree of depth ≤ 3 with balanced class
weights learns seed vs the rest on total_spend, order_count, days since last order
(never ordered = a value past any real one), days since signup and one-hot top cities.
Every leaf where the seed dominates becomes an AND group of its path (bounds merged per
field), the groups are OR-ed, and the result is validated by the rules schema. For a
rules seed the seed itself is excluded with a NOT group; a campaign's recipients cannot
be named by rules, so they stay in and the explanation says so. Coverage and size are
counted in SQL over the whole table, not the sample.

Set apart only by when they were added: days since signup is created_at, which for
imported customers is the import's date. When the tree's only groups are tenure rules
and the seed is not itself defined by tenure, the tree is fitted again without that
feature; when that finds nothing that holds at least MIN_BLIND_COVERAGE of the seed,
the answer is LookalikeError
LOOKS_LIKE_EVERYONE ("these customers look like everyone else: no lookalike") rather
than rules that would pick the next import.

Nothing found: when the seed is defined by the very features the model uses (seed
"order_count >= 5"), the tree relearns the seed's own rules, and those AND NOT the seed
select no one. Such rules are never handed back: the answer has found=False, rules=None,
size 0 and a summary naming the features that already describe the seed, with widened
thresholds of the seed's own conditions and how many customers each would add (counted
in SQL). Both engines share this, since both end in `_finish`.

LLM engine: proposes rules from a statistical profile of seed vs the rest; the answer
must pass the rules schema, then sizes and coverage are counted the same way.

Reading the tree as rules is in `lookalike_tree`; the nothing-found answer and its wider
thresholds in `lookalike_widening`.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, field_validator
from sqlmodel import Session, func, select

from mini_crm.core.ai import engine, llm
from mini_crm.core.ai.lookalike_tree import (
    NEVER_DAYS,
    NUMERIC,
    TENURE,
    TENURE_FIELDS,
    conditions,
    evaluate,
    fields_of,
    only_tenure,
    paths,
    tighten,
    why,
    worth_targeting,
)
from mini_crm.core.ai.lookalike_widening import nothing_found
from mini_crm.core.ai.result import AIResult
from mini_crm.core.formatting import group_indian, plural
from mini_crm.core.segments import describe, parse_rules
from mini_crm.core.segments.compiler import compile_group
from mini_crm.core.segments.fields import catalogue
from mini_crm.core.segments.schema import RulesError
from mini_crm.core.segments.service import audience_size
from mini_crm.models import (
    Campaign,
    CommunicationLog,
    Conversion,
    Customer,
    DeliveryStatus,
    utcnow,
)

SAMPLE_PER_CLASS = 5000
MIN_SEED = 20
TOP_CITIES = 8
MAX_DEPTH = 3
CHUNK = 5000
# Without tenure, the groups (disjoint leaves) must hold this share of the seed sample.
MIN_BLIND_COVERAGE = 0.5
LOOKS_LIKE_EVERYONE = (
    "these customers look like everyone else: no lookalike. They differ from other "
    "customers only in when they were added (signup or import date), not in spend, "
    "orders, recency or city, so a rule such as “signed up in the last 30 days” would "
    "find other new records, not people like them.")


class LookalikeError(ValueError):
    """The request cannot be modelled (no seed, seed too small, nothing else to compare)."""


@dataclass
class Lookalike:
    # None when nothing was found: rules that select no one are never proposed.
    rules: dict[str, Any] | None
    size: int
    explanation: list[str]
    seed_size: int
    seed: str = ""  # what the seed is, in words
    seed_excluded: bool = False
    seed_coverage: float | None = None  # share of the seed the rules match
    sentence: str = ""  # the rules as an English sentence ("" when nothing was found)
    groups: list[dict[str, Any]] = field(default_factory=list)
    found: bool = True  # False: no customer (outside the seed) resembles it; size is 0
    summary: str = ""  # the answer in one line, for people


@dataclass
class _Seed:
    where: Any  # SQL boolean over customer: is this customer in the seed?
    description: str
    rules: dict[str, Any] | None  # when the seed is expressible as rules


# -- seed ---------------------------------------------------------------------

def _seed(session: Session, campaign_id: int | None, rules: dict[str, Any] | None,
          now: datetime) -> _Seed:
    if (campaign_id is None) == (rules is None):
        raise LookalikeError("give either a campaign_id or rules, not both")
    if rules is not None:
        tree = parse_rules(rules)
        return _Seed(compile_group(tree, now), f"the segment “{describe(tree)}”", rules)
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise LookupError(f"campaign {campaign_id} does not exist")
    converters = select(Conversion.customer_id).where(
        Conversion.campaign_id == campaign_id, Conversion.holdout == sa.false())
    n = session.execute(select(func.count()).select_from(Customer)
                        .where(Customer.id.in_(converters))).scalar_one()
    if n >= MIN_SEED:
        return _Seed(Customer.id.in_(converters),
                     f"the {plural(n, 'recipient')} of “{campaign.name}” who bought "
                     "because of it (an order attributed to the campaign)", None)
    delivered = select(CommunicationLog.customer_id).where(
        CommunicationLog.campaign_id == campaign_id,
        CommunicationLog.status == DeliveryStatus.DELIVERED)
    return _Seed(Customer.id.in_(delivered),
                 f"the customers “{campaign.name}” was delivered to (fewer than {MIN_SEED} "
                 "converted, too few to model)", None)


# -- sampling -----------------------------------------------------------------

def _days(now: datetime, at: datetime | None) -> float:
    if at is None:
        return NEVER_DAYS
    return float(math.floor((now - at).total_seconds() / 86400))


def _top_cities(session: Session, seed: _Seed) -> list[str]:
    rows = session.execute(
        select(func.lower(func.trim(Customer.city)), func.min(Customer.city), func.count())
        .where(seed.where, Customer.city.is_not(None))
        .group_by(func.lower(func.trim(Customer.city)))
        .order_by(func.count().desc(), func.lower(func.trim(Customer.city))).limit(TOP_CITIES)
    ).all()
    return [str(display).strip() for key, display, _ in rows if key]


def _sample(session: Session, seed: _Seed, cities: list[str], now: datetime
            ) -> tuple[list[list[float]], list[int], int, int]:
    """(features, labels, seed count, others count): one streamed pass, two reservoirs."""
    rng = random.Random(20240601)
    reservoirs: tuple[list[list[float]], list[list[float]]] = ([], [])
    seen = [0, 0]
    keys = [c.lower() for c in cities]
    stmt = select(Customer.total_spend, Customer.order_count, Customer.last_order_at,
                  Customer.created_at, Customer.city,
                  sa.case((seed.where, 1), else_=0)).order_by(Customer.id)
    for partition in session.execute(stmt.execution_options(yield_per=CHUNK)).partitions():
        for spend, count, last, created, city, is_seed in partition:
            label = int(is_seed)
            key = (city or "").strip().lower()
            row = [float(spend or 0), float(count or 0), _days(now, last),
                   max(0.0, _days(now, created)), *[1.0 if key == k else 0.0 for k in keys]]
            seen[label] += 1
            bucket = reservoirs[label]
            if len(bucket) < SAMPLE_PER_CLASS:
                bucket.append(row)
            else:
                j = rng.randrange(seen[label])
                if j < SAMPLE_PER_CLASS:
                    bucket[j] = row
    x = reservoirs[0] + reservoirs[1]
    y = [0] * len(reservoirs[0]) + [1] * len(reservoirs[1])
    return x, y, seen[1], seen[0]


def _fit(x: list[list[float]], y: list[int]) -> Any:
    from sklearn.tree import DecisionTreeClassifier

    model = DecisionTreeClassifier(max_depth=MAX_DEPTH, class_weight="balanced",
                                   min_samples_leaf=max(5, len(y) // 100), random_state=0)
    model.fit(x, y)
    return model


@dataclass
class _Proposal:
    rules: dict[str, Any]
    groups: list[dict[str, Any]]
    lines: list[str]


def _tree_proposal(session: Session, seed: _Seed, now: datetime) -> _Proposal:
    cities = _top_cities(session, seed)
    x, y, n_seed, n_other = _sample(session, seed, cities, now)
    if n_seed < MIN_SEED:
        raise LookalikeError(f"the seed has {plural(n_seed, 'customer')}; at least {MIN_SEED} are "
                             "needed to learn what sets them apart")
    if n_other < MIN_SEED:
        raise LookalikeError("almost every customer is in the seed; there is no one else "
                             "to find")
    found = _read_tree(_fit(x, y), x, y, cities)
    if found[0] and only_tenure(found[0]) and not (
            seed.rules is not None and fields_of(seed.rules) & set(TENURE_FIELDS)):
        # Only "signed up in the last N days" sets the seed apart. created_at is when a
        # record was added, for imported customers the import's date, so that rule finds
        # other new records, not people like the seed. Ask the tree again without it;
        # when nothing else separates them, say so. (A seed defined by its tenure keeps
        # it: there the tenure is the point, and nothing_found offers wider thresholds.)
        # The tenure tree described (nearly) the whole seed; what the blind tree finds
        # must describe a good part of it too, or it is a leaf carved from noise (on
        # alike data, 10% of a 200-customer seed at 3x the others' rate, z = 3.4, passed
        # worth_targeting: the tree picks its leaves on the very sample it is judged by).
        blind = [[*row[:TENURE], 0.0, *row[TENURE + 1:]] for row in x]
        found = _read_tree(_fit(blind, y), blind, y, cities)
        if sum(g["seed_share"] for g in found[1]) < MIN_BLIND_COVERAGE:
            raise LookalikeError(LOOKS_LIKE_EVERYONE)
    or_rules, groups, lines = found
    if not or_rules:
        raise LookalikeError("the seed does not differ from other customers in spend, "
                             "orders, recency, tenure or city; no lookalike rules to propose")
    rules = or_rules[0] if len(or_rules) == 1 else {"combinator": "or", "rules": or_rules}
    return _Proposal(rules, groups, lines)


def _read_tree(model: Any, x: list[list[float]], y: list[int], cities: list[str]
               ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """The fitted tree's groups worth targeting: (AND groups of rules, the groups with
    their words and shares, the explanation lines). The tree itself scores splits by
    Gini impurity with balanced class weights (sklearn); a leaf becomes a group only
    when `worth_targeting` says the seed is clearly over-represented in it."""
    seed_sample = sum(y)
    other_sample = len(y) - seed_sample
    groups: list[dict[str, Any]] = []
    or_rules: list[dict[str, Any]] = []
    lines: list[str] = []
    # Raw sample counts per leaf (balanced class weights make the tree's own unequal).
    per_leaf: dict[int, list[int]] = {}
    for leaf, label in zip(model.apply(x), y, strict=True):
        per_leaf.setdefault(int(leaf), [0, 0])[label] += 1

    def good(leaf: int) -> bool:
        n_other, n_seed = per_leaf.get(leaf, [0, 0])
        return worth_targeting(n_seed, n_other, seed_sample, other_sample)

    for path in paths(model.tree_, good):
        rules = conditions(tighten(path), cities)
        if not rules:
            continue
        in_group = evaluate(path, x)
        n_s = sum(1 for i in in_group if y[i] == 1)
        n_o = len(in_group) - n_s
        if not worth_targeting(n_s, n_o, seed_sample, other_sample):
            continue
        seed_share, other_share = n_s / seed_sample, n_o / max(1, other_sample)
        group = {"combinator": "and", "rules": rules}
        or_rules.append(group)
        words = why(rules)
        groups.append({"rules": group, "why": words,
                       "seed_share": round(seed_share, 4), "others_share": round(other_share, 4)})
        lines.append(f"Customers who {words}: {seed_share:.0%} of the seed "
                     f"sample against {other_share:.1%} of other customers.")
    return or_rules, groups, lines


# -- assembling the answer ------------------------------------------------------

def _finish(session: Session, seed: _Seed, proposal: _Proposal, now: datetime,
            exclude_seed: bool) -> Lookalike:
    parse_rules(proposal.rules)  # the proposal itself must be valid rules
    seed_size = session.execute(select(func.count()).select_from(Customer)
                                .where(seed.where)).scalar_one()
    matched = compile_group(parse_rules(proposal.rules), now)
    covered = session.execute(select(func.count()).select_from(Customer)
                              .where(sa.and_(matched, seed.where))).scalar_one()
    final = proposal.rules
    excluded = False
    notes: list[str] = []
    if exclude_seed and seed.rules is not None:
        negated = {**seed.rules, "not": not bool(seed.rules.get("not", False))}
        candidate = {"combinator": "and", "rules": [proposal.rules, negated]}
        try:
            parse_rules(candidate)
            final, excluded = candidate, True
            notes.append("The seed segment itself is excluded (the last NOT group).")
        except RulesError:
            notes.append("The seed segment is nested too deeply to exclude with a NOT group; "
                         "the rules still match it.")
    elif seed.rules is None:
        notes.append("The campaign's own recipients cannot be named by rules, so they are "
                     "not excluded; add a condition to leave them out if you want.")
    tree = parse_rules(final)
    size = audience_size(session, tree, now)
    coverage = covered / seed_size if seed_size else None
    explanation = [f"Seed: {seed.description}, {plural(seed_size, 'customer')}."]
    explanation += proposal.lines
    rounded = round(coverage, 4) if coverage is not None else None
    if size == 0:
        # The notes and the coverage line are about rules that are not handed back.
        return Lookalike(rules=None, size=0, explanation=explanation, seed_size=seed_size,
                         seed=seed.description, seed_excluded=excluded,
                         seed_coverage=rounded, sentence="", groups=proposal.groups,
                         found=False, summary=nothing_found(
                             session, seed_rules=seed.rules, rules=proposal.rules,
                             groups=proposal.groups, seed_size=seed_size, covered=covered,
                             excluded=excluded, now=now))
    if coverage is not None:
        explanation.append(f"The rules match {coverage:.0%} of the seed and "
                           f"{plural(size, 'customer')} in all"
                           f"{' outside the seed' if excluded else ''}.")
    explanation += notes
    summary = (f"{plural(size, 'customer resembles', 'customers resemble')}"
               f" the {group_indian(seed_size)} in this audience"
               f"{' (who are left out)' if excluded else ''}.")
    return Lookalike(rules=final, size=size, explanation=explanation, seed_size=seed_size,
                     seed=seed.description, seed_excluded=excluded, seed_coverage=rounded,
                     sentence=describe(tree), groups=proposal.groups, summary=summary)


# -- LLM engine ---------------------------------------------------------------

class LookalikeAnswer(BaseModel):
    rules: dict[str, Any]
    why: list[str] = []

    @field_validator("rules")
    @classmethod
    def _valid_rules(cls, rules: dict[str, Any]) -> dict[str, Any]:
        tree = parse_rules(rules)  # RulesError is a ValueError: invalid answer, retried
        if not tree.rules:
            raise ValueError("the rules are empty; propose at least one condition")
        return rules

    @field_validator("why")
    @classmethod
    def _short(cls, why: list[str]) -> list[str]:
        return [" ".join(w.split())[:300] for w in why[:5]]


def _profile(x: list[list[float]], y: list[int], cities: list[str]) -> dict[str, Any]:
    def stats(rows: list[list[float]], i: int) -> dict[str, float]:
        values = sorted(r[i] for r in rows if not (i == 2 and r[i] >= NEVER_DAYS))
        if not values:
            return {}
        q = lambda p: values[min(len(values) - 1, int(p * len(values)))]  # noqa: E731
        return {"p25": q(0.25), "median": q(0.5), "p75": q(0.75)}

    seed = [r for r, label in zip(x, y, strict=True) if label]
    other = [r for r, label in zip(x, y, strict=True) if not label]
    out: dict[str, Any] = {}
    for i, name in enumerate(NUMERIC):
        out[name] = {"seed": stats(seed, i), "others": stats(other, i)}
    out["never_ordered_share"] = {
        "seed": sum(r[2] >= NEVER_DAYS for r in seed) / max(1, len(seed)),
        "others": sum(r[2] >= NEVER_DAYS for r in other) / max(1, len(other))}
    out["city_share"] = {c: {"seed": sum(r[len(NUMERIC) + j] for r in seed) / max(1, len(seed)),
                             "others": sum(r[len(NUMERIC) + j] for r in other)
                             / max(1, len(other))} for j, c in enumerate(cities)}
    return out


def _llm_proposal(session: Session, seed: _Seed, now: datetime) -> _Proposal:
    cities = _top_cities(session, seed)
    x, y, n_seed, _ = _sample(session, seed, cities, now)
    if n_seed < MIN_SEED:
        raise llm.LLMUnavailable("the seed is too small to describe")
    system = (
        "You build lookalike audiences for a CRM. Given how a seed audience differs from "
        "other customers, propose segment rules (react-querybuilder JSON: "
        '{"combinator": "and"|"or", "not": false, "rules": [...]}, each rule '
        '{"field", "operator", "value"}) that select customers like the seed. Use only '
        f"these fields and operators: {json.dumps(catalogue())}. Answer "
        '{"rules": {...}, "why": ["one short reason per condition"]}.')
    answer = llm.complete_json(system, json.dumps(_profile(x, y, cities)), LookalikeAnswer)
    return _Proposal(answer.rules, [], [f"Suggested: {w}" for w in answer.why])


def lookalike(db: Session, *, campaign_id: int | None = None,
              rules: dict[str, Any] | None = None, exclude_seed: bool = True,
              now: datetime | None = None) -> AIResult[Lookalike]:
    """Raises LookupError (no such campaign), RulesError (bad seed rules) or
    LookalikeError (nothing to model) before any engine runs."""
    now = now or utcnow()
    seed = _seed(db, campaign_id, rules, now)

    def offline() -> Lookalike:
        return _finish(db, seed, _tree_proposal(db, seed, now), now, exclude_seed)

    def with_llm() -> Lookalike:
        return _finish(db, seed, _llm_proposal(db, seed, now), now, exclude_seed)

    return engine.run(with_llm, offline)
