"""Progress lines for long CLI runs: redrawn in place on a terminal, a plain line
every few seconds otherwise (cron mail and log collectors stay readable)."""
from __future__ import annotations

import sys
import time

import click


class ProgressPrinter:
    def __init__(self, every: float | None = None, force: bool = False) -> None:
        self.interactive = sys.stderr.isatty()
        self.every = every if every is not None else (0.2 if self.interactive else 10.0)
        self.force = force
        self.last = 0.0
        self.dirty = False

    def __call__(self, stage: str, done: int, total: int | None = None) -> None:
        now = time.monotonic()
        if not self.force and now - self.last < self.every:
            return
        self.last = now
        text = f"{stage}: {done}" + (f"/{total}" if total else "")
        if total:
            text += f" ({min(100, done * 100 // max(total, 1))}%)"
        if self.interactive and not self.force:
            click.echo(f"\r  {text}   ", nl=False, err=True)
            self.dirty = True
        else:
            click.echo(f"  {text}", err=True)

    def done(self) -> None:
        if self.dirty:
            click.echo("", err=True)
            self.dirty = False
