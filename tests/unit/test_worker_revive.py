"""The worker launcher starts dead worker processes again, backing off while they keep
dying young (e.g. Redis still down after RQ's worker quit on the lost connection)."""

from __future__ import annotations

import pytest

from workers import launcher


class FakeProcess:
    started: list[str] = []

    def __init__(self, target, args, name: str) -> None:  # noqa: ANN001
        self.target, self.args, self.name, self.exitcode = target, args, name, None
        self.alive = False

    def start(self) -> None:
        FakeProcess.started.append(self.name)
        self.alive = True

    def is_alive(self) -> bool:
        return self.alive


class FakeContext:
    Process = FakeProcess


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [1000.0]
    monkeypatch.setattr(launcher.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(launcher.mp, "get_context", lambda method: FakeContext())
    monkeypatch.setattr(launcher, "_restarts", {})
    FakeProcess.started = []
    return now


def _dead(name: str) -> FakeProcess:
    proc = FakeProcess(None, (), name)
    proc.exitcode = 1
    return proc


def test_a_dead_worker_is_started_again_with_the_same_role(clock: list[float]) -> None:
    procs = [_dead("rq-worker-0"), _dead("ingest-consumer")]
    assert launcher.revive(procs) == 2
    assert [p.target for p in procs] == [launcher._work, launcher._consume]
    assert procs[0].args[1] is False  # never burst: a restarted worker keeps working
    assert launcher.revive(procs) == 0  # alive now


def test_one_that_keeps_dying_young_waits_longer_each_time(clock: list[float]) -> None:
    procs = [_dead("rq-worker-0")]
    starts = []
    for _ in range(60):  # a minute of a worker that dies at once (Redis still down)
        procs[0].alive = False
        if launcher.revive(procs):
            starts.append(clock[0] - 1000.0)
        clock[0] += 1.0
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    assert gaps[:5] == [1.0, 2.0, 4.0, 8.0, 16.0]
    assert max(gaps) <= 30.0


def test_one_that_lived_a_while_starts_again_at_once(clock: list[float]) -> None:
    procs = [_dead("rq-worker-0")]
    launcher.revive(procs)
    clock[0] += 1.0
    procs[0].alive = False
    launcher.revive(procs)  # second quick death: the next would wait 2 s
    assert launcher._restarts["rq-worker-0"][1] == 2.0
    clock[0] += 600.0  # then it worked for ten minutes and died
    procs[0].alive = False
    assert launcher.revive(procs) == 1
    assert launcher._restarts["rq-worker-0"][1] == 1.0  # back to the start of the backoff
