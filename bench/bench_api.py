"""API throughput: single earns and batch earns through the full API path under
gunicorn (Procfile configuration), driven by wrk from a second process, side by
side with pgbench's tpcb-like script on the same PostgreSQL at the same
concurrency.

    .venv/bin/python -m bench.bench_api --scale 0.01
    .venv/bin/python -m bench.bench_api --scale 1 --seconds 30     # 100k members, 2M tx

Targets: earn requests/s ≥ 0.35 × pgbench tps; batch-earn ledger entries/s ≥ 5 ×
single-earn requests/s; POST /api/v1/events/ with two matching rules ≥ 0.8 × the
earn's requests/s (issue 13); no errors; the ledger invariants hold after the runs.

`--reference` also measures, in the same rounds, the issue's two reference points
on this machine (bench/reference_app.py: a tutorial ORM earn and one transaction
of Core SQL, on a copy of the database), and a pgbench script that sends the SQL
of one Jifen earn itself (bench/pgbench/earn.sql): what the database side of an
earn costs with no HTTP and no Python at all.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import urllib.request
from contextlib import ExitStack

from bench.common import ROOT, bench_tenant, flask, recreate_database, report
from bench.server import access_token, describe, gunicorn, post_json

# Two rules that both match every bench event (issue 13's measure).
BENCH_RULES = (
    {"name": "bench: 1 per 10.00", "event_type": "bench.payment", "category": "payment",
     "award": {"type": "per_amount", "points": 1, "per": "10.00"}},
    {"name": "bench: 5 each", "event_type": "bench.payment", "category": "payment",
     "award": {"type": "fixed", "points": 5}},
)


def ensure_rules(base: str, token: str) -> None:
    request = urllib.request.Request(base + "/api/v1/earning-rules/?active=true",
                                     headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        names = {r["name"] for r in json.loads(response.read())["data"]}
    for rule in BENCH_RULES:
        if rule["name"] not in names:
            post_json(base + "/api/v1/earning-rules/", rule, token)


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
    p50 = re.search(r"50%\s+([\d.]+\w+)", out)
    return {"rps": rps, "requests": total, "errors": int(errors.group(1)) if errors else 0,
            "socket_errors": socket_errors.group(1) if socket_errors else "none",
            "p99": p99.group(1) if p99 else "?", "p50": p50.group(1) if p50 else "?",
            "tail": _ms(p99.group(1)) / _ms(p50.group(1)) if p99 and p50 else float("nan")}


def _ms(latency: str) -> float:
    """wrk's '812.00us', '3.27ms', '1.02s' in milliseconds."""
    number, unit = re.fullmatch(r"([\d.]+)(\w+)", latency).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def init_pgbench() -> str:
    url = recreate_database("jifen_bench_pgbench")
    subprocess.run(["pgbench", "-i", "-q", "-s", "10", url], check=True, capture_output=True)
    return url


def run_pgbench(url: str, seconds: int, clients: int, threads: int,
                script: list[str] = ()) -> float:
    """tpcb-like, or `script` (extra pgbench arguments: `-M prepared -f file`)."""
    command = ["pgbench", "-c", str(clients), "-j", str(threads), "-T", str(seconds)]
    if script:
        command += ["-n", *script]  # no vacuum of pgbench's own tables: there are none
    out = subprocess.run([*command, url], text=True, capture_output=True, check=True).stdout
    return float(re.search(r"tps = ([\d.]+)", out).group(1))


