"""Forms whose untouched fields are drawn once.

A field nobody has typed into and that carries no error draws the same HTML
every time it is shown with the same locale, value, choices and attributes:
the member page draws a dozen of them on every request (the points forms, the
grant form, the history filter), and WTForms' widgets (a select re-inspects
its option renderer's signature on every call) were a fifth of the page's
time. The widget's output is kept under everything it depends on; a field
with input or errors is always drawn afresh. WTForms' own messages come from
its catalogue, read once per language (KeptMessages).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from babel import support
from flask import current_app, request
from flask_babel import get_locale
from flask_wtf import FlaskForm
from wtforms import widgets
from wtforms.i18n import messages_path

# Widgets whose output depends only on the field's value, choices, flags and
# the attributes passed (hidden inputs are left out: they carry one-time keys).
_PURE = (widgets.TextInput, widgets.NumberInput, widgets.TextArea, widgets.Select,
         widgets.CheckboxInput)
_drawn: dict[Any, Any] = {}
MAX_KEPT = 512


def _choices_key(field: Any) -> tuple | None:
    choices = getattr(field, "choices", None)
    if choices is None:
        return ()
    if not isinstance(choices, list | tuple) or \
            not all(isinstance(c, tuple) and len(c) == 2 for c in choices):
        return None  # groups or rendering options: not worth a key
    return tuple((repr(value), str(label)) for value, label in choices)


def _key(field: Any, render_kw: dict[str, Any]) -> Any:
    if field.raw_data or field.errors or type(field.widget) not in _PURE:
        return None
    choices = _choices_key(field)
    if choices is None:
        return None
    try:
        attrs = tuple(sorted(render_kw.items()))
        hash(attrs)
    except TypeError:
        return None
    return (str(get_locale()), type(field), type(field.widget), repr(vars(field.widget)),
            field.name, field.id, repr(field.data), repr(field.flags),
            repr(getattr(field, "render_kw", None)), choices, attrs)


class DrawOnce:
    """A form Meta mixin: WTForms calls `render_field` for every widget drawn."""

    def render_field(self, field: Any, render_kw: dict[str, Any]) -> Any:
        key = _key(field, render_kw)
        if key is None:
            return super().render_field(field, render_kw)  # type: ignore[misc]
        html = _drawn.get(key)
        if html is None:
            html = super().render_field(field, render_kw)  # type: ignore[misc]
            if len(_drawn) >= MAX_KEPT:
                _drawn.clear()
            _drawn[key] = html
        return html


@lru_cache(maxsize=16)
def _wtforms_catalogue(locale_id: str) -> support.NullTranslations:
    return support.Translations.load(messages_path(), [locale_id], domain="wtforms")


class WTFormsMessages:
    """WTForms' own messages ("Not a valid integer value.", the default labels of
    hidden fields) in the request's language, as Flask-WTF gives them, but with
    each language's catalogue read once: Flask-WTF reads and parses the file
    again for every request that builds a form."""

    def gettext(self, string: str) -> str:
        if not request:
            return string
        return _wtforms_catalogue(str(get_locale())).ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        if not request:
            return singular if n == 1 else plural
        return _wtforms_catalogue(str(get_locale())).ungettext(singular, plural, n)


_MESSAGES = WTFormsMessages()


class KeptMessages:
    """A form Meta mixin: WTForms asks it for the translations of its messages."""

    def get_translations(self, form: Any) -> Any:
        if not current_app.config.get("WTF_I18N_ENABLED", True):
            return super().get_translations(form)  # type: ignore[misc]
        return _MESSAGES


class PortalForm(FlaskForm):
    class Meta(DrawOnce, KeptMessages):
        pass
