"""`flask backup create [--no-compress] | list | verify FILE | restore FILE [--yes] |
cleanup --days N`."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from app.cli.progress import ProgressPrinter

cli = AppGroup("backup", help="Back up and restore the database (SQLite or PostgreSQL).")


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def _errors(fn):
    import functools

    from app.services.backups import BackupError

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except BackupError as exc:
            raise click.ClickException(str(exc)) from None
    return wrapper


@cli.command("create")
@click.option("--no-compress", is_flag=True, help="Leave the file uncompressed (no gzip).")
@click.option("--progress", "show_progress", is_flag=True, help="A progress line for every step.")
@_errors
def backup_create(no_compress: bool, show_progress: bool) -> None:
    """Back up the database into BACKUP_DIR, with a manifest and checksum."""
    from app.services import backups

    printer = ProgressPrinter(force=show_progress)
    path, manifest = backups.create(compress=not no_compress, progress=printer)
    printer.done()
    click.echo(f"created {path} ({_size(manifest.size)}, {manifest.total_rows} rows, "
               f"revision {manifest.migration_revision}, sha256 {manifest.sha256[:12]}…)")


@cli.command("list")
def backup_list() -> None:
    """The backups in BACKUP_DIR, oldest first."""
    from app.services import backups

    rows = list(backups.list_backups())
    if not rows:
        click.echo(f"no backups in {backups.backup_dir()}")
        return
    for path, manifest in rows:
        if manifest is None:
            click.echo(f"{path.name}  (no manifest: incomplete, cannot be restored)")
        else:
            click.echo(f"{path.name}  {manifest.created_at}  {manifest.database_kind}  "
                       f"rev {manifest.migration_revision}  {_size(manifest.size)}  "
                       f"{manifest.total_rows} rows")


@cli.command("verify")
@click.argument("file")
@_errors
def backup_verify(file: str) -> None:
    """Check a backup's manifest, size and checksum without restoring it."""
    from app.services import backups

    manifest = backups.verify(backups.resolve(file))
    click.echo(f"{manifest.file}: ok ({manifest.total_rows} rows, revision "
               f"{manifest.migration_revision})")


@cli.command("restore")
@click.argument("file")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--progress", "show_progress", is_flag=True, help="A progress line for every step.")
@_errors
def backup_restore(file: str, yes: bool, show_progress: bool) -> None:
    """Replace ALL data in the database with a backup's. Checked first: manifest,
    checksum, database kind and migration revision."""
    from app.services import backups

    path = backups.resolve(file)
    manifest = backups.verify(path)
    backups.check_compatible(manifest)
    click.echo(f"{manifest.file}: {manifest.database_kind}, made {manifest.created_at}, "
               f"revision {manifest.migration_revision}, {manifest.total_rows} rows")
    if not yes:
        click.confirm(f"Replace all data in {backups.database_label()} with this backup?",
                      abort=True)
    printer = ProgressPrinter(force=show_progress)
    backups.restore(path, progress=printer)
    printer.done()
    click.echo(f"restored {manifest.file}")


@cli.command("cleanup")
@click.option("--days", required=True, type=click.IntRange(0), help="Delete backups older than this.")
@_errors
def backup_cleanup(days: int) -> None:
    """Delete old backups (the newest is always kept)."""
    from app.services import backups

    removed = backups.cleanup(days)
    for path in removed:
        click.echo(f"deleted {path.name}")
    click.echo(f"{len(removed)} backups deleted")
