"""What the rule builder asks core, shaped for the page: the live preview, the
builder's choices (known cities, attribute keys), a saved segment, and the AI assist's
answers (plain English -> rules, lookalikes). Plain functions, each opening its own
session, run off the event loop by `state/segments.SegmentEditorState`
(`rx.run_in_thread`); they hold no state and never raise into a handler: a failure
comes back as an `error` the page shows. How the figures read is core's
(core/segments/figures).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import sqlalchemy.exc as sa_exc

from mini_crm.core import customers, formatting, segments
from mini_crm.core.ai.lookalike import LookalikeError, lookalike
from mini_crm.core.ai.segment_rules import segment_rules
from mini_crm.core.campaigns import reports as campaign_reports
from mini_crm.core.segments import figures, list_values, service
from mini_crm.db import session_scope
from mini_crm.state import errors

logger = logging.getLogger(__name__)


def preview(rules: dict[str, Any]) -> dict[str, Any]:
    """The builder's live preview of `rules`: {size, sentence, total (all customers),
    sample (6 rows for display), unknown_cities (case-folded cities the rules name that
    no customer lives in, checked on the whole table), error, error_path}; a rule error
    (or a value the database refuses) comes back as `error` on the rule at `error_path`."""
    try:
        tree = segments.parse_rules(rules)
    except segments.RulesError as exc:
        return {"error": exc.reason, "error_path": exc.path}
    if not tree.rules:  # the blank builder: no size to count (it would read as everyone)
        return {"size": 0, "sentence": figures.BLANK_SENTENCE, "error": "", "error_path": "",
                "total": 0, "sample": [], "unknown_cities": []}
    try:
        with session_scope() as session:
            result = segments.preview(session, tree, sample=6)
            total = customers.count_customers(session)
            unknown = service.unknown_cities(session, list_values.city_values(rules))
    except (OverflowError, sa_exc.DBAPIError) as exc:
        # Past validation but refused by the database (a number too large for its
        # column, the database away): said on the rules, not in a crash toast.
        ref = uuid.uuid4().hex[:8]
        logger.warning("segment preview failed (reference %s)", ref, exc_info=exc)
        return {"error": errors.marketer_message(exc, ref), "error_path": ""}
    return {
        "size": result.size, "sentence": segments.describe(tree), "error": "", "error_path": "",
        "total": total, "unknown_cities": unknown,
        "sample": figures.sample_rows(result.sample),
    }


def builder_context() -> dict[str, Any]:
    """The builder's choices: {cities: up to 100 known cities, keys: attribute keys}."""
    with session_scope() as session:
        return {"cities": service.known_cities(session, limit=100),
                "keys": service.attribute_keys(session)}


def ai_rules(prompt: str) -> dict[str, Any]:
    """A plain-English description as rules for the builder: {error, engine, note, rules,
    explanation, unused (words of the prompt no rule used), warnings (sentences to check
    before applying: rules that match no one together, "did you mean Mumbai?")}."""
    try:
        with session_scope() as session:
            result = segment_rules(session, prompt)
    except Exception as exc:  # the spinner must stop and say why, whatever went wrong
        logger.exception("plain-English segment prompt failed")
        return {"error": f"Could not read that description ({type(exc).__name__}); try "
                         "again or build the rules by hand.", "engine": "", "note": "",
                "rules": {}, "explanation": []}
    value = result.value
    note = result.note.strip()
    if not value.understood:
        note = " ".join([note] + (["Not understood: " + "; ".join(
            f"“{u}”" for u in value.unparsed)] if value.unparsed else [])).strip()
        return {"error": formatting.sentence(value.why_not_understood()),
                "engine": result.engine, "note": note, "rules": {}, "explanation": []}
    return {"error": "", "engine": result.engine, "note": note, "rules": value.rules,
            "explanation": value.explanation, "unused": list(value.unparsed),
            "warnings": list(value.warnings)}


def lookalike_rules(rules: dict[str, Any] | None = None,
                     campaign_id: int | None = None) -> dict[str, Any]:
    """A lookalike of `rules`, or of campaign `campaign_id`'s converters, shaped for the
    builder: {error, engine, note, found, rules, explanation, name}."""
    failed = {"engine": "", "note": "", "rules": {}, "explanation": []}
    name = ""
    try:
        with session_scope() as session:
            if campaign_id is not None:
                campaign_name = campaign_reports.campaign_name(session, campaign_id)
                if campaign_name is None:
                    return {**failed, "error": f"Campaign {campaign_id} does not exist, so "
                                               "there are no buyers to model."}
                name = f"Like the buyers of {campaign_name}"
            result = lookalike(session, rules=rules, campaign_id=campaign_id)
    except (LookalikeError, LookupError, segments.RulesError) as exc:
        return {**failed, "error": f"Cannot model this audience: {exc}"}
    except Exception as exc:  # the spinner must stop and say why, whatever went wrong
        logger.exception("lookalike failed")
        return {**failed, "error": f"Lookalike failed ({type(exc).__name__}); try again."}
    value = result.value
    # found=False: rules is None and the builder keeps the marketer's rules.
    return {"error": "", "engine": result.engine, "note": result.note, "found": value.found,
            "rules": value.rules or {}, "explanation": [value.summary, *value.explanation],
            "name": name}


def load_segment(segment_id: int) -> dict[str, Any] | None:
    """A saved segment's {id, name, rules}, or None when there is none."""
    with session_scope() as session:
        seg = service.get_segment(session, segment_id)
        return None if seg is None else {"id": seg.id, "name": seg.name, "rules": seg.rules}
