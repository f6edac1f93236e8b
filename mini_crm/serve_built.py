"""Serve the app in prod mode with the frontend already built in `.web`: no compile, no
`bun run export`.

`reflex run --env prod` compiles every page and rebuilds the frontend bundle on every
start, even when nothing changed: 12-30 s of the browser suite's app start on a shared
2-core machine (compile 2-13 s, build 10-17 s; the backend itself is up 4-7 s later).
The browser tests start the app once per run and rebuild only when the sources changed
(tests/e2e/conftest.py keys the build by a hash of them); everything else still goes
through `reflex run`. Started by `launcher.reflex_command(port, prebuilt=True)`.

Reflex bakes the backend's URL, port included, into the bundle (`.web/env.json`), so a
bundle is only good for the port it was built for: the caller must know it was.
"""

from __future__ import annotations

import sys

from reflex.utils import exec as rx_exec
from reflex.utils.prerequisites import get_web_dir
from reflex_base import constants
from reflex_base.config import get_config
from reflex_base.environment import environment


def main(port: int) -> None:
    """Run the backend on `port` (UI, websocket and API, as `reflex run --env prod`), with
    the static frontend in `.web/build/client` mounted. Blocks until the server stops."""
    static = get_web_dir() / constants.Dirs.STATIC
    if not (static / "index.html").exists():
        raise SystemExit(f"no frontend build in {static}: start with `mini-crm run` once")
    # What `reflex run --env prod` sets before it starts the backend (reflex/reflex.py
    # _run and _run_prod, 0.10.1), minus the compile and the build.
    environment.REFLEX_ENV_MODE.set(constants.Env.PROD)
    environment.REFLEX_SKIP_COMPILE.set(True)
    config = get_config()
    config._set_persistent(frontend_port=port, backend_port=port)
    rx_exec.notify_app_running()
    rx_exec.run_backend_prod(config.backend_host, port, config.loglevel.subprocess_level(),
                             mount_frontend_compiled_app=True)


if __name__ == "__main__":
    main(int(sys.argv[1]))
