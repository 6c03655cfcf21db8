"""The words of the notes on a decision and of what follows it: incidents at risk, where an
approval request stands, why an approval card waits, exploration and champion/challenger
experiments (message ids; see words.py for how an entry reads per reader)."""

from __future__ import annotations

from remedy.i18n import N_
from remedy.presenting.wording import Words, finance_only, plural, same

NOTE_WORDS: dict[str, Words] = {
    # -- notes on the decision ---------------------------------------------------------------
    "contact_lowered": same(
        N_(
            "no {level} contact is left today: rule {rule} asked for one, so the "
            "plans offer a contact at level {lower} instead (a lead can raise "
            "contact_capacity in the caps)"
        )
    ),
    "contact_dropped": same(
        N_(
            "no personal contact is left today: rule {rule} asked for a {level} "
            "contact, so the plans go without one (a lead can raise "
            "contact_capacity in the caps)"
        )
    ),
    "unmet_requirements": same(N_("no plan can meet every requirement: {unmet}")),
    "no_eligible_items": same(N_("no plan can meet every requirement: no eligible items")),
    "none_within_guardrails": same(N_("no plan is within the guardrails: {reasons}")),
    "misfits": plural(
        "{n} plan left out because it no longer fits: {reasons}",
        "{n} plans left out because they no longer fit: {reasons}",
    ),
    # Translators: {pool} is the pool's name, such as "emea/2026-11 (EUR)"; {spent} and
    # {elapsed} are percentages.
    "pacing_where": same(N_("pool {pool} is {spent} spent at {elapsed} of the period")),
    # Translators: as above, for the pool's overdelivery line (gifts, upgrades, contact).
    "pacing_where_line": same(
        N_("the overdelivery line of pool {pool} is {spent} spent at {elapsed} of the period")
    ),
    "pacing_price_one": finance_only(
        N_("budget pacing: {where}; cost counted at its price (shadow price 1)")
    ),
    "pacing_priced": finance_only(
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
    "pacing_changed_top": finance_only(
        N_(
            "budget pacing changed the top plan from {unpaced} (cost {unpaced_cost}) "
            "to {paced} (cost {paced_cost})"
        )
    ),
    "pacing_kept_top": finance_only(N_("budget pacing left the top plan ({plan}) unchanged")),
    "no_pool": same(
        N_(
            "no budget pool for team {team} (nor a default pool) in {currency}: "
            "accepting a plan is refused until finance sets one"
        )
    ),
    "repeat_victim": same(
        N_(
            "repeat victim: incident {n} of this customer in {days} days; escalate and "
            "fix what keeps failing"
        )
    ),
    "answer_overdue": same(
        N_(
            "answer overdue: the customer complained {waited} ago and we promise an answer "
            "within {respond_within}; answer now and apologise for the wait"
        )
    ),
    "fix_overdue": same(
        N_(
            "fix overdue: the customer complained {waited} ago and we promise the fix within "
            "{fix_within}; make them whole in this answer"
        )
    ),
    "nothing_built": same(
        N_("no plan can be built for this incident: see the rules' requirements above")
    ),
    "nothing_fits_who": same(N_("no plan fits: {reason}; {who}")),
    "who_pool": same(N_("finance can raise the team's pool (PUT /v1/budgets/<team>)")),
    "who_window": same(N_("finance can raise customer_window in the caps")),
    "who_caps": same(N_("finance can change the caps (PUT /v1/caps)")),
    "who_capacity": same(N_("a lead can raise contact_capacity in the caps")),
    "who_rules": same(N_("an admin can change the rules (PUT /v1/rules)")),
    "fallback_offered": same(
        N_(
            "offered now: an apology and the most senior person still available, within "
            "what is left; {how}"
        )
    ),
    # -- incidents at risk (GET /v1/incidents/at-risk; services/at_risk.py) -------------------
    "risk_fix_overdue": same(N_("fix overdue by {overdue}: the plan is accepted, not fulfilled")),
    "risk_fix_due_soon": same(N_("fix due in {left}: the plan is accepted, not fulfilled")),
    "risk_apology_only": same(
        N_("only an apology could be offered: a limit blocked every other plan; {how}")
    ),
    "risk_approval_waiting": same(
        N_("waiting for approval for {waited}: {share} of the time the fix had left")
    ),
    "risk_approval_past_fix": same(
        N_("waiting for approval for {waited}: the promised fix is already overdue")
    ),
    "risk_approval_escalated": same(N_("waiting for approval for {waited}: escalated to finance")),
    # -- where an approval request stands (services/approvals.py standing_fact) --------------
    "approval_escalated": same(
        N_("escalated to finance: no team lead answered within {after}; waiting {waited}")
    ),
    "approval_waiting_lead": same(N_("waiting for a team lead's approval ({waited} so far)")),
    "approval_waiting_finance": same(N_("waiting for finance's approval ({waited} so far)")),
    "approval_approved_because": same(N_("approved by {who}: {reason}")),
    "approval_approved": same(N_("approved by {who}")),
    "approval_rejected": same(N_("rejected by {who}: {reason}")),
    "approval_expired": same(
        N_("the request ended: the reservation expired before anyone decided")
    ),
    "approval_cancelled": same(N_("the request was cancelled")),
    "approver_lead": same(N_("a team lead")),
    "approver_finance": same(N_("finance")),
    "approver_admin": same(N_("an admin")),
    "approver_operator": same(N_("the operator")),
    # -- why an approval card waits (GET /v1/approvals) --------------------------------------
    "needs_approval_overage": same(
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
    "experiment_chart": same(
        N_(
            "Challenger minus champion: realised net value per decision (USD), "
            "with its always-valid {confidence} interval"
        )
    ),
    "experiment_axis": same(N_("outcomes compared")),
    "experiment_too_few": same(
        N_("no decision yet: {n} outcomes on the smaller arm, {needed} needed on each")
    ),
    "experiment_undecided": same(
        N_("no decision yet: the interval [{low}, {high}] still holds zero")
    ),
    "experiment_shown_better": same(
        N_("the challenger is shown better: the interval [{low}, {high}] is above zero")
    ),
    "experiment_shown_worse": same(
        N_("the challenger is shown worse: the interval [{low}, {high}] is below zero")
    ),
    "experiment_max_sample": same(
        N_("the sample is complete and the challenger is not shown better: the champion stays")
    ),
    # Translators: only ever shown in English; translate it like the others.
    "no_catalog": same(N_("No catalog for '{language}': talking points are in English.")),
}
