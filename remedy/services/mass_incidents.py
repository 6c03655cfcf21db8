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

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from remedy.decisions.approvals import Approver
from remedy.decisions.stored import incident_to_json
from remedy.domain import Incident
from remedy.errors import Conflict, Forbidden, NotFound
from remedy.services.approvals import FourEyes
from remedy.services.jobs import FAILED as JOB_FAILED
from remedy.services.jobs import JobQueue, JobQuota
from remedy.services.keys import Principal
from remedy.services.mass_states import (
    CHUNK_SIZE,
    DECIDE_KIND,
    DECIDED,
    DECIDING,
    FAILED,
    JOB_ROLE,
    PARTLY_RESERVED,
    PENDING,
    READY,
    REFUSED,
    RESERVE_KIND,
    RESERVING,
)
from remedy.services.mass_summary import summarise
from remedy.store import audit
from remedy.store.tables import (
    Job,
    MassIncident,
    MassIncidentChunk,
    MassIncidentCustomer,
    utcnow,
)


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
        """Where the mass incident stands (remedy/services/mass_summary.py; read only)."""
        return summarise(self.session, mass, now)

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
