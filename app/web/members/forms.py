from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from app.models.ledger import CATEGORIES, KINDS
from app.services.validation import REASON_MAX
from app.web import labels
from app.web.fields import PortalForm
from app.web.render import new_key


def category_choices(blank: str | None = None) -> dict[str, str]:
    names = labels.translated(labels.CATEGORY_LABELS)
    choices = {"": blank} if blank is not None else {}
    return choices | {c: names.get(c, c) for c in CATEGORIES}


def kind_choices(blank: str) -> dict[str, str]:
    names = labels.translated(labels.KINDS)
    return {"": blank} | {k: names.get(k, k) for k in KINDS}


class KeyedForm(PortalForm):
    """A write form with a one-time key: a double submit makes one change."""

    idempotency_key = HiddenField()

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not self.idempotency_key.data:
            self.idempotency_key.data = new_key()


def _category_field() -> SelectField:
    """No category preselected: the person chooses one, or is told to."""
    return SelectField(_l("Category"), choices=lambda: category_choices(_("Choose a category")),
                       validators=[InputRequired(message=_l("Choose a category."))])


class EarnForm(KeyedForm):
    points_amount = IntegerField(_l("Points"), validators=[InputRequired()])
    category = _category_field()
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=REASON_MAX)])


class SpendForm(EarnForm):
    pass


class AdjustForm(KeyedForm):
    points_amount = IntegerField(_l("Points (negative to take away)"),
                                 validators=[InputRequired()])
    category = _category_field()
    reason = TextAreaField(_l("Reason"), validators=[Length(max=REASON_MAX)])


class ReverseForm(KeyedForm):
    reason = TextAreaField(_l("Reason for the reversal"), validators=[Length(max=REASON_MAX)])


class SearchForm(PortalForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    q = StringField(_l("Search"), validators=[Optional()])
    level = SelectField(_l("Level"), choices=[], validate_choice=False)
    tag = SelectField(_l("VIP tag"), choices=[], validate_choice=False)
    cursor = HiddenField()


class HistoryFilterForm(PortalForm):
    class Meta:
        csrf = False

    kind = SelectField(_l("Kind"), validate_choice=False, choices=lambda: kind_choices(
        _("All kinds")))
    category = SelectField(_l("Category"), validate_choice=False,
                           choices=lambda: category_choices(_("All categories")))
    cursor = HiddenField()
