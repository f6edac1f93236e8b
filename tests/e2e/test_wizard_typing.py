"""The campaign wizard's text boxes never lose a keystroke to the server's echo, and still
show text the server replaces (a suggestion used) (issue 14). The step in
the URL (Back/Forward/refresh) is checked by test_campaigns' draft test."""

from __future__ import annotations

import time
import uuid

from playwright.sync_api import Page, expect
from sqlmodel import Session

from mini_crm.models import Campaign
from tests.e2e.conftest import e2e_engine
from tests.e2e.test_campaigns import _draft_id, _small_segment

# Every message from the server reaches the page this late, in order: a slow server or a
# slow link, as the page sees it. The page's WebSocket is wrapped (not CDP network
# emulation) so the delay is exact, applies to every frame, and keeps their order.
SERVER_LATENCY_MS = 800
SLOW_SOCKET = """
(() => {
  const latency = LATENCY;
  const Native = window.WebSocket;
  const later = (socket, fn) => (ev) => setTimeout(() => fn.call(socket, ev), latency);
  class SlowSocket extends Native {
    set onmessage(fn) { super.onmessage = fn ? later(this, fn) : fn; }
    get onmessage() { return super.onmessage; }
    addEventListener(type, fn, opts) {
      return super.addEventListener(type, type === 'message' ? later(this, fn) : fn, opts);
    }
  }
  window.WebSocket = SlowSocket;
})();
""".replace("LATENCY", str(SERVER_LATENCY_MS))
# A person typing in bursts: a word at a time, with a pause after each longer than the old
# box's 300 ms debounce, so each word was sent while the server's answer to the word before
# was still on its way (the answer to word n landed after word n+1 was sent and before
# word n+2 was typed: the old box went back to word n's text).
WORDS = ["Hi", " {first_name},", " see", " you", " this", " weekend", " at", " {city}!"]
PAUSE_MS = 600


def _saved_template(e2e_env: dict[str, str], draft_id: int, expected: str,
                    timeout: float = 20) -> str:
    """The draft's saved message once it equals `expected`, or what it is at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        with Session(e2e_engine(e2e_env)) as s:
            text = s.get(Campaign, draft_id).message_template
        if text == expected or time.monotonic() > deadline:
            return text
        time.sleep(0.3)


def _open_message_step(page: Page, app_url: str, e2e_env: dict[str, str]) -> int:
    segment = f"Typing audience {uuid.uuid4().hex[:6]}"
    _small_segment(e2e_env, segment)
    page.goto(app_url + "/campaigns/new")
    page.get_by_test_id("segment-choice").filter(has_text=segment).click()
    draft_id = _draft_id(page)
    page.get_by_test_id("wizard-next").click()
    expect(page.get_by_test_id("campaign-template")).to_be_visible()
    return draft_id


def test_typing_into_a_slow_server_keeps_every_key(page: Page, app_url: str,
                                                   e2e_env: dict[str, str]) -> None:
    page.add_init_script(SLOW_SOCKET)
    draft_id = _open_message_step(page, app_url, e2e_env)
    name = page.get_by_test_id("campaign-name-input")
    name.click()
    for word in ["Weekend", " note"]:
        page.keyboard.type(word, delay=0)
        page.wait_for_timeout(PAUSE_MS)
    box = page.get_by_test_id("campaign-template")
    box.click()
    for word in WORDS:
        page.keyboard.type(word, delay=0)
        page.wait_for_timeout(PAUSE_MS)
    expected = "".join(WORDS)
    expect(box).to_have_value(expected)
    expect(name).to_have_value("Weekend note")
    assert _saved_template(e2e_env, draft_id, expected) == expected
    # The live preview (rendered by the server from its copy) agrees.
    expect(page.get_by_test_id("message-preview").first).to_contain_text(
        "see you this weekend at", timeout=20_000)

    # Text the server replaces still shows in the box: a suggestion used ...
    page.locator("#campaign-objective").fill("Win back lapsed customers")
    page.get_by_test_id("suggest-messages").click()
    use = page.get_by_test_id("use-suggestion").first
    expect(use).to_be_visible(timeout=60_000)
    suggestion = page.get_by_test_id("suggestion-text").first.inner_text()
    use.click()
    expect(box).to_have_value(suggestion)
    assert _saved_template(e2e_env, draft_id, suggestion) == suggestion
    # ... and typed after, the box goes on from the server's text.
    box.press("Control+End")
    page.keyboard.type(" See you!", delay=0)
    expect(box).to_have_value(suggestion + " See you!")
    assert _saved_template(e2e_env, draft_id, suggestion + " See you!") \
        == suggestion + " See you!"
    # (A draft resumed after a refresh shows its text: test_campaigns' draft test, and
    # test_ab_campaign for the variant boxes.)
    for width, height in ((1440, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=f"test-results/campaign-wizard-message-{width}.png",
                        full_page=True)

