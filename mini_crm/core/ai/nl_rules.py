"""The offline engine for plain-English audiences: a tokenizer plus a small pattern grammar.

    parse("people in Mumbai or Pune who haven't shopped in 6 months and spent over ₹5K",
          cities=[...], attribute_keys=[...])
    → rules  city in [Mumbai, Pune] AND days_since_last_order >= 180 AND total_spend > 5000

How it reads a prompt:
1. names the data knows (cities, attribute values) become placeholders (nl_names);
2. the text becomes typed tokens: amounts, periods, dates, comparisons, ranges (nl_lexicon);
3. tokens split into clauses at connectors (and, or, but, who, with, except, commas …),
   each remembering whether it was joined by "or" and whether it was excluded;
4. extractors read each clause: names, email domains, text matches, missing values,
   attributes, periods and dates, amounts, order counts;
5. conditions combine: "or" binds tighter than "and" (as in "in Pune who spent over ₹5K
   or ordered 3 times"), exclusions become NOT.

Conventions (the same as the sentence reader in core/segments/describe.py):
"haven't ordered in N days" is (days_since_last_order >= N OR last_order_at is_null):
customers who never ordered have not ordered in N days either, and the explanation says
so; "ordered in the last N days" is days_since_last_order < N; "not in Mumbai" is
city not_in [Mumbai], which includes customers with no city (DESIGN.md "Missing values");
an order count or spend with a period is a windowed rule (nl_windows); a month is 30
days, a year 365; "over"/"more than" are strict, "at least" is not. Numbers are read by
core.numbers (1,50,000, ₹10K, 1.5 lakh); an ambiguous one ("5.000,00") is reported, not
guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from mini_crm.core.ai import nl_lexicon as lx
from mini_crm.core.ai import nl_windows
from mini_crm.core.ai.nl_lexicon import Tok
from mini_crm.core.ai.nl_names import Name, find_names
from mini_crm.core.segments.describe import describe
from mini_crm.core.segments.fields import ATTRIBUTE_KEY

MAX_VALUE = 1e12
MAX_DAYS = 36_500

# --- vocabulary the grammar uses ---------------------------------------------------------
NEG = {"not", "no", "never", "without", "none", "non", "nor", "nothing", "zero"}
LAPSE = {"inactive", "lapsed", "dormant", "churned", "stopped", "quiet", "idle", "lost",
         "absent", "away", "gone", "missing"}
ORDER_VERBS = {"ordered", "order", "ordering", "purchased", "purchase", "purchasing", "bought",
               "buy", "buying", "shopped", "shop", "shopping", "transacted", "transact",
               "checked", "paid", "spent", "active", "visited", "came", "returned"}
ORDER_NOUNS = {"order", "orders", "purchase", "purchases", "transaction", "transactions",
               "times", "time", "buys", "checkouts", "bookings", "booking"}
SIGNUP = {"joined", "join", "joining", "signed", "signup", "signups", "sign", "registered",
          "register", "registration", "registrations", "onboarded", "acquired", "enrolled",
          "created", "tenure", "subscribed", "new"}
TENURE_NOUNS = {"customer", "customers", "member", "members", "us", "been", "client",
                "clients", "around"}
SPEND = {"spent", "spend", "spends", "spending", "spender", "spenders", "worth", "ltv",
         "lifetime", "revenue", "value", "paid", "pay", "bought", "purchases", "total",
         "sales", "gmv"}
AOV = {"average", "avg", "aov", "basket", "ticket", "per", "each", "typical", "mean"}
REPEAT = {"repeat", "returning", "recurring", "regular", "regulars"}
FIELD_WORDS = {"email": "email", "e": "email", "mail": "email", "emails": "email",
               "name": "name", "names": "name", "phone": "phone", "mobile": "phone",
               "phones": "phone", "city": "city", "cities": "city"}
TEXT_OPS = {"contains": "contains", "containing": "contains", "includes": "contains",
            "including": "contains", "has": "contains", "with": "contains",
            "starts with": "starts_with", "starting with": "starts_with",
            "begins with": "starts_with", "beginning with": "starts_with",
            "start with": "starts_with", "begin with": "starts_with",
            "ends with": "ends_with", "ending with": "ends_with", "end with": "ends_with",
            "ending in": "ends_with", "ends in": "ends_with", "at": "ends_with",
            "does not contain": "not_contains", "do not contain": "not_contains",
            "not containing": "not_contains", "without": "not_contains",
            "is not": "!=", "is": "=", "equals": "=", "=": "=", "of": "=", ":": "=",
            "!=": "!="}
NOT_BEFORE = ("not in", "not from", "not based in", "not living in", "outside of", "outside",
              "except", "except for", "excluding", "other than", "apart from", "besides",
              "not", "non", "aside from", "but not")
FILLER = {
    "customers", "customer", "people", "persons", "person", "users", "user", "shoppers",
    "shopper", "buyers", "buyer", "clients", "client", "members", "member", "folks", "folk",
    "audience", "segment", "contacts", "everyone", "everybody", "all", "those", "them",
    "the", "a", "an", "of", "who", "have", "has", "had", "been", "are", "is", "was", "were",
    "did", "do", "does", "their", "they", "in", "at", "on", "for", "to", "by", "me", "show",
    "find", "get", "give", "list", "target", "want", "i", "we", "our", "my", "anyone",
    "any", "ones", "live", "lives", "living", "based", "located", "from", "that", "which",
    "with", "and", "or", "but", "also", "still", "yet", "ever", "already", "so", "far",
    "please", "let", "us", "can", "could", "would", "like", "some", "there", "here",
    "whose", "whom", "it", "its", "be", "being", "this", "these", "where", "than", "then",
    "total", "overall", "amount", "money", "rupees", "more", "less", "each", "only",
    "just", "ago", "back", "since", "before", "after", "within", "over", "account",
    "accounts", "address", "id", "recently", "currently", "now", "today", "time", "times",
    "anything", "something", "single", "made", "make", "placed", "place", "done",
    "during", "across", "around", "about", "roughly", "approximately", "s", "&", "+",
    "having", "use", "using", "holders", "holder", "owners", "people's", "fans",
    "subscribers", "guys", "everybody's", "other", "every", "whole", "entire",
    "if", "when", "as", "well", "either", "both", "too", "into", "via", "through",
    "signed", "up",
}
SPLIT = {"and", "or", "but", "who", "whose", "that", "which", "while", "with", "also",
         "either", "nor", "whereas", "plus", "where", "except", "excluding", "besides",
         "minus", "unless"}
EXCLUDE = ("except for", "except", "excluding", "other than", "apart from", "besides",
           "minus", "aside from", "but not", "and not", "unless", "exclude", "leaving out",
           "not including", "without counting")


@dataclass
class ParsedRules:
    rules: dict[str, Any]
    explanation: list[str] = field(default_factory=list)
    unparsed: list[str] = field(default_factory=list)
    everyone: bool = False  # "all customers": no rules, on purpose


@dataclass
class Cond:
    rule: dict[str, Any]  # a rule or a group
    tokens: list[int]  # clause token indices it read (for the explanation)


@dataclass
class Clause:
    toks: list[Tok]
    joiner: str = "and"
    neg: bool = False
    lead: str = ""  # the connector word before it ("with", "who" …)
    used: set[int] = field(default_factory=set)
    conds: list[Cond] = field(default_factory=list)

    def words(self) -> set[str]:
        return {t.text for t in self.toks if t.kind == "word"}

    def has(self, vocab: Iterable[str]) -> bool:
        return bool(self.words() & set(vocab))

    def index(self, *kinds: str, free: bool = True) -> list[int]:
        return [i for i, t in enumerate(self.toks)
                if t.kind in kinds and (not free or i not in self.used)]

    def before(self, i: int, phrases: Iterable[str], reach: int = 4) -> list[int] | None:
        """Token indices of a phrase ending right before i (skipping filler 'the', 'a')."""
        j = i
        while j > 0 and self.toks[j - 1].text in ("the", "a", "an", "any"):
            j -= 1
        for phrase in sorted(phrases, key=lambda p: -len(p.split())):
            parts = phrase.split()
            k = j - len(parts)
            if k >= 0 and j - k <= reach and \
                    [t.text for t in self.toks[k:j]] == parts:
                return list(range(k, j))
        return None

    def add(self, rule: dict[str, Any], tokens: Iterable[int]) -> None:
        idx = sorted(set(tokens))
        self.used.update(idx)
        self.conds.append(Cond(rule, idx))


@dataclass
class Context:
    cities: list[str]
    keys: list[str]
    values: dict[str, list[Any]]
    providers: dict[str, list[str]]  # "gmail" → ["gmail.com"]
    domains: list[str]
    today: date


# --- entry point -----------------------------------------------------------------------

def parse(text: str, *, cities: list[str], attribute_keys: list[str],
          attribute_values: dict[str, list[Any]] | None = None,
          email_domains: list[str] | None = None, today: date | None = None) -> ParsedRules:
    """Rules (the DESIGN.md JSON) for a plain-English audience description.

    `explanation` says how each part was read; `unparsed` lists what was not understood.
    An empty rules list means nothing was understood (or "all customers").
    """
    values = {k: list(v) for k, v in (attribute_values or {}).items() if k in attribute_keys
              or not attribute_keys}
    for k in attribute_keys:
        values.setdefault(k, [])
    domains = list(dict.fromkeys([*(d.lower() for d in (email_domains or [])),
                                  *lx.COMMON_MAIL_DOMAINS]))
    providers: dict[str, list[str]] = {}
    for d in domains:
        label = d.split(".")[0]
        # a domain like live.com must not turn "customers who live in Pune" into email
        if len(label) >= 3 and label not in FILLER | NEG | ORDER_VERBS | SPEND | SIGNUP:
            providers.setdefault(label, []).append(d)
    for alias, target in lx.PROVIDER_ALIASES.items():
        if target in providers and alias not in providers:
            providers[alias] = providers[target]
    ctx = Context(cities, list(values), values, providers, domains, today or date.today())

    mapped = lx.normalise(text[:1000])
    mapped, names = find_names(mapped, cities, values, _reserved(ctx))
    tokens = _lists(lx.tokenize(mapped.text, names))
    for t in tokens:  # literals keep the marketer's spelling ("Kumar", "@Acme.in")
        start, _ = mapped.source(t.start, t.start)
        _, end = mapped.source(t.end, t.end)
        t.extra["raw"] = text[start:end]
        if t.kind == "str":
            t.value = t.extra["raw"][1:-1]
    # An ambiguous number is reported with how to write it, never guessed at.
    bad_numbers = [t.value for t in tokens if t.kind == "badnum"]
    tokens = [t for t in tokens if t.kind != "badnum"]
    clauses = _clauses(tokens)
    for clause in clauses:
        _read(clause, ctx)
    _elliptic(clauses)
    unparsed: list[str] = []
    everyone = False
    carry_neg, carry_or = False, False
    reserved = _reserved(ctx)
    for clause in clauses:
        if not clause.conds:
            content = [t for t in clause.toks if t.text not in FILLER and t.kind != "punct"]
            if not content and clause.words() & {"everyone", "all", "everybody"}:
                everyone = True
            if content:
                unparsed.append(_quote(text, mapped, clause.toks))
                # "in Pune or Kochi" (Kochi unknown): that "or" joined nothing we read
                carry_neg, carry_or = False, False
                continue
            # "except those who …": the connector of a clause of filler carries on
            carry_neg, carry_or = carry_neg or clause.neg, carry_or or clause.joiner == "or"
            continue
        unparsed += _leftovers(text, mapped, clause, reserved)
        clause.joiner = "or" if carry_or else clause.joiner
        if clause.neg or carry_neg:  # "except …", "but not …"
            first = clause.conds[0]
            clause.conds[0] = Cond(negate(first.rule), first.tokens)
        carry_neg, carry_or = False, False
    rules = _combine(clauses)
    explanation = [f"“{_quote(text, mapped, [c.toks[i] for i in cond.tokens])}” → "
                   f"{phrase(cond.rule)}" for c in clauses for cond in c.conds]
    everyone = everyone and not rules["rules"] and not unparsed
    if everyone:
        explanation = [f"“{text.strip()[:80]}” → all customers"]
    return ParsedRules(rules, explanation, [*bad_numbers, *(u for u in unparsed if u)],
                       everyone)


# Vague words that usually come with the figure that defines them ("high-value: ₹20k+").
VAGUE = {"high", "low", "big", "top", "best", "good", "valuable", "premium", "key", "target",
         "targeted", "loyal", "engaged", "active", "segment", "group", "cohort", "list"}


def _leftovers(text: str, mapped: lx.Mapped, c: Clause, reserved: set[str]) -> list[str]:
    """Words of a clause no rule used and the grammar does not know: reported, not guessed."""
    out, run = [], []
    for i, t in enumerate(c.toks):
        unknown = i not in c.used and t.kind in ("word", "num", "str", "money") \
            and t.text not in reserved and t.text not in VAGUE and len(t.text) > 2
        if unknown:
            run.append(t)
        elif run:
            out.append(_quote(text, mapped, run))
            run = []
    if run:
        out.append(_quote(text, mapped, run))
    return out


def _reserved(ctx: Context) -> set[str]:
    """Words the grammar itself uses: attribute values spelt like them need their key."""
    words = set(FILLER) | NEG | LAPSE | ORDER_VERBS | ORDER_NOUNS | SIGNUP | SPEND | AOV \
        | REPEAT | set(FIELD_WORDS) | set(lx.UNITS) | set(lx.MONTHS) | set(lx.NUMBER_WORDS) \
        | set(ctx.providers) | {"true", "false", "yes", "no", "unknown", "other", "none",
                                "first", "last", "app"}
    for phrase in (*lx.CMP_PHRASES, *lx.POST_PHRASES, *lx.WINDOW_PHRASES, *TEXT_OPS):
        words.update(phrase.split())
    return words


def _quote(text: str, mapped: lx.Mapped, toks: list[Tok]) -> str:
    if not toks:
        return ""
    start, _ = mapped.source(min(t.start for t in toks), min(t.start for t in toks))
    _, end = mapped.source(max(t.end for t in toks), max(t.end for t in toks))
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "'’"):
        start -= 1  # "haven't": the "not" came from inside a word
    return text[start:end].strip(" ,;.")


_DAYS_PHRASES = {
    "days_since_signup": ("joined in the last {} days", "joined at least {} days ago"),
    "days_since_first_order": ("first ordered in the last {} days",
                               "first ordered at least {} days ago"),
}


def phrase(rule: dict[str, Any]) -> str:
    """How one rule reads (describe.py's sentence, with a few clearer cases)."""
    f, op, v = rule.get("field"), rule.get("operator"), rule.get("value")
    if f == "order_count" and op == "=" and v in (0, 1):
        return "have never ordered" if v == 0 else "placed exactly 1 order"
    if f in _DAYS_PHRASES and op in ("<", "<=", ">", ">="):
        recent, old = _DAYS_PHRASES[f]
        if op in ("<", "<="):
            return recent.format(v + (op == "<="))
        return old.format(v + (op == ">"))
    group = rule if "rules" in rule else {"combinator": "and", "rules": [rule]}
    return readable(describe(group)).removeprefix("Customers who ")


def readable(sentence: str) -> str:
    """describe()'s sentence with attribute fields named in words (loyalty tier)."""
    return re.sub(r"attributes\.([A-Za-z0-9_]+)", lambda m: m.group(1).replace("_", " "),
                  sentence)


# --- token lists and clauses ------------------------------------------------------------

def _lists(tokens: list[Tok]) -> list[Tok]:
    """Join 'Mumbai, Pune or Delhi' (and lists of domains) into one token."""
    out: list[Tok] = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if t.kind in ("name", "domain"):
            items, j = [t], i + 1
            while j < len(tokens):
                k = j
                while k < len(tokens) and tokens[k].text in (",", "and", "or", "&", "/", "nor",
                                                             "+"):
                    k += 1
                if k > j and k < len(tokens) and tokens[k].kind == t.kind and \
                        (t.kind == "domain" or _same_field(items[0], tokens[k])):
                    items.append(tokens[k])
                    j = k + 1
                else:
                    break
            if len(items) > 1:
                value = [x.value for x in items] if t.kind == "name" else [x.text for x in items]
                out.append(Tok(t.kind + "s", " ".join(x.text for x in tokens[i:j]), t.start,
                               tokens[j - 1].end, value))
                i = j
                continue
        out.append(t)
        i += 1
    return out


def _same_field(a: Tok, b: Tok) -> bool:
    fa = {n.field for n in (a.value or [])}
    fb = {n.field for n in (b.value or [])}
    return bool(fa & fb)


def _clauses(tokens: list[Tok]) -> list[Clause]:
    clauses: list[Clause] = []
    current: list[Tok] = []
    joiner, neg, lead = "and", False, ""
    i = 0

    def close() -> None:
        nonlocal current, joiner, neg, lead
        if current:
            clauses.append(Clause(current, joiner, neg, lead))
            joiner, neg, lead = "and", False, ""
        current = []

    while i < len(tokens):
        t = tokens[i]
        exclude = lx._phrase_at(tokens, i, EXCLUDE)
        if exclude:
            close()
            neg = True
            lead = exclude[0]
            i += exclude[1]
            continue
        glued_with = t.text == "with" and current and current[-1].text in (
            "starts", "ends", "begins", "starting", "ending", "beginning", "start", "end",
            "begin")  # "ends with" is one operator, not a new clause
        if t.kind == "punct" or (t.kind == "word" and t.text in SPLIT and not glued_with):
            close()
            if t.text in ("or", "nor"):
                joiner = "or"
            if t.kind == "word":
                lead = t.text
            i += 1
            continue
        current.append(t)
        i += 1
    close()
    return clauses


# --- reading a clause ---------------------------------------------------------------------

def _read(c: Clause, ctx: Context) -> None:
    for step in (_names, _text_matches, _domains, _attributes, _missing, _periods, _dates,
                 _money, _counts):
        step(c, ctx)
    nl_windows.fold(c, ctx.today, Cond)
    # "not …" at the start of a clause that no extractor used negates what it found
    if c.conds and c.toks and c.toks[0].text in ("not", "non") and 0 not in c.used:
        c.conds[0] = Cond(negate(c.conds[0].rule), [0, *c.conds[0].tokens])
        c.used.add(0)


def negate(rule: dict[str, Any]) -> dict[str, Any]:
    """The opposite rule, kept simple where the meaning is exact."""
    if "rules" in rule:
        return {**rule, "not": not rule.get("not", False)}
    op, f = rule["operator"], rule["field"]
    flips = {"in": "not_in", "not_in": "in", "=": "!=", "!=": "=",
             "contains": "not_contains", "not_contains": "contains",
             "is_null": "is_not_null", "is_not_null": "is_null"}
    # Each negative operator is exactly NOT of its positive twin on every field (missing
    # values included), so the flip is exact.
    if op in flips:
        return {**rule, "operator": flips[op]}
    # total_spend and order_count are never null, so the complement is exact.
    if f in ("total_spend", "order_count") and op in ("<", "<=", ">", ">="):
        return {**rule, "operator": {"<": ">=", "<=": ">", ">": "<=", ">=": "<"}[op]}
    return {"combinator": "and", "not": True, "rules": [rule]}


def _local_neg(c: Clause, i: int) -> list[int] | None:
    """The negation just before token i: "not in", "outside", "not on", "non-"."""
    phrase = c.before(i, NOT_BEFORE)
    if phrase:
        return phrase
    near = [j for j in range(max(0, i - 2), i) if c.toks[j].text in ("not", "non", "without",
                                                                     "except", "excluding")
            and j not in c.used]
    return near[:1] + [j for j in range(near[0] + 1, i) if c.toks[j].text in (
        "on", "using", "use", "with", "from", "a", "an")] if near else None


def _names(c: Clause, ctx: Context) -> None:
    for i in c.index("name", "names"):
        t = c.toks[i]
        options: list[list[Name]] = t.value if t.kind == "names" else [t.value]
        field_name = _pick_field(c, options)
        if field_name is None:
            continue
        vals = list(dict.fromkeys(n.value for opts in options for n in opts
                                  if n.field == field_name))
        neg = _local_neg(c, i)
        used = [i, *(neg or [])]
        if field_name == "city":
            rule = {"field": "city", "operator": "not_in" if neg else "in", "value": vals}
        else:
            used += _key_mentions(c, field_name[len("attributes."):])
            if len(vals) == 1:
                rule = {"field": field_name, "operator": "!=" if neg else "=", "value": vals[0]}
            else:
                rule = {"field": field_name, "operator": "not_in" if neg else "in",
                        "value": vals}
        # the words that introduced the name are read too ("in", "from", "is")
        j = i - 1 - len(neg or [])
        while j >= 0 and c.toks[j].text in ("in", "from", "of", "is", "=", "living", "based",
                                            "located", "at", "to"):
            used.append(j)
            j -= 1
        c.add(rule, used)


def _pick_field(c: Clause, options: list[list[Name]]) -> str | None:
    fields = set.intersection(*({n.field for n in opts} for opts in options))
    if not fields:
        return None
    if len(fields) == 1:
        return fields.pop()
    mentioned = [f for f in fields if f.startswith("attributes.")
                 and _key_mentions(c, f[len("attributes."):])]
    return mentioned[0] if len(mentioned) == 1 else None


def _key_words(key: str) -> list[str]:
    return [w for w in key.lower().split("_") if w]


def _stem_match(word: str, kw: str) -> bool:
    if word == kw or word.rstrip("s") == kw.rstrip("s"):
        return True
    if len(kw) >= 3 and word.startswith(kw) and len(word) - len(kw) <= 3:
        return True
    return len(word) >= 5 and len(kw) >= 5 and word[:5] == kw[:5]


GENERIC_KEY_WORDS = {"id", "type", "is", "has", "at", "date", "value", "count", "total",
                     "name", "email", "phone", "city", "order", "orders", "last", "first",
                     "customer", "user", "source", "status", "the", "of"}


def _key_mentions(c: Clause, key: str, keys: list[str] | None = None) -> list[int]:
    """Indices of clause words naming attribute `key` ("loyalty tier", "tier", "prefer")."""
    words = _key_words(key)
    hits = [i for i, t in enumerate(c.toks) if t.kind == "word"
            and any(_stem_match(t.text, w) for w in words)]
    if not hits:
        return []
    matched = {w for w in words for i in hits if _stem_match(c.toks[i].text, w)}
    if matched == set(words):
        return hits
    # one distinctive word is enough ("tier" for loyalty_tier) unless other keys share it
    distinctive = {w for w in matched if w not in GENERIC_KEY_WORDS}
    if keys is not None:
        distinctive = {w for w in distinctive
                       if not any(w in _key_words(k) for k in keys if k != key)}
    return hits if distinctive else []


def _domains(c: Clause, ctx: Context) -> None:
    found: list[tuple[list[int], list[str]]] = []
    for i in c.index("domain", "domains"):
        t = c.toks[i]
        texts = t.value if t.kind == "domains" else [t.text]
        if any(x.startswith(".") for x in texts):
            continue  # a bare ".in" is only meaningful after "email ends with"
        found.append(([i], [x.lstrip("@") for x in texts]))
    for i in c.index("word"):
        if c.toks[i].text in ctx.providers:
            # "gmail or yahoo users": lists of provider words
            found.append(([i], [c.toks[i].text]))
    for idx, items in found:
        if any(i in c.used for i in idx):
            continue
        rules = []
        for item in items:
            if "." in item:
                rules.append({"field": "email", "operator": "ends_with", "value": "@" + item})
            else:
                hits = ctx.providers.get(item, [])
                if len(hits) == 1:
                    rules.append({"field": "email", "operator": "ends_with",
                                  "value": "@" + hits[0]})
                else:
                    rules.append({"field": "email", "operator": "contains",
                                  "value": f"@{item}."})
        # provider words joined by or/and: one clause each would split them; merge here
        rule = rules[0] if len(rules) == 1 else {"combinator": "or", "not": False,
                                                 "rules": rules}
        neg = _local_neg(c, idx[0])
        used = [*idx, *(neg or [])]
        used += [j for j, t in enumerate(c.toks) if t.text in ("email", "mail", "e", "address",
                                                                "id", "domain", "account")
                 and j not in c.used and not _is_text_op_field(c, j)]
        c.add(negate(rule) if neg else rule, used)


def _is_text_op_field(c: Clause, j: int) -> bool:
    nxt = c.toks[j + 1].text if j + 1 < len(c.toks) else ""
    return nxt in ("contains", "starts", "ends", "begins", "is", "containing", "ending",
                   "starting", "beginning", "includes")


def _literal(c: Clause, i: int) -> tuple[Any, int] | None:
    """The value token at i: quoted text, a domain, a number or a word."""
    if i >= len(c.toks):
        return None
    t = c.toks[i]
    if t.text == "." and i + 1 < len(c.toks) and c.toks[i + 1].glued \
            and c.toks[i + 1].kind == "word":  # ".in", ".co"
        return "." + c.toks[i + 1].text, i + 1
    if t.kind == "str" or (t.kind == "domain"):
        return (t.value if t.kind == "str" else t.text), i
    if t.kind == "num":
        return (int(t.value) if t.value == int(t.value) else t.value), i
    if t.kind == "sym" and t.text == "+" and i + 1 < len(c.toks) and c.toks[i + 1].kind == "num":
        return "+" + str(int(c.toks[i + 1].value)), i + 1
    if t.kind in ("word", "name"):
        return (t.value[0].value if t.kind == "name" else t.extra.get("raw", t.text)), i
    return None


def _text_matches(c: Clause, ctx: Context) -> None:
    """'email ends with .in', 'name contains Kumar', 'phone starts with +9198'."""
    for i in c.index("word"):
        f = FIELD_WORDS.get(c.toks[i].text)
        if f is None or i in c.used:
            continue
        j = i + 1
        if c.toks[i].text == "e" and j < len(c.toks) and c.toks[j].text in ("mail", "-"):
            j += 1 if c.toks[j].text == "mail" else 2
        if j < len(c.toks) and c.toks[j].text in ("address", "number", "id"):
            j += 1
        op_words = [t.text for t in c.toks[j:j + 3]]
        op = None
        for phrase in sorted(TEXT_OPS, key=lambda p: -len(p.split())):
            parts = phrase.split()
            if op_words[:len(parts)] == parts:
                op, j = TEXT_OPS[phrase], j + len(parts)
                break
        if op is None or op in ("=", "!=") and f == "city":
            continue
        lit = _literal(c, j)
        if lit is None:
            continue
        value, end = lit
        value = str(value)
        if f == "email" and op == "=" and value.startswith("@"):
            op = "ends_with"
        if f == "email" and c.toks[j - 1].text == "at" and not value.startswith(("@", ".")):
            value = "@" + value  # "emails at acme.in": the domain, not any address ending so
        rule = {"field": f, "operator": op, "value": value}
        c.add(rule, range(i, end + 1))


def _attributes(c: Clause, ctx: Context) -> None:
    """Attributes named by key: 'tier is gold', 'attribute plan = pro', 'app installed'."""
    explicit = [i for i in c.index("word") if c.toks[i].text in ("attribute", "attributes")]
    for i in explicit:
        j = i + 1
        while j < len(c.toks) and c.toks[j].text in ("the", "called", "named"):
            j += 1
        if j >= len(c.toks) or c.toks[j].kind not in ("word", "str", "name"):
            continue
        key = str(c.toks[j].value if c.toks[j].kind == "str" else c.toks[j].text)
        if c.toks[j].kind == "name":
            continue
        known = {k.lower(): k for k in ctx.keys}
        key = known.get(key.lower(), key)
        if not ATTRIBUTE_KEY.match(key):
            continue
        _attribute_value(c, ctx, key, [i, j], j + 1)
    for key in ctx.keys:
        mentions = [m for m in _key_mentions(c, key, ctx.keys) if m not in c.used]
        if mentions:
            _attribute_value(c, ctx, key, mentions, max(mentions) + 1)


def _attribute_value(c: Clause, ctx: Context, key: str, mentions: list[int], after: int
                     ) -> None:
    field_name = f"attributes.{key}"
    known = ctx.values.get(key, [])
    neg_words = [i for i, t in enumerate(c.toks) if t.text in NEG and i not in c.used]
    negated = bool(neg_words)
    if known and all(isinstance(v, bool) for v in known):
        c.add({"field": field_name, "operator": "=", "value": not negated},
              [*mentions, *neg_words])
        return
    numeric = known and all(isinstance(v, int | float) and not isinstance(v, bool)
                            for v in known)
    if numeric:
        for i in c.index("date", "range", "num"):
            t = c.toks[i]
            if t.kind == "date" and t.value[1] and "month" in key:
                c.add({"field": field_name, "operator": "!=" if negated else "=",
                       "value": t.value[1]}, [*mentions, i])
                return
            if t.kind == "range":
                c.add({"field": field_name, "operator": "between",
                       "value": [_n(t.value[0]), _n(t.value[1])]}, [*mentions, i])
                return
            if t.kind == "num":
                op, extra = _op_around(c, i, default="=")
                c.add({"field": field_name, "operator": op, "value": _n(t.value)},
                      [*mentions, i, *extra])
                return
        return
    # text values: a known value anywhere in the clause, else the literal after "is" / "="
    low = {str(v).lower().replace("_", " "): v for v in known if isinstance(v, str)}
    words = [(i, t) for i, t in enumerate(c.toks) if i not in c.used and i not in mentions]
    found = [(i, low[t.text]) for i, t in words if t.kind == "word" and t.text in low]
    if found:
        vals = list(dict.fromkeys(v for _, v in found))
        op = ("!=" if negated else "=") if len(vals) == 1 else ("not_in" if negated else "in")
        c.add({"field": field_name, "operator": op,
               "value": vals[0] if len(vals) == 1 else vals},
              [*mentions, *(i for i, _ in found), *neg_words])
        return
    j = after
    while j < len(c.toks) and c.toks[j].text in ("is", "=", ":", "equals", "of", "as", "set",
                                                  "to", "cmp", "not"):
        j += 1
    if j == after and not (c.toks[mentions[0] - 1].text == "attribute" if mentions[0] else 0):
        return
    if j < len(c.toks) and c.toks[j].kind == "cmp" and c.toks[j].value == "=":
        j += 1
    lit = _literal(c, j)
    if lit is None or (c.toks[j].kind == "word" and c.toks[j].text in FILLER):
        return
    value, end = lit
    if isinstance(value, str):
        value = {"true": True, "yes": True, "false": False}.get(value.lower(), value)
        if isinstance(value, str):
            # the marketer's own spelling from the prompt, matched to the data's if known
            value = low.get(value.lower(), _raw(c, j) or value)
    c.add({"field": field_name, "operator": "!=" if negated else "=", "value": value},
          [*mentions, *range(after, end + 1), *neg_words])


def _raw(c: Clause, j: int) -> str | None:
    return c.toks[j].extra.get("raw")


def _missing(c: Clause, ctx: Context) -> None:
    """'without an email', 'no phone number', 'with a phone number'."""
    for i in c.index("word"):
        f = FIELD_WORDS.get(c.toks[i].text)
        if f is None or f == "name" and c.toks[i].text == "names":
            continue
        if c.toks[i].text == "e":
            continue
        around = {t.text for t in c.toks[max(0, i - 3):i + 3]}
        neg = around & (NEG | {"missing", "empty", "blank", "unknown", "lacking"})
        if neg:
            c.add({"field": f, "operator": "is_null"},
                  [i, *(j for j in range(max(0, i - 3), min(len(c.toks), i + 3))
                        if c.toks[j].text in neg | {"address", "number"})])
        elif c.lead in ("with", "who") or around & {"has", "have", "having", "known"}:
            c.add({"field": f, "operator": "is_not_null"},
                  [i, *(j for j in range(i, min(len(c.toks), i + 2))
                        if c.toks[j].text in ("address", "number"))])


def _op_around(c: Clause, i: int, default: str) -> tuple[str, list[int]]:
    """The comparison for the quantity at i: a cmp before it or a post after it."""
    j = i - 1
    while j >= 0 and c.toks[j].kind in ("word",) and c.toks[j].text in ("than", "of", "a",
                                                                        "the", "₹", "rs"):
        j -= 1
    if j >= 0 and c.toks[j].kind == "cmp" and j not in c.used and c.toks[j].value != "between":
        op = c.toks[j].value
        extra = [j]
        # "not more than", "not over"
        if j > 0 and c.toks[j - 1].text == "not" and (j - 1) not in c.used:
            op = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "=": "!="}[op]
            extra.append(j - 1)
        return op, extra
    if i + 1 < len(c.toks) and c.toks[i + 1].kind == "post":
        return c.toks[i + 1].value, [i + 1]
    if i + 2 < len(c.toks) and c.toks[i + 2].kind == "post" and c.toks[i + 1].kind == "word":
        return c.toks[i + 2].value, [i + 2]  # "3 orders or fewer"
    return default, []


