"""Mass incidents: one failure declared once for many customers, decided and reserved as jobs.

    declare (POST /v1/mass-incidents, 202) --job mass_incident.decide--> ready
        --approve (a lead within its tier, or finance)--> reserving
        --job mass_incident.reserve--> reserved | partly_reserved (the pool ran out)

Deciding runs each customer through the very pipeline a single incident takes
(`RecommendationService.recommend`: the same rules, caps, repeat count and advisory headroom),
stores each decision as `proposed` (customers alike in all but who they are share one ranking:
`RankOnce`), and keeps beside the customer the plan chosen (the best
plan, the first shown: exploration is off for a mass incident, so every customer of one failure
is judged alike and each decision records propensity 1), its cost, fix part, contact level and
approver. Batches of `DECIDE_BATCH` customers commit together with their rows marked decided,
guarded on their state, so a worker that dies resumes with the first customer not yet decided.
Nothing is reserved until approval: `summary` totals the chosen plans per currency against the
pool's headroom now.

Approving reserves the customers in chunks of `chunk_size`, one transaction each, with the
ledger of single incidents (`ReservingService.reserve_many`: same locks, limits, entries and
audited transitions). A chunk's state is written in its own transaction, and each decision must
still be `proposed` under its lock, so re-running the job after a crash resumes at the first
pending chunk and never reserves a customer twice. A customer whose own limit (window, today's
contact capacity) would break is refused alone, named; a chunk that would break the pool is
refused whole, and so is every chunk after it (`partly_reserved`: finance may raise the pool
and approve again, which retries just those chunks).

Who approves: a lead of the mass incident's team when every chosen plan is within the lead
tier (the approver a single incident's plan would get: none or a lead), finance otherwise; four
eyes hold (the key that declared it does not approve it, in the tiers `REMEDY_FOUR_EYES_TIERS`
names), and an admin decides only in the tiers configured for it, as for single plans.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from remedy.decisions.approvals import Approver
from remedy.decisions.caps import CapSettings
from remedy.decisions.engine import DecisionEngine, DecisionResult, Ranked
from remedy.decisions.record import DecisionRecord
from remedy.decisions.stored import incident_from_json, incident_to_json
from remedy.domain import Incident
from remedy.errors import Conflict, DomainError, Forbidden, NotFound
from remedy.facts import dump_facts
from remedy.ledger.budgets import BudgetService, pool_state
from remedy.ledger.periods import period_at
from remedy.money import from_minor, to_minor
from remedy.services.approvals import FourEyes
from remedy.services.job_kinds import JobContext, JobRegistry
from remedy.services.jobs import FAILED as JOB_FAILED
from remedy.services.jobs import JobQueue, JobQuota
from remedy.services.keys import Principal
from remedy.services.notifications import MASS_INCIDENT_READY, emit
from remedy.services.recommendations import RecommendationService
from remedy.services.reserving import Planned, PoolRanOut, ReservingService, fix_part
from remedy.store import audit
from remedy.store.session import begin_write
from remedy.store.tables import (
    Decision,
    Job,
    MassIncident,
    MassIncidentChunk,
    MassIncidentCustomer,
    PoolCounter,
    utcnow,
)

DECIDE_KIND = "mass_incident.decide"
RESERVE_KIND = "mass_incident.reserve"
# Who reads a mass incident's jobs: who reads the mass incident (the team scope applies too).
JOB_ROLE = "lead,finance"
DECIDING, READY, RESERVING = "deciding", "ready", "reserving"
RESERVED, PARTLY_RESERVED, FAILED = "reserved", "partly_reserved", "failed"
STATUSES = (DECIDING, READY, RESERVING, RESERVED, PARTLY_RESERVED, FAILED)
# Customer states.
PENDING, DECIDED, REFUSED, SKIPPED = "pending", "decided", "refused", "skipped"
CUSTOMER_STATES = (PENDING, DECIDED, RESERVED, REFUSED, SKIPPED)
CHUNK_SIZE = 200  # customers reserved in one transaction
DECIDE_BATCH = 50  # customers decided, then written in one short transaction
MAX_LISTED = 500


@dataclass(frozen=True)
class Declared:
    """A mass incident just declared, and the job deciding it."""

    mass: MassIncident
    job: Job


class MassIncidentService:
    """Declares, reads and approves mass incidents (the caller commits)."""

    def __init__(self, session: Session) -> None:
        """Work in `session`."""
        self.session = session

    def declare(
        self,
        team: str,
        shared: dict[str, Any],
        incidents: Sequence[Incident],
        principal: Principal,
        quota: JobQuota | None = None,
        chunk_size: int = CHUNK_SIZE,
    ) -> Declared:
        """Store the mass incident and its customers (validated by the caller) and queue the
        job that decides them."""
        queue = JobQueue(self.session)
        if quota is not None:
            queue.check_quota(principal, quota)
        mass = MassIncident(
            team=team,
            status=DECIDING,
            incident=shared,
            customers=len(incidents),
            chunk_size=chunk_size,
            created_by=principal.prefix,
            created_at=utcnow(),
        )
        self.session.add(mass)
        self.session.flush()
        self.session.execute(
            sa.insert(MassIncidentCustomer),
            [
                {
                    "mass_incident_id": mass.id,
                    "row": row,
                    "chunk": (row - 1) // chunk_size,
                    "customer_id": incident.customer_id,
                    "fields": incident_to_json(incident),
                    "currency": incident.currency,
                    "state": PENDING,
                }
                for row, incident in enumerate(incidents, start=1)
            ],
        )
        job = queue.enqueue(DECIDE_KIND, {"mass_incident_id": mass.id}, JOB_ROLE, principal)
        mass.decide_job_id = job.id
        audit.record(
            self.session,
            principal.prefix,
            "declare",
            "mass_incident",
            mass.id,
            None,
            {"team": team, "customers": len(incidents), "incident": shared},
        )
        return Declared(mass, job)

    def get(self, mass_id: str, principal: Principal) -> MassIncident:
        """A mass incident `principal` sees; another team's is 404 as if it did not exist."""
        mass = self.session.get(MassIncident, mass_id)
        if mass is None or not principal.sees(mass.team):
            raise NotFound(f"no mass incident {mass_id!r}")
        return mass

    def customers(
        self, mass: MassIncident, state: str | None, after_row: int, limit: int
    ) -> list[MassIncidentCustomer]:
        """The customers in row order after `after_row`, of one `state` or all."""
        statement = sa.select(MassIncidentCustomer).where(
            MassIncidentCustomer.mass_incident_id == mass.id, MassIncidentCustomer.row > after_row
        )
        if state is not None:
            statement = statement.where(MassIncidentCustomer.state == state)
        return list(self.session.scalars(statement.order_by(MassIncidentCustomer.row).limit(limit)))

    def summary(self, mass: MassIncident, now: datetime | None = None) -> dict[str, Any]:
        """Where the mass incident stands: customers by state, totals per currency against
        the pool's headroom now, chunks and progress (read only)."""
        now = now or utcnow()
        counts = dict.fromkeys(CUSTOMER_STATES, 0)
        totals: dict[str, dict[str, Any]] = {}
        rows = self.session.execute(
            sa.select(
                MassIncidentCustomer.currency,
                MassIncidentCustomer.state,
                sa.func.count(),
                sa.func.coalesce(sa.func.sum(MassIncidentCustomer.cost_minor), 0),
                sa.func.coalesce(sa.func.sum(MassIncidentCustomer.fix_minor), 0),
            )
            .where(MassIncidentCustomer.mass_incident_id == mass.id)
            .group_by(MassIncidentCustomer.currency, MassIncidentCustomer.state)
        ).all()
        for currency, state, count, cost, fix in rows:
            counts[state] = counts.get(state, 0) + count
            total = totals.setdefault(
                currency, {"customers": 0, "planned": 0, "fix": 0, "reserved": 0, "refused": 0}
            )
            total["customers"] += count
            if state in (DECIDED, RESERVED, REFUSED):
                total["planned"] += int(cost)
                total["fix"] += int(fix)
            if state == RESERVED:
                total["reserved"] += int(cost)
            if state == REFUSED:
                total["refused"] += count
        chunks = dict(
            self.session.execute(
                sa.select(MassIncidentChunk.state, sa.func.count())
                .where(MassIncidentChunk.mass_incident_id == mass.id)
                .group_by(MassIncidentChunk.state)
            ).all()
        )
        refusal = self.session.scalar(
            sa.select(MassIncidentChunk.reason)
            .where(
                MassIncidentChunk.mass_incident_id == mass.id,
                MassIncidentChunk.state == REFUSED,
            )
            .order_by(MassIncidentChunk.chunk)
            .limit(1)
        )
        approvers = Counter(
            dict(
                self.session.execute(
                    sa.select(MassIncidentCustomer.approver, sa.func.count())
                    .where(MassIncidentCustomer.mass_incident_id == mass.id)
                    .group_by(MassIncidentCustomer.approver)
                ).all()
            )
        )
        chunk_total = sum(chunks.values())
        if mass.status in (DECIDING, READY):  # customers decided, then chunks reserved
            progress = {"done": mass.customers - counts[PENDING], "total": mass.customers}
        else:
            done = chunk_total - chunks.get(PENDING, 0)
            progress = {"done": done, "total": chunk_total}
        return {
            "counts": counts,
            "totals": [
                self._total(mass.team, currency, total, now)
                for currency, total in sorted(totals.items())
            ],
            "chunks": {
                "total": chunk_total,
                "pending": chunks.get(PENDING, 0),
                "reserved": chunks.get(RESERVED, 0),
                "refused": chunks.get(REFUSED, 0),
                "size": mass.chunk_size,
            },
            "refusal": refusal,
            "needs_approval_by": {
                "none": approvers.get(None, 0),
                "lead": approvers.get(Approver.LEAD.value, 0),
                "finance": approvers.get(Approver.FINANCE.value, 0),
            },
            "progress": progress,
        }

    def _total(
        self, team: str, currency: str, total: dict[str, Any], now: datetime
    ) -> dict[str, Any]:
        """One currency's total against what its pool has left now."""
        budgets = BudgetService(self.session)
        pool = budgets.resolve_pool(team, currency, now)
        planned, fix = total["planned"], total["fix"]
        money = {
            "currency": currency,
            "customers": total["customers"],
            "refused": total["refused"],
            "planned": str(from_minor(planned, currency)),
            "fix": str(from_minor(fix, currency)),
            "overdelivery": str(from_minor(planned - fix, currency)),
            "reserved": str(from_minor(total["reserved"], currency)),
            "to_reserve": str(from_minor(planned - total["reserved"], currency)),
            "pool": None,
        }
        if pool is None:
            return money
        period = period_at(pool.period, now)
        counter = self.session.get(PoolCounter, (pool.team, currency, period.key))
        state = pool_state(pool, period, counter)
        left = planned - total["reserved"]
        money["pool"] = {
            "team": pool.team,
            "period": period.key,
            "limit": str(from_minor(state.limit_minor, currency)),
            "remaining": str(from_minor(state.remaining_minor, currency)),
            "split": state.split,
            "fix_remaining": (
                str(from_minor(state.fix_line.remaining_minor, currency)) if state.split else None
            ),
            "overdelivery_remaining": (
                str(from_minor(state.overdelivery_line.remaining_minor, currency))
                if state.split
                else None
            ),
            "fits": left <= state.remaining_minor,
        }
        return money

    def approve(
        self,
        mass_id: str,
        principal: Principal,
        four_eyes: FourEyes,
        reason: str = "",
    ) -> tuple[MassIncident, Job]:
        """Approve a decided mass incident (or, after the pool ran out, its refused chunks
        again) and queue the job that reserves it."""
        mass = self.get(mass_id, principal)
        if mass.status not in (READY, PARTLY_RESERVED):
            message = (
                f"mass incident {mass.id} is {mass.status}: only a ready one (or one partly "
                "reserved, to retry its refused chunks) can be approved"
            )
            raise Conflict(message, {"status": [message]})
        check_may_approve(principal, mass, four_eyes)
        if mass.status == PARTLY_RESERVED:
            self._retry_refused(mass)
        else:
            chunks = self.session.scalars(
                sa.select(MassIncidentCustomer.chunk)
                .where(
                    MassIncidentCustomer.mass_incident_id == mass.id,
                    MassIncidentCustomer.state == DECIDED,
                )
                .distinct()
            ).all()
            for chunk in sorted(chunks):
                self.session.add(
                    MassIncidentChunk(mass_incident_id=mass.id, chunk=chunk, state=PENDING)
                )
        before = {"status": mass.status}
        mass.status = RESERVING
        mass.approved_by = principal.prefix
        mass.approved_role = principal.role
        mass.approved_at = utcnow()
        mass.reason = reason or None
        job = JobQueue(self.session).enqueue(
            RESERVE_KIND, {"mass_incident_id": mass.id}, JOB_ROLE, principal
        )
        mass.reserve_job_id = job.id
        audit.record(
            self.session,
            principal.prefix,
            "approve",
            "mass_incident",
            mass.id,
            before,
            {"status": RESERVING, "tier": mass.tier, "reason": reason or None},
        )
        return mass, job

    def active_job(self, mass: MassIncident) -> Job | None:
        """The job working on `mass` now: the deciding one while it decides, the reserving
        one while it reserves (None otherwise)."""
        job_id = {DECIDING: mass.decide_job_id, RESERVING: mass.reserve_job_id}.get(mass.status)
        return self.session.get(Job, job_id) if job_id else None

    def status(self, mass: MassIncident) -> str:
        """Where `mass` stands: its stored status, or `failed` while the job working on it has
        failed (computed on read: a GET never writes; `retry` queues the job again)."""
        job = self.active_job(mass)
        return FAILED if job is not None and job.status == JOB_FAILED else mass.status

    def retry(self, mass_id: str, principal: Principal, quota: JobQuota | None = None) -> Job:
        """Queue the failed job of a mass incident again (both jobs resume where they
        stopped: decided customers and reserved chunks are not done twice)."""
        mass = self.get(mass_id, principal)
        if self.status(mass) != FAILED:
            message = f"mass incident {mass.id} is {mass.status}: only a failed one is retried"
            raise Conflict(message, {"status": [message]})
        queue = JobQueue(self.session)
        if quota is not None:
            queue.check_quota(principal, quota)
        kind = DECIDE_KIND if mass.status == DECIDING else RESERVE_KIND
        job = queue.enqueue(kind, {"mass_incident_id": mass.id}, JOB_ROLE, principal)
        before = {"job": mass.decide_job_id if kind == DECIDE_KIND else mass.reserve_job_id}
        if kind == DECIDE_KIND:
            mass.decide_job_id = job.id
        else:
            mass.reserve_job_id = job.id
        audit.record(
            self.session,
            principal.prefix,
            "retry",
            "mass_incident",
            mass.id,
            before,
            {"job": job.id},
        )
        return job

    def _retry_refused(self, mass: MassIncident) -> None:
        """Put the chunks the pool refused back in the queue, their customers decided again."""
        refused = self.session.scalars(
            sa.select(MassIncidentChunk).where(
                MassIncidentChunk.mass_incident_id == mass.id,
                MassIncidentChunk.state == REFUSED,
            )
        ).all()
        for chunk in refused:
            chunk.state, chunk.reason, chunk.done_at = PENDING, None, None
            chunk.reserved = chunk.refused = 0
            self.session.execute(
                sa.update(MassIncidentCustomer)
                .where(
                    MassIncidentCustomer.mass_incident_id == mass.id,
                    MassIncidentCustomer.chunk == chunk.chunk,
                    MassIncidentCustomer.state == REFUSED,
                    MassIncidentCustomer.decision_id.is_not(None),
                )
                .values(state=DECIDED, reason=None)
                .execution_options(synchronize_session=False)
            )


