"""The `lastmeter` command: server, agent and demo subcommands.

This module is the composition root: the only place that imports both apps.
"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

import click

from field_agent.cli import agent

from .certification.cli import aggregate
from .permissions import ROLES

DATA = click.option(
    "--data",
    "data_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="the server's data directory (lastmeter.db, blobs/, config.toml)",
)


@click.group()
def main() -> None:
    """Last Meter: offline-first field data and sync for community epidemic defence."""


@main.group()
def server() -> None:
    """Run and manage a community (or street/district/city) server."""


server.add_command(aggregate)


main.add_command(agent)


def _app(data_dir: Path):
    from . import create_app

    return create_app({"DATA_DIR": str(data_dir)})


@server.command("init")
@DATA
@click.option("--name", help="the community's name, shown on every page")
@click.option(
    "--level",
    type=click.Choice(["community", "street", "district", "city"]),
    help="what this server holds",
)
def server_init(data_dir: Path, name: str | None, level: str | None) -> None:
    """Create the data directory, its database and config."""
    from .config import init_data_dir

    init_data_dir(data_dir, name=name, level=level)
    app = _app(data_dir)
    app.extensions["replica"].close()
    click.echo(f"server data directory ready: {data_dir}")


@server.command("add-device")
@DATA
@click.option("--user", "username", required=True, help="who carries the device")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--compound", "compounds", multiple=True, required=True, help="compound id (repeat)")
@click.option("--name", "device_name", default="laptop", show_default=True)
def add_device(
    data_dir: Path, username: str, role: str, compounds: tuple[str, ...], device_name: str
) -> None:
    """Issue a device token (printed once; only its hash is stored)."""
    from .auth import data as auth_data
    from .db import get_db

    if not (data_dir / "lastmeter.db").exists():
        raise click.ClickException(f"no server here; run `lastmeter server init --data {data_dir}`")
    app = _app(data_dir)
    with app.app_context():
        db = get_db()
        user = auth_data.get_user_by_name(db, username)
        if user is None:
            password = secrets.token_urlsafe(9)
            user = auth_data.create_user(db, username, password, role, list(compounds))
            click.echo(f"created user {username} ({role}); password: {password}", err=True)
        elif user.role != role:
            raise click.ClickException(f"{username} is a {user.role}, not a {role}")
        else:
            auth_data.set_compounds(db, user.id, [*user.compounds, *compounds])
        device_id, token = auth_data.issue_device(db, user.id, device_name)
    app.extensions["replica"].close()
    click.echo(f"device {device_id} for {username}; the token is shown only now:", err=True)
    click.echo(token)


@server.command("revoke-device")
@DATA
@click.argument("device_id", type=int)
def revoke_device(data_dir: Path, device_id: int) -> None:
    """Revoke a device token (a lost laptop)."""
    from .auth import data as auth_data
    from .db import get_db

    app = _app(data_dir)
    with app.app_context():
        if not auth_data.revoke_device(get_db(), device_id):
            raise click.ClickException(f"no active device {device_id}")
    click.echo(f"device {device_id} revoked")


@server.command("run")
@DATA
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
@click.option(
    "--trusted-proxy",
    help="the reverse proxy's address: trust its X-Forwarded-For and X-Forwarded-Proto",
)
def server_run(
    data_dir: Path, host: str, port: int, threads: int, trusted_proxy: str | None
) -> None:
    """Serve the server with waitress."""
    import waitress

    if not (data_dir / "lastmeter.db").exists():
        raise click.ClickException(f"no server here; run `lastmeter server init --data {data_dir}`")
    app = _app(data_dir)
    # --port 0 picks a free port; the line below says which (tests and benchmarks read it).
    proxy = {}
    if trusted_proxy:  # client addresses (sign-in and token limits) and https come from it
        proxy = {
            "trusted_proxy": trusted_proxy,
            "trusted_proxy_headers": {"x-forwarded-for", "x-forwarded-proto"},
            "clear_untrusted_proxy_headers": True,
        }
    httpd = waitress.create_server(
        app, host=host, port=port, threads=threads, ident="lastmeter", **proxy
    )
    click.echo(f"Last Meter server on http://{host}:{httpd.effective_port}/ (data: {data_dir})")
    sys.stdout.flush()
    httpd.run()


@main.command()
@click.option(
    "--data",
    "data_dir",
    default="demo-data",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="where the demo keeps server/ and agent/ (re-seeded idempotently)",
)
@click.option("--no-serve", is_flag=True, help="seed only; do not start the server and agent")
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--agent-port", default=8001, show_default=True, type=int)
@click.option("--engine", is_flag=True, help="instead: show the sync engine converge in a table")
def demo(data_dir: Path, no_serve: bool, port: int, agent_port: int, engine: bool) -> None:
    """Seed a demo community (DOMAIN.md), serve it on 127.0.0.1 with one field agent."""
    if engine:
        from .engine_demo import run as run_engine

        run_engine()
        return
    from .demo.run import run

    run(data_dir, serve=not no_serve, host="127.0.0.1", port=port, agent_port=agent_port)
