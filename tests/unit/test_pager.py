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
