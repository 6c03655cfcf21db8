"""Make a recommendation for an incident and store it, every candidate included.

The incident's `reported_at` (when the customer complained) defaults to now and is bounded
here (`reported_at`); the promises' clock counts from it and reads the decision's time.
The service reads what deciding needs: the customer's earlier incidents in the repeat window
and the budget's headroom (pool, customer window, today's contact capacity, pace), read without
locks (advisory: accepting a plan checks them again under the ledger's locks). It then calls
`remedy.decisions.deciding.decide` once and stores the decision it returns. The decision is
data (facts); the words are said at the edge, for each reader, by `remedy.presenting`.
"""

from __future__ import annotations

import dataclasses
import random
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from remedy.decisions.deciding import Decided, decide
from remedy.decisions.engine import DecisionEngine
from remedy.decisions.exploration import ExplorationPolicy
from remedy.decisions.record import GIVEN, DecisionStatus
from remedy.domain import REPORTED_AT_MAX_AGE, REPORTED_AT_SKEW, Incident
from remedy.errors import InvalidInput, NotFound
from remedy.ledger.budgets import BudgetService
from remedy.ledger.headroom import PriorIncidents
from remedy.services.experiments import Assignment
from remedy.services.incidents import canonical_incident
from remedy.store.tables import Decision, new_id, utcnow

# The statuses of a decision whose plan was given: its customer's prior incidents count them.
_GIVEN = tuple(sorted(str(s) for s in GIVEN))


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
        self,
        incident: Incident,
        limit: int,
        requested_by: str,
        at: datetime | None = None,
        arm: Assignment | None = None,
    ) -> Decision:
        """Decide within what is left of the budget, store the decision, and return it; `arm`:
        the experiment and arm the customer is on (the engine ranks with that arm's model)."""
        caps = self.engine.caps
        if not caps.supports(incident.currency):
            raise InvalidInput(
                f"no caps are configured for {incident.currency}",
                {"incident.currency": [f"no caps are configured for {incident.currency}"]},
            )
        incident = canonical_incident(self.engine.catalog, incident)  # 422: unknown category
        now = at or utcnow()
        said_at = reported_at(incident.reported_at, now)  # 422 before any read
        # One round trip: the headroom and the customer's earlier incidents in one union.
        prior = PriorIncidents(now - timedelta(days=caps.repeat_window_days), _GIVEN)
        headroom = BudgetService(self.session).headroom(
            incident.team, incident.customer_id, incident.currency, caps.limits, now, prior
        )
        incident = dataclasses.replace(
            incident, prior_incidents=headroom.prior_incidents or 0, reported_at=said_at
        )
        decided = decide(self.engine, incident, headroom, limit, self.exploration, self.rng, at=now)
        # Not flushed here: the row is inserted when the unit of work commits, so on SQLite the
        # write lock is held for the insert and the commit only, not while the answer is built.
        return self._store(decided, requested_by, now, arm)

    def _store(
        self, decided: Decided, requested_by: str, now: datetime, arm: Assignment | None = None
    ) -> Decision:
        """Build the decision row with its record (id and defaults set now, so the answer can
        be written before the row is inserted)."""
        incident = decided.record.incident
        versions = decided.versions
        decision = Decision(
            id=new_id(),
            created_at=now,
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
            propensity=str(decided.propensity),
            cost_price=str(decided.cost_price),
            experiment_id=arm.experiment_id if arm else None,
            arm=arm.arm if arm else None,
        )
        decided.record.attach(decision)
        self.session.add(decision)
        return decision


def reported_at(said: datetime | None, now: datetime) -> datetime:
    """When the customer first complained: as said (a help desk's clock a little ahead of ours
    reads as now), or `now`; raise InvalidInput, naming `incident.reported_at`, when it is
    further in the future or older than REPORTED_AT_MAX_AGE."""
    if said is None:
        return now
    if said > now + REPORTED_AT_SKEW:
        skew = int(REPORTED_AT_SKEW.total_seconds() // 60)
        message = f"in the future (more than {skew} minutes ahead of our clock)"
        raise InvalidInput(f"reported_at is {message}", {"incident.reported_at": [message]})
    if said < now - REPORTED_AT_MAX_AGE:
        message = f"more than {REPORTED_AT_MAX_AGE.days} days ago"
        raise InvalidInput(f"reported_at is {message}", {"incident.reported_at": [message]})
    return min(said, now)


def get_decision(session: Session, decision_id: str) -> Decision:
    """Load a decision with its candidates, or raise NotFound."""
    decision = session.get(Decision, decision_id)
    if decision is None:
        raise NotFound(f"no decision {decision_id!r}")
    return decision
