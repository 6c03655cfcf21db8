"""The words of every fact code: the English message id (a gettext msgid) for each reader.

One table, so a fact's wording lives in one place and Babel's extractor finds every id here
(`N_` marks them). An entry gives what an agent (and a lead) reads and, where it differs, what
finance (and admins) read: internal numbers (pacing's shadow price, P(stay), referral
estimates, exploration probabilities, the cap's binding term) are finance's alone; `None` hides
a fact from that reader. A plural entry has a singular and a plural id and its count in `n`.
Talking points (`POINT_*` codes) are said to the customer, in the customer's language.
"""

from __future__ import annotations

from dataclasses import dataclass

from remedy.i18n import N_

_SAME = "\x00same"  # finance reads the agent's words


@dataclass(frozen=True, slots=True)
class Words:
    """What one fact code says to an agent (and a lead) and to finance (and an admin)."""

    agent: str | None  # None: agents do not see the fact
    finance: str | None = _SAME  # None: finance does not see it (it reads a fuller fact)
    plural: str | None = None  # the plural id, when the entry counts `n`

    def msgid(self, finance: bool) -> str | None:
        """The message id for a reader (None: this reader does not see the fact)."""
        if finance:
            return self.agent if self.finance == _SAME else self.finance
        return self.agent


def _same(msgid: str) -> Words:
    """One message for every reader."""
    return Words(msgid)


def _finance(msgid: str) -> Words:
    """A message only finance reads."""
    return Words(None, msgid)


def plural(singular: str, plural_id: str) -> Words:
    """One message for every reader whose form depends on its count `n`."""
    return Words(singular, plural=plural_id)


# Translators: P(stay) is the chance the customer stays; keep it as it is.
_NET_VALUE = N_("expected net value {value}: P(stay) {p_stay}, referrals {referrals}, cost {cost}")