def _n(v: float) -> int | float:
    return int(v) if float(v).is_integer() else round(float(v), 2)


def _time_field(c: Clause) -> tuple[str, str, list[int]]:
    """(days field, date field, trigger indices) that a period or date in this clause is about."""
    w = [t.text for t in c.toks]
    firsts = [i for i, x in enumerate(w) if x == "first"]
    if firsts and (c.has(ORDER_VERBS | ORDER_NOUNS) or c.lead in ("who",)):
        return "days_since_first_order", "first_order_at", firsts
    signup = [i for i, x in enumerate(w) if x in SIGNUP]
    tenure = [i for i, x in enumerate(w) if x in TENURE_NOUNS and i + 1 < len(w)
              and w[i + 1] in ("for", "since")]
    if "with" in w and "us" in w:
        tenure.append(w.index("us"))
    if signup or tenure:
        return "days_since_signup", "created_at", signup + tenure
    return "days_since_last_order", "last_order_at", [i for i, x in enumerate(w)
                                                       if x in ORDER_VERBS | ORDER_NOUNS | LAPSE]


def _negated(c: Clause) -> list[int]:
    """Negation or lapse words in a clause ("have not", "no orders", "inactive")."""
    return [i for i, t in enumerate(c.toks) if t.text in (NEG | LAPSE) - {"zero"}
            and i not in c.used]


