"""`flask dashboard roll-up [--tenant SLUG]`: store the dashboard's closed days.

The dashboard page only reads; until a day is rolled up it is summed live from
the ledger, so the page is right either way and only faster after this runs
(daily, from cron now, from the scheduled jobs later)."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from app.cli import friendly, require_tenant

cli = AppGroup("dashboard", help="The dashboard's stored daily sums.")


@cli.command("roll-up")
@click.option("--tenant", "slug", default=None, help="Only this tenant.")
@friendly
def roll_up(slug: str | None) -> None:
    """Sum the closed days not summed yet. Safe to run concurrently."""
    from app.services import dashboard

    days = dashboard.roll_up(require_tenant(slug).id) if slug else dashboard.roll_up_all()
    click.echo(f"rolled up {days} days")
