"""`make test`: the suite on SQLite, then again on PostgreSQL when
TEST_DATABASE_URL is set. Exits non-zero if either run fails.

The SQLite run takes the files, and each file's tests, in an order shuffled
by a new seed each time (printed: TEST_SHUFFLE_SEED=SEED repeats it), so a test that
passes only after another one has warmed some state fails here; the
PostgreSQL run keeps the written order."""
from __future__ import annotations

import os
import random
import subprocess
import sys


def pytest(*args: str) -> int:
    cmd = [sys.executable, "-m", "pytest", *args, *sys.argv[1:]]
    print("+", " ".join(cmd), flush=True)
    code = subprocess.call(cmd)
    return 0 if code == 0 else code


def main() -> int:
    failures = 0
    print("== test suite on SQLite ==", flush=True)
    seed = os.environ.get("TEST_SHUFFLE_SEED") or str(random.SystemRandom().randrange(10**6))
    print(f"== test order shuffled: TEST_SHUFFLE_SEED={seed} repeats it ==", flush=True)
    failures += pytest("--db=sqlite", f"--shuffle={seed}") != 0
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        print("== test suite on PostgreSQL ==", flush=True)
        failures += pytest("--db=postgresql") != 0
    else:
        print("== PostgreSQL run skipped: TEST_DATABASE_URL is not set "
              "(its concurrency tests were skipped too) ==", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
