"""The SQL statements of every API call and portal page must not grow with the data
(issue 5): a count that grows is an N+1, a query per row shown.

One application and one database serve the whole module, because building a
large tenant per test would take minutes. The module's fixture measures every
call on a small tenant, grows every table the pages show several times over
(members, their history, levels, tags, holdings, staff, API clients, audit
rows), measures again, and each parametrised test compares one call's two
counts, so a failure names the route. Each call runs once unmeasured first: the
caches (levels, tags) are warm when it is counted.
"""
from __future__ import annotations

import io
import itertools
import math
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select, text

from app import config, create_app
from app.extensions import cache, db
from app.models import AuditLog, Member
from app.services import (
    api_clients, clock, dashboard, ledger, levels, members, staff, tenants, vip,
)
from app.services.context import Actor
from app.web.members.export_views import EXPORT_PAGE
from tests.api_fixtures import ALL, Api, Credentials, login
from tests.querycount import statements
from tests.webtools import Portal, _FreshContextClient

SYSTEM = Actor(type="system", label="query-counts")
PASSWORD = "correct horse battery"
SLUG = "acme"
T = f"/t/{SLUG}"
API = "/api/v1"
PROFILES = f"{API}/points/profiles/"


# --------------------------------------------------------------------------- the tenant

@dataclass
class World:
    """The tenant under measurement and the clients that call it."""

    tenant_id: int
    portal: Portal
    api: Api
    credentials: Credentials
    tags: dict[str, int]
    levels: dict[str, int]
    first_tx: int
    # Tags a fresh grantee holds before a grant is measured: none while the tenant
    # is small, one of each other type once it is large.
    grantee_tags: list[int] = field(default_factory=list)
    serial: Iterator[int] = field(default_factory=itertools.count)

    def unique(self, prefix: str) -> str:
        return f"{prefix}{next(self.serial)}"

    def fresh_earn(self) -> int:
        """A transaction nobody has reversed yet."""
        outcome = ledger.earn(self.tenant_id, SYSTEM, user_id="alice", points_amount=7,
                              category="login")
        return outcome.transaction.id

    def fresh_grantee(self) -> str:
        user_id = self.unique("grantee")
        members.create(self.tenant_id, SYSTEM, user_id=user_id, display_name="Grantee")
        for tag_id in self.grantee_tags:
            vip.grant(self.tenant_id, SYSTEM, user_id=user_id, tag_id=tag_id)
        return user_id

    def newest_member(self) -> int:
        db.session.rollback()
        return db.session.execute(select(func.max(Member.id)).where(
            Member.tenant_id == self.tenant_id)).scalar_one()

    def newest_of_alice(self) -> int:
        return ledger.transactions_page(self.tenant_id, "alice", page_size=1).items[0].id

    def newest_audit(self) -> int:
        db.session.rollback()
        return db.session.execute(select(func.max(AuditLog.id)).where(
            AuditLog.tenant_id == self.tenant_id)).scalar_one()


def build_small(app: Flask) -> World:
    tenant = tenants.create(SLUG, "Acme Rewards", SYSTEM)
    tid = tenant.id
    level_ids = {
        "bronze": levels.create(tid, SYSTEM, level_name="Bronze", min_points=0).id,
        "silver": levels.create(tid, SYSTEM, level_name="Silver", min_points=1000).id,
    }
    tag_ids = {
        "silver": vip.create_tag(tid, SYSTEM, tag_name="VIP Silver", tag_type="vip", rank=1,
                                 duration_days=30, points_price=50).id,
        "gold": vip.create_tag(tid, SYSTEM, tag_name="VIP Gold", tag_type="vip", rank=2,
                               duration_days=30).id,
    }
    for user_id in ("alice", "bob", "carol"):
        members.create(tid, SYSTEM, user_id=user_id, display_name=f"{user_id.title()} Member",
                       email=f"{user_id}@example.com")
    # A spend reads lots soonest-expiring first until it has enough and sees one
    # more lot; when there is none, it asks for never-expiring ones too. Alice has
    # two expiring lots from the start, so her spends read the same in both states.
    later = (clock.now() + timedelta(days=20)).isoformat()
    first = ledger.earn(tid, SYSTEM, user_id="alice", points_amount=5000, category="login",
                        expires_at=later)
    ledger.earn(tid, SYSTEM, user_id="alice", points_amount=5, category="login",
                expires_at=later)
    ledger.earn(tid, SYSTEM, user_id="bob", points_amount=30, category="referral")
    ledger.spend(tid, SYSTEM, user_id="alice", points_amount=10, category="payment")
    ledger.reverse(tid, SYSTEM, ledger.earn(tid, SYSTEM, user_id="alice", points_amount=3,
                                            category="login").transaction.id, reason="oops")
    vip.grant(tid, SYSTEM, user_id="alice", tag_id=tag_ids["silver"])
    vip.grant(tid, SYSTEM, user_id="bob", tag_id=tag_ids["gold"])
    owner = staff.create_or_add_role(tid, SYSTEM, email="owner@acme.test", role="owner",
                                     password=PASSWORD)
    staff.create_or_add_role(tid, SYSTEM, email="viewer@acme.test", role="viewer",
                             password=PASSWORD)
    issued = api_clients.create(tid, SYSTEM, name="integration", permissions=ALL)
    credentials = Credentials(issued.client.client_id, issued.client_secret, issued.client.id)

    portal = Portal(app.test_client())
    portal.login(owner.email, PASSWORD)
    assert portal.token, "the owner could not sign in"
    api = login(_FreshContextClient(app.test_client()), credentials)  # type: ignore[arg-type]
    return World(tid, portal, api, credentials, tag_ids, level_ids, first.transaction.id)


