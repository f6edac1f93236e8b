"""Segment queries and saved segments: the one place for segment SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from mini_crm.core import text_checks
from mini_crm.core.ai import data_vocabulary
from mini_crm.core.auth import audit
from mini_crm.core.segments.compiler import compile_group
from mini_crm.core.segments.describe import describe
from mini_crm.core.segments.schema import Group, RulesError, parse_audience, parse_rules
from mini_crm.models import (
    Campaign,
    CampaignStatus,
    Customer,
    Segment,
    segment_name_key,
    utcnow,
)

MAX_NAME = 200  # characters; the UI's name inputs use it as max_length

SAMPLE_COLUMNS = (Customer.id, Customer.external_id, Customer.name, Customer.email,
                  Customer.city, Customer.total_spend, Customer.order_count,
                  Customer.last_order_at)


def _tree(rules: dict[str, Any] | Group) -> Group:
    return rules if isinstance(rules, Group) else parse_rules(rules)


def matching_customer_ids(rules: dict[str, Any] | Group, now: datetime | None = None
                          ) -> sa.Select:
    """SELECT customer.id WHERE <rules> — embed it in INSERT ... SELECT or IN (...)."""
    return select(Customer.id).where(compile_group(_tree(rules), now or utcnow()))


def audience_size(session: Session, rules: dict[str, Any] | Group,
                  now: datetime | None = None) -> int:
    where = compile_group(_tree(rules), now or utcnow())
    return int(session.exec(select(func.count()).select_from(Customer).where(where)).one())


@dataclass(frozen=True)
class Preview:
    size: int
    sample: list[dict[str, Any]]


def preview(session: Session, rules: dict[str, Any] | Group, now: datetime | None = None,
            sample: int = 10) -> Preview:
    """Audience size plus a few matching customers, newest first.

    Newest-first walks the primary key and stops after `sample` matches; ordering by
    spend instead made PostgreSQL scan most of the spend index for audiences of
    low spenders (e.g. "never ordered": 0.9 s at a million customers).
    """
    now = now or utcnow()
    where = compile_group(_tree(rules), now)
    size = int(session.exec(select(func.count()).select_from(Customer).where(where)).one())
    rows = session.exec(
        select(*SAMPLE_COLUMNS).where(where)
        .order_by(Customer.id.desc()).limit(max(0, min(sample, 50)))
    ).all() if size else []
    return Preview(size=size, sample=[dict(r._mapping) for r in rows])


# Saved segments ------------------------------------------------------------

def list_segments(session: Session, limit: int = 100, offset: int = 0) -> list[Segment]:
    return list(session.exec(select(Segment).order_by(Segment.updated_at.desc(), Segment.id.desc())
                              .offset(offset).limit(limit)).all())


@dataclass(frozen=True)
class SegmentSummary:
    id: int
    name: str
    sentence: str  # "Invalid rules: <reason>" when the saved rules no longer validate
    size: int | None  # None when the saved rules no longer validate
    updated_at: datetime
    rules_error: str | None = None  # why the saved rules no longer validate


def summarise(session: Session, seg: Segment) -> SegmentSummary:
    """A saved segment with its audience size now and its sentence. Rules saved under an
    older schema that no longer validate are listed, not refused: size None, the
    sentence "Invalid rules: <reason>" and the reason in rules_error (every door shows
    the same words)."""
    try:
        tree = parse_rules(seg.rules)
        size, sentence, error = audience_size(session, tree), describe(tree), None
    except RulesError as exc:
        size, sentence, error = None, f"Invalid rules: {exc.reason}", exc.reason
    return SegmentSummary(seg.id, seg.name, sentence, size, seg.updated_at, error)


def segment_summaries(session: Session, limit: int = 100) -> list[SegmentSummary]:
    """Saved segments, newest first, each summarised (see `summarise`)."""
    return [summarise(session, seg) for seg in list_segments(session, limit=limit)]


def count_segments(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(Segment)).one())


def get_segment(session: Session, segment_id: int) -> Segment | None:
    return session.get(Segment, segment_id)


class NameTaken(ValueError):
    """Another segment already has this name (ignoring case and surrounding spaces):
    `segment_id` and `name` are that segment's, as stored."""

    def __init__(self, segment_id: int, name: str) -> None:
        super().__init__(f"a segment named “{name}” already exists; pick another name")
        self.segment_id, self.name = segment_id, name


