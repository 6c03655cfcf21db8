"""The words of the facts beside a plan: why it ranks, what a requirement asks for, why a plan
was dropped, why accepting it was refused and why an item was not eligible (message ids; see
words.py for how an entry reads per reader)."""

from __future__ import annotations

from remedy.i18n import N_
from remedy.presenting.wording import Words, finance_only, same

# Translators: P(stay) is the chance the customer stays; keep it as it is.
_NET_VALUE = N_("expected net value {value}: P(stay) {p_stay}, referrals {referrals}, cost {cost}")

PLAN_WORDS: dict[str, Words] = {
    # -- reasons beside a plan ---------------------------------------------------------------
    "net_value": finance_only(_NET_VALUE),
    "fix_makes_whole": same(
        N_(
            "the fix ({fix}, {cost}) comes first and makes the customer whole; "
            "the incident cap never limits it"
        )
    ),
    "fix_first": same(N_("the fix ({fix}, {cost}) comes first; the incident cap never limits it")),
    "within_cap": Words(
        N_("overdelivery within the incident cap of {cap}"),
        # Translators: {binding} names the cap's term (loss_multiple, value_share or
        # absolute), as the answer's caps.binding field does; keep it as it is.
        N_("overdelivery within the incident cap of {cap} ({binding})"),
    ),
    "required_by_rule": same(N_("{requirement} required by rule {rule}")),
    "repeat_escalated": same(
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
    "no_loss_sized": same(
        N_(
            "nothing was lost: gestures are sized as for a loss of {basis} "
            "(severity {severity}), never a token amount"
        )
    ),
    "required_outside_cap": same(
        N_("{required} of the cost is required by rules and outside the cap")
    ),
    "needs_lead": same(
        N_(
            "needs a team lead's approval: cost {cost} is over {threshold}, up to which "
            "the agent decides"
        )
    ),
    "needs_finance": same(
        N_(
            "needs finance's approval: cost {cost} is over {limit}, up to which a team "
            "lead approves"
        )
    ),
    "needs_approval": same(N_("needs approval: cost {cost} is over the threshold of {threshold}")),
    "needs_approval_always": same(N_("needs approval: {items} always does")),
    "fix_without_approval": same(
        N_(
            "the fix ({fix}) needs no approval up to {limit}: approval counts only the "
            "{beyond} beyond it"
        )
    ),
    "pacing_counted": finance_only(
        N_("budget pacing: cost {cost} counted as {paced} (shadow price {price})")
    ),
    # -- what a requirement asks for (nested in reasons and notes) ---------------------------
    "fix_req_whole": same(N_("a fix that makes the customer whole")),
    "fix_req": same(N_("a fix")),
    "kind_at_level": same(N_("{kind} at level {level} or above")),
    "requirement_rule": same(N_("{requirement} (rule {rule})")),
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
    "over_fix_ceiling": same(
        N_(
            "the fix costs {cost}, over the fix ceiling of {ceiling} "
            "(fix_ceiling in the caps: finance can raise it)"
        )
    ),
    "no_longer_fits": same(N_("no longer fits: {reason}")),
    # Translators: {pool} is the pool's name, such as "emea/2026-11 (EUR)".
    "pool_left": same(N_("the pool {pool} has {left} left")),
    # Translators: the fix line is the part of a pool finance sets aside for making customers
    # whole (refunds, credits); {pool} is the pool's name, such as "emea/2026-11 (EUR)".
    "fix_line_left": same(N_("the fix line of pool {pool} has {left} left")),
    # Translators: the overdelivery line is the part of a pool for gifts, upgrades and
    # personal contact beyond the fix; {pool} is the pool's name.
    "overdelivery_line_left": same(N_("the overdelivery line of pool {pool} has {left} left")),
    "window_left": same(N_("customer {customer} has {left} left of the {days}-day limit")),
    "capacity_used": same(N_("no {level} contact is left today ({used} of {capacity} taken)")),
    # -- why accepting (or an overage) was refused: a 409's limits ----------------------------
    "decision_not_proposed": same(N_("the decision is {status}")),
    "limits_plan": same(N_("the plan does not fit: {limits}")),
    "limits_overage": same(N_("the overage does not fit: {limits}")),
    "limit_pool": same(
        N_(
            "pool {pool}: {more} more would exceed the limit of {limit} (reserved {reserved}, "
            "committed {committed}, remaining {remaining})"
        )
    ),
    "limit_fix_line": same(
        N_(
            "fix line of pool {pool}: {more} more would exceed the line's limit of {limit} "
            "(reserved {reserved}, committed {committed}, remaining {remaining})"
        )
    ),
    "limit_overdelivery_line": same(
        N_(
            "overdelivery line of pool {pool}: {more} more would exceed the line's limit of "
            "{limit} (reserved {reserved}, committed {committed}, remaining {remaining})"
        )
    ),
    "limit_window": same(
        N_(
            "customer {customer}: {more} more would exceed the {days}-day limit of {limit} "
            "(already {used})"
        )
    ),
    # Translators: {day} is a date such as 2026-12-07; {level} a contact level (manager).
    "limit_capacity": same(
        N_(
            "contact capacity {level} of team {team} on {day}: {used} of {capacity} contacts "
            "already taken"
        )
    ),
    # -- why an item was not eligible --------------------------------------------------------
    "contact_used_up": same(N_("no {level} contact is left today")),
    "forbidden_by_rule": same(N_("forbidden by rule {rule}")),
    "off_unless_allowed": same(N_("off unless a rule allows it")),
    # Translators: {category} and {only} are category ids such as delivery, outage.
    "not_for_category": same(N_("not for {category} incidents (only {only})")),
    # Translators: {channel} and {only} are channel ids such as email, chat, phone.
    "not_on_channel": same(N_("not on the {channel} channel (only {only})")),
    "no_staff_rate": same(N_("no staff rate for {level} in {currency}")),
    "no_price": same(N_("no price in {currency}")),
    "nothing_lost": same(N_("nothing was lost, so there is nothing to give back")),
    "below_minimum": same(N_("worth {value}, under its minimum of {minimum}")),
    "not_whole": same(N_("does not make the customer whole (rule {rule})")),
    "over_bound": same(N_("worth more than {multiple}x the loss (rule {rule})")),
}
