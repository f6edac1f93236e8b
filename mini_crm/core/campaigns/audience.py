"""Save a campaign's audience as a new segment, inside the launch's own transaction.

Used by create_campaign and the draft use cases (`save_audience_as=`), so the wizard,
the HTTP API and any job get the same checks: the segment and the campaign are written
in the caller's one transaction, and a launch that is refused (the caller rolls back)
leaves no segment behind.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from mini_crm.core import text_checks
from mini_crm.core.campaigns.errors import CampaignError
from mini_crm.core.segments import RulesError, parse_audience
from mini_crm.core.segments import service as segment_service

FIELD = "save_audience_as"


def save_audience(db: Session, *, name: str, rules: dict[str, Any] | None,
                  segment_id: int | None, created_by: int | None) -> int:
    """Create a segment called `name` holding `rules`; returns its id.

    Flushed, not committed: the caller's transaction owns it. Raises CampaignError with
    field `save_audience_as` for an empty, too long or already used name (names compare
    case-insensitively, ignoring surrounding spaces) or when the audience is a saved
    segment already (`segment_id` given, nothing to save), and field `rules` for rules
    that are missing or invalid.
    """
    if segment_id is not None:
        raise CampaignError("the audience is already the saved segment "
                            f"{segment_id}; save_audience_as needs rules instead", FIELD)
    if not rules:
        raise CampaignError("choose an audience with rules to save it as a segment", "rules")
    try:
        parse_audience(rules)
    except RulesError as exc:
        raise CampaignError(str(exc), "rules") from exc
    clean = (name or "").strip()
    if not clean:
        raise CampaignError("give the new segment a name", FIELD)
    if len(clean) > segment_service.MAX_NAME:
        raise CampaignError(f"a segment name is at most {segment_service.MAX_NAME} "
                            "characters", FIELD)
    if problem := text_checks.name_problem(clean, "a segment name"):
        raise CampaignError(problem, FIELD)
    try:  # the one uniqueness rule for names is save_segment's
        segment = segment_service.save_segment(db, name=clean, rules=rules,
                                               created_by=created_by)
    except segment_service.NameTaken as exc:
        raise CampaignError(str(exc), FIELD) from exc
    return int(segment.id)
