"""The CLI: seed-demo (and the invariants of what it made), one-line errors,
`points expire` and `points verify`."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from app.extensions import db
from app.models import CATEGORIES, Level, Member, MemberTag, PointLot, PointTransaction
from app.services import clock, ledger, members, tenants, vip
from tests.ledger_invariants import assert_consistent


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()

    def invoke(*args: str, **kwargs):
        result = runner.invoke(args=list(args), **kwargs)
        db.session.rollback()
        return result

    return invoke


def one_line_error(result) -> str:
    assert result.exit_code != 0
    assert "Traceback" not in result.output and result.exception is None or \
        isinstance(result.exception, SystemExit)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: ")
    return lines[0]


def test_seed_demo_builds_a_demo_tenant_whose_ledger_is_consistent(cli):
    result = cli("seed-demo", "--members", "40")
    assert result.exit_code == 0, result.output
    assert "owner@demo.jifen.test" in result.output
    demo = tenants.get_by_slug("demo")
    assert db.session.execute(select(func.count()).select_from(Member)
                              .where(Member.tenant_id == demo.id)).scalar_one() == 40
    used = set(db.session.execute(select(PointTransaction.category).distinct()).scalars())
    assert used == set(CATEGORIES)
    kinds = set(db.session.execute(select(PointTransaction.kind).distinct()).scalars())
    assert {"earn", "spend", "adjust", "reversal"} <= kinds
    populated = db.session.execute(select(func.count(func.distinct(Member.level_id)))
                                   .where(Member.tenant_id == demo.id)).scalar_one()
    assert populated == db.session.execute(select(func.count()).select_from(Level)).scalar_one()
    soon = clock.now() + timedelta(days=30)
    assert db.session.execute(select(func.count()).select_from(PointLot).where(
        PointLot.remaining > 0, PointLot.expires_at < soon)).scalar_one() > 0
    holder = db.session.execute(select(Member.user_id).join(MemberTag, MemberTag.member_id
                                                            == Member.id)
                                .where(MemberTag.ended_at.is_(None))
                                .order_by(Member.id)).scalars().first()
    gold = next(t for t in vip.list_tags(demo.id) if t.tag_name.startswith("VIP Gold"))
    preview = vip.preview_conflict(demo.id, holder, gold.id)
    assert preview is not None and "upgrade_existing" in preview.options
    assert demo.timezone == "Asia/Shanghai"
    from app.models import EventAward, ProgrammeEvent
    from app.services import programme

    assert {r.award_type for r in programme.list_rules(demo.id)} == {
        "fixed", "per_amount", "multiplier"}
    assert db.session.execute(select(func.count()).select_from(ProgrammeEvent)).scalar_one() > 50
    statuses = set(db.session.execute(select(EventAward.status).distinct()).scalars())
    assert {"available", "pending"} <= statuses
    assert_consistent()
    assert cli("points", "verify").output.strip() == "ledger consistent"
    again = cli("seed-demo", "--if-empty", "--host", "0.0.0.0", "--port", "8080")
    assert again.exit_code == 0 and "exists; nothing done" in again.output
    # Every later `make run` prints where and as whom to sign in, as the first did.
    for output, url in ((result.output, "http://127.0.0.1:5000/login"),
                        (again.output, "http://127.0.0.1:8080/login")):
        assert f"sign in at {url} as owner@demo.jifen.test / jifen-demo-owner" in output
        for role in ("admin", "support", "viewer"):
            assert f"{role}: {role}@demo.jifen.test / jifen-demo-owner" in output


def test_the_sign_in_address_is_one_a_browser_can_open():
    from app.cli.demo import sign_in_url

    assert sign_in_url("127.0.0.1", 5000) == "http://127.0.0.1:5000/login"
    assert sign_in_url("0.0.0.0", 8080) == "http://127.0.0.1:8080/login"
    assert sign_in_url("::", 8080) == "http://[::1]:8080/login"
    assert sign_in_url("192.168.1.20", 80) == "http://192.168.1.20:80/login"
    assert sign_in_url("localhost", 5001) == "http://localhost:5001/login"


def test_a_database_with_other_tenants_still_gets_the_sign_in_address(cli):
    cli("tenant", "create", "shop", "--name", "Shop")
    result = cli("seed-demo", "--if-empty", "--port", "5050")
    assert result.exit_code == 0 and "no demo data loaded" in result.output
    assert "sign in at http://127.0.0.1:5050/login" in result.output


def test_tenant_create_and_its_errors(cli):
    ok = cli("tenant", "create", "shop", "--name", "Shop", "--expiry-days", "30")
    assert ok.exit_code == 0 and ok.output.startswith("created tenant shop (id ")
    assert tenants.get_by_slug("shop").default_expiry_days == 30
    assert "slug" in one_line_error(cli("tenant", "create", "Bad Slug!", "--name", "X"))
    assert "slug" in one_line_error(cli("tenant", "create", "shop", "--name", "Again"))
    one_line_error(cli("tenant", "create", "other", "--name", "X", "--max-points", "0"))


def test_staff_create_and_its_errors(cli, tenant):
    ok = cli("staff", "create", "--tenant", "acme", "--email", "ops@acme.test", "--role",
             "admin", "--password-stdin", input="a long passphrase here\n")
    assert ok.exit_code == 0, ok.output
    assert ok.output.strip() == "ops@acme.test is admin of acme"
    line = one_line_error(cli("staff", "create", "--tenant", "nope", "--email", "x@y.test",
                              "--role", "admin", "--password-stdin", input="whatever pass 1\n"))
    assert "nope" in line
    line = one_line_error(cli("staff", "create", "--tenant", "acme", "--email", "new@acme.test",
                              "--role", "admin", "--password-stdin", input="short\n"))
    assert "password" in line


def test_api_client_create_prints_the_secret_once(cli, tenant):
    result = cli("api-client", "create", "--tenant", "acme", "--name", "shop",
                 "--permissions", "can_view_points,can_earn_points", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["client_id"].startswith("jf_") and payload["client_secret"]
    assert payload["permissions"] == ["can_view_points", "can_earn_points"]
    one_line_error(cli("api-client", "create", "--tenant", "acme", "--name", "x",
                       "--permissions", "root"))


def test_points_expire_reports_lots_points_members_and_tags(cli, tenant, make_member, actor):
    make_member(tenant, "alice")
    make_member(tenant, "bob")
    with clock.frozen(clock.now() - timedelta(days=3)):
        for user, amount in (("alice", 10), ("alice", 5), ("bob", 7)):
            ledger.earn(tenant.id, actor, user_id=user, points_amount=amount, category="login",
                        expires_at=(clock.now() + timedelta(days=1)).isoformat())
        tag = vip.create_tag(tenant.id, actor, tag_name="T", tag_type="vip", rank=1,
                             duration_days=1)
        vip.grant(tenant.id, actor, user_id="bob", tag_id=tag.id)
    ledger.earn(tenant.id, actor, user_id="alice", points_amount=3, category="login")
    result = cli("points", "expire", "--tenant", "acme", "--batch-size", "1")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "expired 3 lots (22 points) of 2 members; 1 VIP tags ended"
    assert members.get_profile(tenant.id, "alice").total_points == 3
    assert cli("points", "expire").stdout.strip() == (
        "expired 0 lots (0 points) of 0 members; 0 VIP tags ended")
    one_line_error(cli("points", "expire", "--tenant", "nope"))
    assert_consistent()


def test_dashboard_roll_up_stores_the_closed_days(cli, tenant, other_tenant, clk):
    # At noon (the frozen clock): in the first minutes after midnight, yesterday
    # is not closed yet and the window holds one day fewer.
    from app.models import DailyStat
    from app.services import dashboard

    assert cli("dashboard", "roll-up", "--tenant", "acme").stdout.strip() == (
        f"rolled up {max(dashboard.CHART_DAYS)} days")
    assert cli("dashboard", "roll-up").stdout.strip() == (
        f"rolled up {max(dashboard.CHART_DAYS)} days")  # globex's; acme's are stored already
    assert cli("dashboard", "roll-up").stdout.strip() == "rolled up 0 days"
    assert db.session.execute(select(func.count()).select_from(DailyStat)).scalar_one() == \
        2 * max(dashboard.CHART_DAYS)
    one_line_error(cli("dashboard", "roll-up", "--tenant", "nope"))


def test_points_verify_reports_a_broken_ledger(cli, tenant, make_member, actor):
    make_member(tenant, "alice")
    ledger.earn(tenant.id, actor, user_id="alice", points_amount=10, category="login")
    assert cli("points", "verify", "--tenant", "acme").exit_code == 0
    # A forged entry: inserting is the one thing the append-only tables allow.
    db.session.execute(text(
        "INSERT INTO point_transactions (tenant_id, member_id, kind, amount, balance_after,"
        " category, reason, actor_type, actor_label, created_at)"
        " SELECT tenant_id, id, 'adjust', 5, 99, 'manual', '', 'system', '', created_at"
        " FROM members"))
    db.session.commit()
    result = cli("points", "verify")
    assert result.exit_code == 1
    assert "member alice: balance 10 != ledger sum 15" in result.output
    assert result.output.strip().endswith("Error: 3 ledger problems")
