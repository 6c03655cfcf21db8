"""The long work of mass incidents: deciding every customer, and reserving them chunk by chunk.

Registered as job kinds (`mass_incident.decide`, `mass_incident.reserve`) for `remedy worker`;
the states they move a mass incident and its customers through, and why each step resumes
safely after a crash, are told in remedy/services/mass_incidents.py."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from remedy.decisions.approvals import Approver
from remedy.decisions.caps import CapSettings
from remedy.decisions.engine import DecisionEngine, DecisionResult, Ranked
from remedy.decisions.record import DecisionRecord
from remedy.decisions.stored import incident_from_json
from remedy.domain import Incident
from remedy.errors import DomainError
from remedy.facts import dump_facts
from remedy.money import to_minor
from remedy.services.job_kinds import JobContext, JobRegistry
from remedy.services.mass_incidents import MassIncidentService
from remedy.services.mass_states import (
    DECIDE_BATCH,
    DECIDE_KIND,
    DECIDED,
    DECIDING,
    PARTLY_RESERVED,
    PENDING,
    READY,
    REFUSED,
    RESERVE_KIND,
    RESERVED,
    RESERVING,
)
from remedy.services.notifications import MASS_INCIDENT_READY, emit
from remedy.services.recommendations import RecommendationService
from remedy.services.reserving import ReservingService
from remedy.services.reserving_steps import Planned, PoolRanOut, fix_part
from remedy.store import audit
from remedy.store.session import begin_write
from remedy.store.tables import (
    Decision,
    MassIncident,
    MassIncidentChunk,
    MassIncidentCustomer,
    utcnow,
)


class RankOnce:
    """The decision engine, ranking each distinct incident once per batch.

    Customers of one failure often differ only in who they are: ranking (rules, eligible
    items, every plan and its score: `DecisionEngine.rank`) reads neither `customer_id` nor
    `external_id`, so those who are alike in everything else share one ranking, as the what-if
    shares one across caps documents. Everything after it is each customer's own: the caps'
    guard, its own headroom, its record and talking points, its stored decision.
    """

    def __init__(self, engine: DecisionEngine) -> None:
        """Wrap `engine`."""
        self._engine = engine
        self._ranked: dict[tuple[Any, ...], Ranked] = {}

    def __getattr__(self, name: str) -> Any:
        """Everything else is the engine's."""
        return getattr(self._engine, name)

    def rank(
        self,
        incident: Incident,
        cost_price: Decimal = Decimal(1),
        used_up: frozenset[str] = frozenset(),
    ) -> Ranked:
        """The engine's ranking of an incident like this one (ranked once)."""
        key = (replace(incident, customer_id="", external_id=None), cost_price, used_up)
        if key not in self._ranked:
            self._ranked[key] = self._engine.rank(incident, cost_price, used_up)
        return self._ranked[key]

    def decide(
        self,
        incident: Incident,
        cost_price: Decimal = Decimal(1),
        used_up: frozenset[str] = frozenset(),
    ) -> DecisionResult:
        """The engine's decision (`DecisionEngine.decide`), its ranking shared."""
        return self._engine.guard(incident, self.rank(incident, cost_price, used_up))


def _mass(session: Session, params: dict[str, Any]) -> MassIncident:
    mass = session.get(MassIncident, params["mass_incident_id"], populate_existing=True)
    if mass is None:
        raise DomainError(f"no mass incident {params['mass_incident_id']!r}")
    return mass


