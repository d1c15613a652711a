"""gunicorn settings, from the environment (Procfile: web)."""
import multiprocessing
import os
from pathlib import Path

bind = os.environ.get("BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
# Two processes a core, two threads each (gunicorn's gthread worker): threads keep
# client connections alive between requests (the sync worker's new connection per
# request cost an earn about 1 ms of CPU) and overlap one request's database wait
# with another's work; more processes than cores share kept-alive connections out
# evenly (with one a core, a busy process held most of them while the other idled).
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count()))
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "0"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "0"))
# The app logs one JSON line per request itself (with route, tenant and actor, on
# stderr), so gunicorn's own access line is off unless GUNICORN_ACCESS_LOG=- asks
# for it (on stdout): a second line per request said nothing new and cost ~5% of
# an earn's CPU.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "") or None
logger_class = "app.ops.gunicorn_logging.JsonAccessLogger"
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# What gunicorn refuses it answers itself, in HTML, before the app (and its
# envelope) sees the request: a request line longer than limit_request_line (414),
# a header line longer than limit_request_field_size or more than 100 headers
# (431), and malformed HTTP (400). Its defaults (4094 and 8190 bytes) turned a
# 5,000-character query or a 10 KB token into such pages; 8190 is the most
# gunicorn allows for the line, and 16 KiB a header keeps its buffer for a
# request's headers under 2 MB. Under these the app answers, with the envelope.
limit_request_line = int(os.environ.get("GUNICORN_LIMIT_REQUEST_LINE", "8190"))
limit_request_field_size = int(os.environ.get("GUNICORN_LIMIT_REQUEST_FIELD_SIZE", "16384"))


def on_starting(server):
    """Prometheus multiprocess mode: start from an empty directory, so counters
    of a previous run (or of dead workers' pids reused) do not leak in."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path:
        directory = Path(path)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
