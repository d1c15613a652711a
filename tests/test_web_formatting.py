"""The portal's formatting shortcuts (app/web/formatting.py) write exactly what
Babel writes: every date, number and label a page shows goes through them."""
from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from babel import Locale, dates

from app.web import formatting

LOCALES = ("en", "zh_Hans_CN")
ZONES = (UTC, ZoneInfo("Asia/Shanghai"), ZoneInfo("America/New_York"))


def _moments(n: int) -> list[datetime]:
    rnd = random.Random(5)
    start = datetime(1999, 12, 31, tzinfo=UTC)
    return [start + timedelta(seconds=rnd.randrange(40 * 365 * 86400)) for _ in range(n)]


@pytest.mark.parametrize("locale_id", LOCALES)
@pytest.mark.parametrize("style", formatting._STYLES)
@pytest.mark.parametrize("zone", ZONES, ids=str)
def test_dates_and_times_are_what_babel_writes(locale_id, style, zone):
    written = formatting._datetime_format(locale_id, style, zone)
    assert written is not None
    for moment in _moments(300) + [datetime(2026, 1, 1, 0, 0), datetime(2026, 1, 1, 12, 0)]:
        assert written(moment) == dates.format_datetime(
            moment.replace(tzinfo=moment.tzinfo or UTC), style, tzinfo=zone, locale=locale_id)


@pytest.mark.parametrize("locale_id", LOCALES)
@pytest.mark.parametrize("style", formatting._STYLES)
def test_days_are_what_babel_writes(locale_id, style):
    written = formatting._date_format(locale_id, style)
    assert written is not None
    for moment in _moments(300):
        assert written(moment.date()) == dates.format_date(moment.date(), style,
                                                           locale=locale_id)


@pytest.mark.parametrize("locale_id", LOCALES)
@pytest.mark.parametrize("style", ["short", "medium"])
def test_the_portals_date_styles_are_compiled_not_left_to_babel(locale_id, style):
    """Short and medium dates (every history row, a member's start) are written
    from the moment's own fields; only patterns with fields such as a time zone's
    name are left to Babel."""
    locale = Locale.parse(locale_id)
    for pattern in (dates.get_time_format(style, locale=locale),
                    dates.get_date_format(style, locale=locale)):
        assert formatting._compile(dates.parse_pattern(pattern).format, locale) is not None
    assert formatting._compile(dates.parse_pattern(dates.get_date_format(
        style, locale=locale)).format, locale, days=True) is not None
    assert formatting._compile("%(h)s:%(mm)s %(zzzz)s", locale) is None


def test_a_compiled_pattern_writes_each_field_as_babel_does():
    locale = Locale.parse("en")
    pattern = "%(yyyy)s %(yy)s %(y)s|%(M)s %(MM)s %(MMM)s %(MMMM)s|%(d)s %(dd)s|" \
              "%(h)s %(hh)s %(H)s %(HH)s|%(m)s %(mm)s|%(s)s %(ss)s|%(a)s|100%%"
    written = formatting._compile(pattern, locale)
    for moment in _moments(200) + [datetime(2005, 3, 7, 0, 5, 9), datetime(2005, 3, 7, 12, 5)]:
        assert written(moment) == pattern % dates.DateTimeFormat(moment, locale)


def test_a_day_before_year_ten_keeps_babels_two_digit_year():
    locale = Locale.parse("en")
    assert formatting._compile("%(yy)s", locale, days=True)(date(2009, 1, 1)) == "09"
    assert formatting._compile("%(yy)s", locale, days=True)(date(5, 1, 1)) == "05"
    assert formatting._compile("%(yy)s %(yyyy)s", locale)(datetime(5, 1, 1)) == "05 0005"


def test_braces_and_percent_signs_in_a_pattern_are_text():
    written = formatting._compile("{%(d)s} 100%% {0}", Locale.parse("en"), days=True)
    assert written(date(2026, 3, 4)) == "{4} 100% {0}"


def test_a_day_pattern_with_a_time_field_is_left_to_babel():
    assert formatting._compile("%(d)s %(HH)s", Locale.parse("en"), days=True) is None


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
