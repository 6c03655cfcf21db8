"""The words of the talking points: what the agent says to the customer, in the customer's
language (message ids; see words.py for how an entry reads per reader)."""

from __future__ import annotations

from remedy.i18n import N_
from remedy.presenting.wording import Words, plural, same

POINT_WORDS: dict[str, Words] = {
    # -- talking points (said to the customer's agent, in the customer's language) -----------
    "point_acknowledge": same(
        N_("Acknowledge what went wrong and how it affected them, in your own words.")
    ),
    "point_waited": same(
        N_(
            "They have waited {waited} for this answer, longer than we promise: thank them "
            "for their patience and apologise for the wait."
        )
    ),
    "point_repeat": same(
        N_(
            "This is their incident number {n} with us lately: say you know, and that you "
            "are fixing what keeps failing."
        )
    ),
    "point_own_company": same(
        N_("Say plainly that it was our mistake; no excuses, no blaming others.")
    ),
    "point_own_partner": same(
        N_("Own it: our partner failed, but the customer chose us, so it is ours to fix.")
    ),
    "point_own_unknown": same(
        N_("Say you are finding out what happened and will not make them wait for it.")
    ),
    "point_own_customer": same(
        N_("Stay warm and blame-free; explain what happened without lecturing.")
    ),
    "point_fix_whole": same(
        N_("Fix it now, within {fix_within}: {label} ({amount}); the customer is made whole.")
    ),
    "point_fix_whole_late": same(
        N_(
            "Fix it now, in this conversation (the {fix_within} we promise has passed): "
            "{label} ({amount}); the customer is made whole."
        )
    ),
    "point_fix": same(N_("Fix it now: {label} ({amount}).")),
    "point_next_step": same(N_("Explain the next step and when they will hear from us.")),
    "point_what_fixed": same(
        N_(
            "Tell them what we have fixed so it does not happen again, and thank them for "
            "telling us."
        )
    ),
    "point_open_door": same(
        N_(
            "They have left us: make it right anyway, with any money back to their own "
            "payment method, and tell them the door stays open."
        )
    ),
    "point_stay": same(
        N_(
            "They said they will leave: listen first, fix it now, and ask what would make "
            "them stay."
        )
    ),
    "point_leader": same(
        N_("Give them {label}: a leader's own number to keep; introduce it personally.")
    ),
    "point_arrange": same(N_("Arrange it: {label}; agree a time that suits them.")),
    "point_surprise_amount": same(N_("Then the surprise: {label} ({amount}).")),
    "point_surprise": same(N_("Then the surprise: {label}.")),
    "point_follow_up": plural(
        "Follow up within {n} hour to check it is resolved.",
        "Follow up within {n} hours to check it is resolved.",
    ),
}
