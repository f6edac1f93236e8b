"""The offline engine for plain-English audiences: a tokenizer plus a small pattern grammar.

    parse("people in Mumbai or Pune who haven't shopped in 6 months and spent over ₹5K",
          cities=[...], attribute_keys=[...])
    → rules  city in [Mumbai, Pune] AND days_since_last_order >= 180 AND total_spend > 5000

How it reads a prompt:
1. names the data knows (cities, attribute values) become placeholders (nl_names);
2. the text becomes typed tokens: amounts, periods, dates, comparisons, ranges (nl_lexicon);
3. tokens split into clauses at connectors (and, or, but, who, with, except, commas …),
   each remembering whether it was joined by "or" and whether it was excluded;
4. a clause that places an order or a sign-up in the future ("ordered next month")
   is refused with why (nl_future); extractors read the others: names, email domains,
   text matches, missing values, attributes, periods and dates, amounts, order counts;
5. conditions combine: "or" binds tighter than "and" (as in "in Pune who spent over ₹5K
   or ordered 3 times"), exclusions become NOT.

Conventions (the same as the sentence reader in core/segments/describe.py):
"haven't ordered in N days" is (days_since_last_order >= N OR last_order_at is_null):
customers who never ordered have not ordered in N days either, and the explanation says
so; "ordered in the last N days" is days_since_last_order < N; "not in Mumbai" is
city not_in [Mumbai], which includes customers with no city (DESIGN.md "Missing values");
an order count or spend with a period is a windowed rule (nl_windows), and so is
"ordered in April" (at least one order in April; only "last ordered in April" is
last_order_at); a month list after a birthday word is the birthday's (nl_birthdays),
never an order date; a month is 30
days, a year 365; "over"/"more than" are strict, "at least" is not. Numbers are read by
core.numbers (1,50,000, ₹10K, 1.5 lakh); an ambiguous one ("5.000,00") is reported, not
guessed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from mini_crm.core.ai.nl import lexicon, named_dates
from mini_crm.core.ai.nl import tokens as lx
from mini_crm.core.ai.nl import windows as nl_windows
from mini_crm.core.ai.nl.birthdays import join_birth_months
from mini_crm.core.ai.nl.clauses import (
    Clause,
    Cond,
    Context,
    ParsedRules,
    join_lists,
    join_on_or,
    split_clauses,
)
from mini_crm.core.ai.nl.combine import combine, fill_elliptic, negate
from mini_crm.core.ai.nl.contradictions import contradictions
from mini_crm.core.ai.nl.dates import (
    join_date_ranges,
    read_dates,
    read_periods,
    read_vague_times,
)
from mini_crm.core.ai.nl.explain import leftovers, phrase, quote, reserved_words
from mini_crm.core.ai.nl.field_words import every_word
from mini_crm.core.ai.nl.fields import (
    month_key,
    read_attributes,
    read_domains,
    read_missing,
    read_month_continuation,
    read_names,
    read_text_matches,
)
from mini_crm.core.ai.nl.future import future_refusal
from mini_crm.core.ai.nl.names import find_names
from mini_crm.core.ai.nl.near_misses import near_misses
from mini_crm.core.ai.nl.percentiles import read_percentiles
from mini_crm.core.ai.nl.quantities import read_counts, read_money
from mini_crm.core.ai.nl.terms import Term, read_terms
from mini_crm.core.ai.nl.vocab import FILLER, NEG, ORDER_VERBS

# --- entry point -----------------------------------------------------------------------

def parse(text: str, *, cities: list[str], attribute_keys: list[str],
          attribute_values: dict[str, list[Any]] | None = None,
          email_domains: list[str] | None = None, today: date | None = None,
          terms: dict[str, Term] | None = None,
          quantile: Callable[[str, str, float], float | None] | None = None) -> ParsedRules:
    """Rules (the DESIGN.md JSON) for a plain-English audience description.

    `explanation` says how each part was read; `unparsed` lists every content word no rule
    used (quoted from the prompt, with why when a part was recognised but refused, e.g.
    "“next Diwali” is in the future"). `warnings` are sentences about what was read
    that the marketer should check before applying: rules that cannot hold together
    ("spent under ₹500 and spent over ₹1,000 cannot both hold: this matches no one") and
    near-misses of known names ("“Mumbay” is not a city in your data: did you mean
    Mumbai?"). An empty rules list means nothing was understood (or "all customers").
    `terms` are the marketer-vocabulary definitions (terms.Term by key);
    `quantile(field, "top"|"bottom", percent)` computes a share's threshold from the data
    (None: shares are refused).
    """
    values = {k: list(v) for k, v in (attribute_values or {}).items() if k in attribute_keys
              or not attribute_keys}
    for k in attribute_keys:
        values.setdefault(k, [])
    domains = list(dict.fromkeys([*(d.lower() for d in (email_domains or [])),
                                  *lexicon.COMMON_MAIL_DOMAINS]))
    providers: dict[str, list[str]] = {}
    grammar = FILLER | NEG | ORDER_VERBS | every_word()
    for d in domains:
        label = d.split(".")[0]
        # a domain like live.com must not turn "customers who live in Pune" into email
        if len(label) >= 3 and label not in grammar:
            providers.setdefault(label, []).append(d)
    for alias, target in lexicon.PROVIDER_ALIASES.items():
        if target in providers and alias not in providers:
            providers[alias] = providers[target]
    ctx = Context(cities, list(values), values, providers, domains, today or date.today(),
                  terms=dict(terms or {}), quantile=quantile)

    mapped = lx.normalise(text[:1000])
    mapped, names = find_names(mapped, cities, values, reserved_words(ctx))
    tokens = join_date_ranges(join_birth_months(named_dates.mark(
        join_lists(lx.mark_negatives(join_on_or(lx.tokenize(mapped.text, names)))), ctx.today)),
        ctx.today)
    for t in tokens:  # literals keep the marketer's spelling ("Kumar", "@Acme.in")
        start, _ = mapped.source(t.start, t.start)
        _, end = mapped.source(t.end, t.end)
        t.extra["raw"] = text[start:end]
        if t.kind == "str":
            t.value = t.extra["raw"][1:-1]
    # An ambiguous number is reported with how to write it, never guessed at.
    bad_numbers = [t.value for t in tokens if t.kind == "badnum"]
    refused: list[str] = [t.extra["refusal"] for t in tokens if t.kind == "badnum"]
    tokens = [t for t in tokens if t.kind != "badnum"]
    clauses = split_clauses(tokens)
    continued: str | None = None  # the month attribute the clause before read
    for clause in clauses:
        unplaced = [t for t in clause.toks if t.kind == "refused"]
        if unplaced:  # a named date we cannot place: the clause gives no rule at all
            clause.refusals.append((list(range(len(clause.toks))),
                                    "; ".join(t.value for t in unplaced)))
            continue
        # "birthday this month or next month": "next month" continues the birthday
        if not (continued and read_month_continuation(clause, ctx, continued)):
            future = future_refusal(clause, ctx)
            if future:  # "ordered next month": no order can have been placed (nl_future)
                clause.refusals.append((list(range(len(clause.toks))), future))
                continued = None
                continue
        _read(clause, ctx)
        continued = month_key(clause)
    fill_elliptic(clauses)
    unparsed: list[str] = []
    everyone = False
    carry_neg, carry_or = False, False
    carry_lead: list[lx.Tok] = []
    reserved = reserved_words(ctx)
    for clause in clauses:
        for idx, why in clause.refusals:
            words = quote(text, mapped, [clause.toks[i] for i in idx])
            unparsed.append(f"{words} ({why})")
            refused.append(f"“{words}”: {why}")
        if not clause.conds:
            if clause.refusals:
                carry_neg, carry_or, carry_lead = False, False, []
                continue
            content = [t for t in clause.toks if t.text not in FILLER and t.kind != "punct"]
            if not content and clause.words() & {"everyone", "all", "everybody"}:
                everyone = True
            if content:
                unparsed.append(quote(text, mapped, clause.toks))
                # "in Pune or Kochi" (Kochi unknown): that "or" joined nothing we read
                carry_neg, carry_or, carry_lead = False, False, []
                continue
            # "except those who …": the connector of a clause of filler carries on
            carry_neg, carry_or = carry_neg or clause.neg, carry_or or clause.joiner == "or"
            carry_lead = carry_lead or (clause.lead_toks if clause.neg else [])
            continue
        unparsed += leftovers(text, mapped, clause, reserved)
        clause.joiner = "or" if carry_or else clause.joiner
        if clause.neg or carry_neg:  # "except …", "but not …"
            first = clause.conds[0]
            clause.conds[0] = Cond(negate(first.rule), first.tokens)
            # the words that negated it are quoted with it (not "“in Mumbai” → are not …")
            clause.lead_toks = carry_lead or clause.lead_toks
        else:
            clause.lead_toks = []
        carry_neg, carry_or, carry_lead = False, False, []
    rules = combine(clauses)
    # Rules that match no one together, and near-misses of known names, are warnings:
    # sentences for the marketer, kept apart from the prompt's unused words
    warnings = [*contradictions(rules, phrase),
                *near_misses(clauses, cities, values, reserved)]
    explanation = [f"“{quote(text, mapped, _quoted(c, k))}” → "
                   f"{c.conds[k].note or phrase(c.conds[k].rule)}"
                   for c in clauses for k in range(len(c.conds))]
    everyone = everyone and not rules["rules"] and not unparsed
    if everyone:
        explanation = [f"“{text.strip()[:80]}” → all customers"]
    return ParsedRules(rules, explanation, [*bad_numbers, *(u for u in unparsed if u)],
                       everyone, refused, warnings)


def _quoted(c: Clause, k: int) -> list[lx.Tok]:
    """The prompt's tokens a condition read; an excluded clause's first condition with
    the words that excluded it ("except those in Mumbai")."""
    return [*(c.lead_toks if k == 0 else []), *(c.toks[i] for i in c.conds[k].tokens)]


# --- reading a clause ---------------------------------------------------------------------

def _read(c: Clause, ctx: Context) -> None:
    for step in (read_percentiles, read_terms, read_names, read_text_matches, read_domains,
                 read_attributes, read_missing, read_periods, read_dates, read_money, read_counts):
        step(c, ctx)
    nl_windows.fold(c, Cond)
    read_vague_times(c, ctx)  # after fold: a window is a time too
    # "not …" at the start of a clause that no extractor used negates what it found
    if c.conds and c.toks and c.toks[0].text in ("not", "non") and 0 not in c.used:
        c.conds[0] = Cond(negate(c.conds[0].rule), [0, *c.conds[0].tokens])
        c.used.add(0)
