"""Browser tests: the real app in production mode, driven by the system Chromium.

One app process serves the whole e2e session: a fresh SQLite database in a temp
folder, migrated and seeded by the functions the CLI's migrate and seed call, embedded
mode (no Redis).

Where the suite's time goes (`pytest tests/e2e --durations=60`, 2 shared cores, load
average 5-11 from other runs): the session's app start was 24 s (and 80-107 s at load
12), mostly compiling the pages and `bun run export`; it is now 7-12 s when the sources
are unchanged (the kept build, app_url below). Whole suite, 30 November: 349.8 s for 45
tests at load 5-6 before; 307.0 s and 350.5 s for 48 tests at load 8-11 after (the
machine's load, not the suite, decides most of the difference between two runs).
Nearly all the rest is the tests' own steps: each click or assertion waits for a
websocket round trip to the app, 0.1-1 s on a loaded machine, and Playwright re-checks
a pending assertion every 500 ms. Scenario
time that is the point of a test stays: key-by-key typing against an 800 ms server
(test_wizard_typing, test_search_boxes: about 30 s together), offline spells
(test_reconnect). Set data up through core functions, not the browser, unless the
browser part is what is tested. One browser profile shared by every test (to keep the
bundle in Chromium's cache) was tried and measured, paired: /login loaded in a median
1.28 s in a fresh context and 1.25 s in a used one (16 loads, load average 15; an unpaired
first try had suggested 3-6 s against 1.6-2 s); the assets carry no cache lifetime, so
Chromium revalidates them anyway. Tests keep their own context.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy.engine import Engine
from sqlmodel import Session

from mini_crm import migrations
from mini_crm.db import create_db_engine
from mini_crm.demo import seed as seeding
from mini_crm.settings import PROJECT_ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--force-prefers-reduced-motion"]
SEED_CUSTOMERS = 300
STARTUP_SECONDS = 420
# Page assertions wait up to 20 s (Playwright's default is 5), as long as the pages' own
# actions: a shared 2-core machine under load can take that long to answer a websocket
# event (at load average 20, a campaign page opened from the history took over 10 s to
# show its name); passing runs are not slower.
expect.set_options(timeout=20_000)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _app_port() -> int:
    """This checkout's own port (the frontend bundle has it baked in, so a bundle is
    reused only on the port it was built for), or any free port when that one is taken."""
    port = 20_000 + int(hashlib.sha256(str(PROJECT_ROOT).encode()).hexdigest(), 16) % 20_000
    with socket.socket() as s:
        # As the server binds: the last run's connections still in TIME_WAIT do not count.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return _free_port()
    return port


# What the compiled frontend depends on: a change to any of these rebuilds it.
FRONTEND_SOURCES = ("mini_crm", "assets", "reflex.lock", "rxconfig.py", "pyproject.toml",
                    "bunfig.toml")
BUILD_STAMP = PROJECT_ROOT / ".web" / "e2e-build.json"
BUILD_DIR = PROJECT_ROOT / ".web" / "build" / "client"


def _frontend_key(port: int) -> str:
    """A hash of the frontend's sources, the installed Reflex and the port."""
    digest = hashlib.sha256(f"{version('reflex')} {port}".encode())
    for name in FRONTEND_SOURCES:
        root = PROJECT_ROOT / name
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for path in files:
            if path.exists() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(PROJECT_ROOT)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def _build_stamp(key: str) -> dict:
    """The build's key, and every built file's name, size and mtime: any other `reflex
    run` in this checkout (`make run`, tests/integration/test_launcher.py) rebuilds or,
    stopped mid-build, half-deletes .web/build, and so changes them."""
    listing = hashlib.sha256()
    for path in sorted(p for p in BUILD_DIR.rglob("*") if p.is_file()):
        stat = path.stat()
        listing.update(f"{path.relative_to(BUILD_DIR)} {stat.st_size} {stat.st_mtime_ns}\n"
                       .encode())
    return {"key": key, "files": listing.hexdigest()}


def _built_for(key: str) -> bool:
    try:
        return (BUILD_DIR / "index.html").exists() and \
            json.loads(BUILD_STAMP.read_text()) == _build_stamp(key)
    except (OSError, ValueError):
        return False


