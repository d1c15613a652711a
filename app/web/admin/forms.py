from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    EmailField, IntegerField, PasswordField, SelectField, SelectMultipleField, StringField,
)
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.models import ROLES
from app.services import api_clients, tenants
from app.services.permissions import POINT_PERMISSIONS, ROLE_PERMISSIONS
from app.web import labels
from app.web.forms import Form


def role_choices() -> dict[str, str]:
    return {r: labels.label(labels.ROLES, r) for r in ROLES}


class SettingsForm(Form):
    name = StringField(_l("Programme name"), validators=[Length(max=tenants.NAME_MAX)])
    max_points_per_operation = IntegerField(_l("Maximum points per operation"),
                                            validators=[InputRequired()])
    default_expiry_days = IntegerField(_l("Earned points expire after (days)"),
                                       validators=[Optional()],
                                       description=_l("Leave empty: points never expire."))
    timezone = StringField(_l("Time zone"),
                           description=_l("An IANA name such as Asia/Shanghai: the day of "
                                          "rule limits, and how the portal shows times."))
    expiry_notice_days = IntegerField(
        _l("Announce expiring points (days ahead)"), validators=[Optional()],
        description=_l("The points.expiring_soon webhook tells integrations this many days "
                       "before a member's points expire."))
    default_country_code = StringField(
        _l("Default country calling code"), validators=[Optional(), Length(max=4)],
        description=_l("Digits only, such as 86: phone numbers written without a + or 00 "
                       "belong to this country, so 138-0000-0000 and +86 138 0000 0000 "
                       "find the same member."))


# A person is added with the fewest permissions; more is a deliberate choice.
LEAST_PRIVILEGED_ROLE = min(ROLES, key=lambda role: len(ROLE_PERMISSIONS[role]))


class StaffForm(Form):
    email = EmailField(_l("Email"))
    display_name = StringField(_l("Name"), validators=[Optional()])
    role = SelectField(_l("Role"), choices=role_choices, default=LEAST_PRIVILEGED_ROLE)
    password = PasswordField(_l("Password"), validators=[Optional()],
                             description=_l("Only for a new account: at least 8 characters. "
                                            "An existing account keeps its password."))


class RoleForm(Form):
    role = SelectField(_l("Role"), choices=role_choices)


class ApiClientForm(Form):
    name = StringField(_l("Name"), validators=[Length(max=api_clients.NAME_MAX)])
    permissions = SelectMultipleField(
        _l("Permissions"), choices=lambda: {p: labels.label(labels.PERMISSIONS, p)
                                            for p in POINT_PERMISSIONS},
        widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    rate_limit = StringField(_l("Rate limit (optional)"), validators=[Optional()],
                             description=_l("e.g. 20000/hour; empty: the default limit."))


class ButtonForm(Form):
    """A POST with nothing but its CSRF token (revoke, deactivate)."""


def webhook_event_choices() -> list[tuple[str, str]]:
    from app.services.webhooks.endpoints import SUBSCRIBABLE

    return [("*", str(_l("All events")))] + [(t, t) for t in SUBSCRIBABLE]


class WebhookForm(Form):
    url = StringField(_l("URL"), description=_l("Where to POST the events (https in production)."))
    event_types = SelectMultipleField(
        _l("Events"), choices=webhook_event_choices,
        widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    description = StringField(_l("Description"), validators=[Optional()])
