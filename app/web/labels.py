"""Display names of the domain's fixed vocabularies. The stored values (and error
codes) stay as they are; only what a person reads is translated."""
from __future__ import annotations

from flask_babel import force_locale, get_locale, lazy_gettext as _l

from app import caches

KINDS = {
    "earn": _l("Earn"), "spend": _l("Spend"), "adjust": _l("Adjustment"),
    "expire": _l("Expiry"), "reversal": _l("Reversal"),
}
CATEGORY_LABELS = {
    "login": _l("Sign-in"), "license": _l("Licence"), "referral": _l("Referral"),
    "community": _l("Community"), "payment": _l("Payment"), "manual": _l("Manual"),
    "vip_upgrade": _l("VIP upgrade"), "feature_unlock": _l("Feature unlock"),
}
ROLES = {
    "owner": _l("Owner"), "admin": _l("Admin"), "support": _l("Support"), "viewer": _l("Viewer"),
}
RESOLUTIONS = {
    "upgrade_existing": _l("Upgrade the current tag"),
    "extend_existing": _l("Extend the current tag"),
    "replace_existing": _l("Replace the current tag"),
}
RESOLUTION_HELP = {
    "upgrade_existing": _l("The member gets the requested tag and keeps the later of the two "
                           "expiry dates."),
    "extend_existing": _l("The member keeps the current tag, longer by the requested tag's "
                          "duration."),
    "replace_existing": _l("The current tag ends now and the requested tag starts today."),
}
PERMISSIONS = {
    "can_view_points": _l("View points"), "can_earn_points": _l("Earn points"),
    "can_spend_points": _l("Spend points"), "can_adjust_points": _l("Adjust points"),
    "can_manage_points": _l("Manage points"),
}
ACTOR_TYPES = {
    "staff": _l("Staff"), "api_client": _l("API client"), "system": _l("System"),
    "anonymous": _l("Anonymous"),
}
DELIVERY_STATUSES = {
    "pending": _l("pending"), "delivered": _l("delivered"), "failed": _l("failed"),
}
LANGUAGES = {"en": "English", "zh_Hans_CN": "简体中文"}


_translated: dict[tuple[int, str], dict[str, str]] = caches.register({})


def translated(table: dict, locale_id: str | None = None) -> dict[str, str]:
    """One of the tables above in `locale_id` (by default the request's locale),
    translated once per locale (a page draws the category names in four forms:
    40 lookups of lazy strings)."""
    key = (id(table), locale_id or str(get_locale()))
    names = _translated.get(key)
    if names is None:
        with force_locale(key[1]):  # the locale of the key, not whichever asks first
            names = _translated[key] = {value: str(text) for value, text in table.items()}
    return names


def label(table: dict, value: str | None) -> str:
    if value is None:
        return ""
    return translated(table).get(value, value)
