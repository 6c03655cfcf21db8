"""Make a recommendation for an incident and store it, every candidate included.

Before ranking, the team's pool, the customer's window and today's contact capacity are read
(without locks: advisory; accepting a plan checks them again under the ledger's locks). When the
pool is spent ahead of its calendar, cost gets pacing's shadow price; plans that no longer fit
what is left are dropped with the reason, and the notes say both. Everything the agent reads
(labels, reasons, notes, talking points) is in the customer's language (`messages_for`), English
when it has no catalog, and the decision says which (`language`).
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from remedy.decisions.budget_fit import drop_misfits, misfit_note, pacing_effect
from remedy.decisions.engine import Candidate as EngineCandidate
from remedy.decisions.engine import CurrencyNotConfigured, DecisionEngine, DecisionResult
from remedy.decisions.exploration import ExplorationPolicy, explorable, shown_order
from remedy.decisions.record import (
    GIVEN,
    DecisionRecord,
    DecisionStatus,
    DroppedBy,
    Presentation,
    PricedItem,
    StoredCandidate,
    StoredCap,
)
from remedy.decisions.talking_points import talking_points
from remedy.domain import Incident
from remedy.errors import InvalidInput, NotFound
from remedy.i18n import Messages, messages_for
from remedy.ledger.budgets import BudgetService
from remedy.services.incidents import canonical_incident
from remedy.store.tables import Decision, new_id, utcnow

# Built once: constructing the statement costs more than running it (one index probe).
_PRIOR_INCIDENTS = (
    sa.select(sa.func.count())
    .select_from(Decision)
    .where(
        Decision.customer_id == sa.bindparam("customer_id"),
        Decision.status.in_([str(s) for s in GIVEN]),
        Decision.created_at > sa.bindparam("since"),
    )
)


class RecommendationService:
    """Runs the decision engine, applies logged exploration, and records the decision."""

    def __init__(
        self,
        session: Session,
        engine: DecisionEngine,
        exploration: ExplorationPolicy | None = None,
        rng: random.Random | None = None,
    ) -> None:
        """Work in `session` with `engine`; explore by `exploration` (off when None)."""
        self.session = session
        self.engine = engine
        self.exploration = exploration or ExplorationPolicy(Decimal(0))
        self.rng = rng or random.Random()

    def recommend(
        self, incident: Incident, limit: int, requested_by: str, at: datetime | None = None
    ) -> Decision:
        """Decide within what is left of the budget, store the decision, and return it."""
        caps = self.engine.caps
        if not caps.supports(incident.currency):
            raise InvalidInput(
                f"no caps are configured for {incident.currency}",
                {"incident.currency": [f"no caps are configured for {incident.currency}"]},
            )
        incident = canonical_incident(self.engine.catalog, incident)  # 422: unknown category
        now = at or utcnow()
        incident = dataclasses.replace(
            incident, prior_incidents=self._prior_incidents(incident, caps.repeat_window_days, now)
        )
        headroom = BudgetService(self.session).headroom(
            incident.team, incident.customer_id, incident.currency, caps.limits, now
        )
        price = headroom.pace.price if headroom.pace else Decimal(1)
        m = messages_for(incident.locale)
        try:
            result = self.engine.decide(incident, cost_price=price, messages=m)
        except CurrencyNotConfigured:  # caps checked above; kept for engines that differ
            raise InvalidInput(f"no caps are configured for {incident.currency}") from None
        misfits = drop_misfits(result.candidates, headroom, incident.currency, m)
        used_up = frozenset(
            level for level, capacity in headroom.capacities.items() if capacity.remaining == 0
        )
        if not result.kept and used_up:
            # Nothing fits because today's contacts of a level are all promised: offer the
            # plans a lower level (or none) allows, and say so, rather than nothing.
            substitute = self.engine.decide(incident, cost_price=price, used_up=used_up, messages=m)
            substitute_misfits = drop_misfits(substitute.candidates, headroom, incident.currency, m)
            if substitute.kept:
                result, misfits = substitute, substitute_misfits
        result.notes.extend(pacing_effect(result.candidates, headroom, incident.currency, m))
        note = misfit_note(misfits, m)
        if note:
            result.notes.append(note)
        if headroom.pool is None:
            result.notes.append(
                m(
                    "no budget pool for team {team} (nor a default pool) in {currency}: "
                    "accepting a plan is refused until finance sets one",
                    team=incident.team,
                    currency=incident.currency,
                )
            )
        if incident.prior_incidents:
            result.notes.append(
                m(
                    "repeat victim: incident {n} of this customer in {days} days; escalate and "
                    "fix what keeps failing",
                    n=incident.prior_incidents + 1,
                    days=caps.repeat_window_days,
                )
            )
        kept = [c.plan_id for c in result.kept]
        if not kept:
            result.notes.append(_nothing_fits(result, headroom.pool is None, m))
        eligible = explorable(incident, [c.requires_approval for c in result.kept])
        first, propensity = self.exploration.choose_first(len(kept), self.rng, eligible)
        if first:
            result.notes.append(
                m(
                    "exploring: plan ranked {rank} is shown first (probability {probability}); "
                    "the best-ranked plan follows",
                    rank=first + 1,
                    probability=m.number(propensity),
                )
            )
        shown = shown_order(kept, first, limit)
        generous = result.generous
        if generous is not None and generous.plan_id not in shown:
            shown.append(generous.plan_id)  # the most generous plan within the guardrails
        generous_id = generous.plan_id if generous is not None else None
        decision = self._store(result, shown, requested_by, misfits, generous_id, now)
        decision.propensity = str(propensity)
        decision.cost_price = str(price)
        # Not flushed here: the row is inserted when the unit of work commits, so on SQLite the
        # write lock is held for the insert and the commit only, not while the answer is built.
        return decision

    def _prior_incidents(self, incident: Incident, days: int, now: datetime) -> int:
        """Count the customer's earlier decisions with a plan given in the last `days` days."""
        parameters = {"customer_id": incident.customer_id, "since": now - timedelta(days=days)}
        return int(self.session.scalar(_PRIOR_INCIDENTS, parameters) or 0)

    def _store(
        self,
        result: DecisionResult,
        shown: list[str],
        requested_by: str,
        misfits: Mapping[str, str] | None = None,
        generous: str | None = None,
        now: datetime | None = None,
    ) -> Decision:
        """Build the decision row with its compact candidate list (id and defaults set now, so
        the answer can be written before the row is inserted)."""
        incident = result.incident
        cap = result.cap
        versions = result.versions
        catalog = self.engine.catalog
        m = result.messages
        misfits = misfits or {}
        priced: dict[str, PricedItem] = {}
        for candidate in result.candidates:
            for a in candidate.scored.plan.actions:
                if a.item_id not in priced:
                    priced[a.item_id] = PricedItem.of(a, catalog.item(a.item_id).label(m))
        by_id = {c.plan_id: c for c in result.candidates}
        record = DecisionRecord(
            incident=incident,
            cap=StoredCap(
                cap.amount, cap.currency, cap.binding, cap.terms, cap.factor, cap.approval_threshold
            ),
            fired_rules=result.fired_rules,
            excluded_items=result.excluded_items,
            notes=result.notes,
            priced_items=priced,
            candidates=[_stored(c, c.plan_id in misfits) for c in result.candidates],
            shown=shown,
            generous=generous,
            language=m.language,
            presentation={
                plan_id: Presentation(
                    result.reasons(by_id[plan_id]),
                    talking_points(
                        incident, by_id[plan_id].scored.plan, catalog, self.engine.caps.promises, m
                    ),
                )
                for plan_id in shown
            },
        )
        decision = Decision(
            id=new_id(),
            created_at=now or utcnow(),
            status=str(DecisionStatus.PROPOSED),
            customer_id=incident.customer_id,
            external_id=incident.external_id,
            team=incident.team,
            currency=incident.currency,
            severity=incident.severity,
            fault_type=str(incident.fault_type),
            catalog_version=int(versions["catalog"]),
            rules_version=int(versions["rules"]),
            caps_version=int(versions["caps"]),
            model_version=versions["model"],
            requested_by=requested_by,
        )
        record.attach(decision)
        self.session.add(decision)
        return decision


