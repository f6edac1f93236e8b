"""Sign-in in the browser against the local OIDC provider."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ADMIN, sign_in


def test_anonymous_visit_signs_in_and_returns_then_signs_out(anonymous_page: Page,
                                                             app_url: str) -> None:
    pg = anonymous_page
    pg.goto(app_url + "/segments")
    expect(pg).to_have_url(re.compile(r"/login\?next=/segments$"))
    expect(pg.get_by_test_id("dev-provider-notice")).to_contain_text("local test identity")
    pg.screenshot(path="test-results/login.png")
    sign_in(pg, app_url, ADMIN, "/segments")
    expect(pg).to_have_url(re.compile(r"/segments/?$"))
    expect(pg.get_by_role("heading", name="Segments", exact=True)).to_be_visible()
    pg.get_by_test_id("account-menu").click()
    expect(pg.get_by_role("menu")).to_contain_text(ADMIN)
    cookies = {c["name"]: c for c in pg.context.cookies()}
    assert cookies["mc_session"]["httpOnly"] and cookies["mc_session"]["sameSite"] == "Lax"

    pg.get_by_test_id("sign-out").click()
    expect(pg).to_have_url(re.compile(r"/login/?$"))
    pg.goto(app_url + "/customers")
    expect(pg).to_have_url(re.compile(r"/login\?next=/customers$"))


def test_disallowed_domain_is_refused(anonymous_page: Page, app_url: str) -> None:
    sign_in(anonymous_page, app_url, ADMIN)  # make sure someone is already the admin
    anonymous_page.context.clear_cookies()
    pg = anonymous_page
    pg.goto(app_url + "/")
    pg.get_by_test_id("sign-in").click()
    pg.locator("input[name=sub]").fill("mallory@evil.example")
    pg.get_by_role("button", name="Authorize").click()
    expect(pg.get_by_text("not invited")).to_be_visible()


def test_open_redirect_in_next_goes_home(anonymous_page: Page, app_url: str) -> None:
    pg = anonymous_page
    pg.goto(app_url + "/login?next=//evil.example/steal")
    pg.get_by_test_id("sign-in").click()
    pg.locator("input[name=sub]").fill(ADMIN)
    pg.get_by_role("button", name="Authorize").click()
    expect(pg).to_have_url(app_url + "/")


def test_pages_and_websocket_refuse_data_without_a_session(app_url: str) -> None:
    # The page shell is static; the data arrives only through a signed-in state.
    html = httpx.get(app_url + "/customers").text
    assert "demo-0000" not in html


def test_tampered_state_is_refused_in_the_browser(anonymous_page: Page, app_url: str) -> None:
    pg = anonymous_page
    tampered: list[str] = []

    def tamper(route) -> None:  # noqa: ANN001 - Playwright's Route
        # The provider answers the consent form with a redirect to our callback; swap
        # the state in that redirect, as an attacker replaying someone's code would.
        if route.request.method != "POST":
            route.continue_()
            return
        answer = route.fetch(max_redirects=0)
        location = re.sub(r"state=[^&]+", "state=forged-by-an-attacker",
                          answer.headers["location"])
        tampered.append(location)
        route.fulfill(status=302, headers={"location": location})

    pg.route(re.compile(r".*/oauth2/authorize.*"), tamper)
    pg.goto(app_url + "/login")
    pg.get_by_test_id("sign-in").click()
    pg.locator("input[name=sub]").fill(ADMIN)
    pg.get_by_role("button", name="Authorize").click()
    expect(pg.get_by_role("heading", name="Sign-in refused")).to_be_visible()
    expect(pg.get_by_text("not valid")).to_be_visible()
    assert tampered and "mc_session" not in {c["name"] for c in pg.context.cookies()}
