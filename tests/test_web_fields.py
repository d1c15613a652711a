"""Untouched fields are drawn once (app/web/fields.py): never at the cost of
showing one person's input or errors, or another language, in another's form."""
from __future__ import annotations

import pytest
from flask_babel import lazy_gettext as _l
from flask_babel import refresh
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.widgets import NumberInput
from wtforms.fields.choices import SelectChoice
from wtforms.meta import DefaultMeta

from app.services import levels, vip
from app.web import fields
from app.web.fields import PortalForm
from app.web.members.forms import EarnForm, HistoryFilterForm
from tests.conftest import SYSTEM


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
            assert str(form.reason(id="r", rows=2)) == _wtforms_own(form.reason, id="r", rows=2)
            assert str(form.idempotency_key()) == _wtforms_own(form.idempotency_key)
    # The category, the amount and the reason; a hidden input (a one-time key) never.
    assert len(fields._drawn) == 3


class _TagForm(PortalForm):
    class Meta:
        csrf = False

    tag = SelectField(choices=[])
    amount = IntegerField()


@pytest.mark.parametrize("change", [
    {"choices": {1: "Gold"}}, {"choices": {2: "Silver"}}, {"choices": {True: "Silver"}},
    {"choices": [SelectChoice(1, "Silver", render_kw={"disabled": True})]},
    {"choices": {1: "<b>Silver</b>"}}, {"data": "1"}, {"render_kw": {"class": "wide"}},
    {"flags": "required"}, {"attrs": {"data_x": "1"}}, {"name": "other"},
])
def test_whatever_the_select_writes_from_is_part_of_what_is_kept(app, change):
    """A renamed tag, a chosen value, the field's own attributes, a validation
    flag, the attributes of the call: each draws anew (and as WTForms does)."""
    fields._drawn.clear()

    def draw(choices=None, data=None, render_kw=None, flags=None, attrs=None, name=None):
        form = _TagForm(formdata=None, prefix=name or "")
        form.tag.choices = choices if choices is not None else {1: "Silver"}
        form.tag.data, form.tag.render_kw = data, render_kw
        if flags:
            setattr(form.tag.flags, flags, True)
        return str(form.tag(**(attrs or {}))), _wtforms_own(form.tag, **(attrs or {}))

    with app.test_request_context("/"):
        first, _own = draw()
        drawn, own = draw(**change)
    assert drawn == own != first
    assert len(fields._drawn) == 2


class _InputsForm(PortalForm):
    class Meta:
        csrf = False

    name = StringField()
    amount = IntegerField()
    stepped = IntegerField(widget=NumberInput(step=5))
    note = TextAreaField()
    agree = BooleanField()
    key = HiddenField()


@pytest.mark.parametrize("field", ["name", "amount", "note", "agree"])
@pytest.mark.parametrize("change", [
    {"data": "7"}, {"data": 7}, {"data": "<b>7</b>"}, {"render_kw": {"class": "wide"}},
    {"flags": "required"}, {"attrs": {"data_x": "1"}}, {"attrs": {"value": "9"}},
    {"name": "other"},
])
def test_whatever_an_input_writes_from_is_part_of_what_is_kept(app, field, change):
    """A value (a check box's checked state), the field's own attributes, a
    validation flag, the attributes of the call, the name: each draws anew, as
    WTForms does."""
    fields._drawn.clear()

    def draw(data=None, render_kw=None, flags=None, attrs=None, name=None):
        form = _InputsForm(formdata=None, prefix=name or "")
        drawn = form[field]
        drawn.data, drawn.render_kw = data, render_kw
        if flags:
            setattr(drawn.flags, flags, True)
        return str(drawn(**(attrs or {}))), _wtforms_own(drawn, **(attrs or {}))

    with app.test_request_context("/"):
        first, own_first = draw()
        assert first == own_first
        assert draw()[0] is not None and len(fields._drawn) == 1  # the same drawing again
        drawn, own = draw(**change)
    assert drawn == own
    if drawn != first:
        assert len(fields._drawn) == 2
    else:  # a change this widget does not write (a check box's value, say): one drawing
        assert field == "agree" and len(fields._drawn) == 1


def test_the_widgets_own_settings_are_part_of_what_is_kept(app):
    fields._drawn.clear()
    with app.test_request_context("/"):
        form = _InputsForm(formdata=None)
        plain, stepped = str(form.amount(id="n")), str(form.stepped(id="n"))
        assert plain == _wtforms_own(form.amount, id="n")
        assert stepped == _wtforms_own(form.stepped, id="n")
        assert 'step="5"' in stepped and "step" not in plain
        assert str(form.key()) == _wtforms_own(form.key)
    assert len(fields._drawn) == 2  # not the hidden input


def test_a_select_with_option_groups_is_wtforms_each_time(app):
    fields._drawn.clear()
    with app.test_request_context("/"):
        form = _TagForm(formdata=None)
        form.tag.choices = {"Metals": {1: "Gold", 2: "Silver"}, "Other": {3: "Beta"}}
        assert str(form.tag()) == _wtforms_own(form.tag) and "<optgroup" in str(form.tag())
    assert len(fields._drawn) == 0


def test_flags_are_only_what_a_field_sets():
    """The key reads a field's flags from the Flags object's attributes, where
    WTForms' widgets read dir(): the two agree while Flags has no public
    attributes of its own."""
    from wtforms.fields.core import Flags

    assert [name for name in dir(Flags()) if not name.startswith("_")] == []


