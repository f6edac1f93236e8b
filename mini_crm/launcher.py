"""`mini-crm run`: migrate, seed if empty, start workers and the Reflex app in prod mode.

Ctrl-C (or SIGTERM) stops everything this started.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from pydantic import ValidationError

from mini_crm import migrations
from mini_crm.core.redis_conn import get_redis
from mini_crm.settings import PROJECT_ROOT, get_settings

TOOLS_BIN = PROJECT_ROOT / ".tools" / "node_modules" / ".bin"


def reflex_env(port: int) -> dict[str, str]:
    """The environment Reflex runs in: local bun, and nothing that reaches the network."""
    env = dict(os.environ)
    env.update({
        "REFLEX_USE_SYSTEM_BUN": "1",
        "REFLEX_TELEMETRY_ENABLED": "false",
        "REFLEX_CHECK_LATEST_VERSION": "false",
        "REFLEX_HTTP_CLIENT_BIND_ADDRESS": "0.0.0.0",
        "PATH": f"{TOOLS_BIN}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}"
                f"{env.get('PATH', '')}",
        "PORT": str(port),
    })
    return env


def reflex_command(port: int) -> list[str]:
    return [sys.executable, "-m", "reflex", "run", "--env", "prod", "--loglevel", "warning",
            "--frontend-port", str(port), "--backend-port", str(port)]


def _seed_if_empty(customers: int) -> None:
    from mini_crm.core import seed as seeding
    from mini_crm.db import session_scope

    with session_scope() as session:
        empty = seeding.is_empty(session)
    if empty:
        print(f"seeding {customers} demo customers…", flush=True)
        print(seeding.seed(customers=customers, random_seed=7), flush=True)


def _start_dev_oidc(port: int) -> contextlib.AbstractContextManager:
    """The local development identity provider (never in production: settings refuse)."""
    from mini_crm import dev_oidc

    print(f"development sign-in: local OIDC provider at http://localhost:{port} "
          "(set OIDC_CLIENT_ID/OIDC_CLIENT_SECRET for Google)", flush=True)
    return dev_oidc.serve(port)


def run(port: int | None = None, seed_customers: int = 2000) -> None:
    try:
        settings = get_settings()
    except ValidationError as exc:
        raise SystemExit(f"Mini CRM will not start: {exc.errors()[0]['msg']}") from exc
    port = port or settings.port
    migrations.upgrade()
    _seed_if_empty(seed_customers)

    worker_procs = []
    if get_redis() is not None:
        from workers import launcher as worker_launcher

        worker_procs = worker_launcher.start_workers(settings.worker_processes)
        print(f"started {settings.worker_processes} RQ workers and the ingestion consumer on "
              f"{settings.redis_url}", flush=True)
    else:
        print("Redis not reachable: jobs run in-process inside the app", flush=True)

    with contextlib.ExitStack() as stack:
        if settings.uses_local_oidc:
            stack.enter_context(_start_dev_oidc(settings.dev_oidc_port))
        _serve(port, worker_procs)


def _serve(port: int, worker_procs: list) -> None:
    children: list[subprocess.Popen] = []
    app = subprocess.Popen(reflex_command(port), cwd=PROJECT_ROOT, env=reflex_env(port),
                           start_new_session=True)
    children.append(app)
    print(f"\nMini CRM is starting at http://localhost:{port}  (Ctrl-C stops it)\n", flush=True)

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    if worker_procs:
        from mini_crm.core import periodic

        threading.Thread(target=periodic.run_forever, args=(stop,), daemon=True).start()
    while not stop.is_set() and app.poll() is None:
        stop.wait(0.5)
    _stop_all(children, worker_procs)


def _stop_all(children: list[subprocess.Popen], worker_procs: list) -> None:
    for child in children:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGTERM)
    for p in worker_procs:
        p.terminate()
    for child in children:
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
    for p in worker_procs:
        p.join(timeout=10)
