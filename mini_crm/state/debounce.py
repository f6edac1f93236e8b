"""Run something once the user stops typing: the one debounce of the state layer.

Boxes send every key to the server (a box debounced in the browser lost keys typed while
an answer was in flight, issue 14), so the waiting happens here. The shape, used by the
list searches (`pager.Pager`), the segment builder's live preview, the wizard's sample
messages and the draft autosave:

- each edit bumps a counter field of the state (`_generation`, `_search_generation`, …)
  and returns a background handler;
- the handler calls `settled(self, "<counter>", seconds)`: only the last edit of a burst
  gets its generation back, every earlier one gets None and does nothing;
- after slow work the handler compares the generation again, so an answer for text that
  has since changed is dropped instead of overwriting the newer one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any


async def settled(state: Any, counter: str, seconds: float,
                  ready: Callable[[], bool] | None = None) -> int | None:
    """Wait until the user has paused for `seconds` (seconds, not ms) after this edit.

    `state` is a background handler's `self` (a StateProxy; a plain state in unit tests),
    `counter` the name of the int field each edit bumps. Returns the counter's value when
    no edit came during the pause (the caller runs its work and may compare the value
    again afterwards), or None when a later edit came (it waits for its own pause). The
    counter is read under the state's lock both times; nothing is held while sleeping.
    `ready` (e.g. `lambda: self.ensure_signed_in()`) is asked under the lock before the
    pause: False answers None at once, with no pause. A lambda, not the bound method: a
    StateProxy swaps in a fresh state when its lock is taken, and a method bound earlier
    would run on the stale one.
    """
    async with state:
        if ready is not None and not ready():
            return None
        generation = getattr(state, counter)
    await asyncio.sleep(seconds)
    async with state:
        return generation if getattr(state, counter) == generation else None
