"""deploy/: what can be checked on a machine without a Docker engine or a systemd boot.

- docker-compose.yml parses as YAML, every reference in it resolves, and each role
  runs a real `mini-crm` command (no engine here, so it was never `up`);
- the Dockerfile copies only files that exist;
- the systemd units pass `systemd-analyze verify` (paths pointed at this checkout);
- both nginx configs pass `nginx -t` and differ only in their upstream block;
- every variable of the example environment file is a setting somebody reads.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from mini_crm.cli import app as cli_app
from mini_crm.settings import PROJECT_ROOT, Settings

DEPLOY = PROJECT_ROOT / "deploy"
COMMANDS = {"migrate", "serve", "worker"}


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


def test_compose_services_and_references() -> None:
    doc = compose()
    services = doc["services"]
    assert set(services) == {"postgres", "redis", "migrate", "app1", "app2", "worker", "nginx"}
    roles = {name: s["command"][1] for name, s in services.items()
             if s.get("command", [""])[0] == "mini-crm"}
    assert roles == {"migrate": "migrate", "app1": "serve", "app2": "serve", "worker": "worker"}
    for name, service in services.items():
        for needed in service.get("depends_on", {}):
            assert needed in services, f"{name} depends on unknown {needed}"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), f"{name} mounts missing {source}"
            else:
                assert source in doc["volumes"], f"{name} uses undeclared volume {source}"
        if "build" in service:
            assert (DEPLOY / service["build"]["context"] / service["build"]["dockerfile"]
                    ).exists()
            env = service["environment"]
            # Several app instances share tab state only through Reflex's Redis manager.
            assert env["REFLEX_REDIS_URL"].startswith("redis://redis:")
            assert env["REDIS_URL"].startswith("redis://redis:")
    assert "--appendonly" in services["redis"]["command"]


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_role_command_exists(command: str) -> None:
    result = CliRunner().invoke(cli_app, [command, "--help"])
    assert result.exit_code == 0, result.output


def test_dockerfile_copies_existing_files() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    sources = [src for line in text.splitlines() if line.startswith("COPY")
               for src in line.split()[1:-1] if not src.startswith("--")]
    assert sources
    for src in sources:
        assert (PROJECT_ROOT / src).exists(), f"Dockerfile copies missing {src}"
    assert 'CMD ["mini-crm", "serve"' in text


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_systemd_units_verify(tmp_path: Path) -> None:
    units = sorted((DEPLOY / "systemd").glob("*.service"))
    assert {u.name for u in units} == {"mini-crm-app@.service", "mini-crm-worker.service",
                                       "mini-crm-migrate.service"}
    for unit in units:
        text = (unit.read_text().replace("/opt/mini-crm", str(PROJECT_ROOT))
                .replace("/etc/mini-crm/mini-crm.env", str(DEPLOY / "mini-crm.env.example"))
                .replace("User=mini-crm", "User=root"))
        commands = re.findall(r"^ExecStart=\S+/mini-crm (\w+)", text, re.M)
        assert commands and set(commands) <= COMMANDS
        name = unit.name.replace("@.", "@3001.")
        (tmp_path / name).write_text(text)
    result = subprocess.run(["systemd-analyze", "verify", *sorted(p.name for p in
                                                                 tmp_path.iterdir())],
                            cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def _without_upstream(text: str) -> str:
    body = text[text.index("map $http_upgrade"):]
    return re.sub(r"upstream mini_crm_app \{.*?\}", "", body, flags=re.S)


def test_nginx_configs_differ_only_in_upstream() -> None:
    host = (DEPLOY / "nginx" / "mini-crm.conf").read_text()
    compose_conf = (DEPLOY / "nginx" / "compose.conf").read_text()
    assert _without_upstream(host) == _without_upstream(compose_conf)
    assert "ip_hash" not in re.sub(r"#.*", "", host)  # no sticky sessions
    assert "location /_event" in host and "proxy_set_header Upgrade $http_upgrade" in host


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")
@pytest.mark.parametrize("name", ["mini-crm.conf", "compose.conf"])
def test_nginx_config_is_valid(name: str, tmp_path: Path) -> None:
    conf = (DEPLOY / "nginx" / name).read_text()
    # Names only docker resolves, and a port nobody needs to own for a syntax check.
    conf = re.sub(r"server app\d:3000", "server 127.0.0.1:3000", conf)
    conf = conf.replace("listen 80;", "listen 127.0.0.1:1;")
    (tmp_path / "site.conf").write_text(conf)
    temp = " ".join(f"{k} {tmp_path};" for k in (
        "client_body_temp_path", "proxy_temp_path", "fastcgi_temp_path", "uwsgi_temp_path",
        "scgi_temp_path"))
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log; events {{}}\n"
        f"http {{ access_log off; {temp} include {tmp_path}/site.conf; }}\n")
    result = subprocess.run(["nginx", "-t", "-q", "-p", str(tmp_path), "-c",
                             str(tmp_path / "nginx.conf")],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr


def test_example_environment_names_real_settings() -> None:
    fields = {name.upper() for name in Settings.model_fields}
    outside = {"REFLEX_REDIS_URL", "REFLEX_USE_SYSTEM_BUN", "REFLEX_TELEMETRY_ENABLED",
               "REFLEX_CHECK_LATEST_VERSION", "REFLEX_HTTP_CLIENT_BIND_ADDRESS"}
    names = {line.split("=", 1)[0] for line in
             (DEPLOY / "mini-crm.env.example").read_text().splitlines()
             if line and not line.startswith("#")}
    assert names and names - outside <= fields, names - outside - fields


def test_every_location_inherits_the_proxy_headers() -> None:
    """nginx drops every inherited proxy_set_header in a location that sets one of its
    own: the app would then see the upstream's name as Host (and build its sign-in
    callback URL from it) and lose X-Forwarded-* and X-Request-ID. So none may."""
    for name in ("mini-crm.conf", "compose.conf"):
        conf = re.sub(r"#.*", "", (DEPLOY / "nginx" / name).read_text())
        for body in re.findall(r"location[^{]*\{([^}]*)\}", conf):
            assert "proxy_set_header" not in body, (name, body)
        assert "proxy_set_header Host $http_host;" in conf
