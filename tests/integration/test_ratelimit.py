from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from mini_crm.core import ratelimit, redis_conn
from mini_crm.settings import get_settings


def test_limit_answers_429_with_retry_after(api: TestClient, make_key, app_settings,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_RATE_LIMIT_PER_MINUTE", "3")
    get_settings.cache_clear()
    h = make_key("read")
    codes = [api.get("/api/v1/customers", headers=h).status_code for _ in range(4)]
    if codes[:3] != [200, 200, 200]:  # a minute boundary fell inside the loop: once more
        codes = [api.get("/api/v1/customers", headers=h).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    r = api.get("/api/v1/customers", headers=h)
    assert r.status_code == 429
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    assert r.json()["error"]["code"] == "rate_limited"
    assert api.get("/api/v1/customers", headers=make_key("read")).status_code == 200  # per key


@pytest.mark.parametrize("redis_url", ["", "redis://127.0.0.1:6379/13"])
def test_window_counts_and_resets(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    get_settings.cache_clear()
    redis_conn.reset_cache()
    key = uuid.uuid4().hex
    t = 60 * 16_667 + 20.0  # 20 s into a window
    assert [ratelimit.hit(key, 2, now=t).allowed for _ in range(3)] == [True, True, False]
    assert ratelimit.hit(key, 2, now=t).retry_after == 40
    assert ratelimit.hit(key, 2, now=t + 40).allowed  # next window
    get_settings.cache_clear()
    redis_conn.reset_cache()
