"""The customer page's consent toggles and the Data page's suppression list, through their
Reflex states (handlers called as the websocket would, against each database)."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import sqlalchemy as sa
from reflex.istate.data import RouterData
from sqlmodel import Session, select

import mini_crm.mini_crm  # noqa: F401 - registers every state, as in the running app
from mini_crm.models import AuditEvent, Customer, Suppression
from mini_crm.state.consent import ConsentState, SuppressionState
from tests.integration.test_campaign_ui_states import _connected, _Proxy


def _call(handler: Any, state: Any, *args: Any) -> list[Any]:
    async def go() -> list[Any]:
        result = handler.fn(_Proxy(state), *args)
        if inspect.isasyncgen(result):
            return [e async for e in result]
        if inspect.isawaitable(result):
            await result
            return []
        return [] if result is None else [result]  # a plain handler's follow-up event

    return asyncio.run(go())


def _on_page(state: Any, external_id: str) -> Any:
    data = {"headers": {"cookie": state.router.headers.cookie}, "query": {
        "external_id": external_id}}
    state.router = RouterData.from_router_data(data)
    return state


def _asha(engine: sa.Engine) -> int:
    with Session(engine) as s:
        c = Customer(external_id="asha", name="Asha", email="asha@example.in",
                     phone="+919876543210")
        s.add(c)
        s.commit()
        return int(c.id)


def test_marketer_toggles_consent_with_a_reason(app_settings: sa.Engine) -> None:
    cid = _asha(app_settings)
    state = _on_page(_connected(ConsentState, app_settings, "marketer"), "asha")
    _call(ConsentState.load, state)
    assert [(r["channel"], r["subscribed"]) for r in state.rows] == [
        ("sms", "yes"), ("email", "yes"), ("whatsapp", "yes")]
    assert state.rows[0]["change"] == "Subscribed; no change recorded"

    state.set_reason("asked at the store counter")
    events = _call(ConsentState.toggle, state, "sms", False)
    assert len(events) == 1  # the header badge reloads
    sms = state.rows[0]
    assert sms["subscribed"] == "no" and sms["suppressed"] == "yes"
    assert sms["change"].startswith("Opted out ") and "by marketer@brand.in" in sms["change"]
    assert "via the customer page" in sms["change"]
    assert sms["reason"] == "asked at the store counter" and state.reason == ""
    with Session(app_settings) as s:
        assert s.get(Customer, cid).consent_sms is False
        [event] = s.exec(select(AuditEvent).where(AuditEvent.action == "consent_changed"))
        assert event.details["source"] == "ui" and event.actor_user_id is not None

    _call(ConsentState.toggle, state, "sms", True)
    assert state.rows[0]["subscribed"] == "yes" and state.rows[0]["suppressed"] == "no"
    assert state.rows[0]["change"].startswith("Opted in ")


def test_a_customer_without_a_phone_is_not_shown_as_reachable(app_settings: sa.Engine
                                                              ) -> None:
    with Session(app_settings) as s:
        s.add(Customer(external_id="nophone", name="Ravi", email="ravi@example.in"))
        s.commit()
    state = _on_page(_connected(ConsentState, app_settings, "marketer"), "nophone")
    _call(ConsentState.load, state)
    # Consent is kept (still subscribed) but SMS and WhatsApp say they cannot reach him.
    assert [(r["channel"], r["subscribed"], r["unreachable"]) for r in state.rows] == [
        ("sms", "yes", "No phone number"), ("email", "yes", ""),
        ("whatsapp", "yes", "No phone number")]


def test_viewers_cannot_toggle(app_settings: sa.Engine) -> None:
    cid = _asha(app_settings)
    state = _on_page(_connected(ConsentState, app_settings, "viewer"), "asha")
    _call(ConsentState.load, state)
    assert not state.can_edit
    assert _call(ConsentState.toggle, state, "email", False) == []
    assert "Only admins and marketers" in state.error
    with Session(app_settings) as s:
        assert s.get(Customer, cid).consent_email is True


def test_admin_manages_the_suppression_list(app_settings: sa.Engine) -> None:
    state = _connected(SuppressionState, app_settings, "admin")
    _call(SuppressionState.load, state)
    assert state.total == 0 and state.rows == []

    state.set_new_address("call me")
    _call(SuppressionState.add, state)
    assert "not a phone number" in state.error
    for address, channel in [("98765 43210", "sms"), ("Spam@Example.in", "email")] + [
            (f"+91 90000 000{i:02d}", "whatsapp") for i in range(25)]:
        state.set_new_address(address)
        state.set_new_channel(channel)
        state.set_new_reason("complaint")
        _call(SuppressionState.add, state)
        _call(SuppressionState.load, state)
    assert state.error == "" and state.total == 27 and state.pages == 2
    assert len(state.rows) == 20 and state.rows[0]["channel"] == "WhatsApp"
    state.set_new_address("+919876543210")
    state.set_new_channel("sms")
    _call(SuppressionState.add, state)
    assert "already on the list" in state.notice

    _call(SuppressionState.search, state, "spam")  # returns the load event
    _call(SuppressionState.load, state)
    assert [r["address"] for r in state.rows] == ["spam@example.in"]
    assert state.rows[0]["source"] == "the app" and state.count_text == "1 address"
    _call(SuppressionState.remove, state, state.rows[0]["id"])
    _call(SuppressionState.load, state)
    assert state.total == 0 and "can be messaged again" in state.notice
    with Session(app_settings) as s:
        assert s.exec(select(sa.func.count()).select_from(Suppression)).one() == 26


def test_marketers_see_but_cannot_change_the_list(app_settings: sa.Engine) -> None:
    admin = _connected(SuppressionState, app_settings, "admin")
    admin.set_new_address("a@example.in")
    admin.set_new_channel("email")
    _call(SuppressionState.add, admin)
    state = _connected(SuppressionState, app_settings, "marketer")
    _call(SuppressionState.load, state)
    assert state.total == 1 and not state.is_admin
    state.set_new_address("b@example.in")
    _call(SuppressionState.add, state)
    _call(SuppressionState.remove, state, state.rows[0]["id"])
    assert "Only admins" in state.error
    with Session(app_settings) as s:
        assert [r.address for r in s.exec(select(Suppression))] == ["a@example.in"]


def test_the_header_badge_says_what_is_true_per_channel(app_settings: sa.Engine) -> None:
    """The customer page's header read "subscribed" for a customer with no phone."""
    from mini_crm.state.customers import _detail

    with Session(app_settings) as s:
        s.add_all([
            Customer(external_id="nophone", name="Ravi", email="ravi@example.in"),
            Customer(external_id="all", name="Asha", email="asha@example.in",
                     phone="+919876543210", phone_type="mobile"),
            Customer(external_id="desk", name="Meera", email="meera@example.in",
                     phone="+912223456789", phone_type="fixed_line"),
            Customer(external_id="stopped", name="Kiran", phone="+919812345678",
                     phone_type="mobile", consent_whatsapp=False),
        ])
        # Another record's opt-out listed this address: SMS to it is skipped.
        s.add(Suppression(address="+919812345678", channel="sms", reason="STOP",
                          source="inbound"))
        s.commit()

    def badge(external_id: str) -> tuple[str, str]:
        found = _detail(external_id, 1)
        assert found is not None
        return found["customer"]["status"], found["customer"]["status_tone"]

    assert badge("nophone") == ("email only · no phone", "some")
    assert badge("all") == ("subscribed", "all")
    assert badge("desk") == ("email, WhatsApp only · landline, no SMS", "some")
    assert badge("stopped") == ("opted out: WhatsApp · no email · suppressed: SMS", "none")
    state = _on_page(_connected(ConsentState, app_settings, "marketer"), "desk")
    _call(ConsentState.load, state)
    assert [(r["channel"], r["unreachable"]) for r in state.rows] == [
        ("sms", "Landline: cannot take an SMS"), ("email", ""), ("whatsapp", "")]
