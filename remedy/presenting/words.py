"""The words of every fact code: the English message id (a gettext msgid) for each reader.

One table, so a fact's wording lives in one place: its parts are words_plans.py (reasons,
requirements, drops, refusals, items not eligible), words_notes.py (notes, incidents at risk,
approvals, experiments) and words_points.py (talking points), assembled here, and Babel's
extractor finds every id in them (`N_` marks them; an entry's `Words` are in wording.py). An
entry gives what an agent (and a lead) reads and, where it differs, what finance (and admins)
read: internal numbers (pacing's shadow price, P(stay), referral estimates, exploration
probabilities, the cap's binding term) are finance's alone; `None` hides a fact from that
reader. A plural entry has a singular and a plural id and its count in `n`.
Talking points (`POINT_*` codes) are said to the customer, in the customer's language.
"""

from __future__ import annotations

from remedy.i18n import N_
from remedy.presenting.wording import Words
from remedy.presenting.words_notes import NOTE_WORDS
from remedy.presenting.words_plans import PLAN_WORDS
from remedy.presenting.words_points import POINT_WORDS

WORDS: dict[str, Words] = {**PLAN_WORDS, **NOTE_WORDS, **POINT_WORDS}
# One literal would let ruff (F601) catch a code written twice; across the parts, this does.
if len(WORDS) != len(PLAN_WORDS) + len(NOTE_WORDS) + len(POINT_WORDS):
    _twice = sorted(
        set(PLAN_WORDS) & set(NOTE_WORDS) | set(POINT_WORDS) & (set(PLAN_WORDS) | set(NOTE_WORDS))
    )
    raise ValueError(f"fact codes with words in two parts: {', '.join(_twice)}")

# Names said inside facts: kinds of remedy and levels of personal contact.
KIND_NAMES = {
    "apology": N_("apology"),
    "refund": N_("refund"),
    "credit": N_("account credit"),
    "replacement": N_("replacement"),
    "expedite": N_("expedited shipping"),
    "upgrade": N_("upgrade"),
    "gift": N_("gift"),
    "personal_contact": N_("personal contact"),
}
# Translators: who calls the customer: the agent, a manager, an executive or a leader (the
# founder or an executive who gives the customer their own number).
LEVEL_NAMES = {
    "agent": N_("agent"),
    "manager": N_("manager"),
    "executive": N_("executive"),
    "leader": N_("leader"),
}
