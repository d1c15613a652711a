"""`flask seed-demo`: a demo tenant worth looking at, built through the services
(so its ledger obeys every rule a real one does)."""
from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta, UTC
from zoneinfo import ZoneInfo

import click
from sqlalchemy import select

from app.extensions import db
from app.models import Tenant

from app.services import clock, ledger, levels, members, programme, staff, tenants, vip
from app.services.context import Actor
from app.services.errors import DomainError

DEMO_SLUG = "demo"
OWNER_EMAIL = "owner@demo.jifen.test"
OWNER_PASSWORD = "jifen-demo-owner"
OTHER_STAFF = (("admin@demo.jifen.test", "admin"), ("support@demo.jifen.test", "support"),
               ("viewer@demo.jifen.test", "viewer"))
MEMBER_COUNT = 200

SURNAMES = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "林", "罗", "高"]
GIVEN = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀兰", "霞", "平", "刚", "桂英", "婷", "雪", "浩", "宇", "欣怡", "子涵", "梓萱"]
FIRST = ["Emma", "Liam", "Olivia", "Noah", "Ava", "Mateo", "Sophia", "Lucas", "Mia", "Ethan", "Amelia", "Leo", "Chloe", "Hugo", "Zoe", "Aarav", "Priya", "Yuki", "Hana", "Kenji", "Sofia", "Diego", "Lena", "Jonas", "Nora", "Omar", "Layla", "Finn", "Ines", "Theo"]
LAST = ["Smith", "Müller", "García", "Rossi", "Dubois", "Tanaka", "Kim", "Nguyen", "Silva", "Kowalski", "Jensen", "Novak", "O'Brien", "Haddad", "Okafor", "Fischer", "Martin", "Costa", "Ivanova", "Larsen"]

REASONS = {
    "login": ["Daily sign-in", "7-day streak bonus", "每日签到"],
    "license": ["Annual licence renewal", "Pro licence purchase", "授权续费奖励"],
    "referral": ["Referred a friend", "Friend completed first order", "邀请好友奖励"],
    "community": ["Helpful forum answer", "Wrote a product review", "社区贡献"],
    "payment": ["Order #%d", "Purchase reward", "订单返积分"],
    "manual": ["Goodwill gesture", "Service recovery", "客服补偿"],
    "feature_unlock": ["Unlocked export feature", "Unlocked dark theme", "解锁高级功能"],
}


def _actor(label: str) -> Actor:
    return Actor(type="system", label=label)


def _no_answer(_outcome: programme.EventOutcome) -> str:
    return ""  # nothing replays the demo's events


def create_programme(tenant_id: int, actor: Actor, gold_and_up: list[int],
                     real_now: datetime) -> None:
    """Sign-in once a day, payments 1 point per ¥10 pending 14 days, referrals, Gold
    and Platinum ×1.5 on payments, and a recent weekend of double points."""
    zone = ZoneInfo("Asia/Shanghai")
    today = real_now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    saturday = today - timedelta(days=(today.weekday() - 5) % 7 + 7)
    for values in (
        {"name": "Daily sign-in 每日签到", "event_type": "login",
         "award": {"type": "fixed", "points": 5}, "limit": {"count": 1, "period": "day"}},
        {"name": "Payments 消费积分", "event_type": "payment",
         "award": {"type": "per_amount", "points": 1, "per": "10.00"}, "pending_days": 14},
        {"name": "Referral 邀请好友", "event_type": "referral",
         "award": {"type": "fixed", "points": 200}, "limit": {"count": 10, "period": "month"}},
        {"name": "Community answer 社区回答", "event_type": "community",
         "award": {"type": "fixed", "points": 50}, "limit": {"count": 3, "period": "week"}},
        {"name": "Gold ×1.5 黄金会员", "event_type": "payment",
         "award": {"type": "multiplier", "factor": "1.5"}, "levels": gold_and_up,
         "pending_days": 14},
        {"name": "Weekend double points 周末双倍", "event_type": "payment",
         "award": {"type": "multiplier", "factor": "2"}, "pending_days": 14,
         "starts_at": saturday.isoformat(),
         "ends_at": (saturday + timedelta(days=2)).isoformat()},
    ):
        programme.create_rule(tenant_id, actor, values)


def refund_payments(tenant_id: int, actor: Actor, rng: random.Random) -> None:
    """A few refunds of payments: whole ones and partial ones."""
    from app.models import ProgrammeEvent

    paid = db.session.execute(
        select(ProgrammeEvent.event_id, ProgrammeEvent.amount)
        .where(ProgrammeEvent.tenant_id == tenant_id, ProgrammeEvent.event_type == "payment",
               ProgrammeEvent.points_awarded > 0).order_by(ProgrammeEvent.id)).all()
    for event_id, amount in rng.sample(paid, min(12, len(paid))):
        partial = rng.random() < 0.5
        try:
            programme.revoke(tenant_id, actor, event_id,
                             reason="Partial refund 部分退款" if partial else "Order refunded 退款",
                             amount=f"{amount / 2:.2f}" if partial else None)
        except DomainError:
            pass  # a disabled member, say: refused as it should be


