from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, RadioField, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional

from app.services import vip
from app.web import labels
from app.web.forms import Form
from app.web.members.forms import KeyedForm
from app.web.tenancy import TenantContext


class GrantForm(KeyedForm):
    tag_id = SelectField(_l("VIP tag"), coerce=int, validators=[InputRequired()])
    pay_with_points = BooleanField(_l("Pay with the member's points"))
    resolution = RadioField(_l("How to resolve it"), choices=[], validate_choice=False,
                            validators=[Optional()])


def grant_form(tc: TenantContext, bound: bool = False) -> GrantForm:
    """The grant form with the tenant's active tags; `bound` reads the request."""
    form = GrantForm() if bound else GrantForm(formdata=None)
    form.tag_id.choices = {t.id: f"{t.tag_name} · {t.tag_type} · {t.duration_days}d"
                           for t in vip.list_tags(tc.tenant.id)}
    form.resolution.choices = dict(labels.translated(labels.RESOLUTIONS))
    return form

class TagForm(Form):
    tag_name = StringField(_l("Name"), validators=[Length(max=vip.TAG_NAME_MAX)])
    tag_type = StringField(_l("Type"), validators=[Length(max=vip.TAG_TYPE_MAX)],
                           description=_l("Tags of one type exclude each other, e.g. vip."))
    rank = IntegerField(_l("Rank"), validators=[InputRequired()],
                        description=_l("Higher ranks can upgrade lower ones."))
    duration_days = IntegerField(_l("Duration in days"), validators=[InputRequired()])
    points_price = IntegerField(_l("Price in points (optional)"), validators=[Optional()])
