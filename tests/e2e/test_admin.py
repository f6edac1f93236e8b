"""Team & audit in the browser: an admin invites a viewer; the viewer cannot administer.

Also (first in the session, while the seeded database has no saved segments, keys or
campaigns yet): every page in the sidebar finishes loading, empty and with data.
"""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser, Page, expect
from sqlmodel import func, select

from mini_crm.components.layout import NAV
from mini_crm.core import apikeys, formatting
from mini_crm.core.segments import service
from mini_crm.models import ApiKey, Campaign, Customer, Segment
from tests.e2e.conftest import ADMIN, e2e_session, sign_in

SHOTS = Path("test-results")
VIEWER = "viewer@brand.in"


def _shot(pg: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(SHOTS / name), full_page=True)


def _count(e2e_env: dict[str, str], model: type) -> int:
    with e2e_session(e2e_env) as s:
        return int(s.exec(select(func.count()).select_from(model)).one())


def _open_from_sidebar(pg: Page, label: str) -> None:
    pg.get_by_role("link", name=label, exact=True).first.click()  # the sidebar comes first
    # Loaded: the page's loading bar is gone and stays gone, and no handler failed. (Only
    # that bar: a campaign row's live delivery progress is a progressbar too.)
    expect(pg.get_by_test_id("page-loading").get_by_role("progressbar")).to_have_count(0)
    expect(pg.get_by_test_id("page-error")).to_have_count(0)


def _list_or_empty(pg: Page, rows: int, empty_title: str) -> None:
    if rows == 0:
        expect(pg.get_by_role("heading", name=empty_title)).to_be_visible()
    else:
        expect(pg.get_by_role("table").get_by_role("row")).to_have_count(rows + 1)


def test_every_sidebar_page_finishes_loading_empty_and_with_data(
        page: Page, app_url: str, e2e_env: dict[str, str]) -> None:
    labels = [label for label, _, _ in NAV]
    assert labels == ["Dashboard", "Customers", "Segments", "Campaigns", "Data",
                      "Team & audit", "Settings"], "a new sidebar page needs its check here"
    page.goto(app_url + "/")
    for round_ in ("as found", "with data"):
        _open_from_sidebar(page, "Dashboard")
        customers = _count(e2e_env, Customer)
        assert customers > 0
        expect(page.get_by_test_id("stat-customers")).to_have_text(formatting.count(customers))

        _open_from_sidebar(page, "Customers")
        expect(page.get_by_role("table").get_by_role("row").nth(1)).to_be_visible()
        search = page.get_by_label("Search customers")
        search.fill("no-such-customer-zzq")
        expect(page.get_by_role("heading", name="No customers match")).to_be_visible()
        search.fill("")

        _open_from_sidebar(page, "Segments")
        _list_or_empty(page, _count(e2e_env, Segment), "No saved segments yet")

        _open_from_sidebar(page, "Campaigns")
        _list_or_empty(page, _count(e2e_env, Campaign), "No campaigns yet")

        _open_from_sidebar(page, "Data")
        expect(page.get_by_text("None — everything queued was written.")).to_be_visible()

        _open_from_sidebar(page, "Team & audit")
        expect(page.get_by_test_id("member-row").first).to_be_visible()

        _open_from_sidebar(page, "Settings")
        _list_or_empty(page, _count(e2e_env, ApiKey), "No API keys yet")
        if round_ == "as found":
            _shot(page, "settings-loaded.png")
            with e2e_session(e2e_env) as s:
                if _count(e2e_env, Segment) == 0:
                    service.save_segment(s, name="Loaded-check spenders", rules={
                        "combinator": "and", "not": False, "rules": [
                            {"field": "total_spend", "operator": ">", "value": 1000}]})
                if _count(e2e_env, ApiKey) == 0:
                    apikeys.create_key(s, "Loaded-check key", ["read"])
                s.commit()
    assert _count(e2e_env, Segment) > 0 and _count(e2e_env, ApiKey) > 0


