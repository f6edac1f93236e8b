"""Reachability at launch on SQLite, PostgreSQL and MariaDB: every skip reason, the
dedupe by address, the preview counting exactly what the launch inserts, and skipped
rows kept in the log, never sent and never counted as failed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from mini_crm.core import jobs
from mini_crm.core.campaigns import reach, reports, service
from mini_crm.core.campaigns.errors import CampaignError
from mini_crm.core.delivery import sending
from mini_crm.db import session_scope
from mini_crm.models import Campaign, Suppression, utcnow
from mini_crm.settings import get_settings
from tests.integration.campaign_helpers import (
    LOG,
    FakeVendor,
    add_customers,
    add_history,
    city_rules,
    status_counts,
    wait_for,
)

PUNE = city_rules("Pune")


@pytest.fixture
def no_enqueue(app_settings: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> sa.Engine:
    monkeypatch.setattr(service, "enqueue_after_commit", lambda *a: None)
    return app_settings


def _opted_out(channel: str) -> dict[str, Any]:
    return {f"consent_{channel}": False}


def _launch(channel: str = "sms", rules: dict[str, Any] = PUNE) -> Campaign:
    with session_scope() as db:
        return service.create_campaign(
            db, name="Reach", rules=rules, segment_id=None, message_template="Hi {name}",
            channel=channel, schedule_at=None, objective=None, created_by=None, tags=[])


def _preview(channel: str = "sms", rules: dict[str, Any] = PUNE) -> reach.Reach:
    with session_scope() as db:
        return service.preview_campaign(db, rules=rules, segment_id=None, channel=channel)


def _suppress(address: str, channel: str) -> None:
    with session_scope() as db:
        db.add(Suppression(address=address, channel=channel, reason="STOP", source="inbound"))


def _old_campaigns(n: int) -> list[int]:
    with session_scope() as db:
        old = [Campaign(name=f"old {i}", message_template="x", status="completed")
               for i in range(n)]
        db.add_all(old)
        db.flush()
        return [int(c.id or 0) for c in old]


def _log(engine: sa.Engine, campaign_id: int) -> dict[int, tuple[str, str | None]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(LOG.c.customer_id, LOG.c.status, LOG.c.skip_reason)
                            .where(LOG.c.campaign_id == campaign_id)).all()
    return {int(c): (s, r) for c, s, r in rows}


def test_every_skip_reason_once_and_the_preview_counts_what_the_launch_inserts(
        no_enqueue: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = no_enqueue
    monkeypatch.setenv("FREQUENCY_CAP_MESSAGES", "2")
    get_settings.cache_clear()
    fine = add_customers(engine, 3, start=0)
    opted = add_customers(engine, 1, start=10, **_opted_out("sms"))
    no_phone = add_customers(engine, 1, start=20, phone=None)
    blank = add_customers(engine, 1, start=21, phone="")
    # One handset, three records: the lowest id keeps it.
    twins = add_customers(engine, 3, start=30, phone="+919876543210")
    capped = add_customers(engine, 1, start=40)
    # On the list under another record's opt-out: suppressed for SMS whichever record.
    suppressed = add_customers(engine, 1, start=45, phone="+919822222222")
    _suppress("+919822222222", "sms")
    _suppress("c45@example.in", "whatsapp")  # another channel's list: no effect on SMS
    add_customers(engine, 2, city="Mumbai", start=50)  # not matching at all
    first, second = _old_campaigns(2)
    day_ago = utcnow() - timedelta(days=1)
    add_history(engine, first, capped, day_ago)
    add_history(engine, second, capped, day_ago, status="delivered")
    # Rows that never reached anyone do not count towards the cap.
    add_history(engine, first, fine[:1], day_ago, status="skipped")
    add_history(engine, second, fine[:1], day_ago, status="failed")

    before = _preview()
    assert before.matching == 11
    assert before.recipients == 4  # 3 fine + the first twin
    assert before.skipped == {"unsubscribed": 1, "suppressed": 1, "no_address": 2,
                              "duplicate_address": 2, "frequency_cap": 1}

    campaign = _launch()
    rows = _log(engine, campaign.id)
    assert len(rows) == 11 and campaign.audience_size == 11
    assert {c for c, (s, _r) in rows.items() if s == "queued"} == {*fine, twins[0]}
    assert rows[opted[0]] == ("skipped", "unsubscribed")
    assert rows[no_phone[0]] == rows[blank[0]] == ("skipped", "no_address")
    assert rows[twins[1]] == rows[twins[2]] == ("skipped", "duplicate_address")
    assert rows[capped[0]] == ("skipped", "frequency_cap")
    assert rows[suppressed[0]] == ("skipped", "suppressed")
    with session_scope() as db:
        stats = reports.get_campaign(db, campaign.id)
        assert stats is not None
        assert (stats.recipients, stats.failed, stats.queued) == (4, 0, 4)
        assert stats.skipped == before.skipped
        assert stats.as_dict()["skipped"] == before.skipped


def test_dedupe_keeps_the_lowest_reachable_record_per_address_and_channel(
        no_enqueue: sa.Engine) -> None:
    engine = no_enqueue
    # The lowest id of this phone opted out: the next record keeps the address.
    [opted] = add_customers(engine, 1, start=0, phone="+919800000001", **_opted_out("sms"))
    kept, dup = add_customers(engine, 2, start=1, phone="+919800000001")
    # Same email, different phones: one email, but two SMS.
    a, b = add_customers(engine, 2, start=5, email="asha.rao@example.in")
    sms = _log(engine, _launch("sms").id)
    assert sms[opted][1] == "unsubscribed"
    assert sms[kept] == ("queued", None) and sms[dup] == ("skipped", "duplicate_address")
    assert sms[a] == sms[b] == ("queued", None)
    email = _log(engine, _launch("email").id)
    assert email[a] == ("queued", None) and email[b] == ("skipped", "duplicate_address")
    # Suppressing the shared email skips both records, neither as a duplicate.
    _suppress("asha.rao@example.in", "email")
    after = _preview("email")
    assert after.skipped["suppressed"] == 2 and after.skipped["duplicate_address"] == 0
    # Opted out of SMS only: on WhatsApp the first record keeps the handset.
    whatsapp = _preview("whatsapp")
    assert whatsapp.skipped["duplicate_address"] == 2 and whatsapp.recipients == 3


def test_a_campaign_where_every_match_is_skipped_completes_at_once(
        no_enqueue: sa.Engine) -> None:
    add_customers(no_enqueue, 2, email=None)
    campaign = _launch("email")
    assert campaign.status == "completed" and campaign.audience_size == 2
    assert status_counts(no_enqueue, campaign.id) == {"skipped": 2}


def test_preview_errors_name_the_field(no_enqueue: sa.Engine) -> None:
    with session_scope() as db, pytest.raises(CampaignError) as err:
        service.preview_campaign(db, rules=PUNE, segment_id=None, channel="fax")
    assert err.value.field == "channel"
    with session_scope() as db, pytest.raises(CampaignError) as err:
        service.preview_campaign(db, rules=None, segment_id=999, channel="sms")
    assert err.value.field == "segment_id"
    with session_scope() as db, pytest.raises(CampaignError) as err:
        service.preview_campaign(db, rules={"combinator": "and", "rules": [
            {"field": "shoe_size", "operator": "=", "value": 3}]}, segment_id=None,
            channel="sms")
    assert err.value.field == "rules"


def test_sms_to_four_customers_three_without_phone_delivers_one_of_one(
        app_settings: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeVendor()
    monkeypatch.setattr(sending, "vendor_client", lambda channel: fake)
    add_customers(app_settings, 1, start=0)
    add_customers(app_settings, 3, start=1, phone=None)
    try:
        campaign = _launch("sms")
        wait_for(lambda: status_counts(app_settings, campaign.id).get("queued", 0) == 0)
    finally:
        jobs.shutdown_local(wait=True)
    assert len(fake.accepted) == 1
    with app_settings.begin() as conn:  # its receipt
        conn.execute(LOG.update().where(LOG.c.campaign_id == campaign.id,
                                        LOG.c.status == "sent").values(status="delivered"))
    with session_scope() as db:
        stats = reports.get_campaign(db, campaign.id)
        assert stats is not None
        assert (stats.audience_size, stats.recipients, stats.sent, stats.failed) == (4, 1, 1, 0)
        assert stats.skipped["no_address"] == 3
        assert stats.delivery_rate == 1.0


def test_the_message_preview_samples_only_customers_the_launch_would_send_to(
        no_enqueue: sa.Engine) -> None:
    """The newest matching customers are all ones the launch skips: the preview must pass
    over them (it used to show the newest matches, whoever they were)."""
    engine = no_enqueue
    reachable = add_customers(engine, 2, start=0)
    # A later record with the first one's handset: a duplicate, skipped on SMS.
    dup = add_customers(engine, 1, start=5, phone="+919000000000")
    opted = add_customers(engine, 1, start=10, **_opted_out("sms"))
    no_phone = add_customers(engine, 1, start=20, phone=None)
    suppressed = add_customers(engine, 1, start=30, phone="+919833333333")
    _suppress("+919833333333", "sms")
    skipped_ids = {*dup, *opted, *no_phone, *suppressed}
    with session_scope() as db:
        sample = service.sample_recipients(db, rules=PUNE, segment_id=None, channel="sms",
                                           n=10)
    ids = [row["id"] for row in sample]
    assert ids == sorted(reachable, reverse=True)  # newest first, recipients only
    assert not skipped_ids & set(ids)
    assert {"external_id", "name", "city", "total_spend"} <= set(sample[0])
    with session_scope() as db:
        assert len(service.sample_recipients(db, rules=PUNE, segment_id=None, channel="sms",
                                             n=1)) == 1
        # On email, the SMS opt-out, the phone-less and the SMS-suppressed are reachable.
        by_email = {r["id"] for r in service.sample_recipients(
            db, rules=PUNE, segment_id=None, channel="email", n=10)}
    assert skipped_ids <= by_email
    with session_scope() as db, pytest.raises(CampaignError) as err:
        service.sample_recipients(db, rules=PUNE, segment_id=None, channel="fax")
    assert err.value.field == "channel"


def test_the_wizard_renders_its_samples_for_recipients_of_its_channel(
        no_enqueue: sa.Engine) -> None:
    from mini_crm.state.wizard_reads import render_samples as _render_samples

    add_customers(no_enqueue, 1, start=0, name="Reachable Rao")
    add_customers(no_enqueue, 1, start=1, name="Opted Out Oak", **_opted_out("sms"))
    add_customers(no_enqueue, 1, start=2, name="Phoneless Pai", phone=None)
    shown = [s["name"] for s in _render_samples(PUNE, "Hi {name}", "sms")]
    assert shown == ["Reachable Rao"]
    texts = [s["text"] for s in _render_samples(PUNE, "Hi {name}", "email")]
    assert set(texts) == {"Hi Reachable Rao", "Hi Opted Out Oak", "Hi Phoneless Pai"}


def test_the_samples_render_each_customers_own_link_and_subject_on_the_channel(
        no_enqueue: sa.Engine) -> None:
    """{unsubscribe_url} is the link signed for the previewed customer on the campaign's
    channel (one placeholder for everyone, with channel "s", was shown before), and an
    email's subject is rendered for that customer."""
    from mini_crm.core import unsubscribe_links as links
    from mini_crm.state.wizard_reads import render_samples as _render_samples

    ids = add_customers(no_enqueue, 2, start=0)
    template = "Hi {first_name}, spent {total_spend}. Stop: {unsubscribe_url}"
    for channel in ("sms", "email"):
        samples = _render_samples(PUNE, template, channel, "For you, {first_name}")
        got = {links.verify(s["text"].rsplit("/unsubscribe/", 1)[1]) for s in samples}
        assert got == {links.Recipient(int(i), channel, 0) for i in ids}
        assert all("{" not in s["text"] for s in samples)
        subjects = {s["subject"] for s in samples}
        assert subjects == ({"For you, Customer"} if channel == "email" else {""})


