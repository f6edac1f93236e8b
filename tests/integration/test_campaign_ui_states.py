"""The campaign pages' states against a real database: what the review step counts is
what the launch inserts, saving a segment and launching are one transaction, the
figures shown are the report's, and viewers are refused on the server."""

from __future__ import annotations

import asyncio
import types
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from reflex.istate.data import RouterData
from sqlmodel import Session, select

import mini_crm.mini_crm  # noqa: F401 - registers every state, as in the running app
from mini_crm.core.auth import sessions
from mini_crm.core.campaigns import launch, reports
from mini_crm.models import (
    Campaign,
    CommunicationLog,
    Customer,
    DeliveryStatus,
    Segment,
    User,
    utcnow,
)
from mini_crm.state import campaign_wizard as wizard
from mini_crm.state import wizard_launch, wizard_reads
from mini_crm.state.campaign_common import pace_of, stats_view
from mini_crm.state.campaign_detail import CampaignDetailState
from mini_crm.state.campaign_wizard import CampaignWizardState

SPENDERS = {"combinator": "and", "not": False,
            "rules": [{"field": "total_spend", "operator": ">=", "value": 1000}]}


def _customers(engine: sa.Engine, n: int = 10) -> list[int]:
    """n customers spending 1000, 2000, ...; the second one opted out of SMS."""
    with Session(engine) as s:
        rows = [Customer(external_id=f"c{i}", name=f"Customer {i}", city="Pune",
                         phone=f"+9190000000{i:02d}", total_spend=1000 * (i + 1),
                         order_count=1, consent_sms=(i != 1)) for i in range(n)]
        s.add_all(rows)
        s.commit()
        return [int(c.id) for c in rows]


def _previous_messages(engine: sa.Engine, customer_id: int, count: int) -> None:
    """`count` messages from other campaigns in the last days (the frequency cap)."""
    with Session(engine) as s:
        for i in range(count):
            c = Campaign(name=f"earlier {i}", rules=SPENDERS, message_template="Hi",
                         status="completed")
            s.add(c)
            s.flush()
            s.add(CommunicationLog(campaign_id=c.id, customer_id=customer_id,
                                   status=DeliveryStatus.DELIVERED, message="Hi",
                                   created_at=utcnow() - timedelta(days=1)))
        s.commit()


def test_review_counts_exactly_what_the_launch_inserts(app_settings: sa.Engine) -> None:
    ids = _customers(app_settings)
    _previous_messages(app_settings, ids[2], 5)  # over the default cap of 3 in 7 days
    reach = wizard_reads.reach(SPENDERS, "sms")
    assert (reach["size"], reach["eligible"]) == (10, 8)  # minus one unsubscribed, one capped
    assert reach["text"] == ("10 match · 8 will receive · skipped: 1 unsubscribed, "
                             "1 frequency cap")

    with Session(app_settings) as s:
        campaign = Campaign(name="real", rules=SPENDERS, message_template="Hi")
        s.add(campaign)
        s.flush()
        inserted = launch.fill_log(s, campaign.id, SPENDERS, utcnow(), "sms")
        s.commit()
    assert inserted == (reach["size"], reach["eligible"])


def _payload(**changes: Any) -> dict[str, Any]:
    payload = {"name": "Spring thanks", "template": "Hi {first_name} in {city}",
               "channel": "sms", "objective": "", "tags": ["loyalty"], "rules": SPENDERS,
               "segment_id": None, "save_segment": True, "segment_name": "Big spenders",
               # Scheduled: nothing is handed to delivery workers during the test.
               "schedule_at": utcnow() + timedelta(days=1), "user_id": None}
    payload.update(changes)
    return payload


def test_saving_the_audience_and_launching_is_one_step(app_settings: sa.Engine) -> None:
    _customers(app_settings)
    with pytest.raises(Exception) as refused:
        wizard_launch.launch(_payload(template="Hi {nmae}"))
    assert getattr(refused.value, "field", None) == "message"
    with Session(app_settings) as s:  # the refused launch left no segment behind
        assert s.exec(select(Segment)).all() == []

    campaign_id = wizard_launch.launch(_payload())
    with Session(app_settings) as s:
        segment = s.exec(select(Segment)).one()
        campaign = s.get(Campaign, campaign_id)
        assert segment.name == "Big spenders" and segment.rules == SPENDERS
        assert campaign.segment_id == segment.id and campaign.rules == SPENDERS
        assert campaign.status == "scheduled" and campaign.tags == ["loyalty"]
    with pytest.raises(Exception) as used:  # the core refuses a name already in use
        wizard_launch.launch(_payload(name="again", segment_name="big spenders"))
    assert getattr(used.value, "field", None) == "save_audience_as"
    assert wizard.FIELD_STEP["save_audience_as"] == 0  # shown on the audience step


def test_schedule_times_are_read_in_the_brand_time_zone(app_settings: sa.Engine) -> None:
    # Asia/Kolkata is UTC+5:30 all year.
    assert wizard_reads.parse_local("2030-01-15T18:00") == datetime(2030, 1, 15, 12, 30)
    assert wizard_reads.to_local_input(datetime(2030, 1, 15, 12, 30)) == "2030-01-15T18:00"
    assert wizard_reads.parse_local("tomorrow") is None


