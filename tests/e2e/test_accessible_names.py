"""Brief h30: the API-key scope checkboxes have accessible names (a screen reader read
them as unnamed checkboxes). The A/B switch's name: test_ab_campaign."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from mini_crm.core.apikeys import SCOPES


def test_the_scope_checkboxes_are_named(page: Page, app_url: str) -> None:
    page.goto(app_url + "/settings")
    for scope in SCOPES:
        expect(page.get_by_test_id(f"key-scope-{scope}")).to_have_accessible_name(
            re.compile(rf"^Scope {scope}: "), timeout=20_000)
