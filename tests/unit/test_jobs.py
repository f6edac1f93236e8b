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
    queue = Queue(jobs.queue_name("high"), connection=use_redis)
    assert queue.count == 1
    SimpleWorker([queue], connection=use_redis).work(burst=True)
    assert queue.fetch_job(job_id).return_value() == 10
    use_redis.flushdb()


def test_two_installs_on_one_redis_have_their_own_queues_and_leader(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Two clones on the README's default Redis, no namespace: with shared names a worker
    # of one ran the other's jobs against its own database, and one leader lease meant
    # the second install's sweepers (receipts, schedules) never ran.
    monkeypatch.delenv("REDIS_NAMESPACE", raising=False)
    names = []
    for url in ("sqlite:////srv/one/data/mini_crm.db", "sqlite:////srv/two/data/mini_crm.db"):
        monkeypatch.setenv("DATABASE_URL", url)
        get_settings.cache_clear()
        names.append((jobs.queue_name("default"), periodic.leader_key()))
    get_settings.cache_clear()
    (queue_one, lease_one), (queue_two, lease_two) = names
    assert queue_one != queue_two and lease_one != lease_two
    assert queue_one.startswith("default:") and lease_one.startswith(periodic.LEADER_KEY)
    monkeypatch.setenv("REDIS_NAMESPACE", "staging:")
    get_settings.cache_clear()
    assert jobs.queue_name("low").startswith("staging:low:")
    assert jobs.queue_label(jobs.queue_name("low")) == "low"
    get_settings.cache_clear()


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
