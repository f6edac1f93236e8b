"""Every periodic task, and how often it runs: the one list, with plain imports.

`periodic` is the runner (the leader lease, the loop); this module is what it runs. The
task modules do not import either, so there is no cycle: the doors that run the tasks
(`mini-crm worker`, `mini-crm run`, the app process without Redis) import this module.
Importing it registers each task once (`periodic.every` keys a task by its qualified
name, and a module body runs once per process).
"""

from __future__ import annotations

import threading

from mini_crm.core import periodic
from mini_crm.core.campaigns import ab_test, sweeper
from mini_crm.core.delivery import receipts
from mini_crm.core.ingestion import import_runner
from mini_crm.core.redis_conn import get_redis
from mini_crm.settings import get_settings

# Applies buffered delivery receipts.
periodic.every(0.5)(receipts.flush_receipts)
# Starts scheduled campaigns that are due (at most this late).
periodic.every(get_settings().schedule_check_seconds)(sweeper.start_scheduled)
# Starts due campaigns, resumes abandoned delivery, completes finished campaigns.
periodic.every(get_settings().delivery_sweep_seconds)(sweeper.sweep)
# Resumes CSV imports whose runner stopped; deletes abandoned uploads.
periodic.every(import_runner.SWEEP_SECONDS)(import_runner.sweep)
# Picks A/B winners whose test time is up and sends the rest.
periodic.every(ab_test.DECIDE_EVERY_SECONDS)(ab_test.decide_due)


def run_forever(stop: threading.Event, tick: float = 1.0) -> None:
    """Run the tasks above until `stop` (with Redis, only while this host holds the
    leader lease: see `periodic.run_forever`). Blocks; run it on a thread of its own."""
    periodic.run_forever(stop, tick)


def start_in_thread() -> threading.Event:
    """Run the tasks above on a daemon thread; set the returned event to stop it."""
    return periodic.start_in_thread()


_embedded: threading.Event | None = None
_embedded_lock = threading.Lock()


def start_embedded() -> bool:
    """Embedded mode (no Redis, so no `mini-crm worker`): run the periodic tasks on a
    thread of this process, the one whose in-process executor runs the jobs. Call once
    at app start; returns False (a no-op) with Redis or when already started."""
    global _embedded
    with _embedded_lock:
        if _embedded is not None or get_redis() is not None:
            return False
        _embedded = start_in_thread()
        return True
