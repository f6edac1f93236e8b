"""`mini-crm run`: migrate, seed if empty, start workers and the Reflex app in prod mode.

Ctrl-C (or SIGTERM) stops everything this started, within STOP_SECONDS whatever the
children do: each gets SIGTERM (the app's whole process group, since Reflex starts
bun and the web server under it), then SIGKILL when it has not gone after
TERM_GRACE_SECONDS. Nothing is ever waited on without a timeout: an RQ worker finishing
its job, or Reflex still building the frontend, would otherwise hold the launcher (and
multiprocessing's exit hook joins non-daemon children for ever).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from mini_crm import migrations
from mini_crm.core.redis_conn import get_redis
from mini_crm.db import session_scope
from mini_crm.demo import seed as seeding
from mini_crm.observability import procdir
from mini_crm.settings import PROJECT_ROOT, Settings, get_settings

TOOLS_BIN = PROJECT_ROOT / ".tools" / "node_modules" / ".bin"
STOP_SECONDS = 10.0  # the promise: SIGTERM to exit, always
TERM_GRACE_SECONDS = 4.0  # then SIGKILL, leaving time to reap what was killed
# The last resort: a process still here this long after the signal (a shutdown step
# stuck on a busy machine) kills what is left of its children and exits at once.
WATCHDOG_SECONDS = STOP_SECONDS - 1.0


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


def reflex_command(port: int, prebuilt: bool = False) -> list[str]:
    """The app's command line: `reflex run --env prod` (compiles and builds the frontend,
    then serves it), or with `prebuilt` the bundle already in `.web`, built for `port`
    (mini_crm/serve_built.py)."""
    if prebuilt:
        return [sys.executable, "-m", "mini_crm.serve_built", str(port)]
    return [sys.executable, "-m", "reflex", "run", "--env", "prod", "--loglevel", "warning",
            "--frontend-port", str(port), "--backend-port", str(port)]


def _seed_if_empty(customers: int) -> None:
    if customers <= 0:
        print("--seed-customers 0: not seeding", flush=True)
        return
    with session_scope() as session:
        empty = seeding.is_empty(session)
    if empty:
        print(f"seeding {customers} demo customers…", flush=True)
        print(seeding.seed(customers=customers, random_seed=7), flush=True)


def _start_dev_oidc(port: int) -> contextlib.AbstractContextManager:
    """The local development identity provider (never in production: settings refuse)."""
    # only here: Flask and the provider mock, whose import warns (Authlib) on every command
    from mini_crm import dev_oidc

    print(f"development sign-in: local OIDC provider at http://localhost:{port} "
          "(set OIDC_CLIENT_ID/OIDC_CLIENT_SECRET for Google)", flush=True)
    return dev_oidc.serve(port)


def settings_or_exit() -> Settings:
    """The settings, or SystemExit with the first invalid one named in plain words
    ("Mini CRM will not start: SECRET_KEY must be set ...") instead of a traceback.
    Called first by every start command, before anything reads settings."""
    try:
        return get_settings()
    except ValidationError as exc:
        raise SystemExit(f"Mini CRM will not start: {exc.errors()[0]['msg']}") from exc


def run(port: int | None = None, seed_customers: int = 2000,
        metrics_dir: str | None = None, prebuilt_frontend: bool = False) -> bool:
    settings = settings_or_exit()
    port = port or settings.port
    migrations.upgrade()
    _seed_if_empty(seed_customers)

    # From here on a signal only sets `stop`: every child started below is then stopped
    # by _stop_all, including when the signal arrives while they are being started.
    stop = threading.Event()
    worker_procs: list[Any] = []
    children: list[subprocess.Popen] = []
    _on_signal(stop, children, worker_procs)
    with contextlib.ExitStack() as stack:
        try:
            if get_redis() is not None:
                from workers import launcher as worker_launcher  # after procdir.prepare (cli)

                worker_procs = worker_launcher.start_workers(settings.worker_processes)
                print(f"started {settings.worker_processes} RQ workers and the ingestion "
                      f"consumer on {settings.redis_url}", flush=True)
            else:
                print("Redis not reachable: jobs run in-process inside the app", flush=True)
            if settings.uses_local_oidc and not stop.is_set():
                stack.enter_context(_start_dev_oidc(settings.dev_oidc_port))
            if not stop.is_set():
                _serve(port, worker_procs, children, stop, metrics_dir=metrics_dir,
                       prebuilt=prebuilt_frontend)
        finally:  # before the identity provider's own (short) shutdown
            stop.set()
            _stop_all(children, worker_procs)
    print("Mini CRM stopped", flush=True)
    return True  # every child stopped: the caller may exit_now() after its clean-up


def exit_now(code: int = 0) -> None:
    """End `mini-crm run` once its children are gone and its own clean-up is done.

    The interpreter's finalisation (exit hooks of libraries the periodic tasks loaded,
    joining their threads) was measured at 5-6 s on a busy machine, past the 10 s
    promise, and the daemon watchdog cannot run during it: so no finalisation."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def serve(port: int | None = None) -> None:
    """`mini-crm serve`: one app instance (Reflex in prod mode) and nothing else, until
    SIGINT/SIGTERM. Its backend processes share the metrics directory already exported
    in PROMETHEUS_MULTIPROC_DIR."""
    settings = settings_or_exit()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    children: list[subprocess.Popen] = []
    try:
        if not stop.is_set():
            _serve(port or settings.port, [], children, stop)
    finally:
        stop.set()
        _stop_all(children, [])


