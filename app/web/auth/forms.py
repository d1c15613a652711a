from flask_babel import lazy_gettext as _l
from wtforms import EmailField, HiddenField, PasswordField, SelectField
from wtforms.validators import DataRequired, Length

from app.i18n import SUPPORTED
from app.web.forms import Form
from app.services.staff import PASSWORD_MAX
from app.services.validation import EMAIL_MAX


class LoginForm(Form):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=EMAIL_MAX)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=PASSWORD_MAX)])


class PasswordForm(Form):
    # The lengths and the common-password check are the service's (one rule for
    # every way a password is set); here only what a browser must send.
    current_password = PasswordField(_l("Current password"),
                                     validators=[DataRequired(), Length(max=PASSWORD_MAX)])
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=PASSWORD_MAX)])
    confirm_password = PasswordField(_l("New password again"),
                                     validators=[DataRequired(), Length(max=PASSWORD_MAX)])


class LanguageForm(Form):
    locale = SelectField(_l("Language"), choices={code: code for code in SUPPORTED})
    next = HiddenField()
