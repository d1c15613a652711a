"""The programme engine: earning rules turn what a member did (an event) into
points. Rules (rules), the arithmetic (evaluation, pure), events and their awards
(events; their input in event_input, what they would earn in simulation, their
views in outcomes), pending awards and their activation (pending), refunds
(revocation)."""
from app.services.programme.evaluation import Facts, Line, MemberState, Terms, evaluate
from app.services.programme.events import (
    find_event_row, get as get_event, recent_for_member, record,
)
from app.services.programme.outcomes import AwardView, EventOutcome, EventView, Recorded
from app.services.programme.pending import ActivationReport, activate_due
from app.services.programme.revocation import RevokeOutcome, revocations_of, revoke
from app.services.programme.rules import (
    award_of, create as create_rule, get as get_rule, list_rules, set_active,
    update as update_rule,
)
from app.services.programme.simulation import preview, simulate

__all__ = [
    "ActivationReport", "AwardView", "EventOutcome", "EventView", "Facts", "Line",
    "MemberState", "Recorded", "RevokeOutcome", "Terms", "activate_due", "award_of",
    "create_rule", "evaluate", "find_event_row", "get_event", "get_rule", "list_rules",
    "preview", "recent_for_member", "record", "revocations_of", "revoke", "set_active",
    "simulate", "update_rule",
]