def _periods(c: Clause, ctx: Context) -> None:
    for i in c.index("period", "range"):
        t = c.toks[i]
        if t.kind == "range" and t.extra.get("kind") != "period":
            continue
        days_field, _, triggers = _time_field(c)
        if t.kind == "range":
            lo, hi = (int(round(x)) for x in t.value)
            if hi > MAX_DAYS:
                continue
            rule = {"field": days_field, "operator": "between", "value": [lo, hi]}
            c.add(rule, [i, *triggers, *_ago(c, i)])
            continue
        days = int(t.value)
        if days > MAX_DAYS:
            continue
        used = [i, *triggers]
        op, extra = _op_around(c, i, default="")
        ago = _ago(c, i)
        window = c.before(i, [x.text for x in c.toks if x.kind == "window"], reach=3)
        window = [j for j in range(max(0, i - 3), i) if c.toks[j].kind == "window"]
        neg = _negated(c)
        if op:
            used += extra
            if window and not ago:
                # "within less than 30 days" reads like the window itself
                op = ">=" if neg else "<"
            used += neg if not ago else []
        elif ago:
            op = ">="
        elif window or (i > 0 and c.toks[i - 1].text in ("in", "for", "since")):
            lead = c.toks[i - 1].text if i > 0 else ""
            if neg:
                op, used = ">=", used + neg
            elif lead == "for" and not window:
                op = ">="  # "customers for 2 years", "inactive for 90 days" (lapse = neg)
            else:
                op = "<"
            used += window + ([i - 1] if i > 0 else [])
        else:
            op = ">=" if neg else "<"
            used += neg
        rule = {"field": days_field, "operator": op, "value": days}
        c.add(_or_never(rule) if _not_ordered(c, rule, ago) else rule, used + ago)


