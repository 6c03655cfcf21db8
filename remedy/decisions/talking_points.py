"""Short prompts for the agent (not a script to paste), in the incident's language.

The order follows what the literature says matters: acknowledge with empathy (#13), own the fault
where it is ours (#26: accepting blame beats everything else), the fix at once (#12, #18/#19:
speed: the fix named with its amount and its deadline), the extra, then the follow-up. The
promises come from the caps document: `respond_within` (30 minutes, 15 for severe incidents by
default; #13: a late apology hurts) and, when we or a partner are at fault, `fix_within` (an
hour by default; #18/#19: resolved quickly, 82-95% come back).
"""

from __future__ import annotations

from catalog.items import Catalog
from remedy.decisions.caps import Promises
from remedy.domain import OVERDELIVERY_KINDS, FaultType, Incident, Kind, Plan

_TEXT = {
    "en": {
        "acknowledge": "Acknowledge what went wrong and how it affected them, in your own words.",
        "own": "Say plainly that it was our mistake; no excuses, no blaming others.",
        "own_partner": "Own it: our partner failed, but the customer chose us, so it is ours to fix.",
        "unknown": "Say you are finding out what happened and will not make them wait for it.",
        "customer": "Stay warm and blame-free; explain what happened without lecturing.",
        "fix": "Fix it now, within {fix_within}: {label} ({amount}); the customer is made whole.",
        "fix_partial": "Fix it now: {label} ({amount}).",
        "leader": "Give them {label}: a leader's own number to keep; introduce it personally.",
        "extra": "Then the surprise: {label}.",
        "contact": "Arrange it: {label}; agree a time that suits them.",
        "follow_up": "Follow up within {hours} hours to check it is resolved.",
        "no_fix": "Explain the next step and when they will hear from us.",
        "repeat": "This is their incident number {n} with us lately: say you know, and that you are fixing what keeps failing.",
    },
    "fr": {
        "acknowledge": "Reconnaissez ce qui s'est mal passé et ce que cela leur a coûté, avec vos mots.",
        "own": "Dites simplement que l'erreur vient de nous, sans excuses ni reproches.",
        "own_partner": "Assumez : notre partenaire a failli, mais le client nous a choisis, c'est à nous de réparer.",
        "unknown": "Dites que vous cherchez la cause et que le client n'attendra pas pour autant.",
        "customer": "Restez chaleureux et sans reproche ; expliquez sans faire la leçon.",
        "fix": "Réparez tout de suite, sous {fix_within} : {label} ({amount}) ; le client est entièrement dédommagé.",
        "fix_partial": "Réparez tout de suite : {label} ({amount}).",
        "leader": "Donnez-lui {label} : le numéro direct d'un dirigeant, à garder ; présentez-le personnellement.",
        "extra": "Puis la surprise : {label}.",
        "contact": "Organisez-le : {label} ; convenez d'un moment qui lui convient.",
        "follow_up": "Recontactez le client sous {hours} heures pour vérifier que tout est réglé.",
        "no_fix": "Expliquez la prochaine étape et quand le client aura de nos nouvelles.",
        "repeat": "C'est son incident numéro {n} chez nous récemment : dites que vous le savez et que vous corrigez ce qui échoue.",
    },
}
LANGUAGES = tuple(_TEXT)


def talking_points(
    incident: Incident, plan: Plan, catalog: Catalog, promises: Promises
) -> dict[str, object]:
    """Return the promises (respond within, fix within) and the prompts for one plan."""
    language = incident.language if incident.language in _TEXT else "en"
    text = _TEXT[language]
    fix_within = promises.fix_by(incident)
    points = [text["acknowledge"]]
    if incident.prior_incidents:
        points.append(text["repeat"].format(n=incident.prior_incidents + 1))
    points.append(
        {
            FaultType.COMPANY: text["own"],
            FaultType.PARTNER: text["own_partner"],
            FaultType.UNKNOWN: text["unknown"],
            FaultType.CUSTOMER: text["customer"],
        }[incident.fault_type]
    )
    fix = plan.fix
    if fix is not None:
        whole = fix.value >= incident.loss_amount and fix_within is not None
        points.append(
            text["fix" if whole else "fix_partial"].format(
                label=catalog.item(fix.item_id).label(language),
                amount=f"{fix.value} {incident.currency}",
                fix_within=fix_within,
            )
        )
    else:
        points.append(text["no_fix"])
    for action in plan.actions:
        if action.kind in OVERDELIVERY_KINDS:
            key = "extra"
            if action.kind == Kind.PERSONAL_CONTACT:
                key = "leader" if action.level == "leader" else "contact"
            points.append(text[key].format(label=catalog.item(action.item_id).label(language)))
    follow_up_hours = 24 if incident.severity >= 4 else 72
    points.append(text["follow_up"].format(hours=follow_up_hours))
    return {
        "language": language,
        "respond_within": promises.respond_by(incident),
        "fix_within": fix_within,
        "points": points,
    }
