"""A small demo of the engine, printed as a table (grows into the real demo later)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from sync import Replica


def sync_pair(a: Replica, b: Replica) -> None:
    for src, dst in ((a, b), (b, a)):
        sent = src.cursor(dst.site_id)["sent"]
        batch = src.changes_since(sent, exclude_site=dst.site_id)
        dst.apply(batch)
        src.set_cursor(dst.site_id, sent=batch.next)


def run() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        names = ["server", "laptop-1", "laptop-2"]
        reps = {n: Replica(Path(tmp) / f"{n}.db") for n in names}
        srv, one, two = reps.values()
        srv.write("households", "hh-1", {"compound_id": "linjiang", "building": "3", "unit": "301"})
        srv.write(
            "deliveries",
            "dl-1",
            {"compound_id": "linjiang", "household_id": "hh-1", "status": "planned"},
        )
        sync_pair(srv, one)
        sync_pair(srv, two)
        click.echo("Offline: laptop-1 marks the delivery 'out', laptop-2 marks it 'delivered';")
        click.echo("both edit the household's owner name at the same time.\n")
        one.write("deliveries", "dl-1", {"status": "out", "volunteer": "Wang"})
        two.write("deliveries", "dl-1", {"status": "delivered", "volunteer": "Li"})
        one.write("households", "hh-1", {"owner_name": "Zhang San"})
        two.write("households", "hh-1", {"owner_name": "Zhang Shan"})
        for pair in ((one, srv), (two, srv), (one, srv)):
            sync_pair(*pair)
        click.echo(f"{'replica':<10} {'status':<10} {'volunteer':<10} {'owner':<12} conflicts")
        for name, rep in reps.items():
            d = rep.get("deliveries", "dl-1") or {}
            h = rep.get("households", "hh-1") or {}
            click.echo(
                f"{name:<10} {d.get('status')!s:<10} {d.get('volunteer')!s:<10} "
                f"{h.get('owner_name')!s:<12} {len(rep.conflicts())}"
            )
        same = len({str(r.get("deliveries", "dl-1")) for r in reps.values()}) == 1
        click.echo("\nconverged" if same else "\nNOT converged")
        for rep in reps.values():
            rep.close()