def _nothing_fits(result: DecisionResult, no_pool: bool, m: Messages) -> str:
    """Say exactly why no plan is offered, and who can change that (from the limits that
    dropped the plans, never from the words of their reasons: those are translated)."""
    if not result.candidates:
        return m("no plan can be built for this incident: see the rules' requirements above")
    reasons = sorted({c.dropped_reason or "" for c in result.candidates})
    limits = {c.dropped_by for c in result.candidates}
    who = []
    if "pool" in limits or no_pool:
        who.append(m("finance can raise the team's pool (PUT /v1/budgets/<team>)"))
    if "window" in limits:
        who.append(m("finance can raise customer_window in the caps"))
    if limits & {"fix_ceiling", "incident_cap"}:
        who.append(m("finance can change the caps (PUT /v1/caps)"))
    if who:
        return m("no plan fits: {reason}; {who}", reason=reasons[0], who=", ".join(who))
    return m("no plan fits: {reason}", reason=reasons[0])


def _stored(candidate: EngineCandidate, misfit: bool = False) -> StoredCandidate:
    """One candidate as stored; `misfit` marks a plan the budget left out at the time."""
    scored = candidate.scored
    plan = scored.plan
    reason = candidate.dropped_reason
    return StoredCandidate(
        plan_id=plan.plan_id,
        items=tuple(a.item_id for a in plan.actions),
        total_cost=plan.total_cost,
        total_value=plan.total_value,
        expected_net_value=scored.expected_net_value,
        p_stay=scored.p_stay,
        referrals=scored.referrals,
        requires_approval=candidate.requires_approval,
        dropped_reason=reason,
        dropped_by=DroppedBy.BUDGET if misfit else (DroppedBy.CAP if reason else None),
        approver=candidate.approver,
    )


def get_decision(session: Session, decision_id: str) -> Decision:
    """Load a decision with its candidates, or raise NotFound."""
    decision = session.get(Decision, decision_id)
    if decision is None:
        raise NotFound(f"no decision {decision_id!r}")
    return decision
