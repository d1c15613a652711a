"""What templates call once per table cell (a number, a label, a translated
string), done with the page's locale looked up once per page instead of once
per call. Numbers and days are exactly what Flask-Babel's own helpers give (the
numbers check their shortcut against Babel's output before using it); a time is
written one way in every language, in the tenant's zone, with the zone named
(`dt`, `moment_text`).

A page's templates find the locale and its translations in their context
(`_locale_id`, `_`, put there by the portal's context processor); a macro
imported without context falls back to asking Flask-Babel."""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any

from babel import Locale, dates, numbers
from babel.dates import DateTimePattern
from flask import g
from flask_babel import format_date, format_datetime, get_locale, get_timezone, get_translations
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from app.services import tenants
from app.web import labels

# Samples the integer shortcut must format exactly as Babel does for a locale.
_SAMPLES = (0, 7, -7, 999, 1000, -1000, 12345, -1234567, 10**15 + 1)


@lru_cache(maxsize=32)
def _integer_signs(locale_id: str) -> tuple[str, str] | None:
    """The locale's group and minus signs when it writes whole numbers in groups
    of three as Python's `{:,}` does; None when it does not (Babel then formats)."""
    group = numbers.get_group_symbol(locale_id)
    minus = numbers.get_minus_sign_symbol(locale_id)
    if all(_group(n, group, minus) == numbers.format_decimal(n, locale=locale_id)
           for n in _SAMPLES):
        return group, minus
    return None


def _group(value: int, group: str, minus: str) -> str:
    text = f"{value:,}"
    if group != "," or minus != "-":
        text = "".join(group if c == "," else minus if c == "-" else c for c in text)
    return text


def number(value: Any, locale_id: str) -> str:
    """`flask_babel.format_decimal(value)` in the given locale."""
    if type(value) is int:
        signs = _integer_signs(locale_id)
        if signs is not None:
            return _group(value, *signs)
    return numbers.format_decimal(value, locale=locale_id)


def locale_of(context: Context) -> str:
    return context.get("_locale_id") or str(get_locale())


@pass_context
def num(context: Context, value: Any) -> str:
    return "" if value is None else number(value, locale_of(context))


@pass_context
def signed(context: Context, value: int | None) -> str:
    if value is None:
        return ""
    text = number(abs(value), locale_of(context))
    return ("+" if value > 0 else "−" if value < 0 else "") + text


_STYLES = ("short", "medium", "long", "full")


@lru_cache(maxsize=64)
def _date_pattern(locale_id: str, style: str) -> tuple[Locale, DateTimePattern]:
    """What `babel.dates.format_date(value, style)` looks up on every call: the
    locale and the parsed pattern (Babel's own parse, which Babel caches)."""
    locale = Locale.parse(locale_id)
    return locale, dates.parse_pattern(dates.get_date_format(style, locale=locale))


def zone_label(moment: datetime) -> str:
    """The offset in force at an aware moment, named the same in every language:
    'UTC', 'UTC+8', 'UTC+5:30', 'UTC-5'. Unlike an abbreviation (CST is China's
    and America's), it cannot be misread, and it follows daylight saving."""
    return offset_label(moment.utcoffset())


@lru_cache(maxsize=64)
def offset_label(offset: timedelta | None) -> str:
    """`zone_label` of a moment with this UTC offset."""
    minutes = int((offset or timedelta(0)).total_seconds()) // 60
    if minutes == 0:
        return "UTC"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{'+' if minutes > 0 else '-'}{hours}" + (f":{rest:02d}" if rest else "")