def _not_ordered(c: Clause, rule: dict[str, Any], ago: list[int]) -> bool:
    """"haven't ordered in 30 days", "not ordered since March": a negation (not a lapse
    word like "lapsed", which says they did order once) on the last order."""
    return rule["field"] in ("days_since_last_order", "last_order_at") and not ago \
        and rule["operator"] in (">=", ">", "<") and bool(
            {c.toks[i].text for i in _negated(c)} & NEG)


def _or_never(rule: dict[str, Any]) -> dict[str, Any]:
    """The rule or 'never ordered': who has not ordered lately includes who never did."""
    return {"combinator": "or", "not": False,
            "rules": [rule, {"field": "last_order_at", "operator": "is_null"}]}


def _ago(c: Clause, i: int) -> list[int]:
    j = i + 1
    if j < len(c.toks) and c.toks[j].kind == "post":
        j += 1
    return [j] if j < len(c.toks) and c.toks[j].text in ("ago", "back", "old") else []


def _dates(c: Clause, ctx: Context) -> None:
    for i in c.index("date"):
        year, month, day = c.toks[i].value
        start, end = _date_span(year, month, day, ctx.today)
        _, date_field, triggers = _time_field(c)
        lead = c.toks[i - 1].text if i > 0 else ""
        neg = _negated(c)
        used = [i, *triggers, *([i - 1] if lead else [])]
        if lead in ("since", "from"):
            rule = {"field": date_field, "operator": "<" if neg else ">=",
                    "value": start.isoformat()}
            if neg and _not_ordered(c, rule, []):
                rule = _or_never(rule)
            used += neg
        elif lead == "after":
            rule = {"field": date_field, "operator": ">", "value": end.isoformat()}
        elif lead in ("before",):
            rule = {"field": date_field, "operator": "<", "value": start.isoformat()}
        elif lead in ("until", "till"):
            rule = {"field": date_field, "operator": "<=", "value": end.isoformat()}
        else:  # "in March", "during 2024", "on 2025-01-31"
            rule = {"field": date_field, "operator": "between",
                    "value": [start.isoformat(), end.isoformat()]}
            if neg:
                rule = negate(rule)
                used += neg
        c.add(rule, used)


