"""`flask idempotency purge`: forget idempotency keys past their 24 hours."""
from __future__ import annotations

from datetime import timedelta

import click
from flask.cli import AppGroup

idempotency_cli = AppGroup("idempotency", help="Idempotency keys of the API.")


@idempotency_cli.command("purge")
@click.option("--hours", type=click.IntRange(24, 24 * 365), default=24, show_default=True,
              help="Remove keys older than this (never fewer than the 24 hours keys are kept).")
def purge(hours: int) -> None:
    """Remove idempotency keys older than --hours (a repeat after that is a new request)."""
    from app.services import idempotency

    removed = idempotency.purge(timedelta(hours=hours))
    click.echo(f"removed {removed} idempotency keys older than {hours} hours")
