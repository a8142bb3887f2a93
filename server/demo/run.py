"""`lastmeter demo`: seed the demo community, serve it, and start one enrolled field agent."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import click

from ..auth import data as auth_data
from ..db import open_db
from . import agent as agent_mod
from . import seed as seed_mod

AGENT_USER = "vol-linjiang"
AGENT_DEVICE = "演示代理 demo agent"
FIELD_AGENT_INIT = Path(__file__).resolve().parents[2] / "field_agent" / "__init__.py"


def agent_available() -> bool:
    """The field agent is being written alongside; use it only once it has an app."""
    try:
        return "def create_app" in FIELD_AGENT_INIT.read_text(encoding="utf-8")
    except OSError:
        return False


def lastmeter(*args: str) -> list[str]:
    return [sys.executable, "-c", "from server.cli import main; main()", *args]


def enrol_agent(server_dir: Path, agent_dir: Path, server_url: str) -> None:
    """Issue a device token for the demo agent (once) and enrol the agent with it."""
    if (agent_dir / "config.toml").exists() and (agent_dir / "lastmeter.db").exists():
        return
    db = open_db(server_dir / "lastmeter.db")
    try:
        user = auth_data.get_user_by_name(db, AGENT_USER)
        _, token = auth_data.issue_device(db, user.id, AGENT_DEVICE)
    finally:
        db.close()
    subprocess.run(
        lastmeter(
            "agent", "init", "--data", str(agent_dir), "--server", server_url, "--token", token
        ),
        check=True,
        stdout=subprocess.DEVNULL,
    )


def print_logins(url: str, agent_url: str | None = None) -> None:
    click.echo("\nDemo sign-ins (demo passwords, for this demo only):")
    for username, _display, role, keys, password in seed_mod.USERS:
        scope = "all compounds" if keys == ("*",) else ", ".join(keys)
        click.echo(f"  {username:<18} {password:<20} {role:<16} {scope}")
    click.echo(f"\nServer: {url}/  (sign in as secretary / demo-secretary)")
    if agent_url:
        click.echo(
            f"Field agent: {agent_url}/  (sign in as {agent_mod.VOLUNTEER}, PIN {agent_mod.PIN}; "
            f"device of {AGENT_USER})"
        )


def print_seeded(server_dir: Path, written: dict, seconds: float) -> None:
    click.echo(
        f"Seeded {server_dir}: {written['households_total']} households, "
        f"{written['residents_total']} residents "
        f"(this run wrote {written['households']} households, {written['residents']} residents)"
    )
    field = ("temperature_checks", "disinfection_logs", "deliveries", "medicine_requests")
    click.echo(
        f"Field records to {written['today']} (Asia/Shanghai): this run wrote "
        + ", ".join(f"{written[k]} {k.replace('_', ' ')}" for k in field)
        + f", {written['online_ballots']} online ballots; {seconds:.1f} s"
    )


def run(data_dir: Path, serve: bool, host: str, port: int, agent_port: int) -> None:
    server_dir, agent_dir = data_dir / "server", data_dir / "agent"
    started = time.monotonic()
    written = seed_mod.seed(server_dir)
    print_seeded(server_dir, written, time.monotonic() - started)
    url = f"http://{host}:{port}"
    with_agent = serve and agent_available()
    print_logins(url, f"http://127.0.0.1:{agent_port}" if with_agent else None)
    if not serve:
        return
    import waitress

    from .. import create_app

    app = create_app({"DATA_DIR": str(server_dir)})
    server = waitress.create_server(app, host=host, port=port, threads=8, ident="lastmeter")
    # The server answers from a thread, so the agent's first sync can reach it before the
    # agent starts; this thread waits for Ctrl-C.
    serving = threading.Thread(target=server.run, name="demo-server", daemon=True)
    serving.start()
    agent = None
    try:
        if with_agent:
            enrol_agent(server_dir, agent_dir, url)
            agent_mod.ensure_volunteer(agent_dir)
            click.echo(f"Field agent {agent_mod.first_sync(agent_dir)}")
            agent = subprocess.Popen(
                lastmeter("agent", "run", "--data", str(agent_dir), "--port", str(agent_port))
            )
        else:
            click.echo("Field agent: not available yet (field_agent has no create_app).")
        click.echo("Ctrl-C stops both.")
        sys.stdout.flush()
        while serving.is_alive():
            serving.join(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        if agent is not None:
            agent.terminate()
            try:
                agent.wait(timeout=10)
            except subprocess.TimeoutExpired:
                agent.kill()
        serving.join(5)
        app.extensions["replica"].close()
        click.echo("\nstopped")