GROWN_MEMBERS = 120  # over one page of the list (25), the API (50) and the export (100)
HISTORY_OF_ALICE = 60  # over a page of history (25 in the portal, 50 in the API)


def grow(w: World) -> None:
    """Several times more of everything the pages list."""
    tid = w.tenant_id
    # Ten of each: their rows (a link each, since deleting asks on a page of its
    # own) must still make the grown pages clearly larger than the small ones.
    for k in range(1, 11):
        w.levels[f"level{k}"] = levels.create(tid, SYSTEM, level_name=f"Level {k}",
                                              min_points=k * 40).id
    perks = [vip.create_tag(tid, SYSTEM, tag_name=f"Perk {k}", tag_type=f"perk{k}", rank=1,
                            duration_days=5).id for k in range(10)]
    w.tags.update({f"perk{k}": tag_id for k, tag_id in enumerate(perks)})
    grown = [f"member{i:03d}" for i in range(GROWN_MEMBERS)]
    for user_id in grown:
        members.create(tid, SYSTEM, user_id=user_id, display_name=f"Grown Member {user_id}",
                       email=f"{user_id}@example.com")
    soon = clock.now() + timedelta(days=10)
    categories = ("login", "referral", "community", "payment")
    items = [ledger.EarnItem(user_id="alice", points_amount=5 + i,
                             category=categories[i % len(categories)],
                             expires_at=soon.isoformat() if i % 2 else None)
             for i in range(HISTORY_OF_ALICE)]
    # Lifetimes of 5, 205 and 405 points: a third of the members on each of three levels.
    items += [ledger.EarnItem(user_id=user_id, points_amount=1 + (i % 3) * 40,
                              category=categories[n % len(categories)],
                              expires_at=soon.isoformat())
              for n in range(5) for i, user_id in enumerate(grown)]
    ledger.batch_earn(tid, SYSTEM, items)
    for _ in range(4):
        ledger.spend(tid, SYSTEM, user_id="alice", points_amount=2, category="payment")
        ledger.reverse(tid, SYSTEM, w.fresh_earn(), reason="duplicate")
    ledger.adjust(tid, SYSTEM, user_id="alice", points_amount=-1, reason="rounding")
    for tag_id in perks:
        vip.grant(tid, SYSTEM, user_id="alice", tag_id=tag_id)
    for n, user_id in enumerate(grown[-40:]):
        for tag_id in (perks[n % 6], perks[(n + 1) % 6], w.tags["gold"]):
            vip.grant(tid, SYSTEM, user_id=user_id, tag_id=tag_id)
    for k in range(12):
        staff.create_or_add_role(tid, SYSTEM, email=f"staff{k}@acme.test",
                                 role=("admin", "support", "viewer")[k % 3], password=PASSWORD)
    for k in range(10):
        api_clients.create(tid, SYSTEM, name=f"client {k}", permissions=ALL)
    w.grantee_tags = perks
    db.session.remove()


# --------------------------------------------------------------------------- the calls

Request = Callable[[], Any]


@dataclass(frozen=True)
class Call:
    name: str
    # Prepares what the call needs (outside the count) and returns the request.
    prepare: Callable[[World], Request]
    status: int = 200
    # A streamed answer (the CSV export) reads the data page by page: how many pages
    # it read, and the statements each page costs.
    pages: Callable[[Any], int] | None = None
    per_page: int = 0
    # A list: its answer must be much bigger once the tenant is (a full page has its fixed
    # parts too), or the comparison proves nothing.
    lists: bool = False


