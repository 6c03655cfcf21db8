"""What agents call the kinds of remedy and the levels of personal contact, in their language."""

from __future__ import annotations

from remedy.domain import Kind
from remedy.i18n import N_, Messages

KIND_NAMES = {
    Kind.APOLOGY: N_("apology"),
    Kind.REFUND: N_("refund"),
    Kind.CREDIT: N_("account credit"),
    Kind.REPLACEMENT: N_("replacement"),
    Kind.EXPEDITE: N_("expedited shipping"),
    Kind.UPGRADE: N_("upgrade"),
    Kind.GIFT: N_("gift"),
    Kind.PERSONAL_CONTACT: N_("personal contact"),
}
# Translators: who calls the customer: the agent, a manager, an executive or a leader (the
# founder or an executive who gives the customer their own number).
LEVEL_NAMES = {
    "agent": N_("agent"),
    "manager": N_("manager"),
    "executive": N_("executive"),
    "leader": N_("leader"),
}


def kind_name(kind: Kind, m: Messages) -> str:
    """Name a kind of remedy ('personal contact')."""
    return m(KIND_NAMES[kind])


def level_name(level: str, m: Messages) -> str:
    """Name a contact level ('manager'); an unknown level is said as it is."""
    return m(LEVEL_NAMES[level]) if level in LEVEL_NAMES else level
