"""The `lastmeter` command: server, agent and demo subcommands."""

from __future__ import annotations

import click


@click.group()
def main() -> None:
    """Last Meter: offline-first field data and sync for community epidemic defence."""


@main.group()
def server() -> None:
    """Run and manage a community (or street/district/city) server."""


@main.group()
def agent() -> None:
    """Run and manage a volunteer laptop's field agent."""


@main.command()
def demo() -> None:
    """Show the sync engine: three replicas edit offline, sync, and converge."""
    from .engine_demo import run

    run()
