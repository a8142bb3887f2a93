"""`lastmeter agent ...`: enrol a laptop, sync it, show what waits or was refused."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import settings

DATA = click.option(
    "--data",
    "data_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="this laptop's data directory (lastmeter.db, blobs/, config.toml)",
)


@click.group()
def agent() -> None:
    """Run and manage a volunteer laptop's field agent."""


@agent.command("init")
@DATA
@click.option("--server", "server_url", required=True, help="the community server's URL")
@click.option("--token", required=True, help="the device token the server issued")
def agent_init(data_dir: Path, server_url: str, token: str) -> None:
    """Enrol this laptop: store the server URL and token, create the replica."""
    from sync import Replica

    settings.save(data_dir, server_url=server_url.rstrip("/"), token=token)
    replica = Replica(settings.db_path(data_dir))
    click.echo(f"agent ready in {data_dir} (site {replica.site_id})")
    replica.close()


@agent.command("sync")
@DATA
def agent_sync(data_dir: Path) -> None:
    """One full push and pull; exit 0 only when everything was exchanged."""
    from sync.http_client import SyncError

    from .syncer import run_sync, waiting_cells

    tty = sys.stderr.isatty()
    to_push = waiting_cells(data_dir) if tty and settings.load(data_dir).get("token") else 0

    def progress(phase: str, done: int, total: int) -> None:
        if not tty:
            return
        total = total or (to_push if phase == "push" else 0)
        if total:
            filled = 30 * min(done, total) // total
            bar = "#" * filled + "-" * (30 - filled)
            click.echo(
                f"\r{phase} [{bar}] {min(done, total):,}/{total:,} cells", nl=False, err=True
            )
        else:
            click.echo(f"\r{phase}: {done:,} cells", nl=False, err=True)

    try:
        report = run_sync(data_dir, progress=progress)
    except SyncError as exc:
        if tty:
            click.echo("", err=True)
        raise click.ClickException(str(exc)) from None
    if tty:
        click.echo("", err=True)
    click.echo(
        f"pushed {report.pushed_cells:,} cells, pulled {report.pulled_cells:,} cells, "
        f"{report.rejected} rejected, {report.requests} requests, "
        f"clock offset {report.clock_offset_ms} ms"
    )
    if report.rejected:
        click.echo("some cells were rejected: see `lastmeter agent status`", err=True)
        sys.exit(3)


@agent.command("status")
@DATA
def agent_status(data_dir: Path) -> None:
    """What waits to be sent, and the cells the server rejected with its reasons."""
    from sync.http_client import outbox

    from .syncer import waiting_cells

    conf = settings.load(data_dir)
    click.echo(f"server: {conf.get('server_url')}")
    click.echo(f"last sync: {conf.get('last_sync_at', 'never')}")
    click.echo(f"cells waiting: {waiting_cells(data_dir)}")
    rejected = outbox(str(settings.db_path(data_dir)))
    click.echo(f"rejected cells: {len(rejected)}")
    # One line per refused row and reason, its cells listed (a row is often refused whole).
    rows: dict[tuple, list[dict]] = {}
    for item in rejected:
        rows.setdefault((item["tbl"], item["row_id"], item["reason"], item["message"]), []).append(
            item
        )
    for (table, row_id, reason, message), items in rows.items():
        values = ", ".join(f"{i['col']}={i['value']!r}" for i in items)
        click.echo(f"  #{items[0]['id']} {table} {row_id}: {reason}: {message} ({values})")


@agent.command("run")
@DATA
@click.option("--port", default=8001, show_default=True, type=int)
@click.option("--threads", default=4, show_default=True, type=int)
def agent_run(data_dir: Path, port: int, threads: int) -> None:
    """Serve the agent on 127.0.0.1 only (this laptop), with background sync."""
    import waitress

    from . import close_app, create_app, start_background_sync

    app = create_app({"DATA_DIR": str(data_dir)})
    # Never another interface: health records and PINs stay on this laptop.
    # --port 0 picks a free port; the line below says which.
    httpd = waitress.create_server(
        app, host="127.0.0.1", port=port, threads=threads, ident="lastmeter-agent"
    )
    click.echo(
        f"Last Meter field agent on http://127.0.0.1:{httpd.effective_port}/ (data: {data_dir})"
    )
    sys.stdout.flush()
    start_background_sync(app)
    try:
        httpd.run()
    finally:
        close_app(app)