def local_moment(value: datetime, zone: tzinfo) -> datetime:
    """An instant (naive values are UTC, as the database stores them) in `zone`."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(zone)


def moment_text(value: datetime, zone: tzinfo, seconds: bool = False) -> str:
    """'2026-12-01 14:05 UTC+8': the portal's one way of writing a time, the same
    in English and Chinese, with its zone."""
    local = local_moment(value, zone)
    return local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M") + \
        " " + zone_label(local)


def zone_name(zone: tzinfo) -> str:
    return getattr(zone, "key", None) or getattr(zone, "zone", None) or str(zone)


def iso_moment(value: datetime | None, zone: tzinfo) -> str:
    """ISO 8601 with the offset, in `zone` (what the CSV exports write)."""
    return "" if value is None else local_moment(value, zone).isoformat(timespec="seconds")


@pass_context
def dt(context: Context, value: datetime | None, style: str = "medium") -> str:
    """A time in the page's time zone (the tenant's), named: a `<time>` element
    whose text is `moment_text` ('short': to the minute; the other styles: to the
    second) and whose `datetime` is ISO 8601 with the offset. Any other `style`
    is a Babel pattern, given to Flask-Babel."""
    if value is None:
        return ""
    zone = context.get("_tzinfo") or get_timezone()
    if style not in _STYLES:
        return format_datetime(value, style)
    local = local_moment(value, zone)
    iso = local.isoformat(timespec="seconds")
    if local.year < 1000:  # strftime's %Y does not pad such a year as isoformat does
        text = moment_text(local, zone, seconds=style != "short")
    else:  # 'YYYY-MM-DDTHH:MM:SS+hh:mm': the text is its first 16 or 19 characters
        text = f"{iso[:10]} {iso[11:16 if style == 'short' else 19]} {offset_label(local.utcoffset())}"
    return Markup(f'<time datetime="{iso}" title="{_zone_title(zone)}">{text}</time>')


@lru_cache(maxsize=64)
def _zone_title(zone: tzinfo) -> str:
    return str(escape(zone_name(zone)))


@pass_context
def day(context: Context, value: date | datetime | None, style: str = "medium") -> str:
    """`flask_babel.format_date(value, style)`."""
    if value is None:
        return ""
    if style in _STYLES and not isinstance(value, datetime):
        locale, pattern = _date_pattern(locale_of(context), style)
        return pattern.apply(value, locale)
    return format_date(value, style)


def label_lookup(table: dict, locale_id: str | None = None) -> Callable[[str | None], str]:
    """`labels.label(table, value)` for a template: the page's translated names
    (labels.translated, once per locale) looked up directly."""
    names = labels.translated(table, locale_id)

    def lookup(value: str | None) -> str:
        return "" if value is None else names.get(value, value)

    return lookup


@lru_cache(maxsize=1024)
def _only_named_strings(text: str) -> bool:
    """Whether every %-field of a message is `%(name)s` (or a literal `%%`)."""
    return "%" not in re.sub(r"%%|%\(\w+\)s", "", text)


def page_gettext(translations: Any) -> Callable[..., str]:
    """The `_` a template calls, bound to this page's translations: the same
    newstyle gettext Jinja's i18n extension installs (escaped when autoescaping,
    always %-formatted), without finding the translations again on every call."""
    ugettext = translations.ugettext

    @pass_context
    def gettext(context: Context, string: str, **variables: Any) -> str:
        text = ugettext(string)
        if context.eval_ctx.autoescape:
            if variables and _only_named_strings(text):
                # What Markup(text) % variables gives for %(name)s fields (each
                # value escaped), without Markup's escaping wrapper per value.
                return Markup(text % {name: escape(value) for name, value in variables.items()})
            text = Markup(text)
        if not variables and "%" not in text:
            return text  # what `% {}` would give, without formatting it
        return text % variables

    return gettext


def page_context() -> dict[str, Any]:
    """What the portal's context processor adds for every template it renders."""
    locale_id = str(get_locale())
    gettext = page_gettext(get_translations())
    tenancy = g.get("tenancy")
    return {
        "_locale_id": locale_id,
        "_tzinfo": tenants.zone(tenancy.tenant) if tenancy is not None else get_timezone(),
        "_": gettext, "gettext": gettext,
        "kind_label": label_lookup(labels.KINDS, locale_id),
        "category_label": label_lookup(labels.CATEGORY_LABELS, locale_id),
        "role_label": label_lookup(labels.ROLES, locale_id),
        "actor_label": label_lookup(labels.ACTOR_TYPES, locale_id),
        "resolution_label": label_lookup(labels.RESOLUTIONS, locale_id),
        "resolution_help": label_lookup(labels.RESOLUTION_HELP, locale_id),
        "permission_label": label_lookup(labels.PERMISSIONS, locale_id),
    }
