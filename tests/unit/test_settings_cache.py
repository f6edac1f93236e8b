"""get_settings() never caches a Settings that a cache_clear() overtook while it was
being built (a background thread's stale build had overwritten a test's fresh one)."""

from __future__ import annotations

import threading

import pytest

from mini_crm import settings as settings_module


def test_a_build_overtaken_by_a_clear_is_not_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    cache = settings_module._SettingsCache()
    started, release = threading.Event(), threading.Event()
    real = settings_module.Settings

    def slow_settings() -> settings_module.Settings:
        built = real()  # reads the environment now, as the real build does first
        started.set()
        release.wait(5)
        return built

    monkeypatch.setenv("APP_URL", "http://old.example")
    monkeypatch.setattr(settings_module, "Settings", slow_settings)
    seen: list[settings_module.Settings] = []
    worker = threading.Thread(target=lambda: seen.append(cache()))
    worker.start()
    started.wait(5)
    monkeypatch.setenv("APP_URL", "http://new.example")
    monkeypatch.setattr(settings_module, "Settings", real)
    cache.cache_clear()
    assert cache().app_url == "http://new.example"
    release.set()
    worker.join(5)
    assert seen[0].app_url == "http://old.example"  # its caller got what it built...
    assert cache().app_url == "http://new.example"  # ...but the cache kept the fresh one


def test_one_build_is_shared_until_cleared(monkeypatch: pytest.MonkeyPatch) -> None:
    cache = settings_module._SettingsCache()
    first = cache()
    assert cache() is first
    cache.cache_clear()
    assert cache() is not first
