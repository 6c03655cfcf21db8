"""Short prompts for the agent (not a script to paste), in the incident's language.

The order follows what the literature says matters: acknowledge with empathy (#13), own the fault
where it is ours (#26: accepting blame beats everything else), the fix at once (#12, #18/#19:
speed), the extra, then the follow-up. `respond_within` tightens with severity (#13: a late
apology hurts). The prompts name this incident's fix, extras and amounts, so the agent says them
in their own words; the wording is in the gettext catalogs (remedy/translations/).
"""

from __future__ import annotations

from catalog.items import Catalog
from remedy.domain import FIX_KINDS, OVERDELIVERY_KINDS, Action, FaultType, Incident, Kind, Plan
from remedy.i18n import N_, Messages

# Response targets by severity, in ISO 8601 durations.
RESPOND_WITHIN = {5: "PT1H", 4: "PT4H", 3: "PT24H", 2: "PT48H", 1: "PT72H"}

_OWN = {
    FaultType.COMPANY: N_("Say plainly that it was our mistake; no excuses, no blaming others."),
    FaultType.PARTNER: N_(
        "Own it: our partner failed, but the customer chose us, so it is ours to fix."
    ),
    FaultType.UNKNOWN: N_(
        "Say you are finding out what happened and will not make them wait for it."
    ),
    FaultType.CUSTOMER: N_("Stay warm and blame-free; explain what happened without lecturing."),
}


def talking_points(
    incident: Incident, plan: Plan, catalog: Catalog, m: Messages
) -> dict[str, object]:
    """Return the respond-within target and the prompts for one plan, in `m`'s language."""
    points = [m("Acknowledge what went wrong and how it affected them, in your own words.")]
    points.append(m(_OWN[incident.fault_type]))
    fixes = [a for a in plan.actions if a.kind in FIX_KINDS]
    if fixes:
        fix = fixes[0]
        label = catalog.item(fix.item_id).label(m)
        if fix.value:
            amount = m.money(fix.value, plan.currency)
            points.append(m("Fix it now: {label} ({amount}).", label=label, amount=amount))
        else:
            points.append(m("Fix it now: {label}.", label=label))
    else:
        points.append(m("Explain the next step and when they will hear from us."))
    points += [_extra(action, catalog, plan.currency, m) for action in plan.actions]
    follow_up_hours = 24 if incident.severity >= 4 else 72
    points.append(
        m.plural(
            "Follow up within {n} hour to check it is resolved.",
            "Follow up within {n} hours to check it is resolved.",
            follow_up_hours,
        )
    )
    return {
        "language": m.language,
        "respond_within": RESPOND_WITHIN[incident.severity],
        "points": [p for p in points if p],
    }


def _extra(action: Action, catalog: Catalog, currency: str, m: Messages) -> str:
    """The prompt for one overdelivery action ('' for the apology and the fix)."""
    if action.kind not in OVERDELIVERY_KINDS:
        return ""
    label = catalog.item(action.item_id).label(m)
    if action.kind == Kind.PERSONAL_CONTACT:
        return m("Arrange it: {label}; agree a time that suits them.", label=label)
    if action.value:
        amount = m.money(action.value, currency)
        return m("Then the surprise: {label}, worth {amount}.", label=label, amount=amount)
    return m("Then the surprise: {label}.", label=label)