def find_by_name(session: Session, name: str, except_id: int | None = None
                 ) -> tuple[int, str] | None:
    """(id, stored name) of a segment whose name equals `name` ignoring case, spacing,
    full-width forms and invisible characters, other than `except_id`; None if none.

    Looked up by `name_key` (models.segment_name_key, under the UNIQUE index), so the
    comparison is text_checks.name_key_text's (NFKC, casefold) on every database."""
    query = sa.select(Segment.id, Segment.name).where(
        Segment.name_key == segment_name_key(name))
    if except_id is not None:
        query = query.where(Segment.id != except_id)
    row = session.execute(query).first()
    return (int(row[0]), row[1]) if row else None


class SegmentInputError(ValueError):
    """A segment name or description that cannot be saved; `field` names the input."""

    def __init__(self, message: str, field: str = "name") -> None:
        super().__init__(message)
        self.field = field


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise SegmentInputError("a segment needs a name")
    if len(name) > MAX_NAME:
        raise SegmentInputError(f"a segment name is at most {MAX_NAME} characters")
    if problem := text_checks.name_problem(name, "a segment name"):
        raise SegmentInputError(problem)
    return name


def save_segment(session: Session, *, name: str, rules: dict[str, Any],
                 description: str | None = None, segment_id: int | None = None,
                 created_by: int | None = None, actor_user_id: int | None = None) -> Segment:
    """Create or update; the rules are validated first (RulesError names the bad rule).

    Names are unique ignoring case and spaces around them: NameTaken (a ValueError)
    names the segment that has it already; a segment may keep or re-case its own name.
    A save that loses a race to a concurrent one of the same name is refused by the
    database's UNIQUE index on `name_key` and raises NameTaken too, after rolling the
    session back (see _write_unique). ValueError for an empty or too long name,
    LookupError for a missing `segment_id`. Recorded on the audit trail (segment
    created / changed) with `actor_user_id`, or the creator for a new one.
    """
    parse_audience(rules)  # a segment of no conditions is no choice of customers
    name = _clean_name(name)
    if problem := text_checks.control_problem(description, "a segment description",
                                              multiline=True):
        raise SegmentInputError(problem, "description")
    taken = find_by_name(session, name, except_id=segment_id)
    if taken is not None:
        raise NameTaken(*taken)
    if segment_id is None:
        segment = Segment(name=name, rules=rules, description=description,
                          created_by=created_by)
    else:
        segment = session.get(Segment, segment_id)
        if segment is None:
            raise LookupError(f"segment {segment_id} does not exist")
        segment.name, segment.rules, segment.description = name, rules, description
        segment.updated_at = utcnow()
    _write_unique(session, segment)
    audit.record(session, audit.SEGMENT_CREATED if segment_id is None else
                 audit.SEGMENT_CHANGED, actor_user_id=actor_user_id or created_by,
                 target=f"segment:{segment.id}", details={"name": name})
    return segment


def _write_unique(session: Session, segment: Segment) -> None:
    """Flush `segment`. Two saves of one name at the same instant both pass
    find_by_name (neither sees the other's uncommitted row); the UNIQUE index on
    name_key then refuses the second, which becomes NameTaken like the first check.

    The refused flush leaves the transaction unusable on PostgreSQL, so it is rolled
    back, the caller's whole unit of work with it (a campaign that saves its audience
    is refused as a whole, as documented). Not a savepoint: pysqlite would commit
    everything before it when releasing one that opened the transaction."""
    name, own_id = segment.name, segment.id
    try:
        session.add(segment)
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        taken = find_by_name(session, name, except_id=own_id)
        if taken is None:  # another constraint (a deleted creator...): not a name clash
            raise
        raise NameTaken(*taken) from exc


def _free_copy_name(session: Session, name: str) -> str:
    """"<name> (copy)", or "(copy 2)", "(copy 3)"... when that is taken too; the base
    is shortened so the whole stays within MAX_NAME."""
    for n in range(1, 1000):
        suffix = " (copy)" if n == 1 else f" (copy {n})"
        candidate = name[:MAX_NAME - len(suffix)] + suffix
        if find_by_name(session, candidate) is None:
            return candidate
    raise ValueError(f"too many copies of “{name}”; rename one first")


