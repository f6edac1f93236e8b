"""The audit trail: sign-ins, sign-outs, keys, invites, role changes, launches.

Append-only: rows are written next to the change they describe, in the same
transaction, so a change and its audit entry commit (or roll back) together.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, func, select

from mini_crm.models import AuditEvent

# Action names are stored; the labels are what admins read.
SIGNIN = "signin"
SIGNOUT = "signout"
SIGNIN_REFUSED = "signin_refused"
APIKEY_CREATED = "apikey_created"
APIKEY_REVOKED = "apikey_revoked"
USER_INVITED = "user_invited"
INVITE_REVOKED = "invite_revoked"
ROLE_CHANGED = "role_changed"
USER_DISABLED = "user_disabled"
USER_ENABLED = "user_enabled"
CAMPAIGN_LAUNCHED = "campaign_launched"
CAMPAIGN_SCHEDULED = "campaign_scheduled"
CAMPAIGN_CANCELLED = "campaign_cancelled"
CONSENT_CHANGED = "consent_changed"
SUPPRESSION_ADDED = "suppression_added"
SUPPRESSION_REMOVED = "suppression_removed"
CAMPAIGN_DRAFT_CREATED = "campaign_draft_created"
CAMPAIGN_DRAFT_DELETED = "campaign_draft_deleted"
CAMPAIGN_EDITED = "campaign_edited"
CAMPAIGN_RESCHEDULED = "campaign_rescheduled"
CAMPAIGN_DUPLICATED = "campaign_duplicated"
CAMPAIGN_TEST_SENT = "campaign_test_sent"
AB_WINNER_PICKED = "ab_winner_picked"
AB_WINNER_DECIDED = "ab_winner_decided"  # the periodic decision (actor: system)
SEGMENT_CREATED = "segment_created"
SEGMENT_CHANGED = "segment_changed"
SEGMENT_DELETED = "segment_deleted"

ACTION_LABELS: dict[str, str] = {
    SIGNIN: "Signed in",
    SIGNOUT: "Signed out",
    SIGNIN_REFUSED: "Sign-in refused",
    APIKEY_CREATED: "API key created",
    APIKEY_REVOKED: "API key revoked",
    USER_INVITED: "User invited",
    INVITE_REVOKED: "Invite revoked",
    ROLE_CHANGED: "Role changed",
    USER_DISABLED: "User disabled",
    USER_ENABLED: "User enabled",
    CAMPAIGN_LAUNCHED: "Campaign launched",
    CAMPAIGN_SCHEDULED: "Campaign scheduled",
    CAMPAIGN_CANCELLED: "Campaign cancelled",
    CONSENT_CHANGED: "Consent changed",
    SUPPRESSION_ADDED: "Address suppressed",
    SUPPRESSION_REMOVED: "Suppression removed",
    CAMPAIGN_DRAFT_CREATED: "Campaign draft created",
    CAMPAIGN_DRAFT_DELETED: "Campaign draft deleted",
    CAMPAIGN_EDITED: "Scheduled campaign edited",
    CAMPAIGN_RESCHEDULED: "Campaign rescheduled",
    CAMPAIGN_DUPLICATED: "Campaign duplicated",
    CAMPAIGN_TEST_SENT: "Test message sent",
    AB_WINNER_PICKED: "A/B winner picked",
    AB_WINNER_DECIDED: "A/B test decided",
    SEGMENT_CREATED: "Segment created",
    SEGMENT_CHANGED: "Segment changed",
    SEGMENT_DELETED: "Segment deleted",
}


@dataclass(frozen=True)
class Actor:
    """Who did it: a signed-in user (id and email) or a label such as "cli"."""

    user_id: int | None = None
    label: str | None = None


SYSTEM = Actor(label="system")


@dataclass
class ActingAs:
    """Who the current request acts as, for entries whose caller names no label: an API
    key's request has `label` "api key <name> (<prefix>)" once the key is accepted."""

    label: str | None = None


# Why a context variable holding a mutable object: FastAPI checks the key in one worker
# thread and runs the route in another, each with a *copy* of the request's context. A
# value set in the first copy would never reach the second; the object the request's own
# context holds is shared by both copies. Without it, every campaign or segment change
# made through a key showed "—" as its actor (the use cases take a user id only, and a
# key made from the CLI has no user).
_acting: ContextVar[ActingAs | None] = ContextVar("mini_crm_acting_as", default=None)


@contextmanager
def acting_scope() -> Iterator[ActingAs]:
    """One request's "acting as" (empty until `act_as`); entered by the API's middleware."""
    token = _acting.set(ActingAs())
    try:
        yield _acting.get()  # type: ignore[misc]
    finally:
        _acting.reset(token)


def act_as(label: str) -> None:
    """Name who the current request acts as (no-op outside an `acting_scope`)."""
    current = _acting.get()
    if current is not None:
        current.label = label


def record(session: Session, action: str, *, actor_user_id: int | None = None,
           actor_label: str | None = None, target: str | None = None,
           details: dict[str, Any] | None = None) -> AuditEvent:
    """Append one entry to `session` (flushed, not committed: it commits with the change
    it describes). With no `actor_label`, the current request's `act_as` label is used,
    so a change made through an API key names the key."""
    if actor_label is None and (acting := _acting.get()) is not None:
        actor_label = acting.label
    event = AuditEvent(action=action, actor_user_id=actor_user_id, actor_label=actor_label,
                       target=(target or "")[:255] or None, details=details or {})
    session.add(event)
    session.flush()
    return event


def record_by(session: Session, actor: Actor, action: str, *, target: str | None = None,
              details: dict[str, Any] | None = None) -> AuditEvent:
    return record(session, action, actor_user_id=actor.user_id, actor_label=actor.label,
                  target=target, details=details)


def recent(session: Session, limit: int = 100, offset: int = 0) -> list[AuditEvent]:
    return list(session.exec(select(AuditEvent).order_by(AuditEvent.at.desc(),
                                                         AuditEvent.id.desc())
                             .offset(offset).limit(limit)).all())


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    total: int  # matching the filter, across all pages
    page: int
    pages: int


def list_events(session: Session, *, action: str | None = None, page: int = 1,
                per_page: int = 25) -> AuditPage:
    """One page of the trail, newest first, optionally only one action.

    Offset pagination is fine here: admins page through recent history, and
    the (at, id) order is stable because ids break ties between equal times.
    """
    per_page = max(1, min(per_page, 200))
    where = [AuditEvent.action == action] if action else []
    total = session.exec(select(func.count()).select_from(AuditEvent).where(*where)).one()
    pages = max(1, -(-total // per_page))
    page = max(1, min(page, pages))
    events = session.exec(select(AuditEvent).where(*where)
                          .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
                          .offset((page - 1) * per_page).limit(per_page)).all()
    return AuditPage(events=list(events), total=total, page=page, pages=pages)


def known_actions(session: Session) -> list[str]:
    """Actions for the filter: the labelled ones, plus any other name found in the trail."""
    stored = session.exec(select(AuditEvent.action).distinct()).all()
    return list(ACTION_LABELS) + sorted(set(stored) - set(ACTION_LABELS))


def label(action: str) -> str:
    return ACTION_LABELS.get(action, action.replace("_", " ").replace(".", " ").capitalize())
