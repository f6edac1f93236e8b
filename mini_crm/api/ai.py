"""AI over HTTP: every /api/v1/ai/* route (scope "ai").

AI proposes, the marketer reviews: nothing here saves a segment or launches a
campaign. Each answer says which engine produced it ("offline" or "llm") and,
in `note`, why the offline engine answered when the LLM was configured.

Sections: plain-English segments; then the other AI features (messages, tags,
send-time, lookalike), each added below its own heading.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from mini_crm.api.campaign_schemas import ChannelName
from mini_crm.api.deps import db_session, require_scope
from mini_crm.api.errors import ERROR_SCHEMA, ApiError
from mini_crm.api.whole_numbers import WholeNumber
from mini_crm.core import segments
from mini_crm.core.ai import insights as ai_insights
from mini_crm.core.ai import lookalike as ai_lookalike
from mini_crm.core.ai import messages as ai_messages
from mini_crm.core.ai import segment_rules as nl
from mini_crm.core.ai import send_time as ai_send_time
from mini_crm.core.ai import tags as ai_tags
from mini_crm.core.brand_time import UtcTimestamp
from mini_crm.models import ApiKey

router = APIRouter(prefix="/api/v1/ai", tags=["ai"],
                   responses={401: ERROR_SCHEMA, 403: ERROR_SCHEMA, 422: ERROR_SCHEMA})


# --- Plain-English segments -------------------------------------------------------------

class SegmentRulesIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"prompt": "people in Mumbai or Pune who haven't shopped in 6 months and spent "
                   "over ₹5K"}]})
    prompt: str = Field(min_length=1, max_length=nl.MAX_PROMPT,
                        description="The audience described in plain English")


class SegmentRulesOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "rules": {"combinator": "and", "not": False, "rules": [
            {"field": "city", "operator": "in", "value": ["Mumbai", "Pune"]},
            {"field": "days_since_last_order", "operator": ">=", "value": 180},
            {"field": "total_spend", "operator": ">", "value": 5000}]},
        "explanation": ["Customers who are in Mumbai or Pune and have not ordered in 180 days "
                        "and spent over ₹5,000",
                        "“Mumbai or Pune” → city is Mumbai or Pune",
                        "“haven't shopped in 6 months” → days since last order ≥ 180",
                        "“spent over ₹5K” → total spend > 5,000"],
        "engine": "offline", "note": "", "unparsed": [], "unused_words": [], "warnings": [],
        "size": 42}, {
        "rules": {"combinator": "and", "not": False, "rules": [
            {"field": "total_spend", "operator": "<", "value": 500},
            {"field": "total_spend", "operator": ">", "value": 1000}]},
        "explanation": ["Customers who spent under ₹500 and spent over ₹1,000",
                        "“spent less than 500” → spent under ₹500",
                        "“more than 1000” → spent over ₹1,000"],
        "engine": "offline", "note": "", "unparsed": [], "unused_words": [],
        "warnings": ["spent under ₹500 and spent over ₹1,000 cannot both hold: this "
                     "matches no one"], "size": 0}]})
    rules: dict[str, Any] = Field(description="Rules JSON to review (never saved by this call)")
    explanation: list[str] = Field(description="The rules read back: a sentence, then how "
                                               "each part of the prompt was read")
    engine: str = Field(description="'offline' or 'llm': which engine answered")
    note: str = Field(description="Why the offline engine answered instead of the LLM, or "
                                  "which words were not understood; empty otherwise")
    unparsed: list[str] = Field(description="Parts of the prompt the offline parser ignored "
                                            "(words only; see warnings)")
    unused_words: list[str] = Field(
        default_factory=list,
        description="Words of the prompt no rule used (quoted, with why when a part was "
                    "recognised but refused, e.g. a share without data or a future holiday). "
                    "When not empty the rules may not mean what the marketer asked: show "
                    "them and ask for confirmation before applying (the UI does)")
    warnings: list[str] = Field(
        default_factory=list,
        description="Sentences to check before applying, in the marketer's words: rules "
                    "that cannot hold together (“spent under ₹500 and spent over ₹1,000 "
                    "cannot both hold: this matches no one”; either engine) or a "
                    "near-miss of a known name (““Mumbay” is not a city in your data: did "
                    "you mean Mumbai?”; offline engine, never applied). When not empty, "
                    "show them and ask before applying, as for unused_words")
    size: int = Field(description="How many customers the rules select now")


@router.post("/segment-rules", response_model=SegmentRulesOut,
             summary="Plain English to segment rules",
             description="Turns a description of an audience into rules JSON for the rule "
                         "builder, with an explanation and the engine that answered. Answers "
                         "422 when nothing in the prompt describes an audience.")
def segment_rules(body: SegmentRulesIn, _key: Any = Depends(require_scope("ai")),
                  session: Session = Depends(db_session)) -> SegmentRulesOut:
    if not body.prompt.strip():
        raise ApiError(422, "prompt: describe the audience, e.g. “spent over ₹5K in Pune”",
                       details={"field": "prompt"})
    result = nl.segment_rules(session, body.prompt)
    value = result.value
    if not value.understood:
        raise ApiError(422, value.why_not_understood(), code="not_understood",
                       details={"unparsed": value.unparsed, "refused": value.refused,
                                "warnings": value.warnings, "engine": result.engine,
                                "note": result.note})
    notes = [result.note] if result.note else []
    if value.unparsed:
        notes.append("Not understood: " + "; ".join(f"“{u}”" for u in value.unparsed))
    return SegmentRulesOut(rules=value.rules, explanation=value.explanation,
                           engine=result.engine, note=" ".join(notes), unparsed=value.unparsed,
                           unused_words=list(value.unparsed), warnings=list(value.warnings),
                           size=segments.audience_size(session, value.rules))


# --- Other AI features (messages, tags, send-time, lookalike) go below ----------------


# --- Message suggestions, auto-tags, send times, lookalikes, campaign insights ---------
# (core: mini_crm/core/ai/messages.py, tags.py, send_time.py, lookalike.py, insights.py)

MAX_ID = 2_147_483_647  # ids are 32-bit on every supported database


class MessagesIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"objective": "Win back lapsed big spenders with 20% off this weekend",
         "tone": "friendly", "channel": "sms", "n": 3,
         "rules": {"combinator": "and", "rules": [
             {"field": "days_since_last_order", "operator": ">=", "value": 180}]}}]})
    objective: str = Field(min_length=1, max_length=ai_messages.MAX_OBJECTIVE,
                           description="What the campaign is for, in plain words")
    tone: Literal["friendly", "urgent", "premium", "playful", "formal"] = "friendly"
    rules: dict[str, Any] | None = Field(default=None, description="The audience (rules "
                                         "JSON); its facts shape the wording")
    channel: ChannelName = "sms"
    n: WholeNumber = Field(default=3, ge=1, le=ai_messages.MAX_VARIANTS)


class MessageVariantOut(BaseModel):
    text: str = Field(description="Template with personalisation tokens such as {first_name}")
    rationale: str
    length: int = Field(description="Characters once rendered for a typical customer")


class MessagesOut(BaseModel):
    variants: list[MessageVariantOut]
    intent: str = Field(description="The objective's intent, as the tags classifier read it")
    image_url: str | None = Field(description="An offer image, only where a product "
                                  "catalogue or image API is configured")
    image_note: str
    audience_size: int
    engine: str
    note: str


@router.post("/messages", response_model=MessagesOut, summary="Message suggestions",
             description="Message variants for an objective and tone, with personalisation "
                         "tokens, fitted to the channel (SMS: 160 characters for a typical "
                         "customer). Nothing is saved or sent.")
def messages(body: MessagesIn, _key: Any = Depends(require_scope("ai")),
             session: Session = Depends(db_session)) -> MessagesOut:
    if not body.objective.strip():
        raise ApiError(422, "objective: say what the campaign is for",
                       details={"field": "objective"})
    result = ai_messages.suggest_messages(session, objective=body.objective, tone=body.tone,
                                          rules=body.rules, channel=body.channel, n=body.n)
    facts = ai_messages.audience_facts(session, body.rules)
    image = ai_messages.image_suggestion(body.objective)
    return MessagesOut(
        variants=[MessageVariantOut(text=v.text, rationale=v.rationale, length=v.length)
                  for v in result.value],
        intent=ai_messages.read_objective(body.objective).intent, image_url=image.url,
        image_note=image.note, audience_size=facts.size, engine=result.engine,
        note=result.note)


class TagsIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"name": "Diwali win-back", "objective": "bring back lapsed customers for Diwali",
         "message": "Hi {first_name}, we miss you! 20% off this Diwali."}]})
    name: str = Field(default="", max_length=200)
    message: str = Field(default="", max_length=2000)
    objective: str = Field(default="", max_length=500)


class TagsOut(BaseModel):
    tags: list[str] = Field(description="Intents, most likely first")
    engine: str
    note: str


@router.post("/tags", response_model=TagsOut, summary="Auto-tags by intent",
             description="Tags a campaign by intent (win-back, promotion, loyalty, welcome, "
                         "festive, re-engagement, new-arrivals, abandoned-cart, feedback).")
def tags(body: TagsIn, _key: Any = Depends(require_scope("ai"))) -> TagsOut:
    if not (body.name.strip() or body.message.strip() or body.objective.strip()):
        raise ApiError(422, "give a name, a message or an objective to tag")
    result = ai_tags.suggest_tags(name=body.name, message=body.message,
                                  objective=body.objective)
    return TagsOut(tags=result.value, engine=result.engine, note=result.note)


class SendTimeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"rules": {"combinator": "and", "rules": [
            {"field": "city", "operator": "in", "value": ["Mumbai", "Pune"]}]}}]})
    rules: dict[str, Any]


class SendWindowOut(BaseModel):
    weekday: int = Field(description="0 = Monday, in the brand time zone")
    weekday_name: str
    hour: int = Field(description="0-23, in the brand time zone")
    score: float = Field(description="Share of the orders in the three hours around `hour`")
    conversion_share: float | None = Field(
        default=None, description="Share of the conversions (orders attributed to a campaign "
                                  "message) in the same three hours; null when there were "
                                  "too few conversions to weigh in")
    reason: str
    next_at: UtcTimestamp = Field(description="The next such time, UTC")


class SendTimeOut(BaseModel):
    heatmap: list[list[int]] = Field(description="Orders by weekday (Mon = 0) × hour, brand "
                                                 "time zone")
    conversion_heatmap: list[list[int]] = Field(
        description="Conversions (orders attributed to a campaign message, holdout excluded) "
                    "by weekday × hour of the order, brand time zone")
    conversions: int = Field(description="Conversions behind conversion_heatmap")
    conversion_basis: str = Field(
        description="'audience' or 'all customers' when the conversion hours were blended "
                    "into the windows (half the weight); '' when too few to use")
    windows: list[SendWindowOut]
    timezone: str
    orders: int
    basis: str
    audience_size: int
    engine: str
    note: str


@router.post("/send-time", response_model=SendTimeOut, summary="Send-time suggestions",
             description="A weekday × hour heatmap of the audience's past orders and the best "
                         "three send windows with reasons, weighing in the hours when past "
                         "campaign messages converted (when there are at least 20 such "
                         "orders). Nothing is scheduled.")
def send_time(body: SendTimeIn, _key: Any = Depends(require_scope("ai")),
              session: Session = Depends(db_session)) -> SendTimeOut:
    result = ai_send_time.suggest_send_times(session, body.rules)
    advice = result.value
    return SendTimeOut(
        heatmap=advice.heatmap, timezone=advice.timezone, orders=advice.orders,
        conversion_heatmap=advice.conversion_heatmap, conversions=advice.conversions,
        conversion_basis=advice.conversion_basis,
        basis=advice.basis, audience_size=advice.audience_size, engine=result.engine,
        note=" ".join(filter(None, [result.note, *advice.notes])),
        windows=[SendWindowOut(weekday=w.weekday, weekday_name=ai_send_time.WEEKDAYS[w.weekday],
                               hour=w.hour, score=w.score, reason=w.reason,
                               conversion_share=w.conversion_share,
                               next_at=w.next_at.replace(tzinfo=UTC))
                 for w in advice.windows])


class LookalikeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"campaign_id": 1},
        {"rules": {"combinator": "and", "rules": [
            {"field": "total_spend", "operator": ">", "value": 20000}]}}]})
    campaign_id: WholeNumber | None = Field(default=None, ge=1, le=MAX_ID)
    rules: dict[str, Any] | None = None
    exclude_seed: bool = Field(default=True, description="Leave the seed segment out of "
                               "the new audience (rules seeds only)")


class LookalikeOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "found": True, "size": 412,
        "summary": "412 customers resemble the 150 in this audience (who are left out).",
        "rules": {"combinator": "and", "rules": [
            {"combinator": "and", "rules": [
                {"field": "total_spend", "operator": ">", "value": 15795}]},
            {"combinator": "and", "not": True, "rules": [
                {"field": "attributes.pilot", "operator": "=", "value": True}]}]},
        "explanation": ["Seed: the segment “Customers who have pilot: yes”, "
                        "150 customers.", "Customers who spent over ₹15,795: 97% of the seed "
                        "sample against 0.4% of other customers.", "..."],
        "seed_size": 150, "seed": "the segment “Customers who have pilot: yes”",
        "seed_excluded": True, "seed_coverage": 0.97,
        "sentence": "Customers who spent over ₹15,795 and do not match [have "
                    "attributes.pilot is True]",
        "engine": "offline", "note": ""}, {
        "found": False, "size": 0, "rules": None, "sentence": "",
        "summary": "Nothing outside this audience resembles it: its 84 customers are already "
                   "described exactly by number of orders (the model's rule, “placed at "
                   "least 5 orders”, matches all of them and no one else). Widen a threshold "
                   "to reach more people: lowering number of orders from ≥ 5 to ≥ 4 would "
                   "add 21 customers.",
        "explanation": ["Seed: the segment “Customers who placed at least 5 orders”, 84 "
                        "customers.", "Customers who placed at least 5 orders: 100% of the "
                        "seed sample against 0.0% of other customers."],
        "seed_size": 84, "seed": "the segment “Customers who placed at least 5 orders”",
        "seed_excluded": True, "seed_coverage": 1.0, "engine": "offline", "note": ""}]})
    found: bool = Field(description="False when no customer (outside the seed, for a rules "
                                    "seed) resembles it: then size is 0, rules is null and "
                                    "summary says why and which threshold to widen")
    summary: str = Field(description="The answer in one sentence, for people")
    rules: dict[str, Any] | None = Field(description="Rules JSON to review (never saved by "
                                                     "this call); null when found is false")
    size: int = Field(description="Customers the rules select now (0 when found is false)")
    explanation: list[str] = Field(description="The seed, then what sets it apart and how "
                                               "the rules were built")
    seed_size: int
    seed: str = Field(description="What the seed is, in words")
    seed_excluded: bool = Field(description="The seed is left out of the audience (a NOT "
                                            "group, rules seeds only)")
    seed_coverage: float | None = Field(description="Share of the seed the learned rules "
                                                    "match")
    sentence: str = Field(description="The rules as a sentence; empty when found is false")
    engine: str = Field(description="'offline' or 'llm': which engine answered")
    note: str = Field(description="Why the offline engine answered instead of the LLM; "
                                  "empty otherwise")


@router.post("/lookalike", response_model=LookalikeOut, summary="Lookalike audience",
             description="Learns what sets a campaign's responders (or delivered recipients) "
                         "or a segment apart and proposes editable rules for similar "
                         "customers, with the new audience's size and why. When no one "
                         "outside the seed resembles it (the seed is already described "
                         "exactly by the features the model uses), it answers 200 with "
                         "found false, size 0 and rules null, and the summary names those "
                         "features and a wider threshold to try.")
def lookalike(body: LookalikeIn, _key: Any = Depends(require_scope("ai")),
              session: Session = Depends(db_session)) -> LookalikeOut:
    if (body.campaign_id is None) == (body.rules is None):
        raise ApiError(422, "give either campaign_id or rules",
                       details={"field": "campaign_id"})
    try:
        result = ai_lookalike.lookalike(session, campaign_id=body.campaign_id,
                                        rules=body.rules, exclude_seed=body.exclude_seed)
    except ai_lookalike.LookalikeError as exc:
        raise ApiError(422, str(exc), code="no_lookalike") from exc
    except LookupError as exc:
        raise ApiError(404, str(exc)) from exc
    v = result.value
    return LookalikeOut(found=v.found, summary=v.summary, rules=v.rules, size=v.size,
                        explanation=v.explanation, seed_size=v.seed_size, seed=v.seed,
                        seed_excluded=v.seed_excluded, seed_coverage=v.seed_coverage,
                        sentence=v.sentence, engine=result.engine, note=result.note)


# GET /api/v1/campaigns/{id}/insights: outside the /api/v1/ai prefix, so its own router
# (registered in api/app.py ROUTERS as "mini_crm.api.ai:insights_router").
insights_router = APIRouter(prefix="/api/v1/campaigns", tags=["campaigns"],
                            responses={401: ERROR_SCHEMA, 403: ERROR_SCHEMA,
                                       404: ERROR_SCHEMA, 422: ERROR_SCHEMA})


def _read_or_ai(request: Request) -> ApiKey:
    """Admits a key with the 'read' or the 'ai' scope."""
    try:
        return require_scope("read")(request)
    except ApiError as exc:
        if exc.status != 403:
            raise
    return require_scope("ai")(request)


class InsightsOut(BaseModel):
    campaign_id: int
    summary: str
    highlights: list[str]
    overall: dict[str, Any]
    by_city: list[dict[str, Any]]
    by_spend_tier: list[dict[str, Any]]
    by_tenure: list[dict[str, Any]]
    comparison: dict[str, Any]
    top_errors: list[dict[str, Any]]
    outcome: dict[str, Any] = Field(default_factory=dict, description="what it earned: "
                                    "conversions, revenue, holdout, uplift (docs/outcomes.md)")
    conversion: dict[str, Any] = Field(
        default_factory=dict,
        description="which groups converted better: {recipients, converted, rate, groups: "
                    "{City|Gender|Spend tier|Tenure: [{label, recipients, converted, rate, "
                    "revenue, rest_rate, z, significant}]}} (two-proportion z-test against "
                    "the other recipients, |z| ≥ 2.58, ≥ 30 each side, ≥ 2 points)")
    engine: str
    note: str


@insights_router.get("/{campaign_id:int}/insights", response_model=InsightsOut,
                     summary="Campaign insights",
                     description="A plain-language summary of what the campaign earned "
                                 "(attributed revenue, uplift against the holdout), which "
                                 "groups converted better, and how it delivered, and the "
                                 "figures behind it: outcome, conversion by group, delivery "
                                 "rate overall and by city, "
                                 "spend tier and tenure, what stood out (two-proportion "
                                 "z-test) and the comparison with earlier campaigns.")
def campaign_insights(campaign_id: int = PathParam(ge=1, le=MAX_ID),
                      _key: Any = Depends(_read_or_ai),
                      session: Session = Depends(db_session)) -> InsightsOut:
    try:
        result = ai_insights.campaign_insights(session, campaign_id)
    except LookupError as exc:
        raise ApiError(404, str(exc)) from exc
    v = result.value
    return InsightsOut(campaign_id=campaign_id, summary=v.summary, highlights=v.highlights,
                       overall=v.overall, by_city=v.by_city, by_spend_tier=v.by_spend_tier,
                       by_tenure=v.by_tenure, comparison=v.comparison,
                       top_errors=v.top_errors, outcome=v.outcome,
                       conversion=v.conversion, engine=result.engine,
                       note=result.note)
