"""`flask --app wsgi worker`: the background consumer (webhook delivery and the
scheduled jobs), with the app's configuration."""
from __future__ import annotations

import click
from flask import current_app


@click.command("worker")
@click.option("--threads", type=click.IntRange(1, 256), default=None,
              help="Worker threads (default WORKER_THREADS, 16): endpoints sent to in parallel.")
@click.option("--no-scheduler", is_flag=True,
              help="Deliver only; leave the scheduled jobs to another worker (every worker "
                   "with a scheduler enqueues them: safe, but repeated work).")
def worker(threads: int | None, no_scheduler: bool) -> None:
    """Run the task consumer until interrupted (Ctrl-C or SIGTERM)."""
    from app.tasks import run_worker

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    click.echo(f"worker: queue {app.config['TASK_QUEUE'].split('@')[-1]}, "
               f"{threads or app.config['WORKER_THREADS']} threads")
    run_worker(app, threads or app.config["WORKER_THREADS"], scheduler=not no_scheduler)
