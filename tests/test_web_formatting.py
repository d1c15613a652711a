"""The portal's formatting shortcuts (app/web/formatting.py) write exactly what
Babel writes: every date, number and label a page shows goes through them."""
from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from babel import dates

from app.web import formatting

LOCALES = ("en", "zh_Hans_CN")
# Flask-Babel hands out pytz zones (babel.dates.get_timezone) while pytz is installed.
ZONES = (UTC, ZoneInfo("Asia/Shanghai"), ZoneInfo("America/New_York"),
         dates.get_timezone("America/New_York"), dates.get_timezone("Europe/Paris"))


def _moments(n: int) -> list[datetime]:
    rnd = random.Random(5)
    start = datetime(1999, 12, 31, tzinfo=UTC)
    return [start + timedelta(seconds=rnd.randrange(40 * 365 * 86400)) for _ in range(n)]


@pytest.mark.parametrize("zone", ZONES, ids=str)
def test_a_time_is_written_in_its_zone_with_the_offset_named(zone):
    """moment_text: the local wall-clock time Babel would show (its own zone
    arithmetic, DST included) and the offset in force then, as UTC±h[:mm]."""
    for moment in _moments(300) + [datetime(2026, 1, 1, 0, 0),
                                   datetime(2026, 3, 8, 7, 30, tzinfo=UTC),
                                   datetime(2026, 11, 1, 5, 30, tzinfo=UTC)]:
        text = formatting.moment_text(moment, zone, seconds=True)
        wall = dates.format_datetime(moment, "yyyy-MM-dd HH:mm:ss", tzinfo=zone, locale="en")
        offset = dates.format_datetime(moment, "xxx", tzinfo=zone, locale="en")  # +08:00
        hours, minutes = int(offset[1:3]), int(offset[4:6])
        named = "UTC" if offset == "+00:00" else \
            f"UTC{offset[0]}{hours}" + (f":{minutes:02d}" if minutes else "")
        assert text == f"{wall} {named}"
        assert formatting.moment_text(moment, zone) == f"{wall[:16]} {named}"


def test_the_offsets_are_named_without_abbreviations():
    at = datetime(2026, 12, 1, 6, 5, tzinfo=UTC)
    assert formatting.moment_text(at, ZoneInfo("Asia/Shanghai")) == "2026-12-01 14:05 UTC+8"
    assert formatting.moment_text(at, ZoneInfo("Asia/Kolkata")) == "2026-12-01 11:35 UTC+5:30"
    assert formatting.moment_text(at, ZoneInfo("America/New_York")) == "2026-12-01 01:05 UTC-5"
    assert formatting.moment_text(datetime(2026, 7, 1, 6, 5), ZoneInfo("America/New_York")) \
        == "2026-07-01 02:05 UTC-4"
    assert formatting.moment_text(at, UTC) == "2026-12-01 06:05 UTC"
    assert formatting.iso_moment(at, ZoneInfo("Asia/Shanghai")) == "2026-12-01T14:05:00+08:00"
    assert formatting.iso_moment(None, UTC) == ""


@pytest.mark.parametrize("locale_id", LOCALES)
@pytest.mark.parametrize("style", formatting._STYLES)
def test_days_are_what_babel_writes(app, locale_id, style):
    from jinja2.runtime import new_context

    context = new_context(app.jinja_env, "t", {}, {"_locale_id": locale_id})
    for moment in _moments(300):
        assert formatting.day(context, moment.date(), style) == \
            dates.format_date(moment.date(), style, locale=locale_id)


@pytest.mark.parametrize("accept", ["en", "zh-CN"])
@pytest.mark.parametrize("style", formatting._STYLES)
def test_the_dt_filter_writes_a_named_time_element(app, accept, style):
    """A page's `|dt` (in the zone the portal's context gives the page, or asked
    of Flask-Babel without it): a <time> with the ISO instant and the zone's name,
    its text the same in both languages."""
    from flask import render_template_string
    from flask_babel import get_timezone, refresh

    with app.test_request_context("/", headers={"Accept-Language": accept}):
        refresh()
        zone = get_timezone()
        bare = app.jinja_env.from_string("{{ v|dt(style) }}")
        for moment in _moments(50) + [datetime(2026, 1, 1, 12, 0)]:
            text = formatting.moment_text(moment, zone, seconds=style != "short")
            wanted = (f'<time datetime="{formatting.iso_moment(moment, zone)}" '
                      f'title="UTC">{text}</time>')
            assert render_template_string("{{ v|dt(style) }}", v=moment, style=style) == wanted
            assert bare.render(v=moment, style=style) == wanted


@pytest.mark.parametrize("autoescape", [True, False])
def test_the_pages_gettext_formats_as_jinjas_newstyle_gettext(autoescape):
    """formatting.page_gettext: Markup(text) % variables when autoescaping (each
    value escaped once), text % variables otherwise, whatever the fields."""
    from babel.support import NullTranslations
    from jinja2 import Environment
    from markupsafe import Markup

    env = Environment(autoescape=autoescape)
    env.globals["_"] = formatting.page_gettext(NullTranslations())
    values = [7, "a<b & 'c'", Markup("<em>x</em>"), None, 2.5]
    for message, variables in [("transaction %(id)s", {"id": v}) for v in values] + [
            ("%(a)s of %(b)s, 100%%", {"a": "<x>", "b": 3}), ("%(n)d points", {"n": 4}),
            ("%(n)05.1f %(s)r", {"n": 2.25, "s": "<q>"}), ("no fields", {}), ("100%%", {})]:
        got = env.from_string("{{ _(m, **v) }}").render(m=message, v=variables)
        wanted = (Markup(message) if autoescape else message) % variables \
            if variables or "%" in message else message
        assert got == str(wanted), (message, variables)


@pytest.mark.parametrize("zone_key", ["UTC", "Asia/Shanghai", "America/New_York", "Asia/Kolkata",
                                      "Asia/Kathmandu", "America/St_Johns", "Europe/Amsterdam"])
def test_dt_writes_moment_text_and_the_iso_instant_in_any_zone(app, zone_key):
    """dt's text cut from the ISO form is moment_text's, whatever the offset
    (half and quarter hours, behind UTC, local mean time's odd seconds) or year."""
    from zoneinfo import ZoneInfo

    from jinja2.runtime import new_context
    from markupsafe import Markup

    zone = ZoneInfo(zone_key)
    context = new_context(app.jinja_env, "t", {}, {"_tzinfo": zone})
    moments = _moments(200) + [datetime(5, 3, 1, 1, 2, 3), datetime(999, 12, 31, 23, 59, 59),
                               datetime(1890, 6, 1, 12, 0, 0, 999999),
                               datetime(2026, 3, 8, 6, 59, 59), datetime(2026, 11, 1, 5, 30)]
    with app.test_request_context("/"):
        for moment in moments:
            for style in formatting._STYLES:
                wanted = Markup('<time datetime="%s" title="%s">%s</time>') % (
                    formatting.iso_moment(moment, zone), formatting.zone_name(zone),
                    formatting.moment_text(moment, zone, seconds=style != "short"))
                assert formatting.dt(context, moment, style) == wanted, (moment, style)