def test_figures_are_the_reports_and_polling_follows_them(app_settings: sa.Engine) -> None:
    ids = _customers(app_settings, 4)
    now = utcnow()
    with Session(app_settings) as s:
        c = Campaign(name="watch", rules=SPENDERS, message_template="Hi", status="sending",
                     started_at=now, audience_size=4)
        s.add(c)
        s.flush()
        for cid, status in zip(ids, ["queued", "sent", "delivered", "failed"], strict=True):
            s.add(CommunicationLog(campaign_id=c.id, customer_id=cid, status=status))
        s.commit()
        view = stats_view(reports.get_campaign(s, c.id))
    assert (view["audience"], view["pending"], view["sent"], view["delivered"],
            view["failed"]) == ("4", "1", "2", "1", "1")
    assert view["progress"] == 75 and view["rate"] == "50.0%"
    assert pace_of([view]) == "fast"

    # Completed (nothing queued) but a receipt is still due: keep watching, fast.
    with Session(app_settings) as s:
        s.execute(sa.update(CommunicationLog).where(CommunicationLog.status == "queued")
                  .values(status="failed"))
        s.execute(sa.update(Campaign).where(Campaign.id == c.id)
                  .values(status="completed", completed_at=utcnow()))
        s.commit()
        done = stats_view(reports.get_campaign(s, c.id))
    assert done["active"] and pace_of([done]) == "fast"
    with Session(app_settings) as s:  # the last receipt arrives: nothing left to watch
        s.execute(sa.update(CommunicationLog).where(CommunicationLog.status == "sent")
                  .values(status="delivered"))
        s.commit()
        final = stats_view(reports.get_campaign(s, c.id))
    assert not final["active"] and pace_of([final]) == ""
    assert pace_of([{**final, "status": "scheduled", "active": True,
                     "sending": False}]) == "slow"


# -- roles, checked on the server ----------------------------------------------------

def _connected(cls: type, engine: sa.Engine, role: str | None):  # noqa: ANN202
    cookie = ""
    if role is not None:
        with Session(engine) as s:
            user = User(email=f"{role}@brand.in", role=role, last_login_at=utcnow())
            s.add(user)
            s.flush()
            cookie = f"{sessions.COOKIE_NAME}=" + sessions.create(s, user,
                                                                 absolute=timedelta(hours=1))
            s.commit()
    state = cls(_reflex_internal_init=True)
    state.router = RouterData.from_router_data({"headers": {"cookie": cookie}})
    return state


class _Proxy:
    """Stands in for Reflex's StateProxy so a background handler can run in a test:
    `async with self` is a no-op and the handler's methods see this proxy as self."""

    def __init__(self, state: Any) -> None:
        object.__setattr__(self, "_state", state)

    async def __aenter__(self) -> _Proxy:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # as StateProxy: the wrapped state's class
        return type(self._state)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(type(self._state), name, None)
        if isinstance(attr, types.FunctionType):
            return types.MethodType(attr, self)
        return getattr(self._state, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._state, name, value)


async def _run(handler: Any, state: Any) -> list[Any]:
    out = []
    async for event in handler.fn(_Proxy(state)):
        out.append(event)
    return out


@pytest.mark.parametrize("role", ["viewer", None])
def test_viewers_and_strangers_cannot_launch_or_cancel(app_settings: sa.Engine,
                                                       role: str | None) -> None:
    _customers(app_settings)
    state = _connected(CampaignWizardState, app_settings, role)
    state.name, state.template, state.audience_mode = "Sneaky", "Hi {name}", "rules"
    state._rules = SPENDERS
    events = asyncio.run(_run(CampaignWizardState.launch, state))
    assert events == [] and "cannot launch" in state.launch_error
    with Session(app_settings) as s:
        assert s.exec(select(Campaign)).all() == []

    scheduled = wizard_launch.launch(_payload(save_segment=False))
    detail = _connected(CampaignDetailState, app_settings, None)
    detail.router = state.router  # the same connection, so the same person
    detail.campaign_id = scheduled
    asyncio.run(_run(CampaignDetailState.cancel, detail))
    assert "Only admins and marketers" in detail.error
    with Session(app_settings) as s:
        assert s.get(Campaign, scheduled).status == "scheduled"


def test_a_marketer_passes_the_role_check(app_settings: sa.Engine) -> None:
    state = _connected(CampaignWizardState, app_settings, "marketer")
    assert state.ensure_role("admin", "marketer") and state.can_launch


def test_a_closed_tab_stops_the_live_poller(app_settings: sa.Engine,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The campaign page's poller asks whether its tab still holds a websocket; once it
    has been gone for the grace period the poller ends without another query."""
    from mini_crm.state import campaign_common, campaign_detail

    ids = _customers(app_settings, 2)
    with Session(app_settings) as s:
        c = Campaign(name="left open", rules=SPENDERS, message_template="Hi",
                     status="sending", started_at=utcnow(), audience_size=2)
        s.add(c)
        s.flush()
        s.add_all([CommunicationLog(campaign_id=c.id, customer_id=i) for i in ids])
        s.commit()
        view = stats_view(reports.get_campaign(s, c.id))
    state = _connected(CampaignDetailState, app_settings, "viewer")
    state.campaign_id, state.c = c.id, view
    assert state.active
    token = state.router.session.client_token
    sockets = types.SimpleNamespace(token_to_sid={token: "sid-1"})
    monkeypatch.setattr(mini_crm.mini_crm.app, "_event_namespace", sockets)
    assert state.client_connected()

    del sockets.token_to_sid[token]  # the tab closed
    assert not state.client_connected()
    monkeypatch.setattr(campaign_common, "POLL_SECONDS", 0.01)
    monkeypatch.setattr(campaign_common, "AWAY_GRACE_SECONDS", 0.1)
    queried: list[int] = []
    monkeypatch.setattr(campaign_detail, "_summary", lambda cid: queried.append(cid))
    asyncio.run(asyncio.wait_for(_run(CampaignDetailState.watch, state), timeout=10))
    assert queried == [] and not state._polling