@click.command("seed-demo")
@click.option("--members", "member_count", default=MEMBER_COUNT, show_default=True,
              type=click.IntRange(10, 5000))
@click.option("--if-empty", is_flag=True, help="Only when the database has no tenant at all.")
def seed_demo(member_count: int, if_empty: bool) -> None:
    """Create the demo tenant with staff, levels, VIP tags, members and history."""
    events = logging.getLogger("jifen.events")
    level = events.level
    events.setLevel(logging.WARNING)  # thousands of events
    try:
        _seed(member_count, if_empty)
    finally:  # the command may run inside a longer-lived process (tests)
        events.setLevel(level)


def _seed(member_count: int, if_empty: bool) -> None:
    if tenants.get_by_slug(DEMO_SLUG) is not None:
        click.echo(f"tenant {DEMO_SLUG!r} exists; nothing done")
        click.echo(f"demo sign-in: {OWNER_EMAIL} / {OWNER_PASSWORD}")
        return
    if if_empty and db.session.execute(select(Tenant.id).limit(1)).first() is not None:
        click.echo("the database has tenants already; no demo data loaded")
        return
    build_demo(member_count)
    click.echo(f"demo tenant {DEMO_SLUG!r} created with {member_count} members")
    click.echo(f"sign in as {OWNER_EMAIL} / {OWNER_PASSWORD}")
    for email, role in OTHER_STAFF:
        click.echo(f"  ({role}: {email} / {OWNER_PASSWORD})")


