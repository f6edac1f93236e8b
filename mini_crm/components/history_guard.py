"""Asking before the browser's Back or Forward leaves a page with unsaved work.

Back and Forward inside the app do not unload the page (no `beforeunload`): the browser
moves to the other history entry and fires `popstate`, which React Router answers by
rendering that entry's page. The event cannot be cancelled, and a listener only stops
the router if it runs first: on `window` Chromium calls popstate listeners in the order
they were added, capture or not, and the router adds its own as the app starts. So this
script is in every page's <head> (`rx.App(head_components=...)`), where it runs while
the HTML is parsed, before the app's modules.

A page asks by adding a function to `window.__mcLeaveChecks` (the segment editor's leave
guard, pages/segments.py): it returns true to let the move happen, false to stay. To
stay, the event is stopped before the router sees it, and the entry the page was on
(its address and history state, remembered from every pushState/replaceState and every
move let through) is pushed back on top, so the address is the page's again and nothing
on the page changed.
"""

from __future__ import annotations

import reflex as rx

_SCRIPT = """
(() => {
  if (window.__mcLeaveChecks) return;
  window.__mcLeaveChecks = [];
  let here = {url: location.href, state: history.state};
  const remember = () => { here = {url: location.href, state: history.state}; };
  for (const name of ['pushState', 'replaceState']) {
    const original = history[name];
    history[name] = function (...args) {
      const result = original.apply(this, args);
      remember();
      return result;
    };
  }
  window.addEventListener('popstate', (e) => {
    if (window.__mcLeaveChecks.every((mayLeave) => mayLeave())) { remember(); return; }
    e.stopImmediatePropagation();
    history.pushState(here.state, '', here.url);
  });
})();
"""


def history_guard() -> rx.Component:
    """The <head> script above; put once in `rx.App(head_components=[...])`. A plain
    <script> element (`rx.el.script`, as Reflex's own colour-theme script), so it is in
    the HTML the server sends for every page; `rx.script` is added by react-helmet
    after the app has started, too late."""
    return rx.el.script(_SCRIPT)