def duplicate_segment(session: Session, segment_id: int, created_by: int | None = None
                      ) -> Segment:
    original = session.get(Segment, segment_id)
    if original is None:
        raise LookupError(f"segment {segment_id} does not exist")
    return save_segment(session, name=_free_copy_name(session, original.name),
                        rules=original.rules,
                        description=original.description, created_by=created_by)


def delete_segment(session: Session, segment_id: int,
                   actor_user_id: int | None = None) -> bool:
    """Delete a saved segment. Campaigns keep their own copy of the rules: a draft or
    scheduled campaign that names it (and has no rules of its own yet) gets the
    segment's rules first, then no campaign points at it any more."""
    segment = session.get(Segment, segment_id)
    if segment is None:
        return False
    campaign = Campaign.__table__
    pending = session.execute(sa.select(campaign.c.id, campaign.c.rules).where(
        campaign.c.segment_id == segment_id,
        campaign.c.status.in_([CampaignStatus.DRAFT, CampaignStatus.SCHEDULED]))).all()
    for campaign_id, rules in pending:
        if not rules or not rules.get("rules"):
            session.execute(campaign.update().where(campaign.c.id == campaign_id)
                            .values(rules=segment.rules))
    session.execute(campaign.update().where(campaign.c.segment_id == segment_id)
                    .values(segment_id=None))
    session.delete(segment)
    session.flush()
    audit.record(session, audit.SEGMENT_DELETED, actor_user_id=actor_user_id,
                 target=f"segment:{segment_id}", details={"name": segment.name})
    return True


def known_cities(session: Session, limit: int = 200) -> list[str]:
    """The `limit` most common cities, most common first (what boxes suggest)."""
    rows = session.exec(select(Customer.city).where(Customer.city.is_not(None))
                        .group_by(Customer.city).order_by(func.count().desc()).limit(limit))
    return [r for r in rows.all() if r]


MAX_CITY_CHECKS = 50  # distinct values per check: a rule's list is rarely longer


def _spellings(value: str) -> set[str]:
    """The spellings a city is stored in, as typed, lower, upper and title case."""
    return {value, value.lower(), value.upper(), value.title(), value.capitalize()}


def unknown_cities(session: Session, values: list[str]) -> list[str]:
    """Of `values` (cities a rule names), the ones no customer lives in, case-folded
    ("mumbay"); blanks and duplicates are skipped, and at most MAX_CITY_CHECKS distinct
    values are checked (the rest count as known: no false "no customer is in …").

    Checked against the whole table, not the top cities the boxes suggest (a real city
    that was the 101st most common was called unknown): one indexed read (ix_customer_city)
    of the values in the spellings cities are stored in (as typed, lower, upper, title
    case). The rules compare case-insensitively; a city stored in a case none of these
    spell ("McAllen" typed "mcallen") reads as unknown here, which costs no more than a
    "did you mean" beside the rule (nothing is changed without a click); a full
    case-insensitive scan per keystroke would cost a pass over every customer."""
    wanted: dict[str, str] = {}
    for value in values:
        text = str(value or "").strip()
        if text and len(text) <= 100 and len(wanted) < MAX_CITY_CHECKS:
            wanted.setdefault(text.casefold(), text)
    if not wanted:
        return []
    spellings = sorted(set().union(*(_spellings(v) for v in wanted.values())))
    found = session.exec(select(Customer.city).where(Customer.city.in_(spellings))
                         .distinct()).all()
    known = {str(city).casefold() for city in found if city}
    return [folded for folded in wanted if folded not in known]


def attribute_keys(session: Session) -> list[str]:
    """Every custom attribute key some customer has, sorted: the plain-English parser's
    catalogue (core/ai/data_vocabulary), learnt from the whole table and kept current
    incrementally, so the builder's field list and the parser never disagree. (It once
    read the newest 500 customers: a batch of customers without attributes emptied it.)"""
    return sorted(data_vocabulary.current(session).keys)
