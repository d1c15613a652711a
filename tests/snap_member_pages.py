"""Not collected by the suite (no test_ prefix): writes 402 portal pages around
the member page (four roles, both languages, full pages and htmx partials,
history pages and filters, refused and successful posts, a tenant on
Asia/Shanghai time, on a frozen clock) into $SNAP_DIR, with the CSRF tokens,
one-time keys and request ids masked, for a byte-for-byte comparison of the
pages before and after a change (bench/README.md, "Member page, 2026-12-01 night"):

    SNAP_DIR=/tmp/before .venv/bin/python -m pytest tests/snap_member_pages.py -p no:logging
    (change the code)
    SNAP_DIR=/tmp/after .venv/bin/python -m pytest tests/snap_member_pages.py -p no:logging
    diff -r /tmp/before /tmp/after
"""
from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.services import clock, ledger, member_card, vip
from tests.conftest import SYSTEM

MASKS = [(re.compile(r'(name="csrf_token" value=")[^"]+'), r"\1CSRF"),
         (re.compile(r'(name="idempotency_key" value=")[^"]+'), r"\1KEY"),
         (re.compile(r"[0-9a-f]{32}"), "HEX32"),
         (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "UUID"),
         (re.compile(r"X-CSRFToken\": \"[^\"]+"), "X-CSRFToken")]


def _mask(html: str) -> str:
    for rx, rep in MASKS:
        html = rx.sub(rep, html)
    return html


def _post(p, url, data, htmx, h):
    data = dict(data)
    headers = dict(h)
    if htmx:
        headers.update({"HX-Request": "true", "X-CSRFToken": p.token})
    else:
        data["csrf_token"] = p.token
    return p.client.post(url, data=data, headers=headers)


