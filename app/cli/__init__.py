"""Flask CLI commands (`flask --app wsgi ...`). Errors are one line and a non-zero exit."""
from __future__ import annotations

import functools
import json
import sys
from typing import Any
from collections.abc import Callable

import click
from flask import Flask
from flask.cli import AppGroup

from app.services.context import Actor
from app.services.errors import DomainError

CLI_ACTOR = Actor(type="system", label="cli")


def describe(exc: DomainError) -> str:
    parts = [exc.text()]
    for field, messages in (exc.details.get("field_errors") or {}).items():
        parts.append(f"{field}: {' '.join(str(m) for m in messages)}")
    return "; ".join(parts)


def friendly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn domain errors into `Error: ...` and exit status 1."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except DomainError as exc:
            raise click.ClickException(describe(exc)) from None
    return wrapper


def require_tenant(slug: str):
    from app.services import tenants

    tenant = tenants.get_by_slug(slug)
    if tenant is None:
        raise click.ClickException(f"no tenant with slug {slug!r}")
    return tenant


tenant_cli = AppGroup("tenant", help="Manage tenants.")
staff_cli = AppGroup("staff", help="Manage staff users.")
api_client_cli = AppGroup("api-client", help="Manage integration credentials.")
points_cli = AppGroup("points", help="Points maintenance.")


@tenant_cli.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="Display name of the programme.")
@click.option("--max-points", type=int, default=10000, show_default=True,
              help="Maximum points per operation.")
@click.option("--expiry-days", type=int, default=None, help="Default expiry of earned points.")
@friendly
def tenant_create(slug: str, name: str, max_points: int, expiry_days: int | None) -> None:
    """Create a tenant."""
    from app.services import tenants

    tenant = tenants.create(slug, name, CLI_ACTOR, max_points_per_operation=max_points,
                            default_expiry_days=expiry_days)
    click.echo(f"created tenant {tenant.slug} (id {tenant.id})")


@staff_cli.command("create")
@click.option("--tenant", "slug", required=True)
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(["owner", "admin", "support", "viewer"]))
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--name", "display_name", default="", help="Display name.")
@friendly
def staff_create(slug: str, email: str, role: str, password_stdin: bool, display_name: str) -> None:
    """Create a staff user, or add a role in another tenant to an existing one."""
    from app.services import staff

    tenant = require_tenant(slug)
    password = None
    if staff.find_by_email(email) is None:
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    user = staff.create_or_add_role(tenant.id, CLI_ACTOR, email=email, role=role,
                                    password=password, display_name=display_name)
    click.echo(f"{user.email} is {role} of {tenant.slug}")


@api_client_cli.command("create")
@click.option("--tenant", "slug", required=True)
@click.option("--name", required=True)
@click.option("--permissions", required=True, help="Comma-separated, e.g. can_view_points,can_earn_points")
@click.option("--rate-limit", default=None, help="Points-operation limit, e.g. 20000/hour.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@friendly
def api_client_create(slug: str, name: str, permissions: str, rate_limit: str | None,
                      as_json: bool) -> None:
    """Create integration credentials; the secret is printed once."""
    from app.services import api_clients

    tenant = require_tenant(slug)
    issued = api_clients.create(tenant.id, CLI_ACTOR, name=name, permissions=permissions,
                                rate_limit=rate_limit)
    payload = {"client_id": issued.client.client_id, "client_secret": issued.client_secret,
               "tenant": tenant.slug, "permissions": issued.client.permission_list,
               "rate_limit": issued.client.rate_limit}
    if as_json:
        click.echo(json.dumps(payload))
    else:
        click.echo(f"client_id:     {payload['client_id']}")
        click.echo(f"client_secret: {payload['client_secret']}")
        click.echo("Store the secret now: it is not shown again.")


@points_cli.command("expire")
@click.option("--tenant", "slug", default=None, help="Only this tenant.")
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 10000))
@click.option("--progress", "show_progress", is_flag=True,
              help="A progress line after every batch (default: live on a terminal, "
                   "every 10 s otherwise).")
@friendly
def points_expire(slug: str | None, batch_size: int, show_progress: bool) -> None:
    """Expire due lots and VIP tags. Safe to run while another run is going."""
    from app.cli.progress import ProgressPrinter
    from app.services import ledger, vip

    tenant_id = require_tenant(slug).id if slug else None
    printer = ProgressPrinter(force=show_progress)

    def progress(report) -> None:
        printer(f"expired lots ({report.points} points, {report.members} members)", report.lots)

    report = ledger.expire_due(tenant_id=tenant_id, batch_size=batch_size, progress=progress)
    printer.done()
    tags = vip.expire_tags(tenant_id=tenant_id)
    click.echo(f"expired {report.lots} lots ({report.points} points) of {report.members} "
               f"members; {tags} VIP tags ended")


@points_cli.command("activate")
@click.option("--tenant", "slug", default=None, help="Only this tenant.")
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 10000))
@friendly
def points_activate(slug: str | None, batch_size: int) -> None:
    """Turn due pending awards into earns. Safe to run while another run, or API
    traffic, is going: each batch locks its members first."""
    from app.services import programme

    tenant_id = require_tenant(slug).id if slug else None
    report = programme.activate_due(tenant_id, batch_size=batch_size)
    click.echo(f"activated {report.awards} pending awards ({report.points} points) of "
               f"{report.members} members")


@points_cli.command("verify")
@click.option("--tenant", "slug", default=None, help="Only this tenant.")
def points_verify(slug: str | None) -> None:
    """Recompute balances, lots, lifetime and pending points from the ledger; exit 1 on a
    mismatch."""
    from app.services import ledger_check

    tenant_id = require_tenant(slug).id if slug else None
    problems = ledger_check.verify(tenant_id)
    for problem in problems[:50]:
        click.echo(problem, err=True)
    if problems:
        raise click.ClickException(f"{len(problems)} ledger problems")
    click.echo("ledger consistent")


def register(app: Flask) -> None:
    from app.cli.demo import seed_demo

    for group in (tenant_cli, staff_cli, api_client_cli, points_cli):
        app.cli.add_command(group)
    app.cli.add_command(seed_demo)
    register_operations(app)
    register_idempotency(app)
    register_worker(app)


def register_operations(app: Flask) -> None:
    from app.cli import backup, dashboard, keys, maintenance

    for module in (backup, dashboard, keys, maintenance):
        app.cli.add_command(module.cli)


def register_idempotency(app: Flask) -> None:
    from app.cli.idempotency import idempotency_cli

    app.cli.add_command(idempotency_cli)


def register_worker(app: Flask) -> None:
    from app.cli.worker import worker

    app.cli.add_command(worker)
