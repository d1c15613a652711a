"""What templates call once per table cell (a number, a label, a translated
string), done with the page's locale looked up once per page instead of once
per call. Each gives exactly what Flask-Babel's own helper gives: the numbers
check their shortcut against Babel's output before using it.

A page's templates find the locale and its translations in their context
(`_locale_id`, `_`, put there by the portal's context processor); a macro
imported without context falls back to asking Flask-Babel."""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, tzinfo
from functools import lru_cache
from typing import Any

from babel import Locale, dates, numbers
from babel.dates import DateTimePattern
from flask_babel import format_date, format_datetime, get_locale, get_timezone, get_translations
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

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
def _datetime_patterns(locale_id: str, style: str) -> tuple[Locale, str, DateTimePattern,
                                                            DateTimePattern]:
    """What `babel.dates.format_datetime(value, style)` looks up on every call: the
    locale, the pattern joining date and time, and the two parsed patterns (Babel's
    own parse, which Babel caches)."""
    locale = Locale.parse(locale_id)
    return (locale, dates.get_datetime_format(style, locale=locale).replace("'", ""),
            dates.parse_pattern(dates.get_time_format(style, locale=locale)),
            dates.parse_pattern(dates.get_date_format(style, locale=locale)))


def datetime_text(value: datetime, locale_id: str, style: str, zone: tzinfo) -> str:
    """`babel.dates.format_datetime(value, style, tzinfo=zone, locale=locale_id)`
    for one of the named styles: the same steps, without its argument handling."""
    locale, joined, time_pattern, date_pattern = _datetime_patterns(locale_id, style)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(zone)
    day = value.date()
    return joined.replace("{0}", time_pattern.apply(value.timetz(), locale, day)) \
        .replace("{1}", date_pattern.apply(day, locale))


@pass_context
def dt(context: Context, value: datetime | None, style: str = "medium") -> str:
    """`flask_babel.format_datetime(value, style)`, in the user's time zone."""
    if value is None:
        return ""
    if style in _STYLES:
        return datetime_text(value, locale_of(context), style,
                             context.get("_tzinfo") or get_timezone())
    return format_datetime(value, style)


@pass_context
def day(context: Context, value: date | datetime | None, style: str = "medium") -> str:
    """`flask_babel.format_date(value, style)`."""
    if value is None:
        return ""
    if style in _STYLES and not isinstance(value, datetime):
        locale, _joined, _time, pattern = _datetime_patterns(locale_of(context), style)
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
    return {
        "_locale_id": locale_id, "_tzinfo": get_timezone(), "_": gettext, "gettext": gettext,
        "kind_label": label_lookup(labels.KINDS, locale_id),
        "category_label": label_lookup(labels.CATEGORY_LABELS, locale_id),
        "role_label": label_lookup(labels.ROLES, locale_id),
        "actor_label": label_lookup(labels.ACTOR_TYPES, locale_id),
        "resolution_label": label_lookup(labels.RESOLUTIONS, locale_id),
        "resolution_help": label_lookup(labels.RESOLUTION_HELP, locale_id),
        "permission_label": label_lookup(labels.PERMISSIONS, locale_id),
    }
