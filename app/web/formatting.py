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


# Moments the date shortcuts must format exactly as Babel does (morning and
# afternoon, midnight and noon, one- and two-digit fields, a year's last second).
_MOMENTS = (datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC),
            datetime(2026, 7, 15, 12, 0, tzinfo=UTC), datetime(2024, 2, 29, 18, 30, 7, tzinfo=UTC),
            datetime(2026, 10, 9, 0, 9, 0, tzinfo=UTC))
_STYLES = ("short", "medium", "long", "full")

# A pattern's fields as str.format fields over `_values(moment)`: the numbers
# read straight off the moment, the words (AM/PM, month names) looked up in the
# locale's lists. Any other field (weekdays, eras, time zones …) is Babel's.
_FIELDS = {
    "y": "{0}", "yy": "{7:02d}", "M": "{1}", "MM": "{1:02d}", "MMM": "{9}", "MMMM": "{10}",
    "d": "{2}", "dd": "{2:02d}", "H": "{3}", "HH": "{3:02d}", "h": "{6}", "hh": "{6:02d}",
    "m": "{4}", "mm": "{4:02d}", "s": "{5}", "ss": "{5:02d}", "a": "{8}",
}
_PARSED_FIELD = re.compile(r"%\((\w+)\)s|%%")


def _compile(pattern: str, locale: Locale, days: bool = False) -> Callable[[Any], str] | None:
    """A parsed Babel pattern's %-format (`'%(h)s:%(mm)s'`) as one function of the
    moment (a date when `days`): what `DateTimePattern.apply` gives, without
    building a DateTimeFormat and dispatching on every field of every call. None
    when a field is Babel's."""
    fields = [m.group(1) for m in _PARSED_FIELD.finditer(pattern) if m.group(1)]
    if any(name not in _FIELDS and not (name[0] == "y" and set(name) == {"y"})
           for name in fields):
        return None
    if days and any(name[0] in "Hhmsa" for name in fields):
        return None

    def field(match: re.Match) -> str:
        name = match.group(1)
        if name is None:
            return "%"
        return _FIELDS.get(name) or f"{{0:0{len(name)}d}}"  # yyyy…: the year, padded

    template = _PARSED_FIELD.sub(field, pattern.replace("{", "{{").replace("}", "}}"))
    # Each word asked of Babel once.
    am_pm = tuple(dates.DateTimeFormat(datetime(2000, 1, 1, hour), locale)["a"]
                  for hour in (0, 12))
    months = {width: [dates.DateTimeFormat(date(2000, month, 1), locale)[width]
                      for month in range(1, 13)] for width in ("MMM", "MMMM")}
    short, wide = months["MMM"], months["MMMM"]

    def written(v: datetime) -> str:
        year, month, hour = v.year, v.month, v.hour
        return template.format(year, month, v.day, hour, v.minute, v.second, hour % 12 or 12,
                               year % 100, am_pm[hour >= 12], short[month - 1],
                               wide[month - 1])

    def written_day(v: date) -> str:
        year, month = v.year, v.month
        return template.format(year, month, v.day, 0, 0, 0, 12, year % 100, am_pm[0],
                               short[month - 1], wide[month - 1])

    return written_day if days else written


@lru_cache(maxsize=64)
def _datetime_format(locale_id: str, style: str, zone: tzinfo) -> Callable[[datetime], str] | None:
    """Babel's `format_datetime(value, style)` with the locale's patterns parsed once;
    None when the shortcut does not give Babel's text for this locale and style."""
    locale = Locale.parse(locale_id)
    joined = dates.get_datetime_format(style, locale=locale).replace("'", "")
    time_pattern = dates.parse_pattern(dates.get_time_format(style, locale=locale))
    date_pattern = dates.parse_pattern(dates.get_date_format(style, locale=locale))
    compiled = _compile(joined.replace("%", "%%").replace("{0}", time_pattern.format)
                        .replace("{1}", date_pattern.format), locale)

    def parsed(value: datetime) -> str:
        return joined.replace("{0}", time_pattern.apply(value, locale)) \
            .replace("{1}", date_pattern.apply(value, locale))

    write = compiled or parsed

    def formatted(value: datetime) -> str:
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return write(value.astimezone(zone))

    if all(formatted(m) == dates.format_datetime(m, style, tzinfo=zone, locale=locale)
           for m in _MOMENTS):
        return formatted
    return None


@lru_cache(maxsize=64)
def _date_format(locale_id: str, style: str) -> Callable[[date], str] | None:
    locale = Locale.parse(locale_id)
    pattern = dates.parse_pattern(dates.get_date_format(style, locale=locale))
    formatted = _compile(pattern.format, locale, days=True) or \
        (lambda value: pattern.apply(value, locale))
    if all(formatted(m.date()) == dates.format_date(m.date(), style, locale=locale)
           for m in _MOMENTS):
        return formatted
    return None


@pass_context
def dt(context: Context, value: datetime | None, style: str = "medium") -> str:
    """`flask_babel.format_datetime(value, style)`, in the user's time zone."""
    if value is None:
        return ""
    if style in _STYLES:
        zone = context.get("_tzinfo") or get_timezone()
        fast = _datetime_format(locale_of(context), style, zone)
        if fast is not None:
            return fast(value)
    return format_datetime(value, style)


@pass_context
def day(context: Context, value: date | datetime | None, style: str = "medium") -> str:
    """`flask_babel.format_date(value, style)`."""
    if value is None:
        return ""
    if style in _STYLES and not isinstance(value, datetime):
        fast = _date_format(locale_of(context), style)
        if fast is not None:
            return fast(value)
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
