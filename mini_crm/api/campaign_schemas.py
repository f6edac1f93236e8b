"""The campaigns API's request and response models (pydantic): what
api/campaigns.py and api/campaign_drafts.py accept and answer, with the examples and
field descriptions Swagger shows. Kept apart from the routes so each file reads in one
sitting (api/campaigns.py had grown past 450 lines)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from mini_crm.api.segments import EXAMPLE_RULES
from mini_crm.api.whole_numbers import WholeNumber
from mini_crm.core.brand_time import UtcTimestamp
from mini_crm.core.campaigns import ab_test
from mini_crm.core.ingestion.schemas import InputTimestamp

MAX_ID = 2_147_483_647  # ids are 32-bit on every supported database
CampaignId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _channel_word(value: Any) -> Any:
    """" SMS " reads as "sms": a channel is a word, not a case-sensitive code (amounts'
    currencies are read the same way); anything else goes on to the Literal's check."""
    return value.strip().lower() if isinstance(value, str) else value


# A message channel on every request body: sms, email or whatsapp, in any case.
ChannelName = Annotated[Literal["sms", "email", "whatsapp"], BeforeValidator(_channel_word)]
EXAMPLE = {"name": "Diwali win-back", "rules": EXAMPLE_RULES,
           "message": "Hi {first_name}, we miss you in {city}! 20% off this week.",
           "channel": "sms", "objective": "win back lapsed big spenders",
           "tags": ["festive", "win-back"]}


class VariantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message: str = Field(max_length=2000, description="template, as `message`")
    subject: str | None = Field(default=None, max_length=300,
                                description="email only: this variant's subject line")


class AbTestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    test_percent: WholeNumber = Field(default=100, ge=1, le=100, description="share of the "
                              "recipients sent at launch, split evenly over the variants; "
                              "the rest waits for the winner (100: send all at once)")
    test_hours: WholeNumber = Field(default=24, ge=1, le=ab_test.MAX_TEST_HOURS,
                            description="hours after launch when the winner is picked")
    metric: Literal["conversion", "delivery"] = Field(
        default="conversion", description="compare conversion rate (converters / sent) "
        "or delivery rate (delivered / sent)")


AB_EXAMPLE = {"name": "Diwali A/B", "rules": EXAMPLE_RULES, "channel": "sms",
              "variants": [{"message": "Hi {first_name}, 20% off this week!"},
                           {"message": "{first_name}, your Diwali treat: 20% off"}],
              "holdout_percent": 10,
              "ab_test": {"test_percent": 20, "test_hours": 24, "metric": "conversion"}}


class CampaignIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE,
                                                                               AB_EXAMPLE]})
    name: str = Field(min_length=1, max_length=200)
    rules: dict[str, Any] | None = Field(default=None, description="audience rules, or "
                                         "segment_id, never both (422); snapshotted at "
                                         "creation")
    segment_id: WholeNumber | None = Field(default=None, ge=1, le=MAX_ID)
    message: str | None = Field(default=None, min_length=1, max_length=2000,
                                description="template with {name} {first_name} {city} "
                                "{email} {total_spend} {order_count} {last_order_date}; "
                                "required unless `variants` is given")
    variants: list[VariantIn] | None = Field(
        default=None, max_length=10, description="A/B test: 2-4 message variants "
        "(keys A-D in this order) instead of `message`")
    ab_test: AbTestIn | None = Field(default=None, description="A/B test settings (with "
                                     "`variants`); default: all at once, winner after 24 h "
                                     "by conversion rate")
    channel: ChannelName = "sms"
    schedule_at: InputTimestamp | None = Field(default=None, description="ISO-8601; a time in "
                                         "the past or absent launches at once")
    objective: str | None = Field(default=None, max_length=500)
    holdout_percent: WholeNumber = Field(default=0, ge=0, le=50, description="share of the "
                                 "eligible audience kept as a control group: logged with "
                                 "status holdout, never sent, measured for uplift")
    subject: str | None = Field(default=None, max_length=300, description="email: the "
                                "subject line, a template like message (default: the "
                                "message's first line)")
    preheader: str | None = Field(default=None, max_length=300, description="email: the "
                                  "preview text inboxes show after the subject (tokens)")
    sender_name: str | None = Field(default=None, max_length=100,
                                    description="email: the name beside the From address")
    # Left out, the campaign is tagged by intent (win-back, festive…) by the classifier.
    tags: list[Annotated[str, Field(max_length=40)]] | None = Field(default=None,
                                                                     max_length=10)
    save_audience_as: str | None = Field(
        default=None, max_length=200, description="save `rules` as a new segment with "
        "this name, in the same transaction as the campaign, and link the campaign to it "
        "(a refused campaign leaves no segment); an empty or already used name, or "
        "`segment_id` instead of rules, is a 422 with field `save_audience_as`")


class Skipped(BaseModel):
    """Matching customers a launch leaves out, per reason (never sent, never failed)."""

    unsubscribed: int = 0
    suppressed: int = 0
    no_address: int = 0
    duplicate_address: int = 0
    frequency_cap: int = 0


class PreviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"rules": EXAMPLE_RULES, "channel": "sms"}, {"segment_id": 3, "channel": "email"}]})
    rules: dict[str, Any] | None = Field(default=None, description="audience rules, or "
                                         "segment_id, never both (422)")
    segment_id: WholeNumber | None = Field(default=None, ge=1, le=MAX_ID)
    channel: ChannelName = "sms"
    holdout_percent: WholeNumber = Field(default=0, ge=0, le=50, description="the holdout the "
                                 "launch would keep, as on create (0-50)")
    variants: WholeNumber | None = Field(default=None, ge=2, le=ab_test.MAX_VARIANTS,
                                 description="A/B test: how many message variants the "
                                 "launch would test (2-4); with `ab_test` it adds a warning "
                                 "when each would get fewer than 100 people in the test")
    ab_test: AbTestIn | None = Field(default=None, description="the A/B settings, as on "
                                     "create (only test_percent matters here)")


class RecentCampaignOut(BaseModel):
    id: int
    name: str
    people: int = Field(description="of the recipients, how many this campaign messaged")


class RecentOut(BaseModel):
    people: int = Field(default=0, description="recipients who got a message from another "
                        "campaign in the last `hours` (each counted once)")
    hours: int = 24
    campaigns: list[RecentCampaignOut] = Field(
        default_factory=list, description="those campaigns, most people first (one person "
        "can be in several)")


class PreviewOut(BaseModel):
    matching: int = Field(description="customers the rules match now")
    recipients: int = Field(description="those a launch now would message, or hold out "
                            "when holdout_percent is set: the launched campaign's "
                            "recipients plus its holdout size")
    skipped: Skipped
    holdout_about: int = Field(description="with holdout_percent: about how many of the "
                               "recipients the holdout keeps (the launch draws them at "
                               "random, stable per campaign); 0 without")
    no_address_detail: dict[str, int] = Field(
        default_factory=dict, description="`skipped.no_address` by why: `no_phone` (none "
        "stored) and, for sms, `not_mobile` (a landline or toll-free number, which cannot "
        "take an SMS); `no_email` for email")
    recently_messaged: RecentOut = Field(
        default_factory=RecentOut, description="recipients another campaign "
        "messaged in the last 24 h (a duplicate launched again, two campaigns on one "
        "audience): the launch messages them again unless the frequency cap stops it")
    warnings: list[str] = Field(default_factory=list, description="sentences for the "
                                "marketer, never a refusal: recipients messaged by another "
                                "campaign in the last 24 h (\"1,200 of these people got a "
                                "message from “Diwali sale” in the last 24 h; launching "
                                "messages them again (…)\"), and with `variants`, when each "
                                "variant would likely get fewer than the 100 people in "
                                "the test an automatic winner needs (\"Each variant gets "
                                "about 98 in the test; at least 100 are needed for an "
                                "automatic winner — raise the test share or pick the "
                                "winner yourself.\")")
    summary: str = Field(default="", description="the reach in one line, as the web "
                         "wizard says it: \"1,480 match · 1,402 will receive · skipped: 31 "
                         "unsubscribed, 22 no mobile number\" (or \"· nobody skipped\"); with a "
                         "holdout \"1,480 match · about 1,122 will receive · about 280 held "
                         "out · …\"")


class HoldoutOut(BaseModel):
    size: int = Field(description="people held out (log rows with status holdout)")
    conversions: int = Field(description="their attributed orders")
    converters: int = Field(description="of them, people with at least one")
    revenue: float = Field(description="their attributed revenue")
    conversion_rate: float | None = Field(description="converters / size")


class UpliftOut(BaseModel):
    absolute: float = Field(description="recipients' conversion rate minus the holdout's "
                            "(0.012 = 1.2 points)")
    relative: float | None = Field(description="absolute / holdout rate; null when that "
                                   "rate is 0")
    ci_low: float = Field(description="95% confidence interval of `absolute` (Newcombe "
                          "hybrid score)")
    ci_high: float
    significant: bool = Field(description="the interval excludes 0")
    incremental_orders: float
    incremental_revenue: float


class VariantOut(BaseModel):
    key: str = Field(description="A, B, C or D")
    message: str
    subject: str | None = None
    recipients: int = Field(description="log rows with this variant (the rest of an A/B "
                            "test gets the winner's key when it is sent)")
    sent: int = Field(description="messages the vendor accepted")
    delivered: int
    failed: int = Field(description="real failures: never reached the vendor or refused "
                        "by it; rows a cancel stopped are `cancelled`, not failed")
    cancelled: int = Field(0, description="rows a cancel stopped before they were sent")
    pending: int
    conversions: int = Field(description="attributed orders")
    converters: int
    revenue: float
    conversion_rate: float | None = Field(description="converters / sent")
    delivery_rate: float | None = Field(description="delivered / sent")


class DecisionOut(BaseModel):
    winner: str | None
    reason: str
    metric: str
    method: str
    p_value: float | None
    rates: dict[str, float | None]
    alpha: float