def test_a_test_sends_link_opts_no_one_out(no_enqueue: sa.Engine) -> None:
    """A test goes to the marketer: its link has the channel's shape but names customer
    0, so clicking it changes no customer's consent."""
    from mini_crm.core import unsubscribe_links as links
    from mini_crm.core.campaigns import test_send

    [cid] = add_customers(no_enqueue, 1, start=0)
    shown = test_send.preview_for({"id": cid, "name": "Asha"}, channel="email",
                                  template="Bye {unsubscribe_url}", live_link=False)
    assert links.verify(shown["text"].rsplit("/unsubscribe/", 1)[1]) == links.Recipient(
        0, "email", 0)


def test_the_preview_counts_who_another_campaign_messaged_in_the_last_day(
        no_enqueue: sa.Engine) -> None:
    """Counted from the log, of the recipients only, per campaign and in all."""
    engine = no_enqueue
    fine = add_customers(engine, 5, start=0)
    opted = add_customers(engine, 1, start=10, **_opted_out("sms"))
    with session_scope() as db:  # launched minutes ago: its rows are still queued
        diwali = service.create_campaign(
            db, name="Diwali sale", rules=PUNE, segment_id=None, message_template="Hi",
            channel="sms", schedule_at=None, objective=None, created_by=None, tags=[])
    weekend, older = _old_campaigns(2)
    now = utcnow()
    add_history(engine, weekend, fine[:2], now - timedelta(hours=3), status="delivered")
    add_history(engine, weekend, opted, now - timedelta(hours=3))  # not a recipient now
    add_history(engine, older, fine[2:4], now - timedelta(hours=30))  # over a day ago
    add_history(engine, older, fine[4:], now - timedelta(hours=1), status="failed")

    found = _preview()
    assert found.recipients == 5
    recent = found.recent
    assert recent.people == 5  # each person once, whichever campaigns
    assert [(c.campaign_id, c.name, c.people) for c in recent.campaigns] == [
        (diwali.id, "Diwali sale", 5), (weekend, "old 0", 2)]
    assert found.warnings == [
        "5 of these people got a message in the last 24 h: 5 from “Diwali sale” and 2 from "
        "“old 0”; launching messages them again (the frequency cap leaves out only those "
        "with 3 messages in 7 days)."]
    # An audience nobody messaged lately: nothing said.
    add_customers(engine, 2, city="Mumbai", start=50)
    quiet = _preview(rules=city_rules("Mumbai"))
    assert (quiet.recent.people, quiet.recent.campaigns, quiet.warnings) == (0, [], [])
