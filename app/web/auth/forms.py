from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectField
from wtforms.validators import DataRequired, Length

from app.i18n import SUPPORTED
from app.services.staff import PASSWORD_MAX
from app.services.validation import EMAIL_MAX


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=EMAIL_MAX)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=PASSWORD_MAX)])


class LanguageForm(FlaskForm):
    locale = SelectField(_l("Language"), choices={code: code for code in SUPPORTED})
    next = HiddenField()