def build_demo(member_count: int = MEMBER_COUNT, seed: int = 2026) -> int:
    rng = random.Random(seed)
    real_now = clock.now()
    start = real_now - timedelta(days=180)
    actor = _actor("seed-demo")
    with clock.frozen(start - timedelta(days=1)):
        tenant = tenants.create(DEMO_SLUG, "Demo Coffee Club 演示咖啡会", actor,
                                max_points_per_operation=10000, default_expiry_days=365,
                                timezone="Asia/Shanghai")
        staff.create_or_add_role(tenant.id, actor, email=OWNER_EMAIL, role="owner",
                                 password=OWNER_PASSWORD, display_name="Demo Owner")
        for email, role in OTHER_STAFF:
            staff.create_or_add_role(tenant.id, actor, email=email, role=role,
                                     password=OWNER_PASSWORD, display_name=role.title())
        made = [levels.create(tenant.id, actor, level_name=name, min_points=threshold,
                              benefits=benefits) for name, threshold, benefits in (
            ("Bronze 青铜", 0, "Member prices"), ("Silver 白银", 1000, "Free shipping"),
            ("Gold 黄金", 5000, "Free shipping, birthday gift"),
            ("Platinum 铂金", 20000, "Priority support, lounge access"))]
        create_programme(tenant.id, actor, [made[2].id, made[3].id], real_now)
        silver = vip.create_tag(tenant.id, actor, tag_name="VIP Silver 银牌", tag_type="vip",
                                rank=1, duration_days=90, points_price=2000)
        gold = vip.create_tag(tenant.id, actor, tag_name="VIP Gold 金牌", tag_type="vip",
                              rank=2, duration_days=180, points_price=5000)
        vip.create_tag(tenant.id, actor, tag_name="Early Access 抢先体验", tag_type="beta",
                       rank=1, duration_days=30, points_price=None)

    user_ids = []
    for i in range(member_count):
        if rng.random() < 0.55:
            name = rng.choice(SURNAMES) + rng.choice(GIVEN)
            email = f"user{i:04d}@example.cn" if rng.random() < 0.7 else None
        else:
            first, last = rng.choice(FIRST), rng.choice(LAST)
            name = f"{first} {last}"
            email = f"{first.lower()}.{i:04d}@example.com"
        joined = start + timedelta(days=rng.uniform(0, 60))
        with clock.frozen(joined):
            profile = members.create(
                tenant.id, actor, user_id=f"u{10000 + i}", display_name=name, email=email,
                phone=f"+86 138 {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}"
                if rng.random() < 0.5 else None)
        user_ids.append(profile.user_id)

    # Six months of activity, in time order, through the services; what the
    # programme's rules cover is reported as events and priced by the rules.
    events: list[tuple[datetime, str]] = []
    for user_id in user_ids:
        activity = rng.choice((3, 8, 15, 30))
        for _ in range(activity):
            events.append((start + timedelta(days=60 + rng.uniform(0, 119.5)), user_id))
    events.sort()
    order_no = 100000
    last_day = None
    for n, (when, user_id) in enumerate(events):
        with clock.frozen(when):
            if when.date() != last_day:  # the daily job: due pending awards become earns
                programme.activate_due(tenant.id, now=when)
                last_day = when.date()
            roll = rng.random()
            try:
                if roll < 0.35:
                    event_type = rng.choice(("login", "login", "payment", "payment", "referral",
                                             "community"))
                    amount = (f"{rng.randint(15, 900)}.{rng.randint(0, 99):02d}"
                              if event_type == "payment" else None)
                    programme.record(tenant.id, actor, _no_answer, event_id=f"evt-{n:06d}",
                                     user_id=user_id, event_type=event_type, amount=amount,
                                     attributes={"channel": rng.choice(("app", "store", "web"))})
                elif roll < 0.62:
                    category = rng.choice(list(REASONS))
                    if category == "manual":
                        category = "login"
                    amount = {"login": 10, "license": 500, "referral": 200, "community": 50,
                              "payment": rng.randint(20, 800), "feature_unlock": 100}[category]
                    reason = rng.choice(REASONS[category])
                    if "%d" in reason:
                        order_no += 1
                        reason = reason % order_no
                    ledger.earn(tenant.id, actor, user_id=user_id, points_amount=amount,
                                category=category, reason=reason)
                elif roll < 0.9:
                    ledger.spend(tenant.id, actor, user_id=user_id,
                                 points_amount=rng.choice((50, 100, 200, 300)),
                                 category=rng.choice(("payment", "feature_unlock")),
                                 reason=rng.choice(("Redeemed coupon", "兑换优惠券",
                                                    "Redeemed free drink")))
                elif roll < 0.97:
                    ledger.adjust(tenant.id, actor, user_id=user_id,
                                  points_amount=rng.choice((25, 50, 100, -20)),
                                  reason=rng.choice(REASONS["manual"]))
                else:
                    ledger.earn(tenant.id, actor, user_id=user_id, points_amount=300,
                                category="payment", reason="Duplicate order credit")
            except DomainError:
                pass  # an overspend in the random walk: the service refused it, as it should

    with clock.frozen(real_now - timedelta(hours=6)):
        programme.activate_due(tenant.id)
        refund_payments(tenant.id, actor, rng)

    # A few big spenders, so every level is populated.
    for user_id in user_ids[:12]:
        with clock.frozen(real_now - timedelta(days=rng.uniform(3, 20))):
            for _ in range(rng.randint(1, 4)):
                ledger.earn(tenant.id, actor, user_id=user_id, points_amount=rng.randint(2000, 8000),
                            category="license", reason="Enterprise licence")

    with clock.frozen(real_now - timedelta(days=2)):  # one enterprise customer: Platinum
        for _ in range(3):
            ledger.earn(tenant.id, actor, user_id=user_ids[0], points_amount=8000,
                        category="license", reason="Enterprise licence")

    # Lots about to expire (within the dashboard's 30-day window).
    for user_id in rng.sample(user_ids, min(25, len(user_ids))):
        with clock.frozen(real_now - timedelta(days=rng.uniform(1, 10))):
            ledger.earn(tenant.id, actor, user_id=user_id, points_amount=rng.choice((50, 100, 150)),
                        category="community", reason="Seasonal event bonus",
                        expires_at=(real_now + timedelta(days=rng.uniform(2, 28)))
                        .astimezone(UTC).isoformat())

    # Reversals of a few mistaken credits.
    with clock.frozen(real_now - timedelta(hours=5)):
        history_of = [ledger.transactions_page(tenant.id, u, page_size=5, kind="earn") for u in user_ids[20:40]]
        for page in history_of:
            duplicate = next((t for t in page.items if t.reason == "Duplicate order credit"), None)
            if duplicate is not None:
                try:
                    ledger.reverse(tenant.id, actor, duplicate.id,
                                   reason="Duplicate credit for the same order")
                except DomainError:
                    pass

    # VIP holders, one of them silver (a gold grant then conflicts).
    with clock.frozen(real_now - timedelta(days=85)):
        vip.grant(tenant.id, actor, user_id=user_ids[0], tag_id=silver.id)  # expires in ~5 days
    with clock.frozen(real_now - timedelta(days=30)):
        for user_id in user_ids[1:6]:
            vip.grant(tenant.id, actor, user_id=user_id, tag_id=gold.id)
        for n, user_id in enumerate(user_ids[6:15]):
            # A few pay with points, so the history has vip_upgrade entries too.
            try:
                vip.grant(tenant.id, actor, user_id=user_id, tag_id=silver.id,
                          pay_with_points=n < 3)
            except DomainError:
                vip.grant(tenant.id, actor, user_id=user_id, tag_id=silver.id)
    return tenant.id
