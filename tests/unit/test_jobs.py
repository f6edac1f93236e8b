from __future__ import annotations

import time
from concurrent.futures import Future

import pytest
from rq import Queue, SimpleWorker

from mini_crm.core import jobs, periodic, redis_conn
from mini_crm.settings import get_settings

TEST_REDIS = "redis://127.0.0.1:6379/14"


def double(x: int) -> int:
    return 2 * x


@pytest.fixture
def use_redis(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest):
    monkeypatch.setenv("REDIS_URL", request.param)
    get_settings.cache_clear()
    redis_conn.reset_cache()
    yield redis_conn.get_redis()
    get_settings.cache_clear()
    redis_conn.reset_cache()
    jobs.shutdown_local()


@pytest.mark.parametrize("use_redis", [""], indirect=True)
def test_without_redis_jobs_run_in_process(use_redis: object) -> None:
    assert use_redis is None and jobs.mode() == "in-process"
    future = jobs.enqueue(double, 21)
    assert isinstance(future, Future)
    assert future.result(timeout=5) == 42


@pytest.mark.parametrize("use_redis", ["redis://127.0.0.1:1/0"], indirect=True)
def test_unreachable_redis_falls_back_to_in_process(use_redis: object) -> None:
    assert use_redis is None
    assert jobs.enqueue(double, 4).result(timeout=5) == 8


@pytest.mark.parametrize("use_redis", [TEST_REDIS], indirect=True)
def test_with_redis_jobs_go_to_rq_and_a_worker_runs_them(use_redis) -> None:
    use_redis.flushdb()
    job_id = jobs.enqueue(double, 5, queue="high")
    assert isinstance(job_id, str)
    queue = Queue("high", connection=use_redis)
    assert queue.count == 1
    SimpleWorker([queue], connection=use_redis).work(burst=True)
    assert queue.fetch_job(job_id).return_value() == 10
    use_redis.flushdb()


def test_unknown_queue_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown queue"):
        jobs.enqueue(double, 1, queue="nope")


def test_periodic_tasks_run_when_due_and_survive_errors() -> None:
    calls: list[str] = []

    @periodic.every(10)
    def ticking() -> None:
        calls.append("tick")

    @periodic.every(10)
    def broken() -> None:
        raise RuntimeError("boom")

    now = time.monotonic()
    periodic.run_due(now)
    periodic.run_due(now + 1)  # not due again yet
    periodic.run_due(now + 11)
    assert calls == ["tick", "tick"]
    for name in [n for n in periodic._tasks if n.endswith((".ticking", ".broken"))]:
        del periodic._tasks[name]
