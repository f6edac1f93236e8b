"""The `mini-crm` command line.

Each command imports what only it needs (the database layer, Alembic, the launcher, the
simulator's FastAPI app) inside its function: importing them all at module level made
every command, `--help` and `apikey create` included, start several times slower (the
measurement is in tests/unit/test_function_imports.py). Only the CLI's own plumbing
(settings, logs, the metrics directory) is imported here.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from mini_crm.observability import logs, procdir
from mini_crm.settings import get_settings

app = typer.Typer(help="Mini CRM: campaign marketing CRM.", no_args_is_help=True,
                  add_completion=False)
apikey_app = typer.Typer(help="Manage API keys.", no_args_is_help=True)
app.add_typer(apikey_app, name="apikey")


@app.command()
def migrate() -> None:
    """Apply pending database migrations (safe to run any number of times)."""
    from mini_crm import migrations

    migrations.upgrade()
    typer.echo(f"database is up to date ({_safe_url(get_settings().database_url)})")


@app.command()
def seed(
    customers: Annotated[int, typer.Option(min=1, help="How many customers to create")] = 2000,
    random_seed: Annotated[int, typer.Option("--seed", help="Random seed")] = 7,
    if_empty: Annotated[bool, typer.Option(help="Only seed an empty database")] = False,
) -> None:
    """Fill the database with realistic demo customers and orders."""
    from mini_crm.db import session_scope
    from mini_crm.demo import seed as seeding

    with session_scope() as session:
        if if_empty and not seeding.is_empty(session):
            typer.echo("database already has customers; not seeding")
            return
    summary = seeding.seed(customers=customers, random_seed=random_seed,
                           progress=lambda msg: typer.echo(msg))
    typer.echo(summary)


@app.command()
def worker(
    processes: Annotated[int | None, typer.Option(help="RQ worker processes")] = None,
    burst: Annotated[bool, typer.Option(help="Exit when the queues are empty")] = False,
) -> None:
    """Run RQ worker processes and the periodic sweepers (needs Redis).

    One command per worker host: the sweepers run on one host at a time (a leader lease
    in Redis), and with METRICS_PORT the host serves /metrics on that internal port.
    """
    # Before anything imports prometheus_client: the workers share one metrics directory.
    metrics_dir = procdir.prepare("worker")
    try:
        # imported here, after procdir.prepare: it imports prometheus_client, which reads
        # the metrics directory once, at import
        from workers import launcher as worker_launcher

        logs.configure("worker")
        worker_launcher.run(processes, burst=burst)
    finally:
        procdir.cleanup(*metrics_dir)


@app.command()
def serve(
    port: Annotated[int | None, typer.Option(help="Port for UI, websocket and API")] = None,
) -> None:
    """One app instance for production: UI, websocket, REST API and /metrics on one port.

    Nothing else: run `mini-crm migrate` before (once per release) and `mini-crm worker`
    on the worker hosts. Several instances behind a proxy need REFLEX_REDIS_URL (Reflex's
    Redis state manager); see docs/deploy.md.
    """
    from mini_crm import launcher

    launcher.settings_or_exit()  # before procdir reads them: a refusal, not a traceback
    metrics_dir = procdir.prepare("app")
    try:
        launcher.serve(port)
    finally:
        procdir.cleanup(*metrics_dir)


@app.command()
def run(
    port: Annotated[int | None, typer.Option(help="Port for UI, websocket and API")] = None,
    seed_customers: Annotated[int, typer.Option(help="Demo customers if the DB is empty")] = 2000,
    prebuilt_frontend: Annotated[bool, typer.Option(
        hidden=True, help="Serve the frontend already built in .web for this port (the "
        "browser tests, when the sources have not changed)")] = False,
) -> None:
    """Migrate, seed an empty database, start workers and the app (what `make run` calls)."""
    from mini_crm import launcher

    launcher.settings_or_exit()  # before procdir reads them: a refusal, not a traceback
    # The workers started here and the app each get their own metrics directory.
    worker_dir = procdir.prepare("worker")
    app_dir = procdir.make_dir("app")
    stopped = False
    try:
        stopped = launcher.run(port=port, seed_customers=seed_customers,
                               metrics_dir=str(app_dir),
                               prebuilt_frontend=prebuilt_frontend) is True
    finally:
        procdir.cleanup(*worker_dir)
        procdir.cleanup(app_dir, True)
    if stopped:
        launcher.exit_now()  # every child stopped and cleaned up: see exit_now


# `vendor` was the command's first name: kept (hidden) so existing scripts and unit files
# that run `mini-crm vendor` keep working.
@app.command("vendor", hidden=True)
@app.command()
def simulator(
    port: Annotated[int, typer.Option(help="Port for the vendor simulator")] = 3200,
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
) -> None:
    """Run the bundled vendor simulator alone (point VENDOR_URL at http://HOST:PORT)."""
    import uvicorn

    from mini_crm.simulator import create_app

    logs.configure("vendor")
    typer.echo(f"vendor simulator at http://{host}:{port}/v1/messages (stats: /v1/stats)")
    uvicorn.run(create_app(), host=host, port=port, log_level="warning")


@apikey_app.command("create")
def apikey_create(
    name: Annotated[str, typer.Option(help="What the key is for, e.g. 'shop backend'")],
    scopes: Annotated[str, typer.Option(help="Comma-separated: ingest,campaigns,ai,read")] = "read",
) -> None:
    """Create an API key; the key is printed once, on the last line."""
    from mini_crm.core import apikeys
    from mini_crm.core.auth.audit import Actor
    from mini_crm.db import session_scope

    try:
        parsed = apikeys.parse_scopes(scopes)
        with session_scope() as session:
            key = apikeys.create_key(session, name, parsed, actor=Actor(label="cli"))
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    typer.echo(f"created API key #{key.id} '{key.name}' with scopes {','.join(key.scopes)}")
    typer.echo("store it now: it is shown only this once")
    typer.echo(key.secret)


@apikey_app.command("list")
def apikey_list(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array (UTC ISO-8601 "
                                          "times) instead of the table")] = False,
) -> None:
    """List API keys, newest first: id, name, prefix, scopes, created, last used and
    status. The key itself is never shown (only its hash is stored)."""
    from mini_crm.core import apikeys, formatting
    from mini_crm.core.brand_time import utc_text
    from mini_crm.db import session_scope

    with session_scope() as session:
        keys = apikeys.list_keys(session)
        if as_json:
            typer.echo(json.dumps([{
                "id": k.id, "name": k.name, "prefix": k.prefix, "scopes": list(k.scopes),
                "created_at": utc_text(k.created_at), "last_used_at": utc_text(k.last_used_at),
                "revoked_at": utc_text(k.revoked_at)} for k in keys], ensure_ascii=False))
            return
        if not keys:
            typer.echo("no API keys yet; create one with: mini-crm apikey create --name NAME")
            return
        rows = [("ID", "NAME", "PREFIX", "SCOPES", "CREATED", "LAST USED", "STATUS")]
        rows += [(str(k.id), k.name, k.prefix + "…", ",".join(k.scopes),
                  formatting.date_time(k.created_at),
                  formatting.date_time(k.last_used_at) if k.last_used_at else "never",
                  f"revoked {formatting.date_time(k.revoked_at)}" if k.revoked_at
                  else "active") for k in keys]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        typer.echo("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())
    typer.echo(f"(times in {formatting.brand_zone().key}; the keys themselves are never "
               "shown)")


@apikey_app.command("revoke")
def apikey_revoke(
    key_id: Annotated[int, typer.Argument(help="The key's id, as `apikey list` shows it")],
) -> None:
    """Revoke an API key at once (recorded on the audit trail, by "cli"). Requests with
    it are refused from then on; revoking a revoked key changes nothing."""
    from mini_crm.core import apikeys, formatting
    from mini_crm.core.auth.audit import Actor
    from mini_crm.db import session_scope
    from mini_crm.models import ApiKey

    with session_scope() as session:
        key = session.get(ApiKey, key_id)
        if key is None:
            typer.echo(f"no API key #{key_id}; see mini-crm apikey list", err=True)
            raise typer.Exit(1)
        name = key.name
        if key.revoked_at is not None:
            typer.echo(f"API key #{key_id} '{name}' was already revoked "
                       f"({formatting.date_time(key.revoked_at)}); nothing changed")
            return
        apikeys.revoke_key(session, key_id, actor=Actor(label="cli"))
    typer.echo(f"revoked API key #{key_id} '{name}': requests with it are refused from now on")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


if __name__ == "__main__":
    app()