WORDS: dict[str, Words] = {
    # -- reasons beside a plan ---------------------------------------------------------------
    "net_value": _finance(_NET_VALUE),
    "fix_makes_whole": _same(
        N_(
            "the fix ({fix}, {cost}) comes first and makes the customer whole; "
            "the incident cap never limits it"
        )
    ),
    "fix_first": _same(N_("the fix ({fix}, {cost}) comes first; the incident cap never limits it")),
    "within_cap": Words(
        N_("overdelivery within the incident cap of {cap}"),
        # Translators: {binding} names the cap's term (loss_multiple, value_share or
        # absolute), as the answer's caps.binding field does; keep it as it is.
        N_("overdelivery within the incident cap of {cap} ({binding})"),
    ),
    "required_by_rule": _same(N_("{requirement} required by rule {rule}")),
    "repeat_escalated": _same(
        N_(
            "incident {n} of this customer in {days} days: escalated (a senior contact, "
            "a bigger overdelivery)"
        )
    ),
    "win_back": Words(
        N_(
            "they already left: the plan is valued for the chance to win them back and for "
            "what they will tell others about how we treated them"
        ),
        N_(
            "they already left: P(stay) counts as a win-back chance at {share} of it, and word "
            "of mouth as {years} years of their value"
        ),
    ),
    "no_loss_sized": _same(
        N_(
            "nothing was lost: gestures are sized as for a loss of {basis} "
            "(severity {severity}), never a token amount"
        )
    ),
    "required_outside_cap": _same(
        N_("{required} of the cost is required by rules and outside the cap")
    ),
    "needs_lead": _same(
        N_(
            "needs a team lead's approval: cost {cost} is over {threshold}, up to which "
            "the agent decides"
        )
    ),
    "needs_finance": _same(
        N_(
            "needs finance's approval: cost {cost} is over {limit}, up to which a team "
            "lead approves"
        )
    ),
    "needs_approval": _same(N_("needs approval: cost {cost} is over the threshold of {threshold}")),
    "needs_approval_always": _same(N_("needs approval: {items} always does")),
    "fix_without_approval": _same(
        N_(
            "the fix ({fix}) needs no approval up to {limit}: approval counts only the "
            "{beyond} beyond it"
        )
    ),
    "pacing_counted": _finance(
        N_("budget pacing: cost {cost} counted as {paced} (shadow price {price})")
    ),
    # -- what a requirement asks for (nested in reasons and notes) ---------------------------
    "fix_req_whole": _same(N_("a fix that makes the customer whole")),
    "fix_req": _same(N_("a fix")),
    "kind_at_level": _same(N_("{kind} at level {level} or above")),
    "requirement_rule": _same(N_("{requirement} (rule {rule})")),
    # -- why a plan was dropped --------------------------------------------------------------
    "over_cap": Words(
        N_("overdelivery {overdelivery} is over the incident cap of {cap}"),
        # Translators: {binding} names the cap's term, as in "within the incident cap".
        N_("overdelivery {overdelivery} is over the incident cap of {cap} ({binding})"),
    ),
    "over_cap_required": Words(
        N_(
            "overdelivery {overdelivery} is over the incident cap of {cap} "
            "({required} required by rules is outside it)"
        ),
        # Translators: {binding} names the cap's term, as in "within the incident cap".
        N_(
            "overdelivery {overdelivery} is over the incident cap of {cap} ({binding}) "
            "({required} required by rules is outside it)"
        ),
    ),
    "over_fix_ceiling": _same(
        N_(
            "the fix costs {cost}, over the fix ceiling of {ceiling} "
            "(fix_ceiling in the caps: finance can raise it)"
        )
    ),
    "no_longer_fits": _same(N_("no longer fits: {reason}")),
    # Translators: {pool} is the pool's name, such as "emea/2026-11 (EUR)".
    "pool_left": _same(N_("the pool {pool} has {left} left")),
    # Translators: the fix line is the part of a pool finance sets aside for making customers
    # whole (refunds, credits); {pool} is the pool's name, such as "emea/2026-11 (EUR)".
    "fix_line_left": _same(N_("the fix line of pool {pool} has {left} left")),
    # Translators: the overdelivery line is the part of a pool for gifts, upgrades and
    # personal contact beyond the fix; {pool} is the pool's name.
    "overdelivery_line_left": _same(N_("the overdelivery line of pool {pool} has {left} left")),
    "window_left": _same(N_("customer {customer} has {left} left of the {days}-day limit")),
    "capacity_used": _same(N_("no {level} contact is left today ({used} of {capacity} taken)")),
    # -- why accepting (or an overage) was refused: a 409's limits ----------------------------
    "decision_not_proposed": _same(N_("the decision is {status}")),
    "limits_plan": _same(N_("the plan does not fit: {limits}")),
    "limits_overage": _same(N_("the overage does not fit: {limits}")),
    "limit_pool": _same(
        N_(
            "pool {pool}: {more} more would exceed the limit of {limit} (reserved {reserved}, "
            "committed {committed}, remaining {remaining})"
        )
    ),
    "limit_fix_line": _same(
        N_(
            "fix line of pool {pool}: {more} more would exceed the line's limit of {limit} "
            "(reserved {reserved}, committed {committed}, remaining {remaining})"
        )
    ),
    "limit_overdelivery_line": _same(
        N_(
            "overdelivery line of pool {pool}: {more} more would exceed the line's limit of "
            "{limit} (reserved {reserved}, committed {committed}, remaining {remaining})"
        )
    ),
    "limit_window": _same(
        N_(
            "customer {customer}: {more} more would exceed the {days}-day limit of {limit} "
            "(already {used})"
        )
    ),
    # Translators: {day} is a date such as 2026-12-07; {level} a contact level (manager).
    "limit_capacity": _same(
        N_(
            "contact capacity {level} of team {team} on {day}: {used} of {capacity} contacts "
            "already taken"
        )
    ),
    # -- why an item was not eligible --------------------------------------------------------
    "contact_used_up": _same(N_("no {level} contact is left today")),
    "forbidden_by_rule": _same(N_("forbidden by rule {rule}")),
    "off_unless_allowed": _same(N_("off unless a rule allows it")),
    # Translators: {category} and {only} are category ids such as delivery, outage.
    "not_for_category": _same(N_("not for {category} incidents (only {only})")),
    # Translators: {channel} and {only} are channel ids such as email, chat, phone.
    "not_on_channel": _same(N_("not on the {channel} channel (only {only})")),
    "no_staff_rate": _same(N_("no staff rate for {level} in {currency}")),
    "no_price": _same(N_("no price in {currency}")),
    "nothing_lost": _same(N_("nothing was lost, so there is nothing to give back")),
    "below_minimum": _same(N_("worth {value}, under its minimum of {minimum}")),
    "not_whole": _same(N_("does not make the customer whole (rule {rule})")),
    "over_bound": _same(N_("worth more than {multiple}x the loss (rule {rule})")),
    # -- notes on the decision ---------------------------------------------------------------
    "contact_lowered": _same(
        N_(
            "no {level} contact is left today: rule {rule} asked for one, so the "
            "plans offer a contact at level {lower} instead (a lead can raise "
            "contact_capacity in the caps)"
        )
    ),
    "contact_dropped": _same(
        N_(
            "no personal contact is left today: rule {rule} asked for a {level} "
            "contact, so the plans go without one (a lead can raise "
            "contact_capacity in the caps)"
        )
    ),
    "unmet_requirements": _same(N_("no plan can meet every requirement: {unmet}")),
    "no_eligible_items": _same(N_("no plan can meet every requirement: no eligible items")),
    "none_within_guardrails": _same(N_("no plan is within the guardrails: {reasons}")),
    "misfits": plural(
        "{n} plan left out because it no longer fits: {reasons}",
        "{n} plans left out because they no longer fit: {reasons}",
    ),
    # Translators: {pool} is the pool's name, such as "emea/2026-11 (EUR)"; {spent} and
    # {elapsed} are percentages.
    "pacing_where": _same(N_("pool {pool} is {spent} spent at {elapsed} of the period")),
    # Translators: as above, for the pool's overdelivery line (gifts, upgrades, contact).
    "pacing_where_line": _same(
        N_("the overdelivery line of pool {pool} is {spent} spent at {elapsed} of the period")
    ),
    "pacing_price_one": _finance(
        N_("budget pacing: {where}; cost counted at its price (shadow price 1)")
    ),
    "pacing_priced": _finance(
        N_(
            "budget pacing: {where}; cost priced at {price}x so cheaper plans win unless an "
            "expensive one is worth that much more"
        )
    ),
    "pacing_tight": Words(
        N_(
            "the team's budget is being spent ahead of the period: cheaper plans are "
            "preferred unless a bigger one is clearly worth it"
        ),
        None,  # finance reads the pacing notes with their numbers instead
    ),
    # Translators: {unpaced} and {paced} are plan ids, such as "apology+refund_full".
    "pacing_changed_top": _finance(
        N_(
            "budget pacing changed the top plan from {unpaced} (cost {unpaced_cost}) "
            "to {paced} (cost {paced_cost})"
        )
    ),
    "pacing_kept_top": _finance(N_("budget pacing left the top plan ({plan}) unchanged")),
    "no_pool": _same(
        N_(
            "no budget pool for team {team} (nor a default pool) in {currency}: "
            "accepting a plan is refused until finance sets one"
        )
    ),
    "repeat_victim": _same(
        N_(
            "repeat victim: incident {n} of this customer in {days} days; escalate and "
            "fix what keeps failing"
        )
    ),
    "answer_overdue": _same(
        N_(
            "answer overdue: the customer complained {waited} ago and we promise an answer "
            "within {respond_within}; answer now and apologise for the wait"
        )
    ),
    "fix_overdue": _same(
        N_(
            "fix overdue: the customer complained {waited} ago and we promise the fix within "
            "{fix_within}; make them whole in this answer"
        )
    ),
    "nothing_built": _same(
        N_("no plan can be built for this incident: see the rules' requirements above")
    ),
    "nothing_fits_who": _same(N_("no plan fits: {reason}; {who}")),
    "who_pool": _same(N_("finance can raise the team's pool (PUT /v1/budgets/<team>)")),
    "who_window": _same(N_("finance can raise customer_window in the caps")),
    "who_caps": _same(N_("finance can change the caps (PUT /v1/caps)")),
    "who_capacity": _same(N_("a lead can raise contact_capacity in the caps")),
    "who_rules": _same(N_("an admin can change the rules (PUT /v1/rules)")),
    "fallback_offered": _same(
        N_(
            "offered now: an apology and the most senior person still available, within "
            "what is left; {how}"
        )
    ),
    # -- incidents at risk (GET /v1/incidents/at-risk; services/at_risk.py) -------------------
    "risk_fix_overdue": _same(N_("fix overdue by {overdue}: the plan is accepted, not fulfilled")),
    "risk_fix_due_soon": _same(N_("fix due in {left}: the plan is accepted, not fulfilled")),
    "risk_apology_only": _same(
        N_("only an apology could be offered: a limit blocked every other plan; {how}")
    ),
    "risk_approval_waiting": _same(
        N_("waiting for approval for {waited}: {share} of the time the fix had left")
    ),
    "risk_approval_past_fix": _same(
        N_("waiting for approval for {waited}: the promised fix is already overdue")
    ),
    "risk_approval_escalated": _same(N_("waiting for approval for {waited}: escalated to finance")),
    # -- where an approval request stands (services/approvals.py standing_fact) --------------
    "approval_escalated": _same(
        N_("escalated to finance: no team lead answered within {after}; waiting {waited}")
    ),
    "approval_waiting_lead": _same(N_("waiting for a team lead's approval ({waited} so far)")),
    "approval_waiting_finance": _same(N_("waiting for finance's approval ({waited} so far)")),
    "approval_approved_because": _same(N_("approved by {who}: {reason}")),
    "approval_approved": _same(N_("approved by {who}")),
    "approval_rejected": _same(N_("rejected by {who}: {reason}")),
    "approval_expired": _same(
        N_("the request ended: the reservation expired before anyone decided")
    ),
    "approval_cancelled": _same(N_("the request was cancelled")),
    "approver_lead": _same(N_("a team lead")),
    "approver_finance": _same(N_("finance")),
    "approver_admin": _same(N_("an admin")),
    "approver_operator": _same(N_("the operator")),
    # -- why an approval card waits (GET /v1/approvals) --------------------------------------
    "needs_approval_overage": _same(
        N_("the actual cost {actual} is above what was reserved for the plan")
    ),
    "exploring": Words(
        N_(
            "the plan shown first is one we are trying out, to keep learning; "
            "the best-ranked plan follows"
        ),
        N_(
            "exploring: plan ranked {rank} is shown first (probability {probability}); "
            "the best-ranked plan follows"
        ),
    ),
    # -- champion/challenger experiments (GET /v1/models/experiments; the models page) -------
    "experiment_chart": _same(
        N_(
            "Challenger minus champion: realised net value per decision (USD), "
            "with its always-valid {confidence} interval"
        )
    ),
    "experiment_axis": _same(N_("outcomes compared")),
    "experiment_too_few": _same(
        N_("no decision yet: {n} outcomes on the smaller arm, {needed} needed on each")
    ),
    "experiment_undecided": _same(
        N_("no decision yet: the interval [{low}, {high}] still holds zero")
    ),
    "experiment_shown_better": _same(
        N_("the challenger is shown better: the interval [{low}, {high}] is above zero")
    ),
    "experiment_shown_worse": _same(
        N_("the challenger is shown worse: the interval [{low}, {high}] is below zero")
    ),
    "experiment_max_sample": _same(
        N_("the sample is complete and the challenger is not shown better: the champion stays")
    ),
    # Translators: only ever shown in English; translate it like the others.
    "no_catalog": _same(N_("No catalog for '{language}': talking points are in English.")),
    # -- talking points (said to the customer's agent, in the customer's language) -----------
    "point_acknowledge": _same(
        N_("Acknowledge what went wrong and how it affected them, in your own words.")
    ),
    "point_waited": _same(
        N_(
            "They have waited {waited} for this answer, longer than we promise: thank them "
            "for their patience and apologise for the wait."
        )
    ),
    "point_repeat": _same(
        N_(
            "This is their incident number {n} with us lately: say you know, and that you "
            "are fixing what keeps failing."
        )
    ),
    "point_own_company": _same(
        N_("Say plainly that it was our mistake; no excuses, no blaming others.")
    ),
    "point_own_partner": _same(
        N_("Own it: our partner failed, but the customer chose us, so it is ours to fix.")
    ),
    "point_own_unknown": _same(
        N_("Say you are finding out what happened and will not make them wait for it.")
    ),
    "point_own_customer": _same(
        N_("Stay warm and blame-free; explain what happened without lecturing.")
    ),
    "point_fix_whole": _same(
        N_("Fix it now, within {fix_within}: {label} ({amount}); the customer is made whole.")
    ),
    "point_fix_whole_late": _same(
        N_(
            "Fix it now, in this conversation (the {fix_within} we promise has passed): "
            "{label} ({amount}); the customer is made whole."
        )
    ),
    "point_fix": _same(N_("Fix it now: {label} ({amount}).")),
    "point_next_step": _same(N_("Explain the next step and when they will hear from us.")),
    "point_what_fixed": _same(
        N_(
            "Tell them what we have fixed so it does not happen again, and thank them for "
            "telling us."
        )
    ),
    "point_open_door": _same(
        N_(
            "They have left us: make it right anyway, with any money back to their own "
            "payment method, and tell them the door stays open."
        )
    ),
    "point_stay": _same(
        N_(
            "They said they will leave: listen first, fix it now, and ask what would make "
            "them stay."
        )
    ),
    "point_leader": _same(
        N_("Give them {label}: a leader's own number to keep; introduce it personally.")
    ),
    "point_arrange": _same(N_("Arrange it: {label}; agree a time that suits them.")),
    "point_surprise_amount": _same(N_("Then the surprise: {label} ({amount}).")),
    "point_surprise": _same(N_("Then the surprise: {label}.")),
    "point_follow_up": plural(
        "Follow up within {n} hour to check it is resolved.",
        "Follow up within {n} hours to check it is resolved.",
    ),
}

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
