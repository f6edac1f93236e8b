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
"""

from __future__ import annotations

from typing import Any

import reflex as rx


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
