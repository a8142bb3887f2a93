"""`lastmeter demo`: seed the demo community, serve it, and start one enrolled field agent."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click

from ..auth import data as auth_data
from ..db import open_db
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


def print_logins(url: str) -> None:
    click.echo("\nDemo sign-ins (demo passwords, for this demo only):")
    for username, _display, role, keys, password in seed_mod.USERS:
        scope = "all compounds" if keys == ("*",) else ", ".join(keys)
        click.echo(f"  {username:<18} {password:<20} {role:<16} {scope}")
    click.echo(f"\nServer: {url}/  (sign in as secretary / demo-secretary)")


def run(data_dir: Path, serve: bool, host: str, port: int, agent_port: int) -> None:
    server_dir, agent_dir = data_dir / "server", data_dir / "agent"
    written = seed_mod.seed(server_dir)
    click.echo(
        f"Seeded {server_dir}: {written['households_total']} households, "
        f"{written['residents_total']} residents "
        f"(this run wrote {written['households']} households, {written['residents']} residents)"
    )
    url = f"http://{host}:{port}"
    print_logins(url)
    if not serve:
        return
    import waitress

    from .. import create_app

    app = create_app({"DATA_DIR": str(server_dir)})
    server = waitress.create_server(app, host=host, port=port, threads=8, ident="lastmeter")
    agent = None
    if agent_available():
        enrol_agent(server_dir, agent_dir, url)
        agent = subprocess.Popen(
            lastmeter("agent", "run", "--data", str(agent_dir), "--port", str(agent_port))
        )
        click.echo(f"Field agent: http://127.0.0.1:{agent_port}/  (device of {AGENT_USER})")
    else:
        click.echo("Field agent: not available yet (field_agent has no create_app).")
    click.echo("Ctrl-C stops both.")
    sys.stdout.flush()
    try:
        server.run()
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
        app.extensions["replica"].close()
        click.echo("\nstopped")
