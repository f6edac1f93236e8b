"""How a campaign's figures before launch read: who a launch reaches and who it skips,
what a holdout keeps back, sample messages, and send-time advice. One wording, built
here from `core/formatting`, for the campaign wizard (state/wizard_reads and the holdout
state call these and nothing else) and the API (`POST /api/v1/campaigns/preview`'s
`summary` is `reach_text`), so both say the same words.

Plain functions of values core already computed (a `reach.Reach`, rendered rows, a
send-time advice): no session, no SQL. Every figure comes back as display text (Indian
digit grouping, the brand's time zone); counts the page compares stay ints.
"""

from __future__ import annotations

import calendar
from typing import Any

from mini_crm.core import formatting
from mini_crm.core.campaigns import split
from mini_crm.core.campaigns.reach import RECENT_NAMED, Reach, Recent
from mini_crm.core.sms import sms_length

# Skip reasons (core/campaigns/reach.py) as a marketer reads them; {address} is the
# channel's address: "phone", "mobile number" or "email".
SKIP_LABELS = {"unsubscribed": "unsubscribed", "suppressed": "suppressed",
               "no_address": "no {address}", "duplicate_address": "duplicate address",
               "frequency_cap": "frequency cap"}

# Why a row is no_address (log rows' skip_detail, core/campaigns/reach.py).
SKIP_DETAIL_LABELS = {"no_phone": "no phone", "not_mobile": "no mobile number (landline)",
                      "no_email": "no email"}

# The send-time heatmap's shades: 0 (no orders) to HEAT_LEVELS (the busiest hour).
HEAT_LEVELS = 4


def skipped_text(skipped: dict[str, int], channel: str) -> str:
    """Who a launch leaves out, by reason: "31 unsubscribed, 22 no phone, 9 duplicate
    address" (reasons with a count only, in SKIP_LABELS order), or "" when nobody is.
    `skipped` maps reason -> count; `channel` is "sms", "email" or "whatsapp"."""
    # SMS leaves out landlines too (reach.no_address): "no mobile number", not "no phone".
    address = {"email": "email", "sms": "mobile number"}.get(channel, "phone")
    parts = [f"{formatting.count(n)} {label.format(address=address)}"
             for reason, label in SKIP_LABELS.items() if (n := int(skipped.get(reason, 0)))]
    return ", ".join(parts)


def reach_text(matching: int, recipients: int, skipped: dict[str, int], channel: str,
               held_back: int = 0) -> str:
    """A launch's reach in one line: "1,480 match · 1,402 will receive · skipped: 31
    unsubscribed, 22 no mobile number" (or "· nobody skipped"). With a holdout
    (`held_back`, about how many of `recipients` it keeps, Reach.holdout_about):
    "1,480 match · about 1,122 will receive · about 280 held out · skipped: …" — the
    holdout is never sent, so it is not among those who receive."""
    if held_back:
        text = (f"{formatting.count(matching)} match · about "
                f"{formatting.count(max(recipients - held_back, 0))} will receive · about "
                f"{formatting.count(held_back)} held out")
    else:
        text = (f"{formatting.count(matching)} match · "
                f"{formatting.count(recipients)} will receive")
    left_out = skipped_text(skipped, channel)
    return text + (f" · skipped: {left_out}" if left_out else " · nobody skipped")


def reach_view(counted: Reach, channel: str) -> dict[str, Any]:
    """A counted launch (service.preview_campaign) for the wizard: {size (matching, int),
    eligible (recipients, int), skipped (reason -> int), text (reach_text), skipped_text,
    recent_text (recent_text: "" when nobody was messaged lately)}."""
    return {"size": counted.matching, "eligible": counted.recipients,
            "skipped": dict(counted.skipped),
            "text": reach_text(counted.matching, counted.recipients, counted.skipped, channel),
            "skipped_text": skipped_text(counted.skipped, channel),
            "recent_text": recent_text(counted.recent)}


