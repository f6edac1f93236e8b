"""Free-text boxes that never lose a keystroke to the server's echo (issue 14).

Why not `rx.input(value=..., on_change=...)`: in Reflex 0.10.1 an `rx.input` or
`rx.text_area` given both `value` and `on_change` is wrapped in react-debounce-input 3.3.0
(`DebounceInput`, reflex_components_core/core/debounce.py). That component keeps the text
in its own React state and sends it 300 ms after the last key; whenever `value` (the
server's copy) changes while no send is pending, it copies `value` back into the box. On a
slow server the answer to an earlier send can land after a later send has gone out: the
box jumps back to the older text (caret at its end), and keys typed meanwhile go into the
old text. A browser test saved "Hi {first_name}, see" for "..., see you this weekend" and
once ", see you this weekendHi {first_name}"; tests/e2e/test_wizard_typing.py reproduces
it by delaying the server's messages by 800 ms while typing word by word.

Here the browser owns the text. The box is uncontrolled (`default_value`): each change
is sent to the server (Reflex sends a page's events in order, so the server's last copy
is the box's last text, and a click after typing is handled after the keys), and the
server's copy is never written back into a box being typed in. When the server replaces
the text itself (a draft loaded, a suggestion used, a value chip added and the box
cleared) its handler bumps a revision counter that is part of the box's React `key`:
React mounts a fresh box showing the server's text.

Not debounced on purpose: Reflex's client-side debounce (`EventSpec.debounce`) has no
flush on blur and no cancel, so a change still waiting could reach the server after a
click that replaced the text and undo it; and its key is the handler's name, so two rule
rows sharing `set_value` would cancel each other's pending change. The server-side work a
key triggers is already debounced there (the live preview and the draft's autosave wait
for a pause by generation counters).

A revision remount has a gap, though: an answer that lands while keys are still being
typed (the answer to a field change typed just before, the page's own opening) mounts a
new box with the server's text, which lacks those keys, and the new box does not have
the focus, so the next keys go nowhere. `typed_box` closes it for the segment builder's
boxes: no remount at all, and the latest typed text wins (see its docstring).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx
from reflex.vars.function import FunctionStringVar


def text_field(value: rx.Var | str, on_change: Any, *children: rx.Component,
               rev: rx.Var | int | str, multiline: bool = False,
               **props: Any) -> rx.Component:
    """An `rx.input` (or, with `multiline`, an `rx.text_area`) showing `value` when it
    mounts, sending every change to `on_change` (an event handler, or a lambda taking the
    new text), and mounting afresh with the server's `value` whenever `rev` changes.
    `children` are the box's own (e.g. an `rx.input.slot` icon).

    `rev` is a state var the handlers that replace the text server-side increment (or a
    string Var built from one, for boxes inside `rx.foreach`: it must then also tell the
    rows apart, e.g. the row's path). Everything else in `props` (id, placeholder,
    data_testid, on_key_down, on_blur, size, ...) goes to the box as usual; `value`
    must not be passed.
    """
    if "value" in props:
        raise TypeError("text_field owns the box's text: pass it as the first argument")
    make = rx.text_area if multiline else rx.input
    return make(*children, default_value=value, on_change=on_change, key=rev, **props)


# Boxes whose text the server can replace while they are being typed in (the rule
# builder's value boxes, the segment name): see `typed_box`.
_TYPED_JS = """((id, loads) => {
  const m = (window.__mcTyped ||= {seq: 0});
  m.seq = Math.max(m.seq + 1, Date.now());
  const el = document.getElementById(id);
  if (el) el.__mcTyped = {seq: m.seq, loads: loads};
  return m.seq;
})"""
# React writes an uncontrolled box's `value` when it mounts, so a later `defaultValue`
# no longer shows: the server's text is written into the box here when it wins.
_SHOW_JS = """((id, text, ack, loads) => {
  const el = typeof document === "undefined" ? null : document.getElementById(id);
  if (!el || el.value === text) return text;
  const typed = el.__mcTyped;
  if (typed && typed.seq > ack) return el.value;
  if (typed && typed.loads < loads) {
    queueMicrotask(() => {
      if (el.__mcTyped !== typed) return;
      if (el._valueTracker) el._valueTracker.setValue(el.value + "\\u0000");
      el.dispatchEvent(new Event("input", {bubbles: true}));
    });
    return el.value;
  }
  queueMicrotask(() => { if (el.__mcTyped === typed) el.value = text; });
  return text;
})"""
_TYPED = FunctionStringVar.create(_TYPED_JS)
_SHOW = FunctionStringVar.create(_SHOW_JS)


def typed_box(box_id: rx.Var | str, value: rx.Var | str, send: Callable[[Any, Any], Any],
              *, typed_seq: rx.Var, loads: rx.Var, **props: Any) -> rx.Component:
    """A text box whose latest typed text wins over any server answer that lands after
    the keys were typed: `text_field`'s uncontrolled box, without a revision key.

    The box is one element for as long as `box_id` names the same box (its DOM id and
    React key), so it keeps focus and caret whatever the server answers. Each change is
    sent as `send(text, seq)`: `seq` numbers the tab's keystrokes (it only grows, across
    reloads too: at least the clock's milliseconds), and the handler stores the last
    one it applied in `typed_seq`. Whenever the server's `value` for the box changes:
    - keys the server has not applied yet (the box's last seq above `typed_seq`): the box
      keeps its text (those keys are on their way and will set the server's value);
    - keys applied before the editor was opened or loaded afresh (`loads`, which only
      such a (re)load bumps, is newer than the box's last keys): the box keeps its text
      and sends it again, so the load does not undo it;
    - otherwise the server's text replaces the box's (a value picked by a click, a field
      change that clears it, rules moved up a row, an AI fill).
    A box never typed in simply shows the server's text."""
    if "value" in props:
        raise TypeError("typed_box owns the box's text: pass it as the second argument")
    return rx.input(id=box_id, key=box_id,
                    default_value=_SHOW.call(box_id, value, typed_seq, loads),
                    on_change=lambda v: send(v, _TYPED.call(box_id, loads)), **props)


# A box the server empties after an action (a tag added with Enter, a test sent) is
# emptied here, in the browser, at once: waiting for the server's `rev` remount left the
# old text in the box while the answer was on its way, so on a slow link the next tag
# typed went after it ("winback" + "Q4 2026" became the tag "winbackq4 2026"), and the
# remount that followed took the focus away mid-word.
_TAKE_ON_ENTER_JS = """((id, key) => {
  if (key !== "Enter") return "";
  const el = document.getElementById(id);
  if (!el) return "";
  const text = el.value;
  el.value = "";
  return text;
})"""
_TAKE_ON_ENTER = FunctionStringVar.create(_TAKE_ON_ENTER_JS)


def take_on_enter(box_id: str, key: rx.Var) -> rx.Var:
    """For an `on_key_down` lambda: on Enter the text of box `box_id` (which is emptied
    in the browser there and then), on any other key ""."""
    return _TAKE_ON_ENTER.call(box_id, key)

