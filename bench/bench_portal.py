"""Portal, signed in, on a large tenant: throughput of the member page and the
dashboard against a trivial signed-in route of the same app under the same
gunicorn, and latencies that must not grow with the data.

    .venv/bin/python -m bench.bench_portal --scale 1        # 100k members, 2M tx
    .venv/bin/python -m bench.bench_portal --scale 0.1      # quicker
    .venv/bin/python -m bench.bench_portal --scale 1 --reuse --rounds 3  # same database again

Targets: member page (with history) req/s ≥ 0.3 × trivial; dashboard ≥ 0.2 ×;
the 500th page of a member's history within 1.3 × the latency of the first; the
dashboard at the large tenant within 1.5 × its latency at a tenant 100 × smaller.
"""
from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

import psycopg

from bench.common import ROOT, database_url, flask, migrate, report, seed, seeded_database
from bench.seed_large import PASSWORD
from bench.server import describe, gunicorn


# Flask-Login's "strong" session protection binds a session to the user agent:
# sign-in, wrk and the latency probes must all send the same one.
USER_AGENT = "jifen-bench"


def sign_in(base: str, email: str) -> tuple[urllib.request.OpenerDirector, str]:
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.addheaders = [("User-Agent", USER_AGENT)]
    page = opener.open(base + "/login").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"csrf_token": token, "email": email,
                                   "password": PASSWORD}).encode()
    opener.open(base + "/login", data=data).read()
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    return opener, cookie


def wrk(base: str, path: str, cookie: str, seconds: int, connections: int,
        opener: urllib.request.OpenerDirector | None = None) -> float:
    if opener is not None:  # the page must really render for this session, not redirect
        response = opener.open(urllib.request.Request(base + path))
        if response.url != base + path or response.status != 200:
            raise RuntimeError(f"{path}: answered {response.status} at {response.url}")
    out = subprocess.run(
        ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "-H", f"Cookie: {cookie}",
         "-H", f"User-Agent: {USER_AGENT}", base + path],
        text=True, capture_output=True, check=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"{path}: {errors.group(1)} error responses")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def latency(opener, url: str, n: int, headers: dict[str, str] | None = None) -> float:
    """Median seconds over n sequential requests, after two warm-ups."""
    times = []
    for i in range(n + 2):
        request = urllib.request.Request(url, headers=headers or {})
        started = time.perf_counter()
        opener.open(request).read()
        if i >= 2:
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def cursor_for(url: str, user_id: str, offset: int) -> str:
    import base64

    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT t.id FROM point_transactions t JOIN members m ON m.id = t.member_id "
            "WHERE m.user_id = %s ORDER BY t.id DESC OFFSET %s LIMIT 1", (user_id, offset)
        ).fetchone()
    return base64.urlsafe_b64encode(f"v1:{row[0]}".encode()).decode().rstrip("=")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=None,
                        help="worker processes (default: gunicorn.conf.py's)")
    parser.add_argument("--reuse", action="store_true",
                        help="keep the database of the last run at this scale")
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure the three routes side by side this many times")
    args = parser.parse_args()

    name = f"jifen_bench_portal_{str(args.scale).replace('.', '_')}"
    if args.reuse:
        url = database_url(name)
        migrate(url)  # the schema of this checkout, even on last run's data
        whale = (ROOT / "bench" / "results" / f"{name}.whale").read_text().strip()
    else:
        url, out = seeded_database(name, "--slug", "big", "--scale", str(args.scale),
                                   "--whale", "12000")
        whale = re.search(r"whale: (\S+)", out).group(1)
        seed(url, "--slug", "small", "--scale", str(args.scale / 100), "--seed", "8")
        (ROOT / "bench" / "results" / f"{name}.whale").write_text(whale)
    with psycopg.connect(url) as conn:
        some_member = conn.execute(
            "SELECT user_id FROM members WHERE user_id LIKE 'b%' ORDER BY id LIMIT 1 OFFSET 500"
        ).fetchone()[0]
        tx_total = conn.execute("SELECT count(*) FROM point_transactions").fetchone()[0]

    # The dashboard's closed days, stored as the daily job stores them (the page
    # itself only reads).
    flask(url, "dashboard", "roll-up")
    with gunicorn(url, args.workers) as server:
        base = server["base"]
        opener, cookie = sign_in(base, "owner@big.bench")
        small_opener, _ = sign_in(base, "owner@small.bench")
        # Warm the dashboards' cached pages.
        opener.open(base + "/t/big/").read()
        small_opener.open(base + "/t/small/").read()

        # "/" answers a signed-in user with a redirect to the tenant's dashboard (it
        # loads the user and its roles, nothing else): the trivial signed-in route.
        # Each round measures the three side by side; on a shared machine the load
        # drifts between runs, so the figures are each round's ratios' median.
        rounds = []
        for _ in range(args.rounds):
            trivial = wrk(base, "/", cookie, args.seconds, args.connections)
            member = wrk(base, f"/t/big/members/{some_member}/", cookie, args.seconds,
                         args.connections, opener)
            dashboard = wrk(base, "/t/big/", cookie, args.seconds, args.connections, opener)
            rounds.append((trivial, member, dashboard))
        trivial, member, dashboard = (statistics.median(r[i] for r in rounds) for i in range(3))
        member_ratio = statistics.median(r[1] / r[0] for r in rounds)
        dashboard_ratio = statistics.median(r[2] / r[0] for r in rounds)

        htmx = {"HX-Request": "true"}
        first_page = latency(opener, f"{base}/t/big/members/{whale}/", 30, htmx)
        cursor = cursor_for(url, whale, 500 * 20 - 1)
        page_500 = latency(opener, f"{base}/t/big/members/{whale}/?cursor={cursor}", 30, htmx)
        dash_big = latency(opener, f"{base}/t/big/", 30)
        dash_small = latency(small_opener, f"{base}/t/small/", 30)

    report(f"Portal, scale {args.scale} ({tx_total:,} transactions in the database), "
           f"{args.connections} connections, {describe(args.workers)}", [
        ("trivial signed-in route (/)", f"{trivial:,.0f} req/s"),
        ("member page with history", f"{member:,.0f} req/s = {member_ratio:.2f} × trivial "
                                     "(target ≥ 0.3)"),
        ("dashboard", f"{dashboard:,.0f} req/s = {dashboard_ratio:.2f} × trivial "
                      "(target ≥ 0.2)"),
        *([("rounds (trivial / member / dashboard req/s)",
            "; ".join(f"{t:,.0f} / {m:,.0f} / {d:,.0f}" for t, m, d in rounds))]
          if len(rounds) > 1 else []),
        ("history page 1 / page 500", f"{first_page * 1000:.1f} ms / {page_500 * 1000:.1f} ms = "
                                      f"{page_500 / first_page:.2f} × (target ≤ 1.3)"),
        ("dashboard big / small tenant", f"{dash_big * 1000:.1f} ms / {dash_small * 1000:.1f} ms = "
                                         f"{dash_big / dash_small:.2f} × (target ≤ 1.5)"),
    ])


if __name__ == "__main__":
    main()