def _campaign_name(name: str) -> str:
    return f"“{name}”" if name.strip() else "an unnamed campaign"


def recent_text(recent: Recent) -> str:
    """Recipients another campaign messaged lately (reach.recently_messaged), before the
    launch messages them again; "" when none:

    "1,200 of these people got a message from “Diwali sale” in the last 24 h; launching
    messages them again (the frequency cap leaves out only those with 3 messages in 7
    days)." With several campaigns: "1,250 of these people got a message in the last
    24 h: 1,200 from “Diwali sale”, 80 from “Weekend” and some from 2 other campaigns; …".
    """
    if recent.people <= 0 or not recent.campaigns:
        return ""
    who = formatting.count(recent.people)
    when = f"in the last {recent.hours} h"
    if len(recent.campaigns) == 1:
        text = (f"{who} of these people got a message from "
                f"{_campaign_name(recent.campaigns[0].name)} {when}")
    else:
        named = [f"{formatting.count(c.people)} from {_campaign_name(c.name)}"
                 for c in recent.campaigns[:RECENT_NAMED]]
        others = len(recent.campaigns) - RECENT_NAMED
        if others > 0:
            named.append(f"some from {formatting.plural(others, 'other campaign')}")
        listed = ", ".join(named[:-1]) + " and " + named[-1]
        text = f"{who} of these people got a message {when}: {listed}"
    if recent.cap_messages > 0:
        guard = ("the frequency cap leaves out only those with "
                 f"{formatting.plural(recent.cap_messages, 'message')} in "
                 f"{formatting.plural(recent.cap_days, 'day')}")
    else:
        guard = "the frequency cap is off"
    return f"{text}; launching messages them again ({guard})."


def held_out(eligible: int, percent: int) -> int:
    """How many of `eligible` customers a `percent` (0-50) holdout keeps back: the launch
    holds back exactly this share of the recipients it counts then (split.sizes); "about"
    in the words, since the audience may change before it (Reach.holdout_about)."""
    return split.sizes(eligible, percent).holdout if eligible > 0 else 0


def receive_text(eligible: int, percent: int) -> str:
    """How many get the message: "234" with no holdout, "about 187" with one; "" while
    `eligible` is not counted yet (negative)."""
    if eligible < 0:
        return ""
    if not percent:
        return formatting.count(eligible)
    return f"about {formatting.count(eligible - held_out(eligible, percent))}"


def held_text(eligible: int, percent: int) -> str:
    """" About 47 of the 234 eligible are held out." (with its leading space, to follow
    a sentence), or "" with no holdout or before the audience is counted."""
    if eligible < 0 or not percent:
        return ""
    return (f" About {formatting.count(held_out(eligible, percent))} of the "
            f"{formatting.count(eligible)} eligible are held out.")


def detectable_text(option: dict[str, Any]) -> str:
    """What a holdout size can show, in plain words (one of holdout.suggest's options:
    mde_absolute and mde_relative as rates 0..1 or None, measurable). Leads the holdout
    line; detectable_stats() carries the figures as a second line.

    "It can show the message worked if it lifts buying by about 35% or more (135 buyers
    for every 100 who would have bought anyway)."; above a doubling, "only if the
    messaged buy about 10× as often as the holdout: a very large effect …"; too few
    people or no estimate: says the uplift report will not show a result."""
    if option["mde_absolute"] is None or option.get("measurable") is False:
        return "Too few people for the uplift report to show whether the message worked."
    rel = option["mde_relative"]
    if rel is None:
        return "It can show whether the message worked only for a large effect."
    if rel <= 1:
        pct = max(1, round(rel * 100))
        return (f"It can show the message worked if it lifts buying by about {pct}% or "
                f"more ({100 + pct} buyers for every 100 who would have bought anyway).")
    times = 1 + rel
    times_text = f"{times:.1f}".removesuffix(".0") if times < 10 else f"{times:.0f}"
    return (f"It can show the message worked only if the messaged buy about {times_text}× "
            "as often as the holdout: a very large effect, so a smaller one will read as "
            "not significant.")