def decide_job(context: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Decide every pending customer of a mass incident, then mark it ready (and say so to
    its team's webhooks). Resumable: only customers not yet decided are decided."""
    if context.services is None:
        raise DomainError("deciding needs the app's services (the engine)")
    session = context.session
    mass = _mass(session, params)
    mass_id, team, created_by = mass.id, mass.team, mass.created_by
    pending = session.scalar(
        sa.select(sa.func.count()).where(
            MassIncidentCustomer.mass_incident_id == mass_id,
            MassIncidentCustomer.state == PENDING,
        )
    )
    advance = context.progress(mass.customers)
    advance(mass.customers - int(pending or 0))
    session.rollback()
    while True:
        rows = session.execute(
            sa.select(MassIncidentCustomer.id, MassIncidentCustomer.fields)
            .where(
                MassIncidentCustomer.mass_incident_id == mass_id,
                MassIncidentCustomer.state == PENDING,
            )
            .order_by(MassIncidentCustomer.row)
            .limit(DECIDE_BATCH)
        ).all()
        if not rows:
            break
        engine = RankOnce(context.services.engines.engine(session))
        service = RecommendationService(session, engine)  # type: ignore[arg-type]
        decided: list[tuple[int, dict[str, Any]]] = []
        with session.no_autoflush:  # decide first; write the batch at once, briefly
            for row_id, fields in rows:
                try:
                    decision = service.recommend(incident_from_json(fields), 1, created_by)
                except DomainError as error:  # e.g. finance removed the currency's caps since
                    decided.append((row_id, {"state": REFUSED, "reason": error.message[:1000]}))
                    continue
                decided.append((row_id, {"state": DECIDED, **chosen(decision)}))
        begin_write(session)
        for row_id, choice in decided:
            claimed = session.execute(
                sa.update(MassIncidentCustomer)
                .where(MassIncidentCustomer.id == row_id, MassIncidentCustomer.state == PENDING)
                .values(**choice)
                .execution_options(synchronize_session=False)
            )
            if claimed.rowcount != 1:  # another worker decided it: leave the batch to it
                session.rollback()
                return {"mass_incident_id": mass_id, "status": "taken over"}
        session.commit()
        advance(len(rows))
    begin_write(session)
    mass = _mass(session, params)
    if mass.status == DECIDING:
        approvers = set(
            session.scalars(
                sa.select(MassIncidentCustomer.approver)
                .where(MassIncidentCustomer.mass_incident_id == mass_id)
                .distinct()
            )
        )
        finance = Approver.FINANCE.value in approvers
        mass.tier = Approver.FINANCE.value if finance else Approver.LEAD.value
        mass.status = READY
        mass.decided_at = utcnow()
        summary = MassIncidentService(session).summary(mass)
        emit(
            session,
            MASS_INCIDENT_READY,
            team,
            {
                "mass_incident_id": mass_id,
                "customers": mass.customers,
                "tier": mass.tier,
                "totals": [
                    {k: t[k] for k in ("currency", "customers", "planned", "fix", "pool")}
                    for t in summary["totals"]
                ],
            },
        )
    session.commit()
    return {"mass_incident_id": mass_id, "status": READY, "customers": mass.customers}


def chosen(decision: Decision) -> dict[str, Any]:
    """The plan a mass incident gives the customer: the decision's first shown plan, with its
    cost and fix part in minor units, its contact level and who would approve it alone."""
    record = DecisionRecord.of(decision)
    plan_id = record.shown[0]
    candidate = record.candidate(plan_id)
    if candidate is None:  # a shown plan is always a candidate: a broken record
        raise DomainError(f"decision {decision.id} shows plan {plan_id!r} it does not hold")
    currency = record.incident.currency
    amount = to_minor(candidate.total_cost, currency)
    return {
        "decision_id": decision.id,
        "plan_id": plan_id,
        "cost_minor": amount,
        "fix_minor": fix_part(record, candidate, amount),
        "contact_level": record.contact_level(candidate),
        "approver": candidate.approver,
    }


def reserve_job(context: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Reserve an approved mass incident chunk by chunk, one transaction each; resumable."""
    if context.services is None:
        raise DomainError("reserving needs the app's services (the caps)")
    session = context.session
    mass = _mass(session, params)
    mass_id, actor = mass.id, mass.approved_by or mass.created_by
    states = dict(
        session.execute(
            sa.select(MassIncidentChunk.chunk, MassIncidentChunk.state).where(
                MassIncidentChunk.mass_incident_id == mass_id
            )
        ).all()
    )
    advance = context.progress(len(states))
    advance(sum(1 for state in states.values() if state != PENDING))
    session.rollback()
    caps = context.services.engines.engine(session).caps
    ttl = timedelta(seconds=int(context.config.get("RESERVATION_TTL_SECONDS", 48 * 3600)))
    ran_out: str | None = None
    for chunk in sorted(n for n, state in states.items() if state == PENDING):
        ran_out = _reserve_chunk(session, mass_id, chunk, caps, ttl, actor, ran_out)
        advance(1)
    begin_write(session)
    mass = _mass(session, params)
    refused = session.scalar(
        sa.select(sa.func.count()).where(
            MassIncidentChunk.mass_incident_id == mass_id, MassIncidentChunk.state == REFUSED
        )
    )
    if mass.status == RESERVING:
        mass.status = PARTLY_RESERVED if refused else RESERVED
        mass.finished_at = utcnow()
        audit.record(
            session,
            actor,
            "reserve",
            "mass_incident",
            mass_id,
            {"status": RESERVING},
            {"status": mass.status, "refused_chunks": int(refused or 0)},
        )
    session.commit()
    return {"mass_incident_id": mass_id, "status": mass.status}


def _reserve_chunk(
    session: Session,
    mass_id: str,
    chunk: int,
    caps: CapSettings,
    ttl: timedelta,
    actor: str,
    ran_out: str | None,
) -> str | None:
    """Reserve one chunk in one transaction (or refuse it whole when the pool ran out, now or
    in an earlier chunk); return why the pool ran out, if it did."""
    note = f"mass incident {mass_id}"
    reserving = ReservingService(session, caps, ttl, note=note)
    reserving.begin()
    state = _lock_chunk(session, mass_id, chunk)
    if state is None or state.state != PENDING:  # done before a crash, or by another worker
        session.commit()
        return ran_out
    if ran_out is None:
        rows = session.scalars(
            sa.select(MassIncidentCustomer)
            .where(
                MassIncidentCustomer.mass_incident_id == mass_id,
                MassIncidentCustomer.chunk == chunk,
                MassIncidentCustomer.state == DECIDED,
            )
            .order_by(MassIncidentCustomer.row)
        ).all()
        team = session.scalar(sa.select(MassIncident.team).where(MassIncident.id == mass_id))
        plans = [
            Planned(
                row.decision_id or "",
                row.plan_id or "",
                row.customer_id,
                row.currency,
                int(row.cost_minor or 0),
                int(row.fix_minor or 0),
                row.contact_level,
                team or "",
            )
            for row in rows
        ]
        try:
            outcomes = reserving.reserve_many(plans, actor, "mass_incident")
        except PoolRanOut as error:
            ran_out = dump_facts(error.limits)
            session.rollback()
            reserving.begin()
            state = _lock_chunk(session, mass_id, chunk)
            if state is None or state.state != PENDING:
                session.commit()
                return ran_out
        else:
            by_decision = {row.decision_id: row for row in rows}
            for outcome in outcomes:
                row = by_decision[outcome.plan.decision_id]
                row.state, row.reason = (
                    outcome.state,
                    (dump_facts(outcome.reason) if outcome.reason else None),
                )
            state.state = RESERVED
            state.reserved = sum(1 for o in outcomes if o.state == RESERVED)
            state.refused = sum(1 for o in outcomes if o.state != RESERVED)
            state.done_at = utcnow()
            session.commit()
            return None
    reason = ran_out  # the pool's facts (its state says it was refused)
    refused = session.execute(
        sa.update(MassIncidentCustomer)
        .where(
            MassIncidentCustomer.mass_incident_id == mass_id,
            MassIncidentCustomer.chunk == chunk,
            MassIncidentCustomer.state == DECIDED,
        )
        .values(state=REFUSED, reason=reason[:1000])
        .execution_options(synchronize_session=False)
    )
    state.state = REFUSED
    state.refused = refused.rowcount
    state.reason = reason[:1000]
    state.done_at = utcnow()
    session.commit()
    return ran_out


def _lock_chunk(session: Session, mass_id: str, chunk: int) -> MassIncidentChunk | None:
    """The chunk's row, locked until the commit (PostgreSQL; SQLite holds the write lock)."""
    return session.scalar(
        sa.select(MassIncidentChunk)
        .where(MassIncidentChunk.mass_incident_id == mass_id, MassIncidentChunk.chunk == chunk)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def register_jobs(registry: JobRegistry) -> None:
    """Register mass incidents' long work: deciding every customer, and reserving them."""
    registry.kind(DECIDE_KIND, decide_job)
    registry.kind(RESERVE_KIND, reserve_job)