def _date_span(year: int | None, month: int | None, day: int, today: date
               ) -> tuple[date, date]:
    if year == 0:  # "this year", "this month"
        year, month = today.year, (today.month if month == 0 else month)
    if month is None:  # a whole year
        return date(year or today.year, 1, 1), date(year or today.year, 12, 31)
    if year is None:  # the latest such month not in the future
        year = today.year if (month, day) <= (today.month, today.day) else today.year - 1
    start = date(year, month, min(day, 28) if day > 28 else day)
    if day != 1:
        return start, start
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return start, nxt - timedelta(days=1)


def _money(c: Clause, ctx: Context) -> None:
    spendish = c.has(SPEND) or c.has(AOV)
    for i in c.index("money", "range", "num"):
        t = c.toks[i]
        if t.kind == "range" and t.extra.get("kind") not in ("money", "num"):
            continue
        if t.kind == "num" and not spendish:
            continue
        if t.kind in ("num", "range") and t.kind != "money" and not spendish:
            continue
        if t.kind in ("num", "range") and _counted(c, i):
            continue
        words = c.words()
        aov = bool(words & AOV) or ("order" in words and "value" in words)
        field_name = "avg_order_value" if aov else "total_spend"
        triggers = [j for j, x in enumerate(c.toks) if x.text in SPEND | AOV
                    or (aov and x.text in ("order", "orders", "value"))]
        if t.kind == "range":
            lo, hi = t.value
            if hi > MAX_VALUE:
                continue
            c.add({"field": field_name, "operator": "between", "value": [_n(lo), _n(hi)]},
                  [i, *triggers])
            continue
        if t.value > MAX_VALUE:
            continue
        op, extra = _op_around(c, i, default=">=")
        if _negated(c) and not extra and c.has({"not", "never"}):
            op = "<"  # "haven't spent ₹500" → under ₹500
        c.add({"field": field_name, "operator": op, "value": _n(t.value)},
              [i, *extra, *triggers])


