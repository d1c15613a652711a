"""What one API request costs the worker before and around its view: CPU time per
request of the liveness route and of the token-checked levels GET, in-process
(one thread, no HTTP server), on the database `bench_api` leaves behind.

    BENCH_DB_PREFIX=... .venv/bin/python -m bench.request_cost [--requests 3000] [--profile levels]

CPU time of this process (`time.process_time`), so it holds better than a
throughput figure on a machine shared with other work; the database's own CPU
for the levels GET's one query is not in it. `--profile ROUTE` prints cProfile's
top functions for that route instead (CPU time). `--http SECONDS` measures the
same two routes under gunicorn (gunicorn.conf.py) driven by wrk, taking turns:
requests/s, and the CPU per request of the gunicorn workers, of the database
backends and of wrk, read from /proc. `--instructions earn,events,levels,live,core`
counts the instructions of `--requests` requests of each route under valgrind's
callgrind (the same on a busy machine; slow: use --requests 200): the earn and the
event with their bodies and keys as bench_api's wrk scripts send them, and
`core`, bench/reference_app.py's one transaction of Core SQL on the reference
copy of the database (`bench_api --reference` leaves it). Run `bench_api
--scale 0.01` once first.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import time

from bench.common import ROOT, database_url

ROUTES = {"live": "/core/health/live/", "levels": "/api/v1/points/user-levels/"}
WRITES = ("earn", "events", "core")


def _environ(path: str, token: str | None, body: bytes | None = None) -> dict:
    from werkzeug.test import EnvironBuilder

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    builder = EnvironBuilder(path=path, method="POST" if body is not None else "GET",
                             headers=headers, data=body,
                             content_type="application/json" if body is not None else None)
    try:
        return builder.get_environ()
    finally:
        builder.close()


def call(app, environ: dict) -> tuple[str, bytes]:
    """One request through the whole WSGI stack (middleware included)."""
    status: list[str] = []

    def start_response(s, headers, exc_info=None):
        status.append(s)

    env = dict(environ)
    env["wsgi.input"] = io.BytesIO(environ.get("jifen.bench_body", b""))
    chunks = app(env, start_response)
    try:
        body = b"".join(chunks)
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    return status[0], body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--scale", type=float, default=0.01)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", choices=sorted(ROUTES), default=None)
    parser.add_argument("--http", type=int, default=0, metavar="SECONDS")
    parser.add_argument("--instructions", metavar="ROUTES",
                        help="count instructions per request under callgrind (slow)")
    parser.add_argument("--inside-callgrind", metavar="ROUTE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.http:
        return http(args)
    if args.instructions:
        return count_instructions(args)
    if args.inside_callgrind:
        return inside_callgrind(args)

    name = f"jifen_bench_api_{str(args.scale).replace('.', '_')}"
    creds = (ROOT / "bench" / "results" / f"{name}.creds").read_text().split()
    os.environ.update({"DATABASE_URL": database_url(name), "RATELIMIT_ENABLED": "false",
                       "SECRET_KEY": "bench-secret-key-" + "x" * 32})
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("FIELD_ENCRYPTION_KEY", "q0v1XlI4Bf9kGfO8hM7H2m1c4J1yYt0bNfB8t9b1Y2A=")
    # The request log goes where gunicorn's stderr would: a file.
    log = open(ROOT / "bench" / "results" / "request_cost.log", "w")  # noqa: SIM115
    real_stderr, sys.stderr = sys.stderr, log
    from wsgi import app

    token_env = _environ("/api/v1/auth/token/", None,
                         json.dumps({"client_id": creds[0], "client_secret": creds[1]}).encode())
    token_env["jifen.bench_body"] = token_env["wsgi.input"].read()
    status, body = call(app, token_env)
    token = json.loads(body)["data"]["access_token"]
    environs = {"live": _environ(ROUTES["live"], None), "levels": _environ(ROUTES["levels"], token)}
    for key, env in environs.items():
        status, body = call(app, env)
        assert status.startswith("200"), (key, status, body[:300])
        for _ in range(200):  # warm up
            call(app, env)

    if args.profile:
        profiler = cProfile.Profile(time.process_time)  # CPU, not waits
        profiler.enable()
        for _ in range(args.requests):
            call(app, environs[args.profile])
        profiler.disable()
        sys.stderr = real_stderr
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(45)
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(30)
        return

    results: dict[str, list[float]] = {k: [] for k in environs}
    for _ in range(args.rounds):  # taking turns, so a drift weighs on both alike
        for key, env in environs.items():
            cpu = time.process_time()
            for _ in range(args.requests):
                call(app, env)
            results[key].append((time.process_time() - cpu) / args.requests * 1e6)
    sys.stderr = real_stderr
    best = {k: min(v) for k, v in results.items()}
    for key, runs in results.items():
        print(f"{key:>7}: {best[key]:7.1f} µs CPU/request (best of {args.rounds}; runs: "
              f"{', '.join(f'{r:.0f}' for r in runs)})")
    print(f"levels − live: {best['levels'] - best['live']:.1f} µs; "
          f"live ÷ levels: {best['live'] / best['levels']:.2f}")


def _cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except OSError:
            pass
    return total / os.sysconf("SC_CLK_TCK")


def _backend_pids(url: str) -> list[int]:
    import psycopg

    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()")]


def http(args: argparse.Namespace) -> None:
    from bench.bench_api import run_wrk
    from bench.common import machine
    from bench.server import access_token, gunicorn, worker_pids

    name = f"jifen_bench_api_{str(args.scale).replace('.', '_')}"
    creds = (ROOT / "bench" / "results" / f"{name}.creds").read_text().split()
    url = database_url(name)
    rows: dict[str, list[dict[str, float]]] = {k: [] for k in ROUTES}
    with gunicorn(url) as server:
        token = access_token(server["base"], *creds)
        headers = {"live": (), "levels": (f"Authorization: Bearer {token}",)}
        for key in ROUTES:  # warm up: every worker connects and fills its caches
            run_wrk(server["base"] + ROUTES[key], None, 3, 8, 2, [], headers[key])
        workers = worker_pids(server["pid"])
        for _ in range(args.rounds):
            for key in ROUTES:
                backends = _backend_pids(url)
                before = (_cpu_seconds(workers), _cpu_seconds(backends))
                wrk_before = os.times()  # wrk's CPU: our waited-for children's
                result = run_wrk(server["base"] + ROUTES[key], None, args.http, 8, 2, [],
                                 headers[key])
                wrk_after = os.times()
                after = (_cpu_seconds(workers), _cpu_seconds(backends))
                n = result["requests"]
                rows[key].append({"rps": result["rps"], "errors": result["errors"],
                                  "worker": (after[0] - before[0]) / n * 1e6,
                                  "db": (after[1] - before[1]) / n * 1e6,
                                  "wrk": (wrk_after.children_user + wrk_after.children_system
                                          - wrk_before.children_user
                                          - wrk_before.children_system) / n * 1e6})
    print(f"# {machine()}, gunicorn.conf.py, wrk 8 connections, {args.http} s × {args.rounds}")
    for key, runs in rows.items():
        for r in runs:
            print(f"{key:>7}: {r['rps']:7.0f} req/s, errors {r['errors']:.0f}; CPU µs/request: "
                  f"workers {r['worker']:5.0f}, database {r['db']:4.0f}, wrk {r['wrk']:4.0f}")
    ratios = [lv["rps"] / li["rps"] for li, lv in zip(rows["live"], rows["levels"], strict=True)]
    print("levels ÷ live per round: " + ", ".join(f"{r:.2f}" for r in ratios))


def _writes(app, token: str, route: str, n: int) -> list[dict]:
    """The environs of `n` earns, events or reference earns for random bench members."""
    import random

    stamp = time.time_ns()
    environs = []
    for i in range(n):
        user = f"b{random.randint(1, 1000)}"
        if route == "events":
            body = {"event_id": f"cost-{stamp}-{i}", "user_id": user,
                    "event_type": "bench.payment", "amount": f"{random.randint(10, 999)}.40",
                    "attributes": {"order": i}}
            path, headers = "/api/v1/events/", {}
        else:
            body = {"user_id": user, "points_amount": random.randint(1, 100),
                    "category": "payment", "reason": f"bench order {i}"}
            path = "/core/earn" if route == "core" else "/api/v1/points/earn/"
            headers = {"HTTP_IDEMPOTENCY_KEY": f"cost-{stamp}-{i}"}
        raw = json.dumps(body).encode()
        environ = _environ(path, token, raw)
        environ.update(headers, **{"jifen.bench_body": raw})
        environs.append(environ)
    return environs


def inside_callgrind(args: argparse.Namespace) -> None:
    """Under valgrind: warm the route up, then count `--requests` of it."""
    from bench.profile_portal import _callgrind_marks

    route = args.inside_callgrind
    name = f"jifen_bench_api_{str(args.scale).replace('.', '_')}"
    os.environ.update({"RATELIMIT_ENABLED": "false", "SECRET_KEY": "bench-secret-key-" + "x" * 32})
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("FIELD_ENCRYPTION_KEY", "q0v1XlI4Bf9kGfO8hM7H2m1c4J1yYt0bNfB8t9b1Y2A=")
    sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - the request log
    if route == "core":
        os.environ["DATABASE_URL"] = database_url("jifen_bench_reference")
        from bench.reference_app import app
        token = ""
    else:
        os.environ["DATABASE_URL"] = database_url(name)
        from wsgi import app
        creds = (ROOT / "bench" / "results" / f"{name}.creds").read_text().split()
        login = _environ("/api/v1/auth/token/", None, json.dumps(
            {"client_id": creds[0], "client_secret": creds[1]}).encode())
        login["jifen.bench_body"] = login["wsgi.input"].read()
        token = json.loads(call(app, login)[1])["data"]["access_token"]
    warm = 100
    environs = (_writes(app, token, route, warm + args.requests) if route in WRITES else
                [_environ(ROUTES[route], token if route == "levels" else None)] * (warm + args.requests))
    for environ in environs[:warm]:
        status, body = call(app, environ)
        assert status[:3] in ("200", "201"), (route, status, body[:300])
    marks = _callgrind_marks()
    marks.cg_start()
    for environ in environs[warm:]:
        call(app, environ)
    marks.cg_stop()


def count_instructions(args: argparse.Namespace) -> None:
    import re
    import subprocess

    from bench.profile_portal import _callgrind_marks

    out = ROOT / "bench" / "results" / "callgrind"
    out.mkdir(parents=True, exist_ok=True)
    _callgrind_marks()  # built before valgrind starts
    counts = {}
    for route in args.instructions.split(","):
        for old in out.glob("cost.out.*"):
            old.unlink()
        subprocess.run(["valgrind", "--tool=callgrind", "--instr-atstart=no",
                        "--collect-atstart=no", f"--callgrind-out-file={out}/cost.out.%p",
                        sys.executable, "-m", "bench.request_cost", "--inside-callgrind", route,
                        "--requests", str(args.requests), "--scale", str(args.scale)],
                       cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        [dump] = out.glob("cost.out.*.*")
        total = re.search(r"^(?:summary|totals): (\d+)", dump.read_text(), re.M)
        counts[route] = int(total.group(1)) / args.requests
        print(f"{route:<7} {counts[route] / 1e6:6.2f} M instructions/request", flush=True)


if __name__ == "__main__":
    main()