def test_snapshot(app, tenant, make_member, actor, make_staff, fast_passwords):
    from tests.conftest import PASSWORD
    from tests.webtools import signed_in

    if "SNAP_DIR" not in os.environ:
        pytest.skip("set SNAP_DIR to the directory the pages go to")
    out = Path(os.environ["SNAP_DIR"])
    out.mkdir(parents=True, exist_ok=True)
    with clock.frozen(datetime(2026, 3, 5, 7, 30, 15, tzinfo=UTC)):
        from app.extensions import db
        from sqlalchemy import text as sql
        db.session.execute(sql("UPDATE tenants SET timezone = 'Asia/Shanghai' WHERE id = :i"),
                           {"i": tenant.id})
        db.session.commit()
        from app import caches
        caches.clear_all()
        make_member(tenant, "alice", display_name="Alice <Liddell> & co", email="a@example.com",
                    phone="+8613800000000")
        make_member(tenant, "bob")
        make_member(tenant, "empty")
        gold = vip.create_tag(tenant.id, SYSTEM, tag_name="Gold", tag_type="vip", rank=2,
                              duration_days=30, points_price=50)
        vip.create_tag(tenant.id, SYSTEM, tag_name="Silver", tag_type="vip", rank=1,
                       duration_days=30)
        db.session.commit()
        ids = []
        for i in range(34):
            clock.advance(timedelta(hours=7, minutes=13, seconds=11))
            cat = ["login", "payment", "referral", "manual"][i % 4]
            if i % 5 == 3:
                o = ledger.spend(tenant.id, actor, user_id="alice", points_amount=3 + i,
                                 category=cat, reason=f"spend <{i}>")
            elif i % 7 == 6:
                o = ledger.adjust(tenant.id, actor, user_id="alice", points_amount=-(i + 1),
                                  reason=f"adjust & {i}", category=cat)
            else:
                o = ledger.earn(tenant.id, actor, user_id="alice", points_amount=291 * i + 7,
                                category=cat, reason=f"earn {i}" if i % 2 else None)
            ids.append(o.transaction.id)
        ledger.reverse(tenant.id, actor, ids[4], reason="oops")
        ledger.earn(tenant.id, actor, user_id="bob", points_amount=5, category="login")
        vip.grant(tenant.id, actor, user_id="alice", tag_id=gold.id)
        member_card.add_note(tenant.id, actor, "alice", "note <one> & two")
        db.session.commit()
        people = signed_in(app, tenant, make_staff, PASSWORD)
        pages = []
        n = 0
        for role, p in people.items():
            for lang in ("en", "zh"):
                h = {"Accept-Language": lang}
                urls = ["/t/acme/members/alice/", "/t/acme/members/bob/", "/t/acme/members/empty/",
                        "/t/acme/members/alice/?kind=earn", "/t/acme/members/alice/?category=login",
                        "/t/acme/members/alice/?kind=spend&category=payment",
                        f"/t/acme/members/alice/?found={ids[10]}",
                        "/t/acme/members/alice/?kind=bogus&cursor=zzz",
                        "/t/acme/", "/t/acme/members/", "/t/acme/members/?q=ali"]
                for u in urls:
                    for htmx in (False, True):
                        r = p.get(u, htmx=htmx, headers=h)
                        pages.append((f"{role}-{lang}-{u}-{htmx}", r))
                # a second history page via the cursor
                first = p.get("/t/acme/members/alice/", htmx=True, headers=h).get_data(as_text=True)
                m = re.search(r'href="([^"]*cursor=[^"#]*)', first)
                if m:
                    u2 = m.group(1).replace("&amp;", "&")
                    for htmx in (False, True):
                        pages.append((f"{role}-{lang}-page2-{htmx}", p.get(u2, htmx=htmx, headers=h)))
                for op in ("earn", "spend", "adjust"):
                    for htmx in (False, True):
                        for data in ({"points_amount": "", "category": ""},
                                     {"points_amount": "abc", "category": "login", "reason": "x<y"},
                                     {"points_amount": "99999999", "category": "login"}):
                            r = _post(p, f"/t/acme/members/alice/{op}", data, htmx, h)
                            pages.append((f"{role}-{lang}-{op}-{htmx}-{data}", r))
                for htmx in (False, True):
                    r = _post(p, "/t/acme/members/alice/notes", {"body": ""}, htmx, h)
                    pages.append((f"{role}-{lang}-note-{htmx}", r))
                    r = _post(p, "/t/acme/members/alice/vip", {"tag_id": ""}, htmx, h)
                    pages.append((f"{role}-{lang}-grant-{htmx}", r))
                    r = p.get(f"/t/acme/members/alice/transactions/{ids[2]}/reverse", htmx=htmx, headers=h)
                    pages.append((f"{role}-{lang}-rev-{htmx}", r))
        owner = people["owner"]
        for lang in ("en", "zh"):
            h = {"Accept-Language": lang}
            for op, amount in (("earn", "12"), ("spend", "3"), ("adjust", "-2")):
                for htmx in (True, False):
                    r = _post(owner, f"/t/acme/members/alice/{op}",
                              {"points_amount": amount, "category": "login", "reason": "ok <b>",
                               "idempotency_key": f"k-{op}-{lang}-{htmx}"}, htmx, h)
                    pages.append((f"ok-{lang}-{op}-{htmx}", r))
            r = _post(owner, f"/t/acme/members/alice/transactions/{ids[1 if lang == 'en' else 3]}/reverse",
                      {"reason": "r", "idempotency_key": f"rev-{lang}"}, True, h)
            pages.append((f"ok-{lang}-reverse", r))
            r = _post(owner, "/t/acme/members/alice/vip",
                      {"tag_id": "2", "idempotency_key": f"vip-{lang}"}, True, h)
            pages.append((f"ok-{lang}-vip", r))
            r = owner.get("/t/acme/members/alice/", headers=h)
            pages.append((f"ok-{lang}-after", r))
        for name, r in pages:
            n += 1
            body = _mask(r.get_data(as_text=True))
            (out / f"{n:04d}.html").write_text(f"{name}\n{r.status_code}\n{body}")
        print("pages", n)