def _serve(port: int, worker_procs: list[Any], children: list[subprocess.Popen],
           stop: threading.Event, *, metrics_dir: str | None = None,
           prebuilt: bool = False) -> None:
    env = reflex_env(port)
    if metrics_dir:
        # `mini-crm run`: the workers' metrics directory is this process's; the app's
        # backend processes get their own.
        env[procdir.ENV] = metrics_dir
    app = subprocess.Popen(reflex_command(port, prebuilt), cwd=PROJECT_ROOT, env=env,
                           start_new_session=True)
    children.append(app)
    print(f"\nMini CRM is starting at http://localhost:{port}  (Ctrl-C stops it)\n", flush=True)
    if worker_procs:
        # after procdir.prepare (cli): these import prometheus_client, which reads its
        # metrics directory once, at import
        from mini_crm.core import periodic_tasks

        threading.Thread(target=periodic_tasks.run_forever, args=(stop,), daemon=True).start()
    while not stop.is_set() and app.poll() is None:
        if worker_procs:
            from workers import launcher as worker_launcher  # after procdir.prepare (cli)

            worker_launcher.revive(worker_procs)
        stop.wait(0.5)


def _on_signal(stop: threading.Event, children: list[subprocess.Popen],
               worker_procs: list[Any]) -> None:
    """SIGINT/SIGTERM set `stop` (the normal shutdown follows) and arm the watchdog."""
    armed = threading.Event()

    def force_exit() -> None:
        for child in children:
            _signal_group(child, signal.SIGKILL)
        for p in list(worker_procs):
            with contextlib.suppress(Exception):
                p.kill()
        print("Mini CRM stopped (forced)", flush=True)
        os._exit(1)

    def handler(*_: Any) -> None:
        stop.set()
        if not armed.is_set():
            armed.set()
            timer = threading.Timer(WATCHDOG_SECONDS, force_exit)
            timer.daemon = True
            timer.start()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, handler)


def _signal_group(child: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, sig)  # the app leads its own session: bun, granian …


def _stop_all(children: list[subprocess.Popen], worker_procs: list[Any],
              grace: float = TERM_GRACE_SECONDS, limit: float = STOP_SECONDS) -> None:
    """SIGTERM everything, SIGKILL whatever is left after `grace` seconds, and reap it all
    before `limit` seconds: never an unbounded wait."""
    started = time.monotonic()
    for child in children:
        _signal_group(child, signal.SIGTERM)
    for p in worker_procs:
        if p.is_alive():
            p.terminate()

    def alive() -> bool:
        return (any(c.poll() is None for c in children)
                or any(p.is_alive() for p in worker_procs))

    while alive() and time.monotonic() - started < grace:
        time.sleep(0.1)
    for child in children:
        # Also after the leader exited: a grandchild may still hold the group.
        _signal_group(child, signal.SIGKILL)
    for p in worker_procs:
        if p.is_alive():
            p.kill()
    for child in children:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=max(0.1, limit - 1 - (time.monotonic() - started)))
    for p in worker_procs:
        p.join(timeout=max(0.1, limit - 1 - (time.monotonic() - started)))
