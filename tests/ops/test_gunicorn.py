"""Real gunicorn, two worker processes, Prometheus multiprocess mode: the counts
a scrape reports are the requests made, whichever worker served them."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.ops.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


def get(url: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Connection": "close"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.fixture
def gunicorn_server(database_url, tmp_path):
    port = free_port()
    multiproc = tmp_path / "prometheus"
    env = {**os.environ, "JIFEN_ENV": "testing", "DATABASE_URL": database_url,
           "WEB_CONCURRENCY": "2", "BIND": f"127.0.0.1:{port}",
           "PROMETHEUS_MULTIPROC_DIR": str(multiproc), "GUNICORN_TIMEOUT": "20",
           "GUNICORN_ACCESS_LOG": "-"}  # off by default; its format is tested here
    env.pop("SENTRY_DSN", None)
    stdout = open(tmp_path / "stdout.log", "wb")  # noqa: SIM115 - open for the server's lifetime
    stderr = open(tmp_path / "stderr.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT, env=env, stdout=stdout, stderr=stderr)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if get(base + "/core/health/live/")[0] == 200:
                break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail("gunicorn did not start: "
                        + (tmp_path / "stderr.log").read_text(errors="replace")[-2000:])
        time.sleep(0.2)
    yield base, multiproc, tmp_path
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    stdout.close()
    stderr.close()


def counter(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return 0.0


def test_metric_counts_match_requests_across_two_workers(gunicorn_server):
    base, multiproc, logs = gunicorn_server
    # Both workers must be up before we count (on a busy machine the second boots
    # late): send liveness probes until each has written its own counter file.
    deadline = time.monotonic() + 30
    with ThreadPoolExecutor(max_workers=8) as pool:
        while len({p.name.split("_")[-1] for p in multiproc.glob("counter_*.db")}) < 2:
            assert time.monotonic() < deadline, "the second worker never answered"
            list(pool.map(lambda u: get(u)[0], [base + "/core/health/live/"] * 8))
    # The probes so far count too: measure from here.
    start = counter(get(base + "/metrics")[1].decode(), "api_requests_total", method="GET",
                    endpoint="/core/health/live/", status="200")
    live, missing = 80, 7
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda u: get(u)[0],
                                 [base + "/core/health/live/"] * live
                                 + [base + "/api/no/such/thing/"] * missing))
    assert statuses.count(200) == live and statuses.count(404) == missing

    # Both workers served requests: each wrote its own counter file.
    pids = {p.name.split("_")[-1] for p in multiproc.glob("counter_*.db")}
    assert len(pids) >= 2, pids

    for _ in range(4):  # any worker may answer the scrape; all must add up the same
        text = get(base + "/metrics")[1].decode()
        assert counter(text, "api_requests_total", method="GET", endpoint="/core/health/live/",
                       status="200") - start == live
        assert counter(text, "api_requests_total", method="GET", endpoint="<unmatched>",
                       status="404") == missing
        assert counter(text, "api_request_duration_seconds_count", method="GET",
                       endpoint="<unmatched>") == missing
        assert counter(text, "jifen_dependency_up", dependency="database") == 1

    time.sleep(0.2)  # let the workers flush their access lines
    access = [json.loads(line) for line in (logs / "stdout.log").read_text().splitlines()
              if line.startswith("{")]
    assert sum(1 for a in access if a["path"] == "/api/no/such/thing/" and a["status"] == 404) == missing
    assert all(a["request_id"] for a in access)
