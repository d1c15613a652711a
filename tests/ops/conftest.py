"""Fixtures for the operations tests: apps with changed settings, and private,
throwaway PostgreSQL and Redis servers for outage tests (the machine's shared
servers are never stopped)."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app import create_app
from app.config import TestingConfig
from app.extensions import db
from app.models import PointTransaction

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]

def assert_unavailable(response, elapsed: float, deadline: float) -> None:
    """The outage answer: a 503 SERVICE_UNAVAILABLE envelope with Retry-After,
    given within `deadline` seconds."""
    assert response.status_code == 503, response.get_data(as_text=True)[:500]
    assert response.get_json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert response.headers["Retry-After"]
    assert elapsed < deadline, elapsed


def applied(application, key: str) -> int:
    """How many ledger transactions carry idempotency `key` (a retry must apply once)."""
    with application.app_context():
        count = db.session.execute(select(func.count()).select_from(PointTransaction).where(
            PointTransaction.idempotency_key == key)).scalar_one()
        db.session.remove()
        return count


@pytest.fixture
def make_app(database_url) -> Iterator[Callable[..., object]]:
    """An app on the test database with some settings changed. The caller
    pushes its own app context."""
    made = []

    def make(config: TestingConfig | None = None, **settings: object):
        config = config or TestingConfig(database_url)
        for key, value in settings.items():
            setattr(config, key, value)
        application = create_app(config)
        from flask_babel import get_locale

        application.jinja_env.globals.setdefault("get_locale", get_locale)
        made.append(application)
        return application

    yield make
    for application in made:
        with application.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def redis_url() -> str:
    """The shared test Redis (TEST_REDIS_URL); skipped when it does not answer."""
    import redis

    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1).ping()
    except Exception:
        pytest.skip(f"Redis at {url} does not answer (set TEST_REDIS_URL)")
    return url


class PrivateRedis:
    def __init__(self, tmp: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed")
        self.binary, self.tmp, self.port = binary, tmp, free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        import redis

        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.tmp)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                redis.Redis.from_url(self.url, socket_timeout=0.5).ping()
                return
            except Exception:
                time.sleep(0.05)
        raise RuntimeError("private redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def private_redis(tmp_path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


class PrivatePostgres:
    """A throwaway cluster in a temporary directory, on a free port. initdb
    refuses to run as root, so as root it runs as the `postgres` user."""

    def __init__(self) -> None:
        if not (PG_BIN / "initdb").exists() or not (PG_BIN / "pg_ctl").exists():
            pytest.skip(f"PostgreSQL server binaries not found in {PG_BIN}")
        self.as_root = os.geteuid() == 0
        if self.as_root and shutil.which("runuser") is None:
            pytest.skip("running as root without runuser: cannot start a private PostgreSQL")
        self.dir = Path(tempfile.mkdtemp(prefix="jifen-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        if self.as_root:
            shutil.chown(self.dir, "postgres", "postgres")

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [str(a) for a in args]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=60)

    def init(self) -> None:
        self._run(PG_BIN / "initdb", "-D", self.data, "-U", "postgres", "--auth=trust",
                  "--no-sync", "-E", "UTF8")

    def start(self) -> None:
        self._run(PG_BIN / "pg_ctl", "-D", self.data, "-w", "-t", "30", "-l", self.dir / "log",
                  "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off",
                  "start")

    def stop(self, mode: str = "fast") -> None:
        self._run(PG_BIN / "pg_ctl", "-D", self.data, "-w", "-m", mode, "stop", check=False)

    def processes(self) -> list[int]:
        """The postmaster and every process it started (backends, checkpointer...)."""
        pid_file = self.data / "postmaster.pid"
        if not pid_file.exists():
            return []
        postmaster = int(pid_file.read_text().split()[0])
        parents = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        return [postmaster, *(pid for pid, parent in parents.items() if parent == postmaster)]

    def freeze(self) -> None:
        """SIGSTOP the whole cluster: it keeps its sockets open and answers nothing,
        the kernel still accepts connections for it (a hung server, not a dead one)."""
        self.frozen = self.processes()
        for pid in self.frozen:
            os.kill(pid, signal.SIGSTOP)

    def thaw(self) -> None:
        for pid in getattr(self, "frozen", []):
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
        self.frozen = []

    def destroy(self) -> None:
        self.thaw()
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    server = PrivatePostgres()
    try:
        server.init()
        server.start()
    except subprocess.CalledProcessError as exc:
        server.destroy()
        pytest.skip(f"could not start a private PostgreSQL: {exc.stderr.strip()[:200]}")
    yield server
    server.destroy()


def migrate(url: str) -> None:
    from flask_migrate import upgrade

    application = create_app(TestingConfig(url))
    with application.app_context():
        upgrade(directory=str(Path(__file__).resolve().parents[2] / "migrations"))
        db.engine.dispose()


def drill_app(make_app, url: str, *, pre_ping: bool, pool: int, pool_timeout: float,
              connect_timeout: int, **settings: object) -> tuple[object, str]:
    """The outage drills' application: a freshly migrated private server holding
    tenant acme, members alice, bob, carol and dave, and an API client allowed to
    view and earn points. Returns the application and that client's bearer token."""
    from app.services import api_clients, members, tenants
    from app.services.context import Actor

    actor = Actor(type="system", label="outage-drill")
    migrate(url)
    config = TestingConfig(url)
    config.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": pre_ping, "pool_size": pool,
                                        "max_overflow": pool, "pool_timeout": pool_timeout,
                                        "connect_args": {"connect_timeout": connect_timeout}}
    # The maintenance gate reads the database on every request: uncached, so the
    # drills see every round trip a request really makes.
    application = make_app(config, MAINTENANCE_CACHE_SECONDS=0, **settings)
    with application.app_context():
        tenant = tenants.create("acme", "Acme", actor)
        for user in ("alice", "bob", "carol", "dave"):
            members.create(tenant.id, actor, user_id=user)
        issued = api_clients.create(tenant.id, actor, name="drill",
                                    permissions="can_view_points,can_earn_points")
        db.session.remove()
    token = application.test_client().post("/api/v1/auth/token/", json={
        "client_id": issued.client.client_id, "client_secret": issued.client_secret,
    }).get_json()["data"]["access_token"]
    return application, token
