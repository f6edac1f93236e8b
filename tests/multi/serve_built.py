"""Start one more app instance that serves the frontend another instance already built
in .web, without compiling or building again (seconds instead of minutes).

    python -m tests.multi.serve_built PORT [--backend-only]

(--backend-only: no frontend at all, for load tests of the API and the websocket;
`reflex run --backend-only` refuses to start because rxconfig sets a frontend port.)

What `reflex run --env prod` does after its build step: the backend with the compiled
frontend mounted, in production mode. The environment (DATABASE_URL, REFLEX_REDIS_URL,
REFLEX_API_URL …) must be the one the build was made with.
"""

from __future__ import annotations

import sys

from reflex.utils import exec as reflex_exec
from reflex_base import constants
from reflex_base.constants.base import LogLevel
from reflex_base.environment import environment


def main(port: int, frontend: bool = True) -> None:
    environment.REFLEX_ENV_MODE.set(constants.Env.PROD)
    environment.REFLEX_SKIP_COMPILE.set(True)
    reflex_exec.run_backend_prod("127.0.0.1", port, LogLevel.WARNING,
                                 mount_frontend_compiled_app=frontend)


if __name__ == "__main__":
    main(int(sys.argv[1]), frontend="--backend-only" not in sys.argv[2:])