def reference_database(name: str, client_id: str) -> tuple[str, list[str]]:
    """A copy of the benchmark's database for the reference points, and the pgbench
    variables of bench/pgbench/earn.sql on it (a token family of its own, since
    the copy is taken before the benchmark's token is issued)."""
    import psycopg

    from app.services.tenants import levels_lock_key

    url = recreate_database("jifen_bench_reference", template=name)
    with psycopg.connect(url) as conn:
        tenant, client = conn.execute(
            "SELECT tenant_id, id FROM api_clients WHERE client_id = %s", (client_id,)).fetchone()
        family = conn.execute(
            "INSERT INTO token_families (id, api_client_id, created_at) "
            "VALUES (gen_random_uuid()::text, %s, now()) RETURNING id", (client,)).fetchone()[0]
        first = conn.execute("SELECT MIN(id) FROM members WHERE tenant_id = %s AND user_id LIKE 'b%%'",
                             (tenant,)).fetchone()[0]
        members = conn.execute("SELECT count(*) FROM members WHERE tenant_id = %s AND user_id LIKE 'b%%'",
                               (tenant,)).fetchone()[0]
    variables = {"tenant": tenant, "client": client, "family": family,
                 "lock": levels_lock_key(tenant), "first": first, "members": members}
    script = ["-M", "prepared", "-f", str(ROOT / "bench" / "pgbench" / "earn.sql")]
    for key, value in variables.items():
        script += ["-D", f"{key}={value}"]
    return url, script


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
    parser.add_argument("--reference", action="store_true",
                        help="also measure the reference earns and the earn's SQL alone")
    args = parser.parse_args()

    name = f"jifen_bench_api_{str(args.scale).replace('.', '_')}"
    url, creds, first = bench_tenant(name, args.scale, args.reuse)
    members = max(1, int(100_000 * args.scale))
    reference_url, earn_sql = reference_database(name, creds[0]) if args.reference else (None, [])

    # Earn and pgbench take turns (`--rounds` each), so a drift in the machine's
    # speed during the run weighs on both sides of the ratio alike; so do the
    # reference points with --reference.
    earns, tpss, events = [], [], []
    references: dict[str, list[float]] = {"orm": [], "core": [], "sql": []}
    with ExitStack() as stack:
        server = stack.enter_context(gunicorn(url, args.workers))
        ref = (stack.enter_context(gunicorn(reference_url, args.workers,
                                            app="bench.reference_app:app"))
               if reference_url else None)
        token = access_token(server["base"], *creds)
        wrk_args = [token, str(members), "b", str(first)]
        run_wrk(server["base"], "earn.lua", 3, args.connections, 2, wrk_args)  # warm up
        ensure_rules(server["base"], token)
        run_wrk(server["base"], "events.lua", 3, args.connections, 2, wrk_args)
        if ref:
            for kind in ("orm", "core"):
                run_wrk(ref["base"], "earn.lua", 3, args.connections, 2,
                        [*wrk_args, f"/{kind}/earn"])
        pgbench_url = init_pgbench()
        for _ in range(args.rounds):
            earns.append(run_wrk(server["base"], "earn.lua", args.seconds, args.connections, 2,
                                 wrk_args))
            tpss.append(run_pgbench(pgbench_url, args.seconds, args.connections, 2))
            events.append(run_wrk(server["base"], "events.lua", args.seconds, args.connections,
                                  2, wrk_args))
            if ref:
                for kind in ("orm", "core"):
                    result = run_wrk(ref["base"], "earn.lua", args.seconds, args.connections, 2,
                                     [*wrk_args, f"/{kind}/earn"])
                    if result["errors"]:
                        raise RuntimeError(f"reference {kind} earn: {result['errors']} errors")
                    references[kind].append(result["rps"])
                references["sql"].append(run_pgbench(reference_url, args.seconds,
                                                     args.connections, 2, earn_sql))
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
            "p99": " / ".join(e["p99"] for e in earns),
            "p50": " / ".join(e["p50"] for e in earns),
            "tail": " / ".join(f"{e['tail']:.1f}" for e in earns)}
    tps = sum(tpss) / len(tpss)
    event_runs = [e["rps"] for e in events]
    event_rps = sum(event_runs) / len(event_runs)
    earn_runs = [e["rps"] for e in earns]
    try:
        verdict = flask(url, "points", "verify").stdout.strip()
    except subprocess.CalledProcessError as exc:
        verdict = f"FAILED: {exc.stderr.strip()[-300:]}"
    reference_rows = []
    if reference_url:
        labels = {"orm": "reference: tutorial ORM earn (issue: ~0.18 ×)",
                  "core": "reference: one transaction of Core SQL (issue: ~0.5 ×)",
                  "sql": "a Jifen earn's SQL alone, from pgbench (prepared)"}
        for kind, runs in references.items():
            mean = sum(runs) / len(runs)
            reference_rows.append((labels[kind], f"{mean:,.0f}/s = {mean / tps:.2f} × pgbench; "
                                                 f"earn = {earn['rps'] / mean:.2f} × this"))
        # Machine time adds up: an earn costs at least what its SQL costs the
        # database (and pgbench, a client lighter than any Python) plus what a
        # request that does nothing at all costs the HTTP side. Both at once:
        sql = sum(references["sql"]) / len(references["sql"])
        ceiling = 1 / (tps / sql + tps / live["rps"])
        reference_rows.append(("ceiling: that SQL + the liveness route's cost",
                               f"{ceiling:.2f} × pgbench, with no Python work at all"))
        try:
            reference_rows.append(("reference copy's ledger after",
                                   flask(reference_url, "points", "verify").stdout.strip()))
        except subprocess.CalledProcessError as exc:
            reference_rows.append(("reference copy's ledger after",
                                   f"FAILED: {exc.stderr.strip()[-300:]}"))
    entries = batch["rps"] * args.batch_size
    report(f"API throughput, scale {args.scale} ({members:,} members), "
           f"{args.connections} connections, {describe(args.workers)}", [
        ("pgbench tpcb-like", f"{tps:,.0f} tps (runs: {', '.join(f'{t:,.0f}' for t in tpss)})"),
        ("earn", f"{earn['rps']:,.0f} req/s (runs: {', '.join(f'{r:,.0f}' for r in earn_runs)}), "
                 f"p50 {earn['p50']}, p99 {earn['p99']} (p99 ÷ p50 {earn['tail']}; target ≤ 2), "
                 f"{earn['requests']:,} requests, "
                 f"errors {earn['errors']}, socket errors {earn['socket_errors']}"),
        ("earn / pgbench (target ≥ 0.35)", f"{earn['rps'] / tps:.2f}"),
        ("events, two matching rules", f"{event_rps:,.0f} req/s (runs: "
                                       f"{', '.join(f'{r:,.0f}' for r in event_runs)}), p99 "
                                       f"{' / '.join(e['p99'] for e in events)}, errors "
                                       f"{sum(e['errors'] for e in events)}"),
        ("events / earn (target ≥ 0.8)", f"{event_rps / earn['rps']:.2f}"),
        ("liveness route (no database)", f"{live['rps']:,.0f} req/s = "
                                         f"{live['rps'] / tps:.2f} × pgbench"),
        ("levels list (token check, cached levels)", f"{levels['rps']:,.0f} req/s = "
                                                     f"{levels['rps'] / tps:.2f} × pgbench"),
        ("batch-earn", f"{batch['rps']:,.1f} req/s × {args.batch_size} = {entries:,.0f} "
                       f"entries/s, p99 {batch['p99']}, errors {batch['errors']}"),
        ("batch entries / earn req (target ≥ 5)", f"{entries / earn['rps']:.1f}"),
        ("ledger after", verdict),
        *reference_rows,
    ])


if __name__ == "__main__":
    main()
