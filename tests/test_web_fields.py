"""Untouched fields are drawn once (app/web/fields.py): never at the cost of
showing one person's input or errors, or another language, in another's form."""
from __future__ import annotations

from flask_babel import refresh
from werkzeug.datastructures import MultiDict
from wtforms.meta import DefaultMeta

from app.web import fields
from app.web.members.forms import EarnForm, HistoryFilterForm


def _wtforms_own(field, **attrs) -> str:
    return str(DefaultMeta().render_field(field, attrs))


def test_an_untouched_field_draws_what_wtforms_draws(app):
    fields._drawn.clear()
    with app.test_request_context("/"):
        for _ in range(2):  # drawn, then reused
            form = EarnForm(formdata=None)
            assert str(form.category(id="earn-category")) == \
                _wtforms_own(form.category, id="earn-category")
            assert str(form.points_amount(id="x", required=True)) == \
                _wtforms_own(form.points_amount, id="x", required=True)
    assert fields._drawn


def test_input_and_errors_are_never_reused(app):
    fields._drawn.clear()
    with app.test_request_context("/", method="POST"):
        EarnForm(formdata=None).points_amount(id="x")
        typed = EarnForm(formdata=MultiDict({"points_amount": "77", "category": "referral"}))
        assert 'value="77"' in str(typed.points_amount(id="x"))
        # Not a number: no value (data None, as untouched), but what was typed is shown.
        mistyped = EarnForm(formdata=MultiDict({"points_amount": "abc"}))
        assert mistyped.points_amount.data is None
        assert 'value="abc"' in str(mistyped.points_amount(id="x"))
        assert '<option selected value="referral">' in str(typed.category(id="c"))
        wrong = EarnForm(formdata=None)
        wrong.points_amount.errors = ["bad"]
        wrong.points_amount.data = 5
        assert 'value="5"' in str(wrong.points_amount(id="x"))


def test_the_language_and_a_chosen_filter_are_part_of_what_is_kept(app):
    fields._drawn.clear()
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        english = str(HistoryFilterForm(MultiDict()).kind(id="k"))
    with app.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        refresh()  # the app context (and Flask-Babel's choice in it) outlives a request here
        chinese = str(HistoryFilterForm(MultiDict()).kind(id="k"))
    with app.test_request_context("/?kind=earn"):
        chosen = str(HistoryFilterForm(MultiDict({"kind": "earn"})).kind(id="k"))
    assert "All kinds" in english and "All kinds" not in chinese
    assert '<option selected value="earn">' in chosen and "selected" not in english


def test_wtforms_messages_follow_each_requests_language_and_are_read_once(app, monkeypatch):
    """WTForms' own messages come from its catalogue in the request's language;
    the catalogue file is read once per language, not once per request."""
    from babel import support

    reads: list[list[str]] = []
    load = support.Translations.load

    def counted(dirname, locales, domain):
        reads.append(list(locales))
        return load(dirname, locales, domain=domain)

    monkeypatch.setattr(support.Translations, "load", counted)
    fields._wtforms_catalogue.cache_clear()
    seen = []
    for accept in ("zh-CN", "en", "zh-CN", "en"):
        with app.test_request_context("/", method="POST",
                                      headers={"Accept-Language": accept}):
            refresh()
            form = EarnForm(formdata=MultiDict({"points_amount": "abc"}))
            form.points_amount.validate(form)
            seen.append(form.points_amount.errors[0])
    assert seen == ["不是有效的整数。", "Not a valid integer value."] * 2
    assert reads == [["zh_Hans_CN"], ["en"]]


def test_field_labels_are_translated_once_per_language(app):
    """Labels are lazy strings in the form classes; a form carries them translated
    into its request's language, whichever language came first."""
    fields._labels.clear()
    for accept, points, category in [("zh-CN", "积分", "类别"), ("en", "Points", "Category"),
                                      ("zh-CN", "积分", "类别")]:
        with app.test_request_context("/", headers={"Accept-Language": accept}):
            refresh()
            form = EarnForm(formdata=None)
            assert (form.points_amount.label.text, form.category.label.text) == (points, category)
            assert form.points_amount.label.text is EarnForm(formdata=None).points_amount.label.text
    assert len(fields._labels) == 2 * 3  # points, category, reason in two languages
