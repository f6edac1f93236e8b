"""PROMETHEUS_MULTIPROC_DIR for a role's processes, set BEFORE prometheus_client loads.

prometheus_client decides at import whether its values live in process memory or in
mmap files of that directory (multiprocess mode). A role with several processes —
Reflex's backend workers behind one port, the RQ workers of `mini-crm worker` — must
share one directory, or a scrape would see one process's counts. This module imports
nothing from prometheus_client so the CLI can call it first.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from mini_crm.settings import get_settings

ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare(role: str) -> tuple[Path, bool]:
    """Export the directory this role's processes share; returns (path, made_here).

    The configured PROMETHEUS_MULTIPROC_DIR is used when set (emptied of the previous
    run's files, as the library requires: give each role instance its own directory);
    otherwise a fresh temporary one, which `cleanup` removes at exit.
    """
    configured = get_settings().prometheus_multiproc_dir
    if configured:
        path = Path(configured)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink(missing_ok=True)
        made = False
    else:
        path = make_dir(role)
        made = True
    os.environ[ENV] = str(path)
    get_settings.cache_clear()
    return path, made


def make_dir(role: str) -> Path:
    """A fresh temporary metrics directory for one role instance."""
    return Path(tempfile.mkdtemp(prefix=f"mini-crm-metrics-{role}-"))


def cleanup(path: Path, made_here: bool) -> None:
    if made_here:
        shutil.rmtree(path, ignore_errors=True)