def test_a_lazy_label_is_kept_as_the_text_it_reads_in_each_language(app):
    """Flask-Babel's lazy strings are written unescaped (their __html__), a str
    escaped: the same text in both is two drawings. A lazy label reads anew in
    each request's language."""
    fields._drawn.clear()
    drawn = []
    for accept, choices in [("en", {1: "<i>Points</i>"}), ("en", [SelectChoice(1, _l("Points"))]),
                            ("zh-CN", [SelectChoice(1, _l("Points"))]),
                            ("en", [SelectChoice(1, _l("<i>Points</i>"))])]:
        with app.test_request_context("/", headers={"Accept-Language": accept}):
            refresh()
            form = _TagForm(formdata=None)
            form.tag.choices = choices
            assert str(form.tag()) == _wtforms_own(form.tag)
            drawn.append(str(form.tag()))
    assert len(set(drawn)) == 4 and "积分" in drawn[2]


def test_the_least_recently_used_drawing_goes_first(app, monkeypatch):
    """Full, the store drops its oldest drawing, not everything it holds."""
    monkeypatch.setattr(fields, "_drawn", fields._Kept(2))

    def draw(label: str) -> str:
        form = _TagForm(formdata=None)
        form.tag.choices = {1: label}
        return form.tag()

    with app.test_request_context("/"):
        gold, silver = draw("Gold"), draw("Silver")
        assert draw("Gold") is gold  # kept, and now the most recently used
        draw("Bronze")
        assert len(fields._drawn) == 2
        assert draw("Gold") is gold
        assert draw("Silver") is not silver  # the one that went


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


def test_field_labels_follow_each_requests_language(app):
    """Labels are lazy strings in the form classes: each request reads them in
    its own language, whichever language came first."""
    for accept, points, category in [("zh-CN", "积分", "类别"), ("en", "Points", "Category"),
                                      ("zh-CN", "积分", "类别")]:
        with app.test_request_context("/", headers={"Accept-Language": accept}):
            refresh()
            form = EarnForm(formdata=None)
            assert (str(form.points_amount.label.text), str(form.category.label.text)) == \
                (points, category)
            assert f'>{points}</label>' in str(form.points_amount.label())


def test_every_portal_select_gives_its_choices_as_wtforms_keeps_supporting(
        people, tenant, make_member, monkeypatch):
    """WTForms 3.3 deprecates (value, label) tuples as choices, to be removed in
    3.4; the portal's selects give a {value: label} dict. Choices given through a
    callable or set after the form is built escape WTForms' own warning, so the
    pages are drawn with tuples refused outright."""
    original = SelectChoice.from_input.__func__

    def no_tuples(cls, choice, optgroup=None):
        assert not isinstance(choice, tuple), f"tuple choice {choice!r}"
        return original(cls, choice, optgroup)

    monkeypatch.setattr(SelectChoice, "from_input", classmethod(no_tuples))
    levels.create(tenant.id, SYSTEM, level_name="Gold", min_points=100, benefits="")
    vip.create_tag(tenant.id, SYSTEM, tag_name="Silver", tag_type="vip", rank=1,
                   duration_days=30)
    make_member(tenant, "carol")
    owner = people["owner"]
    for url in ("/t/acme/members/", "/t/acme/members/carol/", "/t/acme/staff/",
                "/t/acme/api-clients/", "/t/acme/audit/"):
        assert owner.get(url).status_code == 200, url
    assert owner.post("/language", {"locale": "zh_Hans_CN"}).status_code in (302, 303)
    assert owner.post("/t/acme/staff/", {"email": "new@acme.test", "role": "viewer",
                                         "password": "another horse battery"}
                      ).status_code in (302, 303)


def test_fields_once_keeps_an_untouched_forms_block_and_draws_any_other_afresh(app):
    fields._fresh_fields.clear()
    block = ("{% call fields_once(form, 'earn') %}{{ form.points_amount(id='x') }}"
             "{{ form.points_amount.errors|join }}{% endcall %}")
    template = app.jinja_env.from_string(block)
    with app.test_request_context("/", method="POST"):
        fresh = template.render(form=EarnForm(formdata=None))
        assert fresh == str(EarnForm(formdata=None).points_amount(id="x")) and len(
            fields._fresh_fields) == 1
        typed = template.render(form=EarnForm(formdata=MultiDict({"points_amount": "77"})))
        assert 'value="77"' in typed
        wrong = EarnForm(formdata=None)
        wrong.points_amount.errors = ["bad"]
        assert template.render(form=wrong).endswith("bad")
        refused = EarnForm(formdata=None)
        refused.form_errors.append("refused")
        refused.points_amount.data = 5
        assert 'value="5"' in template.render(form=refused)
        assert template.render(form=EarnForm(formdata=None)) == fresh
    with app.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        refresh()
        app.jinja_env.from_string("{% call fields_once(form, 'earn') %}{{ form.points_amount."
                                  "label.text }}{% endcall %}").render(form=EarnForm(formdata=None))
    assert len(fields._fresh_fields) == 2  # one per language


def test_fields_once_keeps_a_form_given_no_input_apart_from_one_given_none(app):
    fields._fresh_fields.clear()
    template = app.jinja_env.from_string("{% call fields_once(form) %}{{ form.kind(id='k') }}"
                                         "{% endcall %}")
    with app.test_request_context("/"):
        plain = str(HistoryFilterForm(MultiDict()).kind(id="k"))
        assert template.render(form=HistoryFilterForm(MultiDict())) == plain
        assert template.render(form=HistoryFilterForm(formdata=None)) == plain
        assert len(fields._fresh_fields) == 2
        chosen = template.render(form=HistoryFilterForm(MultiDict({"kind": "earn"})))
        assert '<option selected value="earn">' in chosen and len(fields._fresh_fields) == 2
