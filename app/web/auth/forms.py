from flask_babel import lazy_gettext as _l
from wtforms import EmailField, HiddenField, PasswordField, SelectField
from wtforms.validators import DataRequired, Length

from app.i18n import SUPPORTED
from app.web.forms import Form


class LoginForm(Form):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])


class LanguageForm(Form):
    locale = SelectField(_l("Language"), choices=[(code, code) for code in SUPPORTED])
    next = HiddenField()
