"""Short prompts for the agent (not a script to paste), said in the customer's language.

The order follows what the literature says matters: acknowledge with empathy (#13), own the fault
where it is ours (#26: accepting blame beats everything else), the fix at once (#12, #18/#19:
speed: the fix named with its amount and its deadline), the extra, then the follow-up. The
promises come from the caps document: `respond_within` (30 minutes, 15 for severe incidents by
default; #13: a late apology hurts) and, when we or a partner are at fault, `fix_within` (an
hour by default; #18/#19: resolved quickly, 82-95% come back). The prompts name this incident's
fix, extras, amounts and deadline, so the agent says them in their own words; they are facts
(codes with typed parameters) that `remedy.presenting` says from the gettext catalogs.
"""

from __future__ import annotations

from remedy.decisions.caps import Promises
from remedy.decisions.durations import duration_seconds
from remedy.domain import OVERDELIVERY_KINDS, Action, FaultType, Incident, Kind, Plan
from remedy.facts import Fact, Item, Money, Seconds, fact

_OWN = {
    FaultType.COMPANY: "point_own_company",
    FaultType.PARTNER: "point_own_partner",
    FaultType.UNKNOWN: "point_own_unknown",
    FaultType.CUSTOMER: "point_own_customer",
}


def talking_points(incident: Incident, plan: Plan, promises: Promises) -> dict[str, object]:
    """Return the promises (respond within, fix within) and the prompts for one plan, as facts
    the presenter says in the customer's language."""
    fix_within = promises.fix_by(incident)
    points = [fact("point_acknowledge")]
    if incident.prior_incidents:
        points.append(fact("point_repeat", n=incident.prior_incidents + 1))
    points.append(fact(_OWN[incident.fault_type]))
    fix = plan.fix
    if fix is not None:
        label, amount = Item(fix.item_id), Money(fix.value, plan.currency)
        if fix.value >= incident.loss_amount and fix_within is not None:
            points.append(
                fact(
                    "point_fix_whole",
                    fix_within=Seconds(duration_seconds(fix_within)),
                    label=label,
                    amount=amount,
                )
            )
        else:
            points.append(fact("point_fix", label=label, amount=amount))
    elif incident.loss_amount == 0:
        points.append(fact("point_what_fixed"))
    else:
        points.append(fact("point_next_step"))
    if incident.customer_status == "left":
        points.append(fact("point_open_door"))
    elif incident.threatens_to_leave:
        points.append(fact("point_stay"))
    points += [p for p in (_extra(a, plan.currency) for a in plan.actions) if p is not None]
    points.append(fact("point_follow_up", n=24 if incident.severity >= 4 else 72))
    return {
        "respond_within": promises.respond_by(incident),
        "fix_within": fix_within,
        "points": points,
    }


def _extra(action: Action, currency: str) -> Fact | None:
    """The prompt for one overdelivery action (None for the apology and the fix)."""
    if action.kind not in OVERDELIVERY_KINDS:
        return None
    label = Item(action.item_id)
    if action.kind == Kind.PERSONAL_CONTACT:
        if action.level == "leader":
            return fact("point_leader", label=label)
        return fact("point_arrange", label=label)
    if action.value:
        return fact("point_surprise_amount", label=label, amount=Money(action.value, currency))
    return fact("point_surprise", label=label)
