"""Periodic tasks (sweepers, schedulers) that keep the database-driven work moving.

Modules register a task with `@every(seconds)`. `run_forever` runs them in one
thread: in `mini-crm worker` when Redis is used, in the app process otherwise.
Tasks must be idempotent: with several worker machines, several may run them.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

# Modules whose import registers periodic tasks; extended as features land.
TASK_MODULES: list[str] = [
    "mini_crm.core.delivery.receipts",  # applies buffered delivery receipts
    "mini_crm.core.campaigns.sweeper",  # starts due campaigns, resumes abandoned delivery
]


@dataclass
class _Task:
    func: Callable[[], object]
    seconds: float
    next_at: float = field(default=0.0)


_tasks: dict[str, _Task] = {}


def every(seconds: float) -> Callable[[Callable[[], object]], Callable[[], object]]:
    def register(func: Callable[[], object]) -> Callable[[], object]:
        _tasks[f"{func.__module__}.{func.__qualname__}"] = _Task(func, seconds)
        return func
    return register


def load_task_modules() -> None:
    for name in TASK_MODULES:
        importlib.import_module(name)


def run_due(now: float | None = None) -> None:
    now = time.monotonic() if now is None else now
    for name, task in list(_tasks.items()):
        if now >= task.next_at:
            task.next_at = now + task.seconds
            try:
                task.func()
            except Exception:
                log.exception("periodic task %s failed", name)


def run_forever(stop: threading.Event, tick: float = 1.0) -> None:
    load_task_modules()
    while not stop.is_set():
        run_due()
        stop.wait(tick)


def start_in_thread() -> threading.Event:
    stop = threading.Event()
    threading.Thread(target=run_forever, args=(stop,), name="mini-crm-periodic",
                     daemon=True).start()
    return stop
