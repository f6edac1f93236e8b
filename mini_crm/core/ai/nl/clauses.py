"""A prompt as clauses: the token lists, what each clause read, and small helpers over a clause."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from mini_crm.core.ai.nl import tokens as lx
from mini_crm.core.ai.nl.tokens import Tok
from mini_crm.core.ai.nl.vocab import EXCLUDE, FILLER, LAPSE, NEG, ORDER_VERBS, SPLIT


@dataclass
class ParsedRules:
    rules: dict[str, Any]
    explanation: list[str] = field(default_factory=list)
    unparsed: list[str] = field(default_factory=list)
    everyone: bool = False  # "all customers": no rules, on purpose
    # Parts recognised but refused, with why: "“ordered on 31 February”: 31 February
    # is not a date (February has at most 29 days)" (also quoted in `unparsed`).
    refused: list[str] = field(default_factory=list)
    # Sentences to check before applying, in the marketer's words: rules that match no
    # one together (nl_contradictions), "“Mumbay” …: did you mean Mumbai?" (nl_near_misses).
    # Never words of the prompt: those are `unparsed`.
    warnings: list[str] = field(default_factory=list)


@dataclass
class Cond:
    rule: dict[str, Any]  # a rule or a group
    tokens: list[int]  # clause token indices it read (for the explanation)
    note: str = ""  # how it was read when the rule alone does not say (a definition, a share)


@dataclass
class Clause:
    toks: list[Tok]
    joiner: str = "and"
    neg: bool = False
    lead: str = ""  # the connector word before it ("with", "who" …)
    used: set[int] = field(default_factory=set)
    conds: list[Cond] = field(default_factory=list)
    # (token indices, why): parts read but refused ("top 10%" of what?, "next Diwali")
    refusals: list[tuple[list[int], str]] = field(default_factory=list)
    # the excluding words before it ("except", "but not"): quoted with what they negate,
    # so the explanation reads "“except in Mumbai” → are not in Mumbai"
    lead_toks: list[Tok] = field(default_factory=list)

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

    def add(self, rule: dict[str, Any], tokens: Iterable[int], note: str = "") -> None:
        idx = sorted(set(tokens))
        self.used.update(idx)
        self.conds.append(Cond(rule, idx, note))

    def refuse(self, tokens: Iterable[int], why: str) -> None:
        """These words were recognised but give no rule: reported with why, never guessed."""
        idx = sorted(set(tokens))
        self.used.update(idx)
        self.refusals.append((idx, why))


@dataclass
class Context:
    cities: list[str]
    keys: list[str]
    values: dict[str, list[Any]]
    providers: dict[str, list[str]]  # "gmail" → ["gmail.com"]
    domains: list[str]
    today: date
    terms: dict[str, Any] = field(default_factory=dict)  # key → terms.Term
    # (field, "top"|"bottom", percent) → threshold over today's data, None without data
    quantile: Callable[[str, str, float], float | None] | None = None


# --- token lists and clauses ------------------------------------------------------------

# "on or after 1 March" is one bound, including the day: read as "since" / "until" (its
# "or" split the clause: "ordered on" went unused and "after" was strict, and "signed up
# on or after" lost its sign-up to the order date)
ON_OR = {"after": "since", "before": "until"}


def join_on_or(tokens: list[Tok]) -> list[Tok]:
    """"on or after" → one "since" token, "on or before" → one "until" token."""
    out: list[Tok] = []
    i = 0
    while i < len(tokens):
        texts = [t.text for t in tokens[i:i + 3]]
        if len(texts) == 3 and texts[:2] == ["on", "or"] and texts[2] in ON_OR:
            out.append(Tok("word", ON_OR[texts[2]], tokens[i].start, tokens[i + 2].end))
            i += 3
            continue
        out.append(tokens[i])
        i += 1
    return out


def join_lists(tokens: list[Tok]) -> list[Tok]:
    """Join 'Mumbai, Pune or Delhi' (and lists of domains) into one token."""
    out: list[Tok] = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if t.kind in ("name", "domain"):
            items, j = [t], i + 1
            strays: list[Tok] = []  # unknown words inside the list ("Pune, mumbay and Delhi")
            while j < len(tokens):
                k = _past_separators(tokens, j)
                stray = None
                if t.kind == "name" and k > j and k < len(tokens) and _stray(tokens[k]):
                    # one unknown word between separators stays out of the list, which
                    # goes on: "Pune, mumbay and Delhi" is never "Pune AND Delhi"
                    after = _past_separators(tokens, k + 1)
                    if after > k + 1 and after < len(tokens) and tokens[after].kind == "name":
                        stray, k = tokens[k], after
                        stray.extra["in_list"] = True  # nl_near_misses: a place slot
                if k > j and k < len(tokens) and tokens[k].kind == t.kind and \
                        (t.kind == "domain" or _same_field(items[0], tokens[k])):
                    items.append(tokens[k])
                    strays += [stray] if stray else []
                    j = k + 1
                else:
                    break
            if len(items) > 1:
                value = [x.value for x in items] if t.kind == "name" else [x.text for x in items]
                out.append(Tok(t.kind + "s", " ".join(x.text for x in tokens[i:j]), t.start,
                               tokens[j - 1].end, value))
                # after the list, so they are reported unused (with any "did you mean?")
                out += strays
                i = j
                continue
        out.append(t)
        i += 1
    return out


LIST_SEPARATORS = (",", "and", "or", "&", "/", "nor", "+")


def _past_separators(tokens: list[Tok], j: int) -> int:
    while j < len(tokens) and tokens[j].text in LIST_SEPARATORS:
        j += 1
    return j


def _stray(t: Tok) -> bool:
    """A word that may be a misspelt or unknown name in a list: not a word of the grammar."""
    return t.kind == "word" and t.text.isalpha() and len(t.text) >= 3 \
        and t.text not in FILLER | NEG | SPLIT | ORDER_VERBS | LAPSE | set(EXCLUDE)


def _same_field(a: Tok, b: Tok) -> bool:
    fa = {n.field for n in (a.value or [])}
    fb = {n.field for n in (b.value or [])}
    return bool(fa & fb)


def split_clauses(tokens: list[Tok]) -> list[Clause]:
    clauses: list[Clause] = []
    current: list[Tok] = []
    joiner, neg, lead = "and", False, ""
    lead_toks: list[Tok] = []
    i = 0

    def close() -> None:
        nonlocal current, joiner, neg, lead, lead_toks
        if current:
            clauses.append(Clause(current, joiner, neg, lead, lead_toks=lead_toks))
            joiner, neg, lead, lead_toks = "and", False, "", []
        current = []

    while i < len(tokens):
        t = tokens[i]
        exclude = lx._phrase_at(tokens, i, EXCLUDE)
        if exclude:
            close()
            neg = True
            lead = exclude[0]
            lead_toks = tokens[i:i + exclude[1]]
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


def op_around(c: Clause, i: int, default: str) -> tuple[str, list[int]]:
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


def tidy(v: float) -> int | float:
    return int(v) if float(v).is_integer() else round(float(v), 2)


def negation_words(c: Clause) -> list[int]:
    """Negation or lapse words in a clause ("have not", "no orders", "inactive")."""
    return [i for i, t in enumerate(c.toks) if t.text in (NEG | LAPSE) - {"zero"}
            and i not in c.used]
