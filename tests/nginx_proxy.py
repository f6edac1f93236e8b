"""A private nginx in front of several app instances: round robin, no sticky sessions,
websocket upgrade, on a free port, in a temp dir, stopped by its own pid.

The server block is the shipped `deploy/nginx/mini-crm.conf` when it is there (its
upstream servers replaced by the test's instances); otherwise the same directives
written here. The machine's own nginx service is never touched.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from mini_crm.settings import PROJECT_ROOT
from tests.private_services import free_port, stop_process

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
DEPLOY_CONF = PROJECT_ROOT / "deploy" / "nginx" / "mini-crm.conf"
# What the access log records per request: which instance answered ($upstream_addr,
# "a, b" when nginx moved on to the next one) and its status.
LOG_FORMAT = "$msec|$request_method|$uri|$status|$upstream_addr|$upstream_status"

FALLBACK_SITE = """
map $http_upgrade $connection_upgrade {
    default upgrade;
    ''      '';
}

upstream mini_crm {
    # Round robin, no ip_hash / sticky: any instance serves any request, because the
    # Reflex state lives in Redis and the session in the database.
    server 127.0.0.1:8001 max_fails=1 fail_timeout=5s;
    server 127.0.0.1:8002 max_fails=1 fail_timeout=5s;
    keepalive 16;
}

server {
    listen 127.0.0.1:8080;
    client_max_body_size 20m;

    location / {
        proxy_pass http://mini_crm;
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_read_timeout 3600s;
        proxy_send_timeout 3600s;
        proxy_connect_timeout 2s;
        # A refused connection or a dead instance: try the next one. POSTs are passed
        # on only when they never reached the first instance (nginx's default), so a
        # campaign launch is never sent twice.
        proxy_next_upstream error timeout http_502 http_503;
        proxy_next_upstream_tries 2;
    }
}
"""


def site_config(upstream_ports: Sequence[int], listen_port: int) -> str:
    """The server block: the shipped one (upstreams and listen port replaced) or ours."""
    site = DEPLOY_CONF.read_text() if DEPLOY_CONF.exists() else FALLBACK_SITE
    servers = "".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;\n"
                      for p in upstream_ports)

    def upstream(match: re.Match[str]) -> str:
        body = re.sub(r"^\s*server\s+[^;]+;\s*\n", "", match.group(2), flags=re.M)
        return f"{match.group(1)}{servers}{body}"

    site, n = re.subn(r"(upstream\s+\w+\s*\{\s*\n)(.*?)(?=\})", upstream, site, count=1,
                      flags=re.S)
    if n != 1:
        raise ValueError(f"no upstream block in {DEPLOY_CONF}")
    site, n = re.subn(r"listen\s+[^;]+;", f"listen 127.0.0.1:{listen_port};", site, count=1)
    if n != 1:
        raise ValueError(f"no listen directive in {DEPLOY_CONF}")
    return site


@dataclass
class Proxy:
    port: int
    dir: Path
    proc: subprocess.Popen

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    def upstreams(self, since: float = 0.0) -> list[tuple[str, str, str]]:
        """(uri, status, upstream_addr) of every request logged after `since` (epoch s);
        upstream_addr is "a, b" when nginx moved on from a to b."""
        log = self.dir / "access.log"
        if not log.exists():
            return []
        out = []
        for line in log.read_text().splitlines():
            msec, _method, uri, status, addr, _ = line.split("|", 5)
            if float(msec) >= since:
                out.append((uri, status, addr))
        return out


@contextmanager
def nginx_proxy(tmp: Path, upstream_ports: Sequence[int]) -> Iterator[Proxy]:
    """Start nginx (foreground, as its own process) and yield it; stopped in `finally`."""
    tmp.mkdir(parents=True, exist_ok=True)
    port = free_port()
    # Run as root, nginx's workers are `nobody`: request bodies over 16 KB spill into the
    # temp paths, which must be theirs to write (tmp itself may be root-only), or nginx
    # answers 500 without asking any instance.
    spill = Path(tempfile.mkdtemp(prefix="mini-crm-nginx-"))
    spill.chmod(0o777)
    conf = tmp / "nginx.conf"
    conf.write_text(f"""
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    log_format upstreams '{LOG_FORMAT}';
    access_log {tmp}/access.log upstreams;
    client_body_temp_path {spill}/client_body;
    proxy_temp_path {spill}/proxy;
    fastcgi_temp_path {spill}/fastcgi;
    uwsgi_temp_path {spill}/uwsgi;
    scgi_temp_path {spill}/scgi;
{site_config(upstream_ports, port)}
}}
""")
    proc = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(tmp), "-e",
                             str(tmp / "error.log"), "-g", "daemon off;"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    proxy = Proxy(port, tmp, proc)
    try:
        deadline = time.monotonic() + 15
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"nginx exited: {proc.stderr.read().decode()[-2000:]}"
                                   f"{(tmp / 'error.log').read_text()[-2000:]}")
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise RuntimeError("nginx did not start") from None
                time.sleep(0.1)
        yield proxy
    finally:
        stop_process(proc)
        shutil.rmtree(spill, ignore_errors=True)