def _counted(c: Clause, i: int) -> bool:
    """Is the number at i a count of orders ("3 orders", "more than 2 purchases")?"""
    t = c.toks[i]
    if t.times:
        return True
    nxt = c.toks[i + 1:i + 4]
    return any(x.text in ORDER_NOUNS for x in nxt if x.kind == "word")


def _counts(c: Clause, ctx: Context) -> None:
    w = c.words()
    for i in c.index("num", "range"):
        t = c.toks[i]
        if t.kind == "range" and t.extra.get("kind") != "num":
            continue
        if not (_counted(c, i) or (w & ORDER_NOUNS) or (w & ORDER_VERBS and t.times)):
            continue
        nouns = [j for j in range(i + 1, min(len(c.toks), i + 4))
                 if c.toks[j].text in ORDER_NOUNS]
        verbs = [j for j, x in enumerate(c.toks) if x.text in ORDER_VERBS and j not in c.used]
        if t.kind == "range":
            lo, hi = t.value
            c.add({"field": "order_count", "operator": "between", "value": [_n(lo), _n(hi)]},
                  [i, *nouns, *verbs])
            continue
        if t.value > MAX_VALUE:
            continue
        neg = _negated(c)
        op, extra = _op_around(c, i, default="=")
        if t.text == "one" and any(c.toks[j].text == "time" for j in nouns):
            op = "="  # "one-time buyers"
        if neg and not extra and t.value == 0:
            neg = []
        rule = {"field": "order_count", "operator": op, "value": _n(t.value)}
        c.add(negate(rule) if neg and c.has({"not"}) and not extra else rule,
              [i, *extra, *nouns, *verbs])
    if any(cond.rule.get("field") == "order_count" for cond in c.conds) \
            or c.index("period", "date", free=False):
        return
    verbs = [j for j, x in enumerate(c.toks) if x.text in ORDER_VERBS | ORDER_NOUNS
             and j not in c.used and x.text not in ("spent", "paid", "active", "visited",
                                                    "came", "returned")]
    if not verbs:
        if w & REPEAT:
            c.add({"field": "order_count", "operator": ">=", "value": 2},
                  [j for j, x in enumerate(c.toks) if x.text in REPEAT])
        elif "first" in w and w & {"time", "timers", "timer"}:
            c.add({"field": "order_count", "operator": "=", "value": 1},
                  [j for j, x in enumerate(c.toks) if x.text in ("first", "time", "timers",
                                                                 "timer", "-")])
        return
    neg = _negated(c)
    if neg:
        c.add({"field": "order_count", "operator": "=", "value": 0}, [*verbs, *neg])
    elif w & REPEAT:
        c.add({"field": "order_count", "operator": ">=", "value": 2},
              [*verbs, *(j for j, x in enumerate(c.toks) if x.text in REPEAT)])
    elif w & {"ever", "have", "has", "already", "before", "placed", "made"}:
        c.add({"field": "order_count", "operator": ">=", "value": 1}, verbs)


