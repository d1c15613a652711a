"""Forms of a member's card: create, edit details, the points switch, notes."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from app.services.member_card import NOTE_MAX
from app.services.validation import DISPLAY_NAME_MAX, EMAIL_MAX, USER_ID_MAX
from app.web.fields import PortalForm
from app.web.members.forms import KeyedForm

PHONE_MAX = 32


class DetailsForm(PortalForm):
    display_name = StringField(_l("Display name"),
                               validators=[Optional(), Length(max=DISPLAY_NAME_MAX)])
    email = StringField(_l("Email"), validators=[Optional(), Length(max=EMAIL_MAX)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=PHONE_MAX)],
                        description=_l("With its country code (+86 138 0000 0000), or without "
                                       "it for the programme's default country."))


class NewMemberForm(KeyedForm, DetailsForm):
    user_id = StringField(_l("User id"), validators=[InputRequired(), Length(max=USER_ID_MAX)],
                          description=_l("The id your systems know this customer by; it "
                                         "cannot be changed later."))


class PointsSwitchForm(PortalForm):
    enabled = HiddenField()


class NoteForm(KeyedForm):
    body = TextAreaField(_l("Note"), validators=[InputRequired(), Length(max=NOTE_MAX)],
                         description=_l("Seen by staff only, never by the member or "
                                        "integrations. A note cannot be edited or deleted."))
