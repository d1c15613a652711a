"""`flask maintenance on --until ISO [--message TEXT]` / `off` / `status`."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from app.cli import CLI_ACTOR, friendly

cli = AppGroup("maintenance", help="The maintenance window (the API answers 503 while it is on).")


@cli.command("on")
@click.option("--until", required=True, help="End of the window, ISO 8601 (UTC unless an offset "
                                             "is given), e.g. 2025-09-25T18:00:00Z.")
@click.option("--message", default=None, help="Shown on the maintenance page and in the API error.")
@friendly
def maintenance_on(until: str, message: str | None) -> None:
    """Start (or extend) a maintenance window; it ends by itself at --until."""
    from app.services import maintenance

    window = maintenance.turn_on(CLI_ACTOR, until=until, message=message)
    click.echo(f"maintenance on from {window.start.isoformat()} until {window.end.isoformat()} "
               f"({window.estimated_downtime})")


@cli.command("off")
@friendly
def maintenance_off() -> None:
    """End the maintenance window now."""
    from app.services import maintenance

    click.echo("maintenance off" if maintenance.turn_off(CLI_ACTOR) else "maintenance was not on")


@cli.command("status")
def maintenance_status() -> None:
    """Show the window, if one is on."""
    from app.services import maintenance

    window = maintenance.current()
    if window is None:
        click.echo("maintenance off")
    else:
        click.echo(f"maintenance on until {window.end.isoformat()}"
                   + (f": {window.message}" if window.message else ""))