@pytest.fixture(scope="session")
def e2e_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    port = _app_port()
    db = Path(tmp_path_factory.mktemp("e2e")) / "e2e.db"
    env = dict(os.environ)
    env.update({"DATABASE_URL": f"sqlite:///{db}", "REDIS_URL": "", "PORT": str(port),
                "APP_URL": f"http://localhost:{port}", "APP_ENV": "development",
                "OIDC_CLIENT_ID": "", "DEV_OIDC_PORT": str(_free_port()),
                "ALLOWED_EMAIL_DOMAINS": "brand.in",
                # An open history looks for campaigns launched elsewhere every 2 s, not
                # 10: test_campaigns waited up to 10 s for it, every run.
                "QUIET_REFRESH_SECONDS": "2"})
    return env


@lru_cache
def _engine(url: str) -> Engine:
    return create_db_engine(url)


def e2e_engine(e2e_env: dict[str, str]) -> Engine:
    """The e2e app's database, for tests to read what the pages should show."""
    return _engine(e2e_env["DATABASE_URL"])


def e2e_session(e2e_env: dict[str, str]) -> Session:
    return Session(e2e_engine(e2e_env))


@pytest.fixture(scope="session")
def app_url(e2e_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # In this process, with the calls `mini-crm migrate` and `mini-crm seed` make: each
    # command imports the whole CLI (the app, the simulator) first, 2-7 s apiece here.
    migrations.upgrade(e2e_env["DATABASE_URL"])
    seeding.seed(customers=SEED_CUSTOMERS, random_seed=11, engine=e2e_engine(e2e_env))
    url = e2e_env["APP_URL"]
    log = open(Path(tmp_path_factory.mktemp("e2e-log")) / "app.log", "w")  # noqa: SIM115
    # `reflex run --env prod` compiles and rebuilds the frontend on every start (12-30 s
    # here); an unchanged frontend already built for this port is served as it is.
    key = _frontend_key(int(e2e_env["PORT"]))
    prebuilt = _built_for(key)
    proc = subprocess.Popen([sys.executable, "-m", "mini_crm.cli", "run", "--port",
                             e2e_env["PORT"], *(["--prebuilt-frontend"] if prebuilt else [])],
                            env=e2e_env, cwd=PROJECT_ROOT, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_until_up(url, proc, log.name)
        if not prebuilt:
            BUILD_STAMP.write_text(json.dumps(_build_stamp(key)))
        yield url
    finally:
        os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
        log.close()


def _wait_until_up(url: str, proc: subprocess.Popen, log_name: str) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"app exited with {proc.returncode}:\n{Path(log_name).read_text()[-3000:]}")
        try:
            if (httpx.get(f"{url}/healthz", timeout=2).status_code == 200
                    and httpx.get(url, timeout=5).status_code == 200):
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    pytest.fail(f"app did not come up in {STARTUP_SECONDS}s:\n{Path(log_name).read_text()[-3000:]}")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


ADMIN = "admin@brand.in"  # the first to sign in becomes admin


def sign_in(pg: Page, app_url: str, email: str, path: str = "/") -> None:
    """Through the real flow: app -> login page -> local OIDC provider -> back."""
    pg.goto(app_url + path)
    pg.wait_for_url("**/login**")
    pg.get_by_test_id("sign-in").click()
    pg.locator("input[name=sub]").fill(email)
    pg.get_by_role("button", name="Authorize").click()
    pg.wait_for_url(lambda url: "/login" not in url and url.startswith(app_url))


VIEWPORT = {"width": 1366, "height": 900}


@pytest.fixture
def anonymous_page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=VIEWPORT)
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    yield pg
    context.close()


@pytest.fixture(scope="session")
def admin_storage(browser: Browser, app_url: str) -> dict:
    """The admin's signed-in browser storage (the HttpOnly session cookie), from one real
    sign-in per run. Signing in through the OIDC provider for every test took 2-6 s
    each (about a fifth of the suite); the sign-in flow itself is still tested on its
    own (test_signin.py). Reflex's per-tab state token lives in sessionStorage, which a
    storage state does not carry, so every test still gets its own page state."""
    context = browser.new_context(viewport=VIEWPORT)
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    sign_in(pg, app_url, ADMIN)
    state = context.storage_state()
    context.close()
    return state


@pytest.fixture
def page(browser: Browser, admin_storage: dict, app_url: str) -> Iterator[Page]:
    """A blank browser page signed in as the admin: each test opens its own page first.
    (It used to open the dashboard and wait for it, one page load per test that every
    test then left at once; the dashboard has its own test.)"""
    context = browser.new_context(viewport=VIEWPORT, storage_state=admin_storage)
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    yield pg
    context.close()
