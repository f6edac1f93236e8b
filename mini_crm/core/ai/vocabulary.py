"""Marketer vocabulary: what "lapsed", "churned", "VIP" … mean, editable in Settings.

Every word has a documented default (DEFAULTS, also in docs/segments.md); a brand that
means something else ("VIP = spent ₹1 lakh") saves its own rules, stored in
`segment_term`, and the plain-English parser uses them at once and quotes them in its
explanation. Reset deletes the saved row, so the default applies again.

    list_terms(db) → [TermView]          every word, saved or default
    save_term(db, key, rules, description, actor=None) → TermView
                                          raises TermError (unknown word, invalid rules)
    reset_term(db, key, actor=None) → TermView
    parser_terms(db) → {key: nl.terms.Term}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from mini_crm.core.ai.nl.terms import PHRASES, Term
from mini_crm.core.auth import audit
from mini_crm.core.segments import RulesError, parse_rules
from mini_crm.core.segments.describe import describe
from mini_crm.models import SegmentTerm, utcnow


def _r(field: str, op: str, value: Any) -> dict[str, Any]:
    return {"field": field, "operator": op, "value": value}


def _all(*rules: dict[str, Any]) -> dict[str, Any]:
    return {"combinator": "and", "not": False, "rules": list(rules)}


# key → (label, default rules, one line of why). Changing a default is a product decision:
# docs/segments.md lists the same table.
DEFAULTS: dict[str, tuple[str, dict[str, Any], str]] = {
    "lapsed": ("lapsed", _all(_r("order_count", ">=", 1), _r("days_since_last_order", ">=", 90)),
               "ordered before, nothing in the last 90 days"),
    "churned": ("churned", _all(_r("order_count", ">=", 1),
                                _r("days_since_last_order", ">=", 180)),
                "ordered before, nothing in the last 180 days"),
    "dormant": ("dormant", _all(_r("order_count", ">=", 1),
                                _r("days_since_last_order", ">=", 365)),
                "ordered before, nothing in the last year"),
    "at_risk": ("at risk", _all(_r("order_count", ">=", 2), _r("days_since_last_order", ">=", 60),
                                _r("days_since_last_order", "<", 120)),
                "repeat buyers whose last order was 60–119 days ago"),
    "vip": ("VIP", _all(_r("total_spend", ">=", 50000)), "lifetime spend of ₹50,000 or more"),
    "loyal": ("loyal", _all(_r("order_count", ">=", 5)), "5 or more orders"),
    "new": ("new", _all(_r("days_since_signup", "<", 30)), "signed up in the last 30 days"),
    "one_time": ("one-time", _all(_r("order_count", "=", 1)), "exactly one order"),
    "repeat": ("repeat", _all(_r("order_count", ">=", 2)), "2 or more orders"),
    "big_spender": ("big spender", _all(_r("total_spend", ">=", 20000)),
                    "lifetime spend of ₹20,000 or more"),
}


class TermError(ValueError):
    """A definition that cannot be saved; the message is for the marketer."""


@dataclass(frozen=True)
class TermView:
    key: str
    label: str
    words: list[str]  # the prompt words that mean it ("vip", "vips")
    rules: dict[str, Any]
    description: str
    sentence: str  # the rules read back
    edited: bool  # False: the documented default applies


def _words(key: str) -> list[str]:
    return [p for p, k in PHRASES.items() if k == key]


def _view(key: str, row: SegmentTerm | None) -> TermView:
    label, rules, why = DEFAULTS[key]
    if row is not None:
        rules, why = row.rules, row.description or why
    return TermView(key, label, _words(key), rules, why,
                    describe(parse_rules(rules)), row is not None)


def list_terms(db: Session) -> list[TermView]:
    """Every vocabulary word with the definition in force, defaults included."""
    rows = {r.key: r for r in db.exec(select(SegmentTerm)).all()}
    return [_view(k, rows.get(k)) for k in DEFAULTS]


def parser_terms(db: Session) -> dict[str, Term]:
    """Definitions for the plain-English parser, keyed like terms.PHRASES' values."""
    return {v.key: Term(v.key, v.label, v.rules, v.description) for v in list_terms(db)}


def save_term(db: Session, key: str, rules: Any, description: str = "", *,
              actor: audit.Actor | None = None) -> TermView:
    """Store a brand's own definition of a word; commits. TermError when it cannot be used."""
    if key not in DEFAULTS:
        raise TermError(f"“{key}” is not a vocabulary word; known: {', '.join(DEFAULTS)}")
    try:
        tree = parse_rules(rules)
    except RulesError as exc:
        raise TermError(f"The definition of “{DEFAULTS[key][0]}” is not valid: {exc}") from exc
    except (TypeError, ValueError) as exc:
        raise TermError(f"The definition of “{DEFAULTS[key][0]}” must be rules JSON "
                        f"(a group with a list of rules): {exc}") from exc
    if not tree.rules:
        raise TermError(f"The definition of “{DEFAULTS[key][0]}” needs at least one rule")
    description = (description or "").strip()[:300]
    row = db.get(SegmentTerm, key) or SegmentTerm(key=key)
    row.rules, row.description, row.updated_at = rules, description, utcnow()
    row.updated_by = actor.user_id if actor else None
    db.add(row)
    if actor is not None:
        audit.record_by(db, actor, "segment_term.save", target=key,
                        details={"rules": rules, "description": description})
    db.commit()
    return _view(key, row)


def reset_term(db: Session, key: str, *, actor: audit.Actor | None = None) -> TermView:
    """Back to the documented default (the saved row is deleted); commits."""
    if key not in DEFAULTS:
        raise TermError(f"“{key}” is not a vocabulary word")
    row = db.get(SegmentTerm, key)
    if row is not None:
        db.delete(row)
        if actor is not None:
            audit.record_by(db, actor, "segment_term.reset", target=key)
        db.commit()
    return _view(key, None)