def detectable_stats(option: dict[str, Any]) -> str:
    """The same as figures for the curious (second line): "Smallest detectable uplift
    0.84 points (35% of the base rate), 80% power, 5% significance"; "" without an
    estimate."""
    if option["mde_absolute"] is None:
        return ""
    text = f"Smallest detectable uplift {option['mde_absolute'] * 100:.2f} points"
    if option["mde_relative"] is not None:
        text += f" ({option['mde_relative'] * 100:.0f}% of the base rate)"
    return text + ", 80% power, 5% significance"


def message_sample(row: dict[str, Any], text: str, subject: str = "",
                   preheader: str = "") -> dict[str, str]:
    """One recipient's rendered message (`text`, and the email's `subject` and
    `preheader`, "" for SMS) as the page lists it: {name ("(no name)" when blank), city
    ("—"), external_id, text, subject, preheader, chars (its length), sms (" · 2 SMS",
    with why when it needs Unicode)}.
    `row` is one of reach.sample_recipients' rows."""
    return {"name": row.get("name") or "(no name)", "city": row.get("city") or "—",
            "external_id": row.get("external_id") or "", "text": text, "subject": subject,
            "preheader": preheader,
            "chars": str(len(text)), "sms": " · " + sms_length(text).describe()}


def send_time_view(advice: Any) -> dict[str, Any]:
    """Send-time advice (core/ai/send_time.SendTimeAdvice) for the schedule step:
    {heat: 7 rows (Mon first) of {day, cells: 24 × {hour, level 0..HEAT_LEVELS, count}},
    windows: [{label "Fri 18:00", when "04 Dec 2026, 18:00" (the next such time, brand
    zone), value (the same time as the schedule box takes it), reason, score "23.4% of
    orders"}], notes: the advice's own notes}.
    """
    peak = max((max(row) for row in advice.heatmap if row), default=0) or 1
    heat = [{"day": calendar.day_abbr[d],
             "cells": [{"hour": str(h), "level": str(round(HEAT_LEVELS * v / peak)),
                        "count": str(v)} for h, v in enumerate(row)]}
            for d, row in enumerate(advice.heatmap[:7])]
    windows = [{"label": f"{calendar.day_abbr[w.weekday % 7]} {w.hour:02d}:00",
                "when": formatting.date_time(w.next_at), "value": formatting.local_input(w.next_at),
                "reason": w.reason,
                "score": f"{formatting.percent(w.score, trim=True)} of orders"}
               for w in advice.windows]
    return {"heat": heat, "windows": windows, "notes": list(getattr(advice, "notes", []))}


def sent_length_note(template: str, sample_texts: list[str], channel: str) -> str:
    """The message box's counter: the length as customers will get it, not the template's
    ("Hi {first_name}" is 15 characters typed, "Hi Priyanka" 11 sent). With rendered
    samples: "about 178–184 characters once personalised · 2 SMS (template: 158)", the
    SMS count that of the longest sample; without (none loaded yet): the template's
    length, and for SMS what one SMS holds."""
    typed = f"template: {len(template)}"
    if not sample_texts:
        return (f"{len(template)} characters in the template · an SMS holds 160, or 70 "
                "with ₹ or other Unicode" if channel == "sms"
                else f"{len(template)} characters in the template")
    lengths = sorted(len(t) for t in sample_texts)
    span = (f"{lengths[0]}" if lengths[0] == lengths[-1]
            else f"{lengths[0]}–{lengths[-1]}")
    note = f"about {span} characters once personalised"
    if channel == "sms":
        longest = max(sample_texts, key=len)
        note += " · " + sms_length(longest).describe()
    return f"{note} ({typed})"
