"""CPU time and SQL statements of one signed-in portal request, in process (no
server, no network): the step figure for the member page's cuts, steadier than
req/s on a busy machine because it counts this process's CPU only.

    BENCH_DB_PREFIX=… .venv/bin/python -m bench.profile_portal --scale 1 [--profile member]

Needs the database `bench_portal --scale S` left behind. Prints, for the trivial
signed-in route (/), the member page (a member with a short history, as
bench_portal asks for) and the dashboard: CPU ms per request (median of
--rounds rounds of --n requests) and statements per request; `--profile NAME`
adds cProfile's top functions for that route.
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import statistics
import subprocess
import sys
import time

import psycopg
from cryptography.fernet import Fernet

from bench.common import ROOT, database_url
from bench.seed_large import PASSWORD

USER_AGENT = "jifen-bench"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", choices=("trivial", "member", "dashboard"))
    parser.add_argument("--lang", default="en")
    parser.add_argument("--callers", help="with --profile: who calls the functions matching this")
    parser.add_argument("--statements", action="store_true", help="print each route's SQL")
    parser.add_argument("--save", help="with --profile: write the pstats file here")
    parser.add_argument("--instructions", action="store_true",
                        help="count the instructions of --n requests per route under "
                             "valgrind's callgrind (steady on a busy machine; slow)")
    parser.add_argument("--routes", default="trivial,member,dashboard",
                        help="with --instructions: which routes to count")
    parser.add_argument("--inside-callgrind", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.instructions:
        return count_instructions(args)

    url = database_url(f"jifen_bench_portal_{str(args.scale).replace('.', '_')}")
    os.environ.update(DATABASE_URL=url, RATELIMIT_ENABLED="false",
                      SECRET_KEY="bench-secret-key-" + "x" * 32,
                      FIELD_ENCRYPTION_KEY=Fernet.generate_key().decode())
    os.environ.pop("REDIS_URL", None)
    import logging

    from app import create_app
    from app.extensions import db
    from tests.querycount import statements

    with psycopg.connect(url) as conn:
        member = conn.execute("SELECT user_id FROM members WHERE user_id LIKE 'b%' "
                              "ORDER BY id LIMIT 1 OFFSET 500").fetchone()[0]
    app = create_app()
    logging.disable(logging.INFO)  # the request log's line is gunicorn's stderr's cost, not ours
    client = app.test_client()
    headers = {"User-Agent": USER_AGENT, "Accept-Language": args.lang}
    page = client.get("/login", headers=headers).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    client.post("/login", data={"csrf_token": token, "email": "owner@big.bench",
                                "password": PASSWORD}, headers=headers)
    routes = {"trivial": "/", "member": f"/t/big/members/{member}/", "dashboard": "/t/big/"}
    for name, path in routes.items():
        response = client.get(path, headers=headers)
        assert response.status_code == (302 if name == "trivial" else 200), (path, response)

    def once(path: str) -> None:
        client.get(path, headers=headers).close()

    if args.inside_callgrind:
        marks = _callgrind_marks()
        for name, path in routes.items():
            if name not in args.routes.split(","):
                continue
            for _ in range(30):
                once(path)
            marks.cg_start()
            for _ in range(args.n):
                once(path)
            marks.cg_stop()
        return

    results = {}
    for name, path in routes.items():
        for _ in range(30):
            once(path)
        with app.app_context(), statements() as seen:
            once(path)
        count = len(seen)
        if args.statements:
            print(f"{name}:", *("  " + " ".join(s.split())[:200] for s in seen), sep="\n")
        per_round = []
        for _ in range(args.rounds):
            started = time.process_time()
            for _ in range(args.n):
                once(path)
            per_round.append((time.process_time() - started) / args.n * 1000)
        results[name] = (statistics.median(per_round), count, per_round)
    for name, (ms, count, per_round) in results.items():
        print(f"{name:<10} {ms:6.3f} ms CPU/request  {count} statements  "
              f"(rounds {', '.join(f'{r:.3f}' for r in per_round)})")
    trivial = results["trivial"][0]
    print(f"member ÷ trivial CPU: {results['member'][0] / trivial:.2f}; "
          f"trivial ÷ member (an idealised req/s ratio): {trivial / results['member'][0]:.2f}")
    if args.profile:
        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
        for _ in range(args.n):
            once(routes[args.profile])
        profiler.disable()
        stats = pstats.Stats(profiler)
        if args.save:
            stats.dump_stats(args.save)
        stats.sort_stats("cumulative").print_stats(60)
        stats.sort_stats("tottime").print_stats(40)
        if args.callers:
            stats.print_callers(args.callers)
    with app.app_context():
        db.engine.dispose()


_MARKS_C = """#include <valgrind/callgrind.h>
void cg_start(void) { CALLGRIND_ZERO_STATS; CALLGRIND_START_INSTRUMENTATION; CALLGRIND_TOGGLE_COLLECT; }
void cg_stop(void) { CALLGRIND_TOGGLE_COLLECT; CALLGRIND_DUMP_STATS; CALLGRIND_STOP_INSTRUMENTATION; }
"""


def _callgrind_marks():
    """Callgrind's client requests (valgrind/callgrind.h) callable from Python:
    collect only between cg_start and cg_stop, not the start-up."""
    import ctypes

    out = ROOT / "bench" / "results"
    source, library = out / "callgrind_marks.c", out / "callgrind_marks.so"
    if not library.exists():
        source.write_text(_MARKS_C)
        subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-o", str(library), str(source)],
                       check=True)
    return ctypes.CDLL(str(library))


def count_instructions(args: argparse.Namespace) -> None:
    out = ROOT / "bench" / "results" / "callgrind"
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("callgrind.out.*"):
        old.unlink()
    _callgrind_marks()  # built before valgrind starts
    subprocess.run(["valgrind", "--tool=callgrind", "--instr-atstart=no", "--collect-atstart=no",
                    f"--callgrind-out-file={out}/callgrind.out.%p", sys.executable, "-m",
                    "bench.profile_portal", "--inside-callgrind", "--scale", str(args.scale),
                    "--n", str(args.n), "--lang", args.lang, "--routes", args.routes],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    dumps = sorted((p for p in out.glob("callgrind.out.*.*")),
                   key=lambda p: int(p.name.rsplit(".", 1)[1]))
    counts = {}
    for name, dump in zip(args.routes.split(","), dumps, strict=True):
        total = re.search(r"^(?:summary|totals): (\d+)", dump.read_text(), re.M)
        counts[name] = int(total.group(1)) / args.n
    for name, n in counts.items():
        print(f"{name:<10} {n / 1e6:7.2f} M instructions/request")
    if len(counts) == 3:
        print(f"trivial ÷ member: {counts['trivial'] / counts['member']:.3f}; "
              f"trivial ÷ dashboard: {counts['trivial'] / counts['dashboard']:.3f}")


if __name__ == "__main__":
    main()
