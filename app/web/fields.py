"""Forms whose untouched fields are drawn once.

A field nobody has typed into and that carries no error draws the same HTML
every time it is shown with the same locale, value, choices and attributes:
the member page draws a dozen of them on every request (the points forms, the
grant form, the history filter), and WTForms' widgets (a select re-inspects
its option renderer's signature on every call) were a fifth of the page's
time. The widget's output is kept under everything it depends on; a field
with input or errors is always drawn afresh. The fields' labels and WTForms'
own messages are translated once per language (KeptMessages).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from babel import support
from flask import current_app, request
from flask_babel import get_locale
from flask_babel.speaklater import LazyString
from markupsafe import Markup
from wtforms import widgets
from wtforms.i18n import messages_path

from app.web.forms import Form

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
    return (getattr(field.meta, "locale_id", None) or str(get_locale()), type(field),
            type(field.widget),
            repr(vars(field.widget)),
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


_labels: dict[tuple[int, str], tuple[LazyString, Markup]] = {}


def _translated_label(text: LazyString, locale_id: str) -> Markup:
    """A field's lazy label in the current locale (`locale_id`), translated once
    per language. Kept with the lazy string itself, so its id stays its own. As
    markup, as the lazy string was (Flask-Babel's `__html__`: the catalogue's text
    is not escaped)."""
    key = (id(text), locale_id)
    kept = _labels.get(key)
    if kept is None or kept[0] is not text:
        if len(_labels) >= MAX_KEPT:
            _labels.clear()
        kept = _labels[key] = (text, Markup(str(text)))
    return kept[1]


class KeptMessages:
    """A form Meta mixin: the request's language looked up once per form (each
    look-up is several of Flask's context lookups), WTForms' own messages from
    its catalogue read once per language (Flask-WTF reads and parses the file
    again for every request that builds a form), and the fields' lazy labels,
    translated anew on every draw, translated once per language."""

    locale_id: str | None = None

    def get_translations(self, form: Any) -> Any:
        if not request:
            return super().get_translations(form)  # type: ignore[misc]
        self.locale_id = str(get_locale())
        if not current_app.config.get("WTF_I18N_ENABLED", True):
            return super().get_translations(form)  # type: ignore[misc]
        return _wtforms_catalogue(self.locale_id)

    def bind_field(self, form: Any, unbound_field: Any, options: dict[str, Any]) -> Any:
        field = super().bind_field(form, unbound_field, options)  # type: ignore[misc]
        if self.locale_id is not None and isinstance(field.label.text, LazyString):
            field.label.text = _translated_label(field.label.text, self.locale_id)
        return field


class PortalForm(Form):
    class Meta(DrawOnce, KeptMessages):
        pass
