"""Memory: a gunicorn worker's RSS after 5,000 and 10,000 mixed API requests.

    .venv/bin/python -m bench.bench_memory --scale 0.01

Target: every worker under 150 MB after 10,000 requests, and not growing between
the 5,000th and the 10,000th (we allow 2 MB of noise).
"""
from __future__ import annotations

import argparse

from bench.common import bench_tenant, report
from bench.server import access_token, describe, gunicorn, rss_mb, worker_pids


def _count_requests(base: str, count: int, args: list[str]) -> None:
    """Send exactly `count` requests with 4 concurrent python clients."""
    import json
    import random
    import threading
    import urllib.error
    import urllib.request

    token, members, prefix, first = args[0], int(args[1]), args[2], int(args[3])
    lock = threading.Lock()
    sent = {"n": 0}

    def call(method: str, path: str, body: dict | None = None) -> None:
        req = urllib.request.Request(base + path, method=method,
                                     data=json.dumps(body).encode() if body else None,
                                     headers={"Authorization": f"Bearer {token}",
                                              "Content-Type": "application/json"})
        try:
            urllib.request.urlopen(req, timeout=30).read()
        except urllib.error.HTTPError as exc:
            exc.read()

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        while True:
            with lock:
                if sent["n"] >= count:
                    return
                sent["n"] += 1
                n = sent["n"]
            user = f"{prefix}{first + rng.randrange(members)}"
            pick = n % 5
            if pick == 0:
                call("GET", f"/api/v1/points/profiles/{user}/")
            elif pick == 1:
                call("GET", f"/api/v1/points/profiles/{user}/transactions/?page_size=20")
            elif pick == 2:
                call("GET", "/api/v1/points/profiles/?page_size=20")
            elif pick == 3:
                call("POST", "/api/v1/points/spend/",
                     {"user_id": user, "points_amount": 1, "category": "payment"})
            else:
                call("POST", "/api/v1/points/earn/",
                     {"user_id": user, "points_amount": 5, "category": "login",
                      "operation_id": f"mem-{seed}-{n}"})

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.01)
    parser.add_argument("--workers", type=int, default=None,
                        help="worker processes (default: gunicorn.conf.py's)")
    args = parser.parse_args()
    url, creds, first = bench_tenant("jifen_bench_memory", args.scale)
    members = max(1, int(100_000 * args.scale))
    with gunicorn(url, args.workers) as server:
        token = access_token(server["base"], *creds)
        wargs = [token, str(members), "b", str(first)]
        _count_requests(server["base"], 5000, wargs)
        at_5k = {pid: rss_mb(pid) for pid in worker_pids(server["pid"])}
        _count_requests(server["base"], 5000, wargs)
        at_10k = {pid: rss_mb(pid) for pid in worker_pids(server["pid"])}
    rows = []
    for pid in sorted(at_10k):
        growth = at_10k[pid] - at_5k.get(pid, 0)
        rows.append((f"worker {pid}", f"{at_5k.get(pid, 0):.0f} MB at 5,000 → {at_10k[pid]:.0f} MB "
                                      f"at 10,000 (growth {growth:+.1f} MB)"))
    rows.append(("target", "< 150 MB, growth ≤ 2 MB"))
    report(f"Worker memory, {describe(args.workers)}, 10,000 mixed API requests", rows)


if __name__ == "__main__":
    main()