def _url(value: str | Callable[[World], str], w: World) -> str:
    return value(w) if callable(value) else value


def api_get(name: str, path: str | Callable[[World], str], lists: bool = False) -> Call:
    def prepare(w: World) -> Request:
        url = _url(path, w)
        return lambda: w.api.get(url)
    return Call(name, prepare, lists=lists)


def api_post(name: str, path: str | Callable[[World], str],
             body: Callable[[World], dict[str, Any]], status: int = 201,
             headers: Callable[[World], dict[str, str]] | None = None) -> Call:
    def prepare(w: World) -> Request:
        url, data = _url(path, w), body(w)
        extra = headers(w) if headers else None
        return lambda: w.api.post(url, json=data, headers=extra)
    return Call(name, prepare, status)


def page(name: str, path: str | Callable[[World], str], htmx: bool = False,
         status: int = 200, lists: bool = False) -> Call:
    def prepare(w: World) -> Request:
        url = _url(path, w)
        return lambda: w.portal.get(url, htmx=htmx)
    return Call(name, prepare, status, lists=lists)


def form(name: str, path: str | Callable[[World], str], data: Callable[[World], dict[str, Any]],
         htmx: bool = True, status: int = 200) -> Call:
    def prepare(w: World) -> Request:
        url, fields = _url(path, w), data(w)
        if any(isinstance(v, tuple) for v in fields.values()):
            return lambda: w.portal.post(url, fields, htmx=htmx,
                                         content_type="multipart/form-data")
        return lambda: w.portal.post(url, fields, htmx=htmx)
    return Call(name, prepare, status)


def _fresh_login(w: World) -> Request:
    refresh = login(w.api.client, w.credentials).refresh_token
    return lambda: w.api.client.post(f"{API}/auth/refresh/", json={"refresh_token": refresh})


def _export_pages(response: Any) -> int:
    rows = response.get_data(as_text=True).count("\n") - 1  # less the header
    return max(1, math.ceil(rows / EXPORT_PAGE))


def _csv(w: World) -> tuple[io.BytesIO, str]:
    return (io.BytesIO(b"user_id,points_amount,category,reason\n"
                       b"alice,4,login,a\nbob,5,referral,b\ncarol,6,login,c\n"), "earn.csv")


BATCH = "user_id,points_amount,category,reason\nalice,4,login,a\nbob,5,referral,b\n"
EARN = {"user_id": "alice", "points_amount": 3, "category": "login"}


def _today(w: World) -> str:
    return clock.now().date().isoformat()


# The portal's pages come first: the small tenant's audit trail is still short then.
def _dashboard_rebuilt(w: World) -> Request:
    """The dashboard with no cached copy: the page built from the database."""
    def request() -> Any:
        cache.delete(dashboard.cache_key(w.tenant_id))
        return w.portal.get(f"{T}/")
    return request