class AbTestOut(BaseModel):
    test_percent: int
    test_hours: int
    metric: str
    phase: str | None = Field(description="testing (rest waiting) or decided")
    decide_at: UtcTimestamp | None = Field(description="when the test ends: the winner "
                                           "is picked then, or (auto_winner false) "
                                           "variant A goes to the rest unless a winner "
                                           "was picked by hand (UTC)")
    auto_winner: bool = Field(True, description="false when the test was launched too "
                              "small for an automatic winner (fewer than 100 per variant): "
                              "the winner is picked by hand (POST .../winner)")
    plan: str | None = Field(None, description="while testing with auto_winner false: "
                             "what happens, in words")
    waiting: int = Field(description="recipients held for the winner's message")
    decided_by: str | None = Field(description="auto or manual; null while testing")
    decided_at: UtcTimestamp | None
    reason: str | None = Field(description="why this winner, or why none, in words")
    p_value: float | None = Field(description="the (Holm-adjusted) p-value that decided")
    method: str | None
    rates: dict[str, float | None] | None = Field(description="the metric per variant "
                                                  "at the decision")
    rest_variant: str | None = Field(description="the variant the rest was sent (the "
                                     "winner; A when there was none)")
    live: DecisionOut | None = Field(description="while testing: what the winner rule "
                                     "says with the figures so far")


class CampaignOut(BaseModel):
    id: int
    name: str
    status: str
    channel: str
    tags: list[str]
    objective: str | None
    created_by_email: str | None
    created_at: UtcTimestamp
    scheduled_at: UtcTimestamp | None
    started_at: UtcTimestamp | None
    completed_at: UtcTimestamp | None
    audience_size: int
    pending: int
    sent: int
    failed: int = Field(description="never sent or refused by the vendor, including the "
                        "`cancelled` rows; failed - cancelled are the real failures")
    cancelled: int = Field(default=0, description="rows a cancel stopped before they "
                           "were sent (error \"cancelled\"): never sent, not a failure of "
                           "the campaign; already counted in `failed`")
    delivered: int
    undelivered: int
    delivery_rate: float | None = Field(description="delivered / sent; null before any "
                                        "message was sent")
    recipients: int = Field(description="rows to message: audience_size minus skipped")
    skipped: Skipped
    holdout_percent: int
    conversions: int = Field(description="orders attributed to the campaign's messages "
                             "(last touch within the channel's conversion window)")
    converters: int = Field(description="recipients with at least one attributed order")
    revenue: float = Field(description="attributed revenue (holdout excluded)")
    conversion_rate: float | None = Field(description="converters / sent")
    revenue_per_message: float | None = Field(description="revenue / sent")
    waiting: int = Field(default=0, description="A/B rows waiting for the winner")
    is_ab: bool = Field(default=False, description="an A/B test of message variants")


class CampaignDetail(CampaignOut):
    holdout: HoldoutOut
    uplift: UpliftOut | None = Field(description="null without a holdout or while data is "
                                     "short (see docs/outcomes.md)")
    message: str
    variants: list[VariantOut] = Field(description="A/B test: each variant's figures; "
                                       "[] for a single-message campaign")
    winner: str | None = Field(description="the winning variant's key; null while testing, "
                               "without a significant winner, or without variants")
    ab_test: AbTestOut | None = None
    no_address_detail: dict[str, int] = Field(
        default_factory=dict, description="`skipped.no_address` by why, from the skipped "
        "customers' current contact: `no_phone` and, for sms, `not_mobile` (landline or "
        "toll-free); `no_email` for email")
    warnings: list[str] = Field(default_factory=list, description="sentences for the "
                                "marketer, never a refusal: an A/B test whose variants have "
                                "(while testing) or would have (while scheduled, for the "
                                "audience now) fewer than the 100 people an automatic "
                                "winner needs; pick the winner by hand (POST "
                                "/{id}/winner) or the rest gets variant A")
    rules: dict[str, Any]
    segment_id: int | None
    subject: str | None = None
    preheader: str | None = None
    sender_name: str | None = None


class CancelInfo(BaseModel):
    in_flight: int | None = Field(description="messages in vendor requests that had "
                                  "started before the cancel: the vendor may still accept "
                                  "them (they end sent or failed by its answer); null when "
                                  "the count is unknown, and then in_flight_note says why")
    in_flight_note: str | None = Field(
        default=None, description="null when in_flight is a count; \"unknown: Redis "
        "unreachable\" when REDIS_URL is set and Redis did not answer the cancel (workers "
        "elsewhere may hold requests nobody can count; they still start no new one)")
    settling: int = Field(description="rows still with workers when this answer was "
                          "written; 0 means the counters are final")
    final: bool


class CancelOut(CampaignDetail):
    cancel: CancelInfo


class CampaignPage(BaseModel):
    items: list[CampaignOut]
    total: int
    limit: int
    offset: int


class WinnerIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"variant": "B"}]})
    variant: str = Field(min_length=1, max_length=8, description="the variant key to send "
                         "the rest of the audience")