def check_may_approve(principal: Principal, mass: MassIncident, four_eyes: FourEyes) -> None:
    """Refuse (403) who may not approve: an agent; a lead of another team (404 before this) or
    when a chosen plan is above the lead tier; an admin outside its configured tiers; the key
    that declared it, where four eyes hold."""
    tier = mass.tier or Approver.FINANCE.value
    if principal.role == "admin" and tier not in four_eyes.admin_tiers:
        why = f"an admin key is not in the {tier} tier: a {tier} key approves it"
        raise Forbidden(f"an admin may not approve this mass incident: {why}", {"tier": [why]})
    if tier in four_eyes.tiers and principal.prefix == mass.created_by:
        why = f"this key declared the mass incident: another {tier} key approves it (four eyes)"
        raise Forbidden(f"you may not approve this mass incident: {why}", {"approver": [why]})
    if principal.has_role("finance"):
        return
    if principal.role != Approver.LEAD.value:
        raise Forbidden(f"role {principal.role!r} may not approve mass incidents")
    if tier != Approver.LEAD.value:
        why = "a chosen plan is above a lead's approval tier: finance approves it"
        raise Forbidden(f"a lead may not approve this mass incident: {why}", {"tier": [why]})


# -- the jobs --------------------------------------------------------------------------------


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
