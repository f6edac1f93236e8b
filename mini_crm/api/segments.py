"""Segments over HTTP: preview an audience, list and save segments."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from mini_crm.api.deps import db_session, require_scope
from mini_crm.api.errors import ERROR_SCHEMA, ApiError
from mini_crm.api.whole_numbers import WholeNumber
from mini_crm.core import segments
from mini_crm.core.brand_time import UtcTimestamp, utc_text
from mini_crm.core.segments import service
from mini_crm.models import Segment

router = APIRouter(prefix="/api/v1/segments", tags=["segments"],
                   responses={401: ERROR_SCHEMA, 403: ERROR_SCHEMA, 422: ERROR_SCHEMA})

EXAMPLE_RULES = {"combinator": "and", "not": False, "rules": [
    {"field": "total_spend", "operator": ">", "value": 5000},
    {"field": "days_since_last_order", "operator": ">=", "value": 180},
    {"combinator": "or", "rules": [
        {"field": "city", "operator": "in", "value": ["Mumbai", "Pune"]},
        {"field": "order_count", "operator": ">=", "value": 3}]}]}


WINDOW_RULES = {"combinator": "and", "not": False, "rules": [
    {"field": "window_order_count", "operator": ">", "value": 3,
     "window": {"from": "2025-01-01", "to": "2025-12-31"}},
    {"field": "window_spend", "operator": ">", "value": "₹10K", "window": {"last_days": 180}},
    {"field": "city", "operator": "not_in", "value": ["Mumbai"]}]}
RULES_DESCRIPTION = (
    "Rules JSON (DESIGN.md). Calendar days are days in BRAND_TIMEZONE; !=, not_in and "
    "not_contains also match customers with no value (add is_not_null to exclude them); "
    "numbers may be written 150000, \"1,50,000\", \"₹10K\" or \"1.5 lakh\" (ambiguous forms "
    "such as \"5.000,00\" and out-of-range values are a 422); window_order_count and "
    "window_spend take a \"window\" ({\"last_days\": N} or {\"from\", \"to\"}) and an "
    "optional \"items_match\" ({\"key\", \"value\"}). See docs/segments.md.")


# Database ids are 32-bit on every supported database; larger ones cannot exist.
SegmentId = Annotated[int, Path(ge=1, le=2_147_483_647)]


class PreviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"rules": EXAMPLE_RULES}, {"rules": WINDOW_RULES}]})
    rules: dict[str, Any] = Field(description=RULES_DESCRIPTION)
    sample: WholeNumber = Field(default=10, ge=0, le=50)


class PreviewOut(BaseModel):
    size: int
    sample: list[dict[str, Any]]
    description: str


class SegmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"name": "Lapsed big spenders", "rules": EXAMPLE_RULES}]})
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=1000)
    rules: dict[str, Any]


class SegmentOut(BaseModel):
    id: int
    name: str
    description: str | None
    rules: dict[str, Any]
    size: int | None = Field(description="customers matching now; null when the saved "
                                         "rules no longer validate")
    sentence: str = Field(description="the rules in plain English, or "
                                      "\"Invalid rules: <reason>\"")
    rules_error: str | None = Field(default=None, description="why the saved rules no "
                                    "longer validate (null when they do)")
    created_at: UtcTimestamp
    updated_at: UtcTimestamp


def _out(session: Session, seg: Segment) -> SegmentOut:
    summary = service.summarise(session, seg)
    return SegmentOut(id=seg.id, name=seg.name, description=seg.description, rules=seg.rules,
                      size=summary.size, sentence=summary.sentence,
                      rules_error=summary.rules_error, created_at=seg.created_at,
                      updated_at=seg.updated_at)


@router.post("/preview", response_model=PreviewOut, summary="Audience size and a sample")
def preview(body: PreviewIn, _key: Any = Depends(require_scope("read")),
            session: Session = Depends(db_session)) -> PreviewOut:
    # Bad rules, or a group without conditions: the RulesError handler answers 422.
    tree = segments.parse_audience(body.rules)
    result = segments.preview(session, tree, sample=body.sample)
    sample = [{**row, "total_spend": str(row["total_spend"]),
               "last_order_at": utc_text(row["last_order_at"])} for row in result.sample]
    return PreviewOut(size=result.size, sample=sample, description=segments.describe(tree))


@router.get("/fields", summary="Fields and operators rules may use")
def fields(_key: Any = Depends(require_scope("read"))) -> list[dict[str, Any]]:
    return segments.catalogue()


@router.get("", response_model=list[SegmentOut], summary="Saved segments, newest first")
def list_segments(limit: int = Query(50, ge=1, le=200),
                  offset: int = Query(0, ge=0, le=2_147_483_647),
                  _key: Any = Depends(require_scope("read")),
                  session: Session = Depends(db_session)) -> list[SegmentOut]:
    return [_out(session, s) for s in service.list_segments(session, limit, offset)]


@router.post("", response_model=SegmentOut, status_code=201, summary="Save a segment",
             responses={409: ERROR_SCHEMA})
def create_segment(body: SegmentIn, _key: Any = Depends(require_scope("campaigns")),
                   session: Session = Depends(db_session)) -> SegmentOut:
    seg = _save(session, name=body.name, rules=body.rules, description=body.description,
                created_by=_key.created_by)
    return _out(session, seg)


def _save(session: Session, **fields: Any) -> Segment:
    """service.save_segment, its faults as API errors: bad rules through the RulesError
    handler (422 invalid_rules), a taken name 409 `conflict`, any other 422."""
    try:
        return service.save_segment(session, **fields)
    except segments.RulesError:
        raise  # answered by the RulesError handler, not as a plain ValueError
    except service.NameTaken as exc:
        raise _name_taken(exc) from exc
    except service.SegmentInputError as exc:
        raise ApiError(422, str(exc), details={"field": exc.field}) from exc
    except ValueError as exc:
        raise ApiError(422, str(exc)) from exc


def _name_taken(exc: service.NameTaken) -> ApiError:
    """409 `conflict`: another segment has this name (ignoring case and surrounding
    spaces); details name it: {"field": "name", "segment_id", "name"}."""
    return ApiError(409, str(exc), code="conflict",
                    details={"field": "name", "segment_id": exc.segment_id, "name": exc.name})


def _get(session: Session, segment_id: int) -> Segment:
    seg = service.get_segment(session, segment_id)
    if seg is None:
        raise ApiError(404, f"segment {segment_id} does not exist")
    return seg


@router.get("/{segment_id:int}", response_model=SegmentOut, summary="One saved segment")
def get_segment(segment_id: SegmentId, _key: Any = Depends(require_scope("read")),
                session: Session = Depends(db_session)) -> SegmentOut:
    return _out(session, _get(session, segment_id))


@router.put("/{segment_id:int}", response_model=SegmentOut, summary="Update a segment",
            responses={404: ERROR_SCHEMA, 409: ERROR_SCHEMA})
def update_segment(segment_id: SegmentId, body: SegmentIn,
                   _key: Any = Depends(require_scope("campaigns")),
                   session: Session = Depends(db_session)) -> SegmentOut:
    _get(session, segment_id)
    seg = _save(session, segment_id=segment_id, name=body.name, rules=body.rules,
                description=body.description, actor_user_id=_key.created_by)
    return _out(session, seg)


@router.delete("/{segment_id:int}", status_code=204, summary="Delete a segment")
def delete_segment(segment_id: SegmentId, _key: Any = Depends(require_scope("campaigns")),
                   session: Session = Depends(db_session)) -> None:
    if not service.delete_segment(session, segment_id, actor_user_id=_key.created_by):
        raise ApiError(404, f"segment {segment_id} does not exist")
