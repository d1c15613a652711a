"""Shared plumbing of the benchmarks: scratch databases, migrations, machine facts."""
from __future__ import annotations

import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
ADMIN_URL = os.environ.get("BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
# Two checkouts benchmarking on one server keep their scratch databases apart.
DB_PREFIX = os.environ.get("BENCH_DB_PREFIX", "")


def database_name(name: str) -> str:
    return f"{DB_PREFIX}{name}"


def database_url(name: str) -> str:
    base = ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{database_name(name)}"


def recreate_database(name: str, template: str | None = None) -> str:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database_name(name)}" WITH (FORCE)')
        if template:
            conn.execute(f'CREATE DATABASE "{database_name(name)}" TEMPLATE "{database_name(template)}"')
        else:
            conn.execute(f'CREATE DATABASE "{database_name(name)}"')
    return database_url(name)


def flask(url: str, *args: str, env: dict[str, str] | None = None,
          capture: bool = True) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "DATABASE_URL": url, "RATELIMIT_ENABLED": "false", **(env or {})}
    return subprocess.run([PYTHON, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT,
                          env=full_env, check=True, text=True,
                          capture_output=capture)


def migrate(url: str) -> None:
    flask(url, "db", "upgrade")


def seed(url: str, *args: str) -> str:
    env = {**os.environ, "DATABASE_URL": url}
    result = subprocess.run([PYTHON, "-m", "bench.seed_large", *args], cwd=ROOT, env=env,
                            check=True, text=True, stdout=subprocess.PIPE)
    return result.stdout


def machine() -> str:
    return (f"{datetime.now(UTC):%Y-%m-%d}, {os.cpu_count()} cores, "
            f"{platform.python_implementation()} {platform.python_version()}, "
            f"PostgreSQL {pg_version()}")


def pg_version() -> str:
    with psycopg.connect(ADMIN_URL) as conn:
        return conn.execute("SHOW server_version").fetchone()[0].split()[0]


def report(title: str, rows: list[tuple[str, str]]) -> None:
    print(f"\n## {title}  ({machine()})")
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"  {key:<{width}}  {value}")
    sys.stdout.flush()


def seeded_database(name: str, *seed_args: str) -> tuple[str, str]:
    """A fresh, migrated database with a generated tenant: (url, the seeder's output)."""
    url = recreate_database(name)
    migrate(url)
    return url, seed(url, *seed_args)


def bench_tenant(name: str, scale: float, reuse: bool = False) -> tuple[str, tuple[str, str], int]:
    """The API benchmarks' tenant: (url, its API client's id and secret, the number of
    its first member, whose user_id is `b<number>`). `reuse` keeps the last run's
    database (the credentials are kept beside the results)."""
    import re

    import psycopg

    creds_file = ROOT / "bench" / "results" / f"{name}.creds"
    if reuse:
        url = database_url(name)
        migrate(url)  # the schema of this checkout, even on last run's data
        creds = tuple(creds_file.read_text().split())
    else:
        url, out = seeded_database(name, "--slug", "bench", "--scale", str(scale))
        creds = re.search(r"api client: (\S+) (\S+)", out).groups()
        creds_file.write_text(" ".join(creds))
    with psycopg.connect(url) as conn:
        first = conn.execute("SELECT MIN(id) FROM members WHERE user_id LIKE 'b%'").fetchone()[0]
    return url, creds, first
