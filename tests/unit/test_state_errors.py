"""The states' shared machinery: helpers stay helpers, and a failed handler becomes a
message on the page (never Reflex's generic toast) with its spinners stopped."""

from __future__ import annotations

import sqlalchemy.exc as sa_exc

import mini_crm.mini_crm as app_module
from mini_crm.state import errors
from mini_crm.state.base import AppState, _page_states, is_busy_flag


def test_app_state_helpers_are_not_event_handlers() -> None:
    # An inherited event handler runs on AppState's instance: a helper that sets a page
    # state's field (fetch_into's `loading`) would write it onto the wrong state.
    handlers = set(AppState.event_handlers)
    for helper in ("ensure_signed_in", "ensure_role", "client_connected", "fetch_into"):
        assert helper not in handlers
    assert {"guard", "handler_failed", "dismiss_page_error"} <= handlers
    for state in _page_states(AppState):
        inherited = {n for n in AppState.event_handlers if n in state.__dict__}
        assert not inherited & {"ensure_signed_in", "ensure_role", "fetch_into"}, state


def test_every_page_state_is_found_and_its_spinners_recognised() -> None:
    names = {cls.__name__ for cls in _page_states(AppState)}
    assert {"SegmentListState", "SettingsState", "CampaignWizardState",
            "SegmentEditorState", "CampaignDetailState"} <= names
    assert is_busy_flag("loading") and is_busy_flag("reach_loading")
    assert is_busy_flag("previewing") and is_busy_flag("ai_busy")
    assert not is_busy_flag("signed_in") and not is_busy_flag("found")


def test_the_app_uses_the_page_message_handler() -> None:
    assert app_module.app.backend_exception_handler is errors.backend_exception_handler


def test_messages_are_in_marketer_words() -> None:
    too_big = errors.marketer_message(
        OverflowError("Python int too large to convert to SQLite INTEGER"), "ab12")
    assert "too large" in too_big and "Python" not in too_big
    out_of_range = sa_exc.DataError("SELECT 1", {}, Exception("value out of range for bigint"))
    assert errors.marketer_message(out_of_range, "x") == errors.TOO_LARGE
    down = sa_exc.OperationalError("SELECT 1", {}, Exception("connection refused"))
    assert "database did not answer" in errors.marketer_message(down, "x")
    other = errors.marketer_message(KeyError("rules"), "c0ffee12")
    assert "c0ffee12" in other and "KeyError" not in other


def test_the_handler_answers_with_the_page_message_event() -> None:
    spec = errors.backend_exception_handler(OverflowError("int too large"))
    assert spec.handler.fn.__name__ == "handler_failed"
    assert dict(spec.args)  # the message travels as the event's argument
