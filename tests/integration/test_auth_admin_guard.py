"""Production refuses to start without a real identity provider and a real SECRET_KEY.

Run through the real `mini-crm run` entry point: it must stop before it touches
the database or starts anything (no migration, no dev OIDC provider, no app).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mini_crm.settings import PROJECT_ROOT


def _run(tmp_path: Path, **env: str) -> tuple[subprocess.CompletedProcess, Path]:
    db = tmp_path / "guard.db"
    full = dict(os.environ)
    full.update({"APP_ENV": "production", "DATABASE_URL": f"sqlite:///{db}", "REDIS_URL": "",
                 "SECRET_KEY": "", "OIDC_CLIENT_ID": "", "OIDC_CLIENT_SECRET": "",
                 "PORT": "1", "DEV_OIDC_PORT": "1"})
    full.update(env)
    done = subprocess.run([sys.executable, "-m", "mini_crm.cli", "run"], env=full,
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    return done, db


@pytest.mark.parametrize(("env", "named"), [
    ({}, "SECRET_KEY"),
    ({"SECRET_KEY": "too-short"}, "SECRET_KEY"),
    ({"SECRET_KEY": "k" * 48}, "OIDC_CLIENT_ID"),
    ({"SECRET_KEY": "k" * 48, "OIDC_CLIENT_ID": "id-only"}, "OIDC_CLIENT_SECRET"),
])
def test_production_run_refuses_without_real_credentials(tmp_path: Path, env: dict[str, str],
                                                         named: str) -> None:
    done, db = _run(tmp_path, **env)
    assert done.returncode != 0
    assert "Mini CRM will not start" in done.stderr and named in done.stderr
    assert "Traceback" not in done.stderr  # a plain message, not a crash
    assert not db.exists()  # refused before migrating anything
    assert "development sign-in" not in done.stdout


def test_the_app_process_itself_refuses_too() -> None:
    """rxconfig (loaded by the Reflex server process) reads the same validated settings, so
    starting Reflex directly, around the launcher, fails the same way."""
    env = dict(os.environ, APP_ENV="production", SECRET_KEY="", OIDC_CLIENT_ID="")
    done = subprocess.run([sys.executable, "-c", "import rxconfig"], env=env, cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "SECRET_KEY" in done.stderr
