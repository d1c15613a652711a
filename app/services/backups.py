"""Database backups (seed 001, task 3): SQLite through its online backup API,
PostgreSQL through pg_dump / pg_restore in the custom format (backup_postgresql).

Each backup is a data file (gzip unless --no-compress) beside a manifest,
`<file>.manifest.json`: database kind, migration revision, row counts of every
table, size and SHA-256 of the file. A restore checks all of that before it
touches the database, and then replaces the data in one transaction, so a
refused or failed restore leaves the database as it was."""
from __future__ import annotations

import gzip
import hashlib
import json
import secrets
import shutil
import sqlite3
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any
from collections.abc import Callable, Iterator

from flask import current_app

from app.extensions import db
from app.services import clock

FORMAT_VERSION = 1
MANIFEST_SUFFIX = ".manifest.json"
CHUNK = 1024 * 1024
Progress = Callable[[str, int, int | None], Any]  # (stage, done, total)


class BackupError(RuntimeError):
    """The backup or restore was refused or failed; the message is for the operator."""


@dataclass
class Manifest:
    file: str
    database_kind: str
    migration_revision: str | None
    row_counts: dict[str, int]
    created_at: str
    compressed: bool
    size: int = 0
    sha256: str = ""
    format_version: int = FORMAT_VERSION
    app: str = "jifen"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def total_rows(self) -> int:
        return sum(self.row_counts.values())

    @classmethod
    def load(cls, path: Path) -> Manifest:
        try:
            data = json.loads(path.read_text())
            return cls(**{k: data[k] for k in (
                "file", "database_kind", "migration_revision", "row_counts", "created_at",
                "compressed", "size", "sha256", "format_version", "app")},
                extra=data.get("extra") or {})
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise BackupError(f"{path.name}: unreadable manifest ({type(exc).__name__})") from None


# --------------------------------------------------------------------------- helpers

