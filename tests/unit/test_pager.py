"""The list pages share one pager (state/pager.Pager, a Reflex mixin): each page state
owns its own `page`/`pages`, and next/previous/filter reload that state's own rows."""

from __future__ import annotations

from typing import Any

import pytest

import mini_crm.mini_crm  # noqa: F401 - registers every state, as in the running app
from mini_crm.state.admin import TeamState
from mini_crm.state.base import AppState
from mini_crm.state.campaigns import CampaignListState
from mini_crm.state.consent import SuppressionState
from mini_crm.state.customers import CustomersState

PAGED = [(CampaignListState, "load"), (SuppressionState, "load"),
         (CustomersState, "load"), (TeamState, "load_trail")]


def _reload_name(event: Any) -> str:
    return event.fn.__qualname__


@pytest.mark.parametrize(("cls", "reload"), PAGED)
def test_each_page_state_owns_its_page_and_reloads_its_own_rows(cls: type, reload: str
                                                                ) -> None:
    # A parent state's field would live on the parent's instance and be shared by every
    # page; the mixin's copy belongs to the page state (and AppState has none).
    assert cls.__fields__["page"]._owner is cls and "page" in cls.base_vars
    assert "page" not in AppState.base_vars and "pages" not in AppState.base_vars
    assert cls.get_parent_state() is AppState

    state = cls(_reflex_internal_init=True)
    state.page, state.pages = 1, 3
    assert state.prev_page() is None and state.page == 1  # nothing before the first page
    event = state.next_page()
    assert state.page == 2 and _reload_name(event) == f"{cls.__name__}.{reload}"
    state.next_page()
    assert state.page == 3 and state.next_page() is None and state.page == 3
    assert _reload_name(state.prev_page()) == f"{cls.__name__}.{reload}" and state.page == 2


def test_a_filter_or_search_goes_back_to_the_first_page() -> None:
    campaigns = CampaignListState(_reflex_internal_init=True)
    campaigns.page, campaigns.pages = 3, 5
    assert _reload_name(campaigns.set_status_filter("completed")) == "CampaignListState.load"
    assert campaigns.page == 1 and campaigns.status == "completed"

    suppressed = SuppressionState(_reflex_internal_init=True)
    suppressed.page, suppressed.pages = 2, 2
    suppressed.search("spam")
    assert suppressed.page == 1 and suppressed.query == "spam"

    people = CustomersState(_reflex_internal_init=True)
    people.page, people.pages = 4, 9
    people.sort_by(people.sort)  # the same column flips the direction
    assert people.page == 1 and people.descending is False

    team = TeamState(_reflex_internal_init=True)
    team.page, team.pages = 2, 4
    assert _reload_name(team.filter_action("user_invited")) == "TeamState.load_trail"
    assert team.page == 1 and team.audit_action == "user_invited"
    # The pages are independent: moving one list leaves the others where they were.
    assert campaigns.page == 1 and people.page == 1 and suppressed.page == 1


SEARCHED = [(CampaignListState, "set_search", "search"),
            (CustomersState, "search", "query"),
            (SuppressionState, "search", "query")]


@pytest.mark.parametrize(("cls", "handler", "field"), SEARCHED)
def test_a_search_key_waits_for_a_pause_and_keeps_the_box(cls: type, handler: str,
                                                          field: str) -> None:
    # Each key stores the text and goes back to page 1, but does not reload at once: it
    # returns the pause, which reloads only if no later key came (state/pager). The box's
    # key (search_rev) stays, so the box the user types in is never remounted.
    state = cls(_reflex_internal_init=True)
    state.page, state.pages = 3, 5
    event = getattr(state, handler)("ann")
    assert _reload_name(event) == f"{cls.__name__}.search_after_pause"
    assert getattr(state, field) == "ann" and state.page == 1 and state.search_rev == 0
    first = state._search_generation
    getattr(state, handler)("anne")
    assert state._search_generation == first + 1 and state.search_rev == 0


async def _pause_events(state: Any, monkeypatch: pytest.MonkeyPatch, *, key_during: bool
                       ) -> list[Any]:
    """What `search_after_pause` yields on `state`; with `key_during`, a key lands in the
    pause (the sleep bumps the generation as the next key's handler would)."""
    from mini_crm.state import debounce, pager

    async def sleep(seconds: float) -> None:
        assert seconds == pager.SEARCH_DEBOUNCE_SECONDS
        if key_during:
            state._search_generation += 1

    monkeypatch.setattr(debounce.asyncio, "sleep", sleep)
    return [e async for e in type(state).search_after_pause.fn(state)]


@pytest.mark.asyncio
@pytest.mark.parametrize(("cls", "handler", "field"), SEARCHED)
async def test_the_pause_reloads_only_for_the_last_key(cls: type, handler: str, field: str,
                                                       monkeypatch: pytest.MonkeyPatch
                                                       ) -> None:
    state = cls(_reflex_internal_init=True)
    getattr(state, handler)("ann")
    assert await _pause_events(state, monkeypatch, key_during=True) == []
    [reload] = await _pause_events(state, monkeypatch, key_during=False)
    assert _reload_name(reload) == _reload_name(state._reload())


def test_text_the_server_replaces_remounts_the_box() -> None:
    # A clear button, "Clear filters" and the top bar's ?q= replace the text: the box's
    # key changes (it shows the server's text), the rows reload at once, and a pause
    # still pending for the old text reloads nothing.
    people = CustomersState(_reflex_internal_init=True)
    people.search("ann")
    generation = people._search_generation
    assert _reload_name(people.clear_search()) == "CustomersState.load"
    assert people.query == "" and people.search_rev == 1
    assert people._search_generation == generation + 1

    campaigns = CampaignListState(_reflex_internal_init=True)
    campaigns.set_search("spring")
    campaigns.page = 2
    assert _reload_name(campaigns.clear_filters()) == "CampaignListState.load"
    assert campaigns.search == "" and campaigns.page == 1 and campaigns.search_rev == 1