# --- combining clauses -----------------------------------------------------------------

ELLIPTIC_FIELDS = ("order_count", "total_spend", "avg_order_value", "days_since_last_order",
                   "days_since_first_order", "days_since_signup")


def _elliptic(clauses: list[Clause]) -> None:
    """'more than 2 but fewer than 6 orders': a bare comparison borrows its neighbour's field."""
    for k, c in enumerate(clauses):
        if c.conds:
            continue
        qty = [i for i in c.index("num", "money", "period")
               if i > 0 and c.toks[i - 1].kind == "cmp" and c.toks[i - 1].value != "between"]
        if len(qty) != 1:
            continue
        neighbours = [n for n in (clauses[k - 1] if k else None,
                                  clauses[k + 1] if k + 1 < len(clauses) else None) if n]
        for n in neighbours:
            fields = [cond.rule.get("field") for cond in n.conds]
            field_name = next((f for f in fields if f in ELLIPTIC_FIELDS), None)
            if field_name is None:
                continue
            t = c.toks[qty[0]]
            is_days = field_name.startswith("days_")
            if (t.kind == "period") != is_days:
                continue
            value = int(t.value) if is_days else _n(t.value)
            if value > (MAX_DAYS if is_days else MAX_VALUE):
                continue
            c.add({"field": field_name, "operator": c.toks[qty[0] - 1].value, "value": value},
                  [qty[0] - 1, qty[0]])
            break

def _combine(clauses: list[Clause]) -> dict[str, Any]:
    """AND of OR-runs: 'A who B or C' → A AND (B OR C); exclusions negate their clause."""
    items: list[tuple[str, dict[str, Any]]] = []
    for c in clauses:
        joiner = "or" if c.joiner == "or" and items else "and"
        for k, cond in enumerate(c.conds):
            items.append((joiner if k == 0 else "and", cond.rule))
    groups: list[list[dict[str, Any]]] = []
    for joiner, rule in items:
        if joiner == "or" and groups:
            groups[-1].append(rule)
        else:
            groups.append([rule])
    rules: list[dict[str, Any]] = []
    for g in groups:
        if len(g) == 1:
            rules.append(g[0])
        else:
            rules.append({"combinator": "or", "not": False, "rules": g})
    return {"combinator": "and", "not": False, "rules": rules}
