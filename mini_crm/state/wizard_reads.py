"""What the campaign wizard reads, shaped for its page: the wizard's fixed choices
(steps, channels, tones), saved segments to pick from, the launch's reach and sample
messages for an audience, AI suggestions (messages, tags, send times), and the
datetime-local values the schedule input speaks (brand time zone). Plain functions,
each opening its own session where it needs one, run off the event loop by the wizard
states (`rx.run_in_thread`); the figures come from core (campaigns/service,
segments/service, ai/*) and read as core words them (campaigns/figures,
segments/figures): this module shapes nothing itself.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

from mini_crm.core import brand_time, formatting, segments
from mini_crm.core.ai import messages, send_time, tags
from mini_crm.core.campaigns import figures, service, test_send
from mini_crm.core.messages import render
from mini_crm.core.segments import figures as segment_figures
from mini_crm.core.segments import service as segment_service
from mini_crm.db import session_scope

STEPS = [("Audience", "users"), ("Message", "message-square-text"),
         ("Schedule", "calendar-clock"), ("Review", "rocket")]
CHANNELS = [("sms", "SMS", "smartphone"), ("email", "Email", "mail"),
            ("whatsapp", "WhatsApp", "message-circle")]
TONES = ["friendly", "urgent", "premium", "playful", "formal"]
SAMPLE_SIZE = 3


def tokens() -> list[dict[str, str]]:
    return [{"token": "{" + t + "}", "hint": d} for t, d in render.TOKENS]


def template_errors(template: str) -> list[str]:
    return render.validate_template(template)


def segment_choices() -> list[dict[str, str]]:
    with session_scope() as db:
        return [segment_figures.listed(seg) for seg in segment_service.segment_summaries(db)]


def segment_rules(segment_id: int) -> dict[str, Any] | None:
    with session_scope() as db:
        seg = segment_service.get_segment(db, segment_id)
        return None if seg is None else dict(seg.rules)


def reach(rules: dict[str, Any], channel: str) -> dict[str, Any]:
    """Matching, recipients and skipped per reason: the launch's own statement, counted
    (service.preview_campaign)."""
    with session_scope() as db:
        counted = service.preview_campaign(db, rules=rules, segment_id=None, channel=channel)
    return figures.reach_view(counted, channel)


def render_samples(rules: dict[str, Any], template: str, channel: str,
                   subject: str = "", preheader: str = "") -> list[dict[str, str]]:
    """The message as three real recipients would get it (never a customer the launch
    would skip on this channel: opted out, suppressed, no address): dicts of name, city,
    external_id, text, subject and preheader (the email's, rendered; "" for SMS), chars,
    sms."""
    with session_scope() as db:
        rows = service.sample_recipients(db, rules=rules, segment_id=None, channel=channel,
                                         n=SAMPLE_SIZE)
    out = []
    for r in rows:
        # Rendered as delivery renders it: the email's subject for this customer, and
        # {unsubscribe_url} their own link on this channel.
        shown = test_send.preview_for(r, channel=channel, template=template,
                                      subject=subject or None, preheader=preheader or None)
        out.append(figures.message_sample(r, shown["text"], shown["subject"] or "",
                                          shown["preheader"] or ""))
    return out


def parse_local(value: str) -> datetime | None:
    """A datetime-local value in the brand's zone -> naive UTC (how timestamps are stored)."""
    try:
        return brand_time.to_utc(datetime.strptime(value.strip(),
                                                   formatting.LOCAL_INPUT_FORMAT))
    except ValueError:  # unreadable, or outside the supported calendar (TimestampError)
        return None


def to_local_input(utc_naive: datetime) -> str:
    return formatting.local_input(utc_naive)


def suggest_messages(objective: str, tone: str, rules: dict[str, Any] | None,
                      channel: str) -> dict[str, Any]:
    with session_scope() as db:
        result = messages.suggest_messages(db, objective=objective, tone=tone, rules=rules,
                                           channel=channel, n=3)
    return {"variants": [{"text": v.text, "rationale": v.rationale,
                          "intent": getattr(v, "intent", "") or ""} for v in result.value],
            "engine": result.engine, "note": result.note}


def suggest_tags(name: str, message: str, objective: str) -> dict[str, Any]:
    result = tags.suggest_tags(name=name, message=message, objective=objective)
    return {"tags": list(result.value), "engine": result.engine, "note": result.note}


def send_times(rules: dict[str, Any]) -> dict[str, Any]:
    with session_scope() as db:
        result = send_time.suggest_send_times(db, rules)
    view = figures.send_time_view(result.value)
    notes = [*view["notes"], *([result.note] if result.note else [])]
    return {"windows": view["windows"], "heat": view["heat"], "engine": result.engine,
            "note": " ".join(notes)}


def warm_ai() -> None:
    with contextlib.suppress(Exception):  # only a warm-up: the real call reports its errors
        tags.predict("warm up")


def count(rules: dict[str, Any]) -> int:
    with session_scope() as db:
        return segments.audience_size(db, rules)
