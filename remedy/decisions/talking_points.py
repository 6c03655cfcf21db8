"""Short prompts for the agent (not a script to paste), in the incident's language.

The order follows what the literature says matters: acknowledge with empathy (#13), own the fault
where it is ours (#26: accepting blame beats everything else), the fix at once (#12, #18/#19:
speed: the fix named with its amount and its deadline), the extra, then the follow-up. The
promises come from the caps document: `respond_within` (30 minutes, 15 for severe incidents by
default; #13: a late apology hurts) and, when we or a partner are at fault, `fix_within` (an
hour by default; #18/#19: resolved quickly, 82-95% come back). The prompts name this incident's
fix, extras, amounts and deadline, so the agent says them in their own words; the wording is in
the gettext catalogs (remedy/translations/).
"""

from __future__ import annotations

from catalog.items import Catalog
from remedy.decisions.caps import Promises
from remedy.decisions.durations import duration_seconds
from remedy.domain import OVERDELIVERY_KINDS, Action, FaultType, Incident, Kind, Plan
from remedy.i18n import N_, Messages

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
    incident: Incident, plan: Plan, catalog: Catalog, promises: Promises, m: Messages
) -> dict[str, object]:
    """Return the promises (respond within, fix within) and the prompts for one plan, in `m`'s
    language."""
    fix_within = promises.fix_by(incident)
    points = [m("Acknowledge what went wrong and how it affected them, in your own words.")]
    if incident.prior_incidents:
        points.append(
            m(
                "This is their incident number {n} with us lately: say you know, and that you "
                "are fixing what keeps failing.",
                n=incident.prior_incidents + 1,
            )
        )
    points.append(m(_OWN[incident.fault_type]))
    fix = plan.fix
    if fix is not None:
        label = catalog.item(fix.item_id).label(m)
        amount = m.money(fix.value, plan.currency)
        if fix.value >= incident.loss_amount and fix_within is not None:
            points.append(
                m(
                    "Fix it now, within {fix_within}: {label} ({amount}); the customer is made "
                    "whole.",
                    fix_within=m.duration(duration_seconds(fix_within)),
                    label=label,
                    amount=amount,
                )
            )
        else:
            points.append(m("Fix it now: {label} ({amount}).", label=label, amount=amount))
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
        "respond_within": promises.respond_by(incident),
        "fix_within": fix_within,
        "points": [p for p in points if p],
    }


def _extra(action: Action, catalog: Catalog, currency: str, m: Messages) -> str:
    """The prompt for one overdelivery action ('' for the apology and the fix)."""
    if action.kind not in OVERDELIVERY_KINDS:
        return ""
    label = catalog.item(action.item_id).label(m)
    if action.kind == Kind.PERSONAL_CONTACT:
        if action.level == "leader":
            return m(
                "Give them {label}: a leader's own number to keep; introduce it personally.",
                label=label,
            )
        return m("Arrange it: {label}; agree a time that suits them.", label=label)
    if action.value:
        amount = m.money(action.value, currency)
        return m("Then the surprise: {label} ({amount}).", label=label, amount=amount)
    return m("Then the surprise: {label}.", label=label)
