"""The live pollers' loop: cadence, stopping when nothing is live, and a closed tab."""

from __future__ import annotations

import asyncio

import pytest

from mini_crm.state import campaign_common as common


@pytest.fixture(autouse=True)
def fast_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(common, "POLL_SECONDS", 0.001)
    monkeypatch.setattr(common, "AWAY_GRACE_SECONDS", 0.05)


def run(modes: list[str]) -> tuple[int, int]:
    """Feed `modes` to poll_while (then "" forever); returns (paces asked, steps run)."""
    asked = steps = 0

    async def pace() -> str:
        nonlocal asked
        asked += 1
        return modes[asked - 1] if asked <= len(modes) else ""

    async def step() -> None:
        nonlocal steps
        steps += 1

    asyncio.run(common.poll_while(pace, step))
    return asked, steps


def test_steps_every_tick_while_fast_and_stops_when_nothing_is_live() -> None:
    assert run(["fast", "fast", "fast"]) == (4, 3)


def test_slow_steps_every_slow_every_ticks() -> None:
    asked, steps = run(["slow"] * (common.slow_every() * 2))
    assert steps == 2


def test_a_closed_tab_stops_the_poller_after_the_grace() -> None:
    async def main() -> int:
        steps = 0

        async def pace() -> str:
            return common.AWAY

        async def step() -> None:
            nonlocal steps
            steps += 1

        await asyncio.wait_for(common.poll_while(pace, step), timeout=5)
        return steps

    assert asyncio.run(main()) == 0  # returns by itself, and never queried while away


def test_a_reconnect_within_the_grace_keeps_polling() -> None:
    # Away for two ticks (far below the grace), then back: polling goes on.
    asked, steps = run(["fast", common.AWAY, common.AWAY, "fast", "fast"])
    assert (asked, steps) == (6, 3)