CALLS: list[Call] = [
    # ----------------------------------------------------------------- portal pages
    page("home", "/", status=302),
    page("dashboard", f"{T}/"),  # its cached copy, checked against the database
    Call("dashboard rebuilt", _dashboard_rebuilt),
    page("members", f"{T}/members/", lists=True),
    page("members live search", f"{T}/members/?q=member", htmx=True, lists=True),
    page("members filtered", lambda w: f"{T}/members/?level={w.levels['bronze']}"
         f"&tag={w.tags['gold']}", lists=True),
    page("members load more", lambda w: f"{T}/members/"
         f"?cursor={members.encode_cursor(w.newest_member())}", htmx=True, lists=True),
    Call("members export", lambda w: lambda: w.portal.get(f"{T}/members/export.csv"),
         # a page of members and their tags
         pages=_export_pages, per_page=2, lists=True),
    page("member", f"{T}/members/alice/", lists=True),
    page("member history filtered", f"{T}/members/alice/?kind=earn&category=login",
         htmx=True, lists=True),
    page("member history next page", lambda w: f"{T}/members/alice/"
         f"?cursor={members.encode_cursor(w.newest_of_alice())}", htmx=True, lists=True),
    page("reverse confirmation", lambda w: f"{T}/members/alice/transactions/{w.first_tx}/reverse"),
    page("reverse panel closed", f"{T}/members/alice/reverse-panel", htmx=True),
    page("grant form", f"{T}/members/alice/vip", htmx=True),
    page("vip catalogue", f"{T}/vip-tags/", lists=True),
    page("vip tag edit", lambda w: f"{T}/vip-tags/{w.tags['gold']}/edit"),
    page("levels", f"{T}/levels/", lists=True),
    page("level edit", lambda w: f"{T}/levels/{w.levels['silver']}/edit"),
    page("settings", f"{T}/settings"),
    page("staff", f"{T}/staff/", lists=True),
    page("api clients", f"{T}/api-clients/", lists=True),
    page("audit", f"{T}/audit/", lists=True),
    page("audit filtered", lambda w: f"{T}/audit/?actor=query&action=vip_tag.&target_type="
         f"member&date_from={_today(w)}&date_to={_today(w)}", lists=True),
    page("audit next page", lambda w: f"{T}/audit/"
         f"?cursor={members.encode_cursor(w.newest_audit())}", htmx=True, lists=True),
    page("batch upload", f"{T}/batch-earn/"),
    page("error codes", "/docs/errors/"),
    page("error code", "/docs/errors/INSUFFICIENT_POINTS"),
    page("health", "/core/health/"),
    page("metrics", "/metrics"),
    # ----------------------------------------------------------------- API reads
    api_get("api list profiles", f"{PROFILES}?page_size=50", lists=True),
    api_get("api list profiles q", f"{PROFILES}?q=member&page_size=50", lists=True),
    api_get("api list profiles level",
            lambda w: f"{PROFILES}?level={w.levels['bronze']}&page_size=50", lists=True),
    api_get("api list profiles fields",
            f"{PROFILES}?fields=user_id,current_level,tags&page_size=50", lists=True),
    api_get("api list profiles next page", lambda w: f"{PROFILES}?page_size=50"
            f"&cursor={members.encode_cursor(w.newest_member())}", lists=True),
    api_get("api profile", f"{PROFILES}alice/", lists=True),
    api_get("api profile fields",
            f"{PROFILES}alice/?fields=user_id,total_points,current_level,tags", lists=True),
    api_get("api transactions", f"{PROFILES}alice/transactions/?page_size=50", lists=True),
    api_get("api transactions filtered",
            f"{PROFILES}alice/transactions/?kind=earn&category=login&page_size=50", lists=True),
    api_get("api transactions next page", lambda w: f"{PROFILES}alice/transactions/"
            f"?page_size=50&cursor={members.encode_cursor(w.newest_of_alice())}", lists=True),
    api_get("api user levels", f"{API}/points/user-levels/", lists=True),
    api_get("api vip tags", f"{API}/vip/tags/", lists=True),
    api_get("api openapi", f"{API}/openapi.json"),
    # ----------------------------------------------------------------- API writes
    Call("api token", lambda w: lambda: w.api.client.post(
        f"{API}/auth/token/", json={"client_id": w.credentials.client_id,
                                    "client_secret": w.credentials.client_secret})),
    Call("api refresh", _fresh_login),
    api_post("api earn", f"{API}/points/earn/", lambda w: EARN),
    api_post("api earn keyed", f"{API}/points/earn/", lambda w: EARN,
             headers=lambda w: {"Idempotency-Key": w.unique("key")}),
    api_post("api spend", f"{API}/points/spend/",
             lambda w: {**EARN, "category": "payment"}),
    api_post("api adjust", f"{API}/points/adjust/",
             lambda w: {"user_id": "alice", "points_amount": -2, "reason": "fix"}),
    api_post("api reverse", lambda w: f"{API}/points/transactions/{w.fresh_earn()}/reverse/",
             lambda w: {"reason": "duplicate"}),
    api_post("api batch earn", f"{API}/points/batch-earn/", lambda w: {"operations": [
        {**EARN, "user_id": u} for u in ("alice", "bob", "carol", "alice", "bob")]}),
    api_post("api grant vip tag",
             lambda w: f"{PROFILES}{w.fresh_grantee()}/vip-tags/",
             lambda w: {"tag_id": w.tags["gold"]}),
    api_post("api create profile", PROFILES,
             lambda w: {"user_id": w.unique("new"), "display_name": "New",
                        "email": "new@example.com"}),
    # ----------------------------------------------------------------- portal writes
    form("earn form", f"{T}/members/alice/earn",
         lambda w: {"points_amount": "5", "category": "login"}),
    form("earn form without htmx", f"{T}/members/alice/earn",
         lambda w: {"points_amount": "5", "category": "login"}, htmx=False, status=302),
    form("spend form", f"{T}/members/alice/spend",
         lambda w: {"points_amount": "2", "category": "payment"}),
    form("adjust form", f"{T}/members/alice/adjust",
         lambda w: {"points_amount": "-1", "category": "manual", "reason": "fix"}),
    form("reverse form", lambda w: f"{T}/members/alice/transactions/{w.fresh_earn()}/reverse",
         lambda w: {"reason": "duplicate"}),
    form("grant form submit", lambda w: f"{T}/members/{w.fresh_grantee()}/vip",
         lambda w: {"tag_id": str(w.tags["gold"])}),
    form("batch preview", f"{T}/batch-earn/", lambda w: {"file": _csv(w)}),
    form("batch confirm", f"{T}/batch-earn/confirm", lambda w: {"csv_text": BATCH},
         htmx=False, status=302),
]


