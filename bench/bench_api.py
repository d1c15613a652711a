"""API throughput: single earns and batch earns through the full API path under
gunicorn (Procfile configuration), driven by wrk from a second process, side by
side with pgbench's tpcb-like script on the same PostgreSQL at the same
concurrency.

    .venv/bin/python -m bench.bench_api --scale 0.01
    .venv/bin/python -m bench.bench_api --scale 1 --seconds 30     # 100k members, 2M tx

Targets: earn requests/s ≥ 0.35 × pgbench tps; batch-earn ledger entries/s ≥ 5 ×
single-earn requests/s; no errors; the ledger invariants hold after the runs.
"""
from __future__ import annotations

import argparse
import re
import subprocess

from bench.common import ROOT, bench_tenant, flask, recreate_database, report
from bench.server import access_token, describe, gunicorn


def run_wrk(base: str, script: str | None, seconds: int, connections: int, threads: int,
            args: list[str], headers: tuple[str, ...] = ()) -> dict[str, float]:
    """wrk with a Lua script (`args` are the script's), or a plain GET of `base`."""
    command = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s",
               "--latency", *(arg for header in headers for arg in ("-H", header))]
    if script:
        command += ["-s", str(ROOT / "bench" / "lua" / script), base, "--", *args]
    else:
        command.append(base)
    out = subprocess.run(command, text=True, capture_output=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    p99 = re.search(r"99%\s+([\d.]+\w+)", out)
    return {"rps": rps, "requests": total, "errors": int(errors.group(1)) if errors else 0,
            "socket_errors": socket_errors.group(1) if socket_errors else "none",
            "p99": p99.group(1) if p99 else "?"}


def init_pgbench() -> str:
    url = recreate_database("jifen_bench_pgbench")
    subprocess.run(["pgbench", "-i", "-q", "-s", "10", url], check=True, capture_output=True)
    return url


def run_pgbench(url: str, seconds: int, clients: int, threads: int) -> float:
    out = subprocess.run(["pgbench", "-c", str(clients), "-j", str(threads), "-T", str(seconds),
                          url], text=True, capture_output=True, check=True).stdout
    return float(re.search(r"tps = ([\d.]+)", out).group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.01)
    parser.add_argument("--seconds", type=int, default=15, help="length of each run")
    parser.add_argument("--rounds", type=int, default=2,
                        help="earn and pgbench runs, taking turns")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=None,
                        help="worker processes (default: gunicorn.conf.py's)")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--reuse", action="store_true",
                        help="reuse the database of the last run instead of seeding again")
    args = parser.parse_args()

    url, creds, first = bench_tenant(f"jifen_bench_api_{str(args.scale).replace('.', '_')}",
                                     args.scale, args.reuse)
    members = max(1, int(100_000 * args.scale))

    # Earn and pgbench take turns (`--rounds` each), so a drift in the machine's
    # speed during the run weighs on both sides of the ratio alike.
    earns, tpss = [], []
    with gunicorn(url, args.workers) as server:
        token = access_token(server["base"], *creds)
        wrk_args = [token, str(members), "b", str(first)]
        run_wrk(server["base"], "earn.lua", 3, args.connections, 2, wrk_args)  # warm up
        pgbench_url = init_pgbench()
        for _ in range(args.rounds):
            earns.append(run_wrk(server["base"], "earn.lua", args.seconds, args.connections, 2,
                                 wrk_args))
            tpss.append(run_pgbench(pgbench_url, args.seconds, args.connections, 2))
        # Context, not targets: what a request costs before any write. The liveness
        # route touches no database; the levels list checks the token (one query)
        # and reads the levels from the cache.
        live = run_wrk(server["base"] + "/core/health/live/", None, args.seconds,
                       args.connections, 2, [])
        levels = run_wrk(server["base"] + "/api/v1/points/user-levels/", None, args.seconds,
                         args.connections, 2, [], (f"Authorization: Bearer {token}",))
        batch = run_wrk(server["base"], "batch_earn.lua", args.seconds, args.connections, 2,
                        [*wrk_args, str(args.batch_size)])
    earn = {"rps": sum(e["rps"] for e in earns) / len(earns),
            "requests": sum(e["requests"] for e in earns),
            "errors": sum(e["errors"] for e in earns),
            "socket_errors": ", ".join(sorted({e["socket_errors"] for e in earns})),
            "p99": " / ".join(e["p99"] for e in earns)}
    tps = sum(tpss) / len(tpss)
    earn_runs = [e["rps"] for e in earns]
    try:
        verdict = flask(url, "points", "verify").stdout.strip()
    except subprocess.CalledProcessError as exc:
        verdict = f"FAILED: {exc.stderr.strip()[-300:]}"
    entries = batch["rps"] * args.batch_size
    report(f"API throughput, scale {args.scale} ({members:,} members), "
           f"{args.connections} connections, {describe(args.workers)}", [
        ("pgbench tpcb-like", f"{tps:,.0f} tps (runs: {', '.join(f'{t:,.0f}' for t in tpss)})"),
        ("earn", f"{earn['rps']:,.0f} req/s (runs: {', '.join(f'{r:,.0f}' for r in earn_runs)}), "
                 f"p99 {earn['p99']}, {earn['requests']:,} requests, "
                 f"errors {earn['errors']}, socket errors {earn['socket_errors']}"),
        ("earn / pgbench (target ≥ 0.35)", f"{earn['rps'] / tps:.2f}"),
        ("liveness route (no database)", f"{live['rps']:,.0f} req/s = "
                                         f"{live['rps'] / tps:.2f} × pgbench"),
        ("levels list (token check, cached levels)", f"{levels['rps']:,.0f} req/s = "
                                                     f"{levels['rps'] / tps:.2f} × pgbench"),
        ("batch-earn", f"{batch['rps']:,.1f} req/s × {args.batch_size} = {entries:,.0f} "
                       f"entries/s, p99 {batch['p99']}, errors {batch['errors']}"),
        ("batch entries / earn req (target ≥ 5)", f"{entries / earn['rps']:.1f}"),
        ("ledger after", verdict),
    ])


if __name__ == "__main__":
    main()
