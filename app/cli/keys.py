"""`flask keys rotate` and `flask keys generate`."""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

cli = AppGroup("keys", help="Field-encryption keys (FIELD_ENCRYPTION_KEY).")


@cli.command("generate")
def keys_generate() -> None:
    """Print a new Fernet key, to put first in FIELD_ENCRYPTION_KEY."""
    from cryptography.fernet import Fernet

    click.echo(Fernet.generate_key().decode())


@cli.command("rotate")
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 10000))
def keys_rotate(batch_size: int) -> None:
    """Re-encrypt every member's email and phone, and the stored idempotent
    responses, under the newest key (the first of FIELD_ENCRYPTION_KEY), and
    recompute the email and phone lookup hashes."""
    from app.services import pii_keys

    interactive = sys.stderr.isatty()

    def progress(report: pii_keys.RotationReport) -> None:
        if interactive:
            click.echo(f"\r  {report.members} members, {report.reencrypted} re-encrypted...",
                       nl=False, err=True)

    report = pii_keys.rotate_all(batch_size=batch_size, progress=progress)
    if interactive and report.members:
        click.echo("", err=True)
    click.echo(f"re-encrypted {report.reencrypted} of {report.members} members"
               + (f"; {report.changed_meanwhile} changed meanwhile (already current)"
                  if report.changed_meanwhile else "")
               + (f"; {report.responses} stored responses encrypted under the newest key"
                  if report.responses else ""))
    if report.unreadable:
        raise click.ClickException(
            f"{report.unreadable} members have fields no configured key can read: "
            "add the key they were written with to FIELD_ENCRYPTION_KEY and run again")
    if report.unreadable_responses:
        raise click.ClickException(
            f"{report.unreadable_responses} stored idempotent responses are under a key no "
            "longer configured: add it back to FIELD_ENCRYPTION_KEY and run again")
