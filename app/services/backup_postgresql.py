"""The PostgreSQL side of backups: pg_dump of one consistent snapshot (counted in
that same snapshot for the manifest) and pg_restore in a single transaction."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import URL

from app.extensions import db
from app.services.backups import BackupError, Manifest, Progress


def _libpq(url: URL) -> tuple[list[str], dict[str, str]]:
    """Connection arguments for pg_dump / pg_restore; the password goes in the
    environment, never on a command line others can read."""
    args = []
    if url.host:
        args += ["-h", url.host]
    if url.port:
        args += ["-p", str(url.port)]
    if url.username:
        args += ["-U", url.username]
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    # A restore that meets a lock (a running app) gives up instead of waiting forever.
    env["PGOPTIONS"] = (env.get("PGOPTIONS", "") + " -c lock_timeout=30s").strip()
    return args, env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed (PostgreSQL client tools are needed)")
    return path


def _run_pg_tool(cmd: list[str], env: dict[str, str], progress: Progress | None,
                 stage: str, total: int | None) -> None:
    """Run pg_dump / pg_restore --verbose, turning its per-table lines into progress."""
    process = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
    done, tail = 0, []
    assert process.stderr is not None
    for line in process.stderr:
        tail = (tail + [line.rstrip()])[-20:]
        if "dumping contents of table" in line or "processing data for table" in line:
            done += 1
            if progress is not None:
                progress(stage, done, total)
    if process.wait() != 0:
        errors = [t for t in tail if "error" in t.lower()] or tail[-3:]
        raise BackupError(f"{Path(cmd[0]).name} failed: " + " | ".join(errors)[-800:])



def dump(target: Path, progress: Progress | None) -> tuple[str | None, dict[str, int]]:
    url = db.engine.url
    args, env = _libpq(url)
    with db.engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, \
            conn.begin():
        # pg_dump reads the same snapshot the counts were taken in, so the
        # manifest describes exactly the dump.
        snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        tables = list(conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
            "ORDER BY tablename")).scalars())
        counts = {t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one()
                  for t in tables}
        revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar() \
            if "alembic_version" in tables else None
        _run_pg_tool([_tool("pg_dump"), *args, "--format=custom", "--compress=0",
                      f"--snapshot={snapshot}", "--verbose", "--file", str(target),
                      str(url.database)], env, progress, "dumping tables", len(tables))
    return revision, counts


def restore(raw: Path, manifest: Manifest, progress: Progress | None) -> None:
    url = db.engine.url
    args, env = _libpq(url)
    _run_pg_tool([_tool("pg_restore"), *args, "--dbname", str(url.database), "--clean",
                  "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
                  "--exit-on-error", "--verbose", str(raw)], env, progress, "restoring tables",
                 len(manifest.row_counts))
