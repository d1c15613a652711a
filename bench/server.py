"""Start Jifen under gunicorn with the Procfile's configuration, for a benchmark."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from collections.abc import Iterator

from cryptography.fernet import Fernet

from bench.common import ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(url: str, workers: int | None = None,
             extra_env: dict[str, str] | None = None, app: str = "wsgi:app") -> Iterator[dict]:
    """gunicorn.conf.py as the Procfile runs it; `workers` overrides its worker count
    and `app` the WSGI application (bench_api's reference endpoints)."""
    port = free_port()
    env = {
        **os.environ, "DATABASE_URL": url,
        **({"WEB_CONCURRENCY": str(workers)} if workers else {}),
        "BIND": f"127.0.0.1:{port}", "RATELIMIT_ENABLED": "false",
        "SECRET_KEY": "bench-secret-key-" + "x" * 32,
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(), **(extra_env or {}),
    }
    env.pop("REDIS_URL", None)
    log_path = ROOT / "bench" / "results" / f"gunicorn{'' if app == 'wsgi:app' else '-reference'}.log"
    log = open(log_path, "w")  # noqa: SIM115 - outlives the block
    proc = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "--config", "gunicorn.conf.py", app],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/login", timeout=1).read()
                break
            except urllib.error.HTTPError:  # answering (the reference app has no /login)
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"gunicorn did not start; see {log_path}")
        yield {"base": base, "pid": proc.pid}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()


def describe(workers: int | None = None) -> str:
    """The gunicorn shape a benchmark ran, as gunicorn.conf.py computes it."""
    import runpy

    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    count = workers or conf["workers"]
    return f"gunicorn {count} workers × {conf['threads']} threads"


def worker_pids(master_pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master_pid)], text=True,
                         capture_output=True).stdout
    return [int(p) for p in out.split()]


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def post_json(url: str, body: dict, token: str | None = None) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json",
                                              **({"Authorization": f"Bearer {token}"}
                                                 if token else {})})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def access_token(base: str, client_id: str, client_secret: str) -> str:
    body = post_json(base + "/api/v1/auth/token/",
                     {"client_id": client_id, "client_secret": client_secret})
    return body["data"]["access_token"]
