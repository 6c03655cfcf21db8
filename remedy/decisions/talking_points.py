"""Short prompts for the agent (not a script to paste), in the incident's language.

The order follows what the literature says matters: acknowledge with empathy (#13), own the fault
where it is ours (#26: accepting blame beats everything else), the fix at once (#12, #18/#19:
speed), the extra, then the follow-up. `respond_within` tightens with severity (#13: a late
apology hurts).
"""

from __future__ import annotations

from catalog.items import Catalog
from remedy.domain import FIX_KINDS, OVERDELIVERY_KINDS, FaultType, Incident, Kind, Plan

# Response targets by severity, in ISO 8601 durations.
RESPOND_WITHIN = {5: "PT1H", 4: "PT4H", 3: "PT24H", 2: "PT48H", 1: "PT72H"}

_TEXT = {
    "en": {
        "acknowledge": "Acknowledge what went wrong and how it affected them, in your own words.",
        "own": "Say plainly that it was our mistake; no excuses, no blaming others.",
        "own_partner": "Own it: our partner failed, but the customer chose us, so it is ours to fix.",
        "unknown": "Say you are finding out what happened and will not make them wait for it.",
        "customer": "Stay warm and blame-free; explain what happened without lecturing.",
        "fix": "Fix it now: {label}.",
        "extra": "Then the surprise: {label}.",
        "contact": "Arrange it: {label}; agree a time that suits them.",
        "follow_up": "Follow up within {hours} hours to check it is resolved.",
        "no_fix": "Explain the next step and when they will hear from us.",
    },
    "fr": {
        "acknowledge": "Reconnaissez ce qui s'est mal passé et ce que cela leur a coûté, avec vos mots.",
        "own": "Dites simplement que l'erreur vient de nous, sans excuses ni reproches.",
        "own_partner": "Assumez : notre partenaire a failli, mais le client nous a choisis, c'est à nous de réparer.",
        "unknown": "Dites que vous cherchez la cause et que le client n'attendra pas pour autant.",
        "customer": "Restez chaleureux et sans reproche ; expliquez sans faire la leçon.",
        "fix": "Réparez tout de suite : {label}.",
        "extra": "Puis la surprise : {label}.",
        "contact": "Organisez-le : {label} ; convenez d'un moment qui lui convient.",
        "follow_up": "Recontactez le client sous {hours} heures pour vérifier que tout est réglé.",
        "no_fix": "Expliquez la prochaine étape et quand le client aura de nos nouvelles.",
    },
}
LANGUAGES = tuple(_TEXT)


def talking_points(incident: Incident, plan: Plan, catalog: Catalog) -> dict[str, object]:
    """Return the respond-within target and the prompts for one plan."""
    language = incident.language if incident.language in _TEXT else "en"
    text = _TEXT[language]
    points = [text["acknowledge"]]
    points.append(
        {
            FaultType.COMPANY: text["own"],
            FaultType.PARTNER: text["own_partner"],
            FaultType.UNKNOWN: text["unknown"],
            FaultType.CUSTOMER: text["customer"],
        }[incident.fault_type]
    )
    fixes = [a for a in plan.actions if a.kind in FIX_KINDS]
    if fixes:
        points.append(text["fix"].format(label=catalog.item(fixes[0].item_id).label(language)))
    else:
        points.append(text["no_fix"])
    for action in plan.actions:
        if action.kind in OVERDELIVERY_KINDS:
            key = "contact" if action.kind == Kind.PERSONAL_CONTACT else "extra"
            points.append(text[key].format(label=catalog.item(action.item_id).label(language)))
    follow_up_hours = 24 if incident.severity >= 4 else 72
    points.append(text["follow_up"].format(hours=follow_up_hours))
    return {
        "language": language,
        "respond_within": RESPOND_WITHIN[incident.severity],
        "points": points,
    }
