"""Metrics directories per role: made fresh (or emptied when configured), exported before
prometheus_client loads in the role's processes, removed when the role stops."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from mini_crm import launcher
from mini_crm.cli import app as cli_app
from mini_crm.observability import procdir
from mini_crm.settings import get_settings


@pytest.fixture(autouse=True)
def _restore_env(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(procdir.ENV, raising=False)  # restored by monkeypatch afterwards
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_run_gives_workers_and_app_their_own_dirs_and_removes_them(
        monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Path] = {}

    def fake_run(port: int | None, seed_customers: int, metrics_dir: str,
                 prebuilt_frontend: bool = False) -> None:
        import os

        seen["workers"], seen["app"] = Path(os.environ[procdir.ENV]), Path(metrics_dir)
        assert seen["workers"].is_dir() and seen["app"].is_dir()

    monkeypatch.setattr(launcher, "run", fake_run)
    result = CliRunner().invoke(cli_app, ["run"])
    assert result.exit_code == 0, result.output
    assert seen["workers"] != seen["app"]
    assert not seen["workers"].exists() and not seen["app"].exists()


def test_a_configured_dir_is_kept_but_emptied_of_old_files(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    configured = tmp_path / "metrics"
    configured.mkdir()
    (configured / "counter_123.db").write_bytes(b"old")
    (configured / "notes.txt").write_text("not ours")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(configured))
    get_settings.cache_clear()
    path, made = procdir.prepare("worker")
    assert (path, made) == (configured, False)
    assert not (configured / "counter_123.db").exists()
    assert (configured / "notes.txt").exists()
    procdir.cleanup(path, made)
    assert configured.exists()