def backup_dir() -> Path:
    path = Path(current_app.config["BACKUP_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_kind() -> str:
    name = db.engine.dialect.name
    if name not in ("sqlite", "postgresql"):
        raise BackupError(f"backups support SQLite and PostgreSQL, not {name}")
    return name


def database_label() -> str:
    return db.engine.url.render_as_string(hide_password=True)


def code_revision() -> str | None:
    """The migration head this code expects."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", current_app.extensions["migrate"].directory)
    heads = ScriptDirectory.from_config(config).get_heads()
    return heads[0] if len(heads) == 1 else ",".join(sorted(heads))


def manifest_path(data_file: Path) -> Path:
    return data_file.with_name(data_file.name + MANIFEST_SUFFIX)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _copy_stream(source: Any, target: Any, stage: str, total: int | None,
                 progress: Progress | None) -> None:
    done = 0
    for chunk in iter(lambda: source.read(CHUNK), b""):
        target.write(chunk)
        done += len(chunk)
        if progress is not None:
            progress(stage, done, total)


def _sqlite_path() -> Path:
    database = db.engine.url.database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(database).resolve()


def _sqlite_facts(conn: sqlite3.Connection) -> tuple[str | None, dict[str, int]]:
    tables = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name")]
    counts = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
    revision = None
    if "alembic_version" in tables:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        revision = row[0] if row else None
    return revision, counts


def _postgresql() -> ModuleType:
    """The PostgreSQL side (backup_postgresql), imported when used: it takes
    BackupError, Manifest and Progress from this module."""
    from app.services import backup_postgresql

    return backup_postgresql


# --------------------------------------------------------------------------- create

def create(compress: bool = True, progress: Progress | None = None) -> tuple[Path, Manifest]:
    kind = database_kind()
    now = clock.now().astimezone(UTC)
    stem = f"jifen-{kind}-{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
    raw_name = stem + (".sqlite3" if kind == "sqlite" else ".dump")
    final = backup_dir() / (raw_name + (".gz" if compress else ""))
    with tempfile.TemporaryDirectory(dir=backup_dir(), prefix=".partial-") as tmp:
        raw = Path(tmp) / raw_name
        if kind == "sqlite":
            revision, counts = _dump_sqlite(raw, progress)
        else:
            revision, counts = _postgresql().dump(raw, progress)
        staged = Path(tmp) / final.name
        if compress:
            with raw.open("rb") as source, gzip.open(staged, "wb", compresslevel=6) as target:
                _copy_stream(source, target, "compressing", raw.stat().st_size, progress)
        else:
            raw.replace(staged)
        manifest = Manifest(file=final.name, database_kind=kind, migration_revision=revision,
                            row_counts=counts, created_at=now.isoformat(), compressed=compress,
                            size=staged.stat().st_size, sha256=sha256_of(staged))
        # The manifest lands last: a backup without one is incomplete and never restored.
        staged.replace(final)
        staged_manifest = Path(tmp) / "manifest"
        staged_manifest.write_text(json.dumps(asdict(manifest), indent=2, sort_keys=True))
        staged_manifest.replace(manifest_path(final))
    return final, manifest


def _dump_sqlite(target: Path, progress: Progress | None) -> tuple[str | None, dict[str, int]]:
    source = sqlite3.connect(_sqlite_path(), timeout=30)
    copy = sqlite3.connect(target)
    try:
        def step(_status: int, remaining: int, total: int) -> None:
            if progress is not None:
                progress("copying pages", total - remaining, total)
        # Small steps let writers in between; the copy is still one consistent snapshot
        # because the backup restarts if the source changes under it.
        source.backup(copy, pages=1024, progress=step)
        return _sqlite_facts(copy)  # counted in the copy: exactly what the file holds
    finally:
        copy.close()
        source.close()


# --------------------------------------------------------------------------- list, verify

def resolve(name: str | Path) -> Path:
    path = Path(name)
    if not path.exists() and not path.is_absolute():
        path = backup_dir() / name
    if path.name.endswith(MANIFEST_SUFFIX):
        path = path.with_name(path.name[: -len(MANIFEST_SUFFIX)])
    return path


def list_backups() -> Iterator[tuple[Path, Manifest | None]]:
    for path in sorted(backup_dir().glob("jifen-*")):
        if path.name.endswith(MANIFEST_SUFFIX) or not path.is_file():
            continue
        try:
            manifest = Manifest.load(manifest_path(path)) if manifest_path(path).exists() else None
        except BackupError:
            manifest = None
        yield path, manifest


def verify(path: Path, progress: Progress | None = None) -> Manifest:
    """Everything a restore needs to trust the file, checked without touching the database."""
    if not path.is_file():
        raise BackupError(f"{path}: no such backup file")
    if not manifest_path(path).is_file():
        raise BackupError(f"{path.name}: no manifest beside it; refusing an unverifiable backup")
    manifest = Manifest.load(manifest_path(path))
    if manifest.format_version != FORMAT_VERSION or manifest.app != "jifen":
        raise BackupError(f"{path.name}: not a Jifen backup of format {FORMAT_VERSION}")
    if manifest.file != path.name:
        raise BackupError(f"{path.name}: the manifest describes {manifest.file}")
    size = path.stat().st_size
    if size != manifest.size:
        raise BackupError(f"{path.name}: {size} bytes, the manifest says {manifest.size}: "
                          "truncated or altered")
    if progress is not None:
        progress("verifying checksum", 0, size)
    if sha256_of(path) != manifest.sha256:
        raise BackupError(f"{path.name}: checksum mismatch: the file is corrupted or altered")
    return manifest


def check_compatible(manifest: Manifest) -> None:
    kind = database_kind()
    if manifest.database_kind != kind:
        raise BackupError(f"this is a {manifest.database_kind} backup; the database is {kind}")
    expected = code_revision()
    if manifest.migration_revision != expected:
        raise BackupError(
            f"the backup is at migration revision {manifest.migration_revision}, this code "
            f"expects {expected}: restore it with the release that matches it")


# --------------------------------------------------------------------------- restore

def restore(path: Path, progress: Progress | None = None) -> Manifest:
    manifest = verify(path, progress)
    check_compatible(manifest)
    with tempfile.TemporaryDirectory(dir=backup_dir(), prefix=".restore-") as tmp:
        raw = Path(tmp) / "data"
        if manifest.compressed:
            try:
                with gzip.open(path, "rb") as source, raw.open("wb") as target:
                    _copy_stream(source, target, "decompressing", None, progress)
            except (OSError, EOFError) as exc:
                raise BackupError(f"{path.name}: not a valid gzip file ({exc})") from None
        else:
            shutil.copyfile(path, raw)
        db.session.remove()
        db.engine.dispose()  # our own pooled connections must not hold locks on the tables
        if manifest.database_kind == "sqlite":
            _restore_sqlite(raw, manifest, progress)
        else:
            _postgresql().restore(raw, manifest, progress)
    return manifest


def _check_sqlite_source(source: sqlite3.Connection, manifest: Manifest) -> None:
    """The file must be a sound SQLite database holding what its manifest says. A
    manifest can be regenerated for a damaged file, so the checksum proves nothing
    here; sqlite3 reports a damaged file as an exception, which is the same refusal."""
    try:
        if source.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupError("the backup's SQLite file fails its integrity check")
        revision, counts = _sqlite_facts(source)
    except sqlite3.Error as exc:
        raise BackupError(f"the backup's SQLite file is corrupt ({exc}); the database is "
                          "unchanged") from None
    if revision != manifest.migration_revision or counts != manifest.row_counts:
        raise BackupError("the backup's contents do not match its manifest")


def _restore_sqlite(raw: Path, manifest: Manifest, progress: Progress | None) -> None:
    source = sqlite3.connect(raw)
    try:
        _check_sqlite_source(source, manifest)
        live = sqlite3.connect(_sqlite_path(), timeout=30)
        try:
            def step(_status: int, remaining: int, total: int) -> None:
                if progress is not None:
                    progress("restoring pages", total - remaining, total)
            # All pages in one step: one write transaction on the live database,
            # so it is either the old data or the restored data, never a mix.
            try:
                source.backup(live, pages=-1, progress=step)
            except sqlite3.Error as exc:
                # One transaction on the live database: it rolled back whole.
                raise BackupError(f"restoring failed ({exc}); the database is unchanged") \
                    from None
        finally:
            live.close()
    finally:
        source.close()


# --------------------------------------------------------------------------- cleanup

def cleanup(days: int, now: datetime | None = None) -> list[Path]:
    """Delete backups older than `days`, always keeping the newest one, so a job
    that stopped making backups never leaves none."""
    if days < 0:
        raise BackupError("--days must be 0 or more")
    cutoff = (now or clock.now()) - timedelta(days=days)
    found = []
    for path, manifest in list_backups():
        try:
            created = datetime.fromisoformat(manifest.created_at) if manifest else None
        except ValueError:
            created = None
        if created is None:
            created = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        found.append((created, path))
    found.sort()
    removed = []
    for created, path in found[:-1]:
        if created < cutoff:
            path.unlink(missing_ok=True)
            manifest_path(path).unlink(missing_ok=True)
            removed.append(path)
    return removed
