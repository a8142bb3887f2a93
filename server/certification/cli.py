"""`lastmeter server aggregate`: the nightly figures of each compound, sent upstream."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from . import daily


@click.command("aggregate")
@click.option(
    "--data",
    "data_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="the community server's data directory",
)
@click.option(
    "--date",
    "on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="the last day to compute (default: today in the server's time zone)",
)
@click.option(
    "--days",
    default=daily.RECOMPUTE_DAYS,
    show_default=True,
    type=click.IntRange(1, 366),
    help="recompute this many days up to --date, folding in records that arrived late",
)
@click.option("--upstream", help="URL of the street, district or city server to send to")
@click.option(
    "--token",
    envvar="LASTMETER_UPSTREAM_TOKEN",
    help="this server's device token on the upstream server (or LASTMETER_UPSTREAM_TOKEN)",
)
def aggregate(
    data_dir: Path, on: dt.datetime | None, days: int, upstream: str | None, token: str | None
) -> None:
    """Compute the day's aggregate rows per compound (DIR/upstream.db) and send them up.

    Running it twice for the same day changes nothing; only changed figures are sent."""
    from .. import create_app
    from ..db import get_db
    from . import service

    if not (data_dir / "lastmeter.db").exists():
        raise click.ClickException(f"no server here; run `lastmeter server init --data {data_dir}`")
    if upstream and not token:
        raise click.ClickException("--upstream needs --token (or LASTMETER_UPSTREAM_TOKEN)")
    app = create_app({"DATA_DIR": str(data_dir)})
    try:
        with app.app_context():
            last = on.date() if on else service.today()
            up = daily.open_upstream(data_dir)
            try:
                stats = daily.aggregate(get_db(), up, last, service.version(), service.cal(), days)
                first = last - dt.timedelta(days=days - 1)
                rows, changed = stats["rows"], stats["changed"]
                click.echo(f"{first}..{last}: {rows} compound-day rows, {changed} changed")
                if upstream:
                    try:
                        report = daily.push(up, upstream, token or "")
                    except Exception as exc:  # SyncError and network errors alike
                        raise click.ClickException(f"upstream: {exc}") from exc
                    click.echo(
                        f"sent {report.pushed_cells} cells to {upstream}, "
                        f"{report.rejected} rejected"
                    )
            finally:
                up.close()
    finally:
        app.extensions["replica"].close()