def test_admin_invites_a_viewer_who_cannot_administer(page: Page, app_url: str,
                                                      browser: Browser,
                                                      e2e_env: dict[str, str]) -> None:
    admin = page
    admin.goto(app_url + "/settings/team")
    expect(admin.get_by_role("heading", name="Team & audit")).to_be_visible()
    me = admin.get_by_test_id("member-row").filter(has_text=ADMIN)
    expect(me).to_contain_text("you")
    # The guard rail is visible too: nobody can disable themselves.
    expect(me.get_by_role("button", name=f"Disable {ADMIN}")).to_be_disabled()

    # The browser accepts "someone@brand"; the server's check does not.
    admin.get_by_test_id("invite-email").fill("someone@brand")
    admin.get_by_test_id("invite-submit").click()
    expect(admin.get_by_test_id("invite-error")).to_contain_text("not a valid email")

    admin.get_by_test_id("invite-email").fill(VIEWER)
    admin.get_by_role("combobox", name="Role for the invite").click()
    admin.get_by_role("option", name="Viewer").click()
    admin.get_by_test_id("invite-submit").click()
    expect(admin.get_by_test_id("team-notice")).to_contain_text(f"Invited {VIEWER} as viewer")
    expect(admin.get_by_test_id("invite-row").filter(has_text=VIEWER)).to_contain_text("viewer")
    rows = admin.get_by_test_id("audit-row")
    expect(rows.first).to_contain_text("User invited")
    expect(rows.first).to_contain_text(VIEWER)
    expect(rows.filter(has_text="Signed in").first).to_contain_text(ADMIN)
    _shot(admin, "admin-team.png")

    # Filter the trail by action.
    admin.get_by_role("combobox", name="Filter by action").click()
    admin.get_by_role("option", name="User invited").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("as viewer")

    # The viewer, in a browser of their own.
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    try:
        viewer = context.new_page()
        viewer.set_default_timeout(20_000)
        sign_in(viewer, app_url, VIEWER)
        viewer.goto(app_url + "/settings/team")
        refusal = viewer.get_by_test_id("admin-only")
        expect(refusal).to_contain_text("Only admins")
        expect(refusal).to_contain_text(VIEWER)
        expect(viewer.get_by_test_id("member-row")).to_have_count(0)
        expect(viewer.get_by_test_id("audit-row")).to_have_count(0)
        _shot(viewer, "admin-refused.png")

        viewer.goto(app_url + "/settings")
        expect(viewer.get_by_test_id("keys-admin-only")).to_be_visible()
        expect(viewer.get_by_test_id("create-key")).to_be_disabled()
        expect(viewer.get_by_test_id("key-name")).to_be_disabled()
        _shot(viewer, "settings-viewer.png")

        # Nor change anything a campaign is made from: saving a segment is refused
        # (by a disabled button, or else by the server when clicked anyway).
        viewer.goto(app_url + "/segments/new")
        viewer.get_by_test_id("segment-name").fill("Viewer's audience")
        save = viewer.get_by_test_id("save-segment")
        if save.is_enabled():
            save.click()
            expect(viewer.get_by_role("alert").filter(has_text="Only admins and marketers")
                   ).to_be_visible()
        expect(viewer.get_by_text("Saved.")).to_have_count(0)
        _shot(viewer, "segment-viewer.png")
        with e2e_session(e2e_env) as s:
            assert s.exec(select(Segment).where(Segment.name == "Viewer's audience")
                          ).first() is None
    finally:
        context.close()

    # Back as the admin: the invite became a member, and their sign-in is on the trail.
    admin.reload()
    expect(admin.get_by_test_id("member-row").filter(has_text=VIEWER)).to_contain_text("active")
    expect(admin.get_by_test_id("invite-row")).to_have_count(0)
    expect(admin.get_by_test_id("audit-row").filter(has_text="Signed in").first
           ).to_contain_text(VIEWER)

    # Guard rail: the only admin cannot step down; the select stays on Admin.
    admin.get_by_role("combobox", name=f"Role of {ADMIN}").click()
    admin.get_by_role("option", name="Viewer").click()
    expect(admin.get_by_test_id("team-notice")).to_contain_text("last admin")
    expect(admin.get_by_role("combobox", name=f"Role of {ADMIN}")).to_contain_text("Admin")
    admin.get_by_role("combobox", name=f"Role of {VIEWER}").click()
    admin.get_by_role("option", name="Marketer").click()
    expect(admin.get_by_test_id("team-notice")).to_contain_text(f"{VIEWER} is now marketer")
    expect(admin.get_by_test_id("audit-row").first).to_contain_text("viewer → marketer")

    # Admins can make keys; the key event lands on the trail too.
    admin.goto(app_url + "/settings")
    expect(admin.get_by_test_id("team-link")).to_be_visible()
    admin.get_by_test_id("key-name").fill("Shop backend")
    admin.get_by_test_id("create-key").click()
    expect(admin.get_by_test_id("new-secret")).to_contain_text("mc_")
    _shot(admin, "settings-admin.png")
    admin.get_by_test_id("team-link").click()
    expect(admin).to_have_url(re.compile(r"/settings/team/?$"))
    expect(admin.get_by_test_id("audit-row").first).to_contain_text("API key created")