# --------------------------------------------------------------------------- measuring

@dataclass
class Measured:
    status: int
    statements: list[str]
    pages: int
    size: int  # of the answer's body

    @property
    def count(self) -> int:
        return len(self.statements)


def measure(w: World, call: Call) -> Measured:
    warm = call.prepare(w)
    db.session.remove()  # end the preparation's transaction: SQLite would lock the request out
    response = warm()
    assert response.status_code == call.status, (call.name, response.status_code)
    request = call.prepare(w)
    db.session.remove()
    with statements() as seen:
        response = request()
    return Measured(response.status_code, list(seen),
                    call.pages(response) if call.pages else 1, len(response.get_data()))


def _database(backend: str, template: Any, directory: Any) -> str:
    """A database of the module's own, made like conftest's `database_url`."""
    if backend == "sqlite":
        path = directory / "jifen.db"
        shutil.copyfile(template, path)
        return f"sqlite:///{path}"
    url = template["url"]
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE TABLE " + ", ".join(template["tables"])
                          + " RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def counts(db_backend, _database_template, tmp_path_factory) -> Iterator[dict[str, Any]]:
    """Every call measured on the small tenant, then on the grown one."""
    from argon2 import PasswordHasher

    from app.services import crypto

    url = _database(db_backend, _database_template, tmp_path_factory.mktemp("qcount"))
    settings = config.TestingConfig(url)
    # Time-limited per-process caches must not run out between a call's warm-up and
    # its measurement (on a slow machine one did, and the count grew by a lookup).
    settings.MAINTENANCE_CACHE_SECONDS = settings.METRICS_DATA_CACHE_SECONDS = 3600
    app = create_app(settings)
    with pytest.MonkeyPatch.context() as patch, app.app_context():
        patch.setattr(dashboard, "CACHE_SECONDS", 3600)
        # Argon2 at its cheapest: the staff grown here sign in to nothing.
        patch.setattr(crypto, "_hasher", PasswordHasher(time_cost=1, memory_cost=8,
                                                        parallelism=1))
        world = build_small(app)
        results: dict[str, Any] = {}
        for call in CALLS:
            results[call.name] = [_attempt(world, call)]
        grow(world)
        for call in CALLS:
            results[call.name].append(_attempt(world, call))
        yield results
        db.session.remove()
        db.engine.dispose()


def _attempt(w: World, call: Call) -> Measured | BaseException:
    """A call that fails fails its own test, not the whole module."""
    try:
        return measure(w, call)
    except Exception as exc:  # noqa: BLE001
        db.session.rollback()
        return exc


def _show(statements: list[str]) -> str:
    return "\n".join(f"  {' '.join(s.split())[:160]}" for s in statements)


@pytest.mark.parametrize("name", [c.name for c in CALLS])
def test_statement_count_does_not_grow_with_the_data(counts, name):
    call = next(c for c in CALLS if c.name == name)
    small, large = counts[name]
    for measured in (small, large):
        if isinstance(measured, BaseException):
            raise measured
        assert measured.status == call.status, (name, measured.status)
    if call.lists:
        assert large.size > 1.4 * small.size, f"{name}: the grown tenant does not show on it"
    fixed_small = small.count - call.per_page * small.pages
    fixed_large = large.count - call.per_page * large.pages
    assert fixed_large == fixed_small, (
        f"{name}: {small.count} statements with a small tenant, {large.count} with a large "
        f"one{f' ({small.pages} and {large.pages} pages)' if call.pages else ''}; "
        f"the small one sent:\n{_show(small.statements)}\nthe large one sent:\n"
        f"{_show(large.statements)}")
