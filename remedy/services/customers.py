"""A customer's history and the repeat victims: who we failed before, what we gave, how it went.

`history`: one customer's decisions, newest first, each with the plan given (the accepted one),
whether the answer could offer only an apology (a limit blocked the rest), what became of it
(the outcome: stayed or left) and whether each promise was kept, measured as the promises
report measures (remedy/decisions/deadlines.py): `kept` when the recorded moment
(`responded_at`, `fixed_at`) is at or before the deadline, `broken` when after, or when the
deadline passed and no plan was ever given, `unrecorded` when a plan was given and the deadline
passed with no moment recorded, `open` while it has not passed; null when nothing was promised
(no fix for the customer's own fault). Paged by a cursor (the last decision shown) and bounded;
its summary counts the newest `SUMMARY_ROWS` decisions. A customer without decisions (or none
the caller's team may see) has an empty history, not a 404: a first incident is the usual case.

`repeat_victims`: the customers with at least two incidents in a window (an incident is a
ticket: decisions sharing an `external_id` count once; one without is its own), most failed
first, with what they were given (committed, and still reserved for open plans, per currency)
and whether they stayed (the latest recorded outcome). Bounded by the window and `limit`.

A team-scoped key sees its own team's decisions only (store/scoping.py): another team's
incidents with the same customer are not counted or shown.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from remedy.decisions.deadlines import Deadlines, deadlines
from remedy.decisions.record import GIVEN, DecisionRecord, StoredCandidate
from remedy.errors import NotFound
from remedy.moments import as_utc
from remedy.services.at_risk import FALLBACK_NOTE
from remedy.services.keys import Principal
from remedy.store.scoping import in_team
from remedy.store.tables import Decision, Outcome, Reservation, utcnow

KEPT, BROKEN, UNRECORDED, OPEN = "kept", "broken", "unrecorded", "open"
SUMMARY_ROWS = 500  # the newest decisions of one customer the summary counts
TICKET = sa.func.coalesce(Decision.external_id, Decision.id)


def promise_state(
    due: datetime | None, done: datetime | None, given: bool, now: datetime
) -> str | None:
    """Whether a promise due at `due` was kept, given when it was done (`done`), whether a
    plan was given at all, and the moment now (see the module's docstring)."""
    if due is None:
        return None
    if done is not None:
        return KEPT if as_utc(done) <= due else BROKEN
    if now <= due:
        return OPEN
    return UNRECORDED if given else BROKEN


def given_minor(reservation: Reservation | None) -> int:
    """What a reservation gave the customer, in minor units: committed, plus still reserved
    while it is open."""
    if reservation is None:
        return 0
    held = reservation.reserved_minor if reservation.state == "open" else 0
    return reservation.committed_minor + held


def _observed(outcome: Outcome, decision: Decision) -> tuple[datetime, datetime]:
    """Order outcomes by when they were observed, then by their decision's time."""
    return (as_utc(outcome.observed_at), as_utc(decision.created_at))


@dataclass
class HistoryEntry:
    """One earlier decision of the customer, as a lead or an agent reads it."""

    decision: Decision
    record: DecisionRecord
    deadlines: Deadlines
    reservation: Reservation | None
    outcome: Outcome | None
    now: datetime

    @property
    def given(self) -> bool:
        """A plan was given to the customer (reserved, fulfilled or an overage waiting)."""
        return self.decision.status in GIVEN

    @property
    def plan(self) -> StoredCandidate | None:
        """The accepted plan (None: none accepted)."""
        return self.record.candidate(self.decision.accepted_plan_id or "")

    @property
    def apology_only(self) -> bool:
        """The answer could offer only an apology: a limit blocked every other plan."""
        return any(c.blocked_by for c in self.record.candidates)

    @property
    def given_minor(self) -> int:
        """What the customer was given, in minor units."""
        return given_minor(self.reservation)

    @property
    def respond(self) -> str | None:
        """Whether the answer came by its deadline."""
        done = self.outcome.responded_at if self.outcome else None
        return promise_state(self.deadlines.respond_by, done, self.given, self.now)

    @property
    def fix(self) -> str | None:
        """Whether the fix was done by its deadline."""
        done = self.outcome.fixed_at if self.outcome else None
        return promise_state(self.deadlines.fix_by, done, self.given, self.now)


@dataclass
class Summary:
    """What the newest `SUMMARY_ROWS` decisions of a customer add up to."""

    decisions: int = 0
    incidents: int = 0
    plans_given: int = 0
    given: dict[str, int] = field(default_factory=dict)  # currency -> minor units
    kept: int = 0
    broken: int = 0
    stayed: bool | None = None  # the latest recorded outcome
    last_at: datetime | None = None


@dataclass(frozen=True)
class History:
    """A page of a customer's history, newest first, and the cursor of the next page."""

    customer_id: str
    entries: list[HistoryEntry]
    next_before: str | None
    summary: Summary


@dataclass
class RepeatVictim:
    """A customer failed at least twice in the window."""

    customer_id: str
    incidents: int
    decisions: int
    first_at: datetime
    last_at: datetime
    teams: list[str] = field(default_factory=list)
    plans_given: int = 0
    apology_only: int = 0
    given: dict[str, int] = field(default_factory=dict)  # currency -> minor units
    stayed: bool | None = None
    outcomes: int = 0
    lost: int = 0


class CustomerService:
    """Reads customers' histories and the repeat victims for one caller."""

    def __init__(self, session: Session, clock: Callable[[], datetime] = utcnow) -> None:
        """Read in `session`."""
        self.session = session
        self.clock = clock

    def _rows(self, statement: sa.Select, now: datetime) -> list[HistoryEntry]:
        """History entries of the decisions `statement` selects (with their reservation and
        outcome)."""
        return [
            HistoryEntry(decision, record, deadlines(decision, record), reservation, outcome, now)
            for decision, reservation, outcome in self.session.execute(statement)
            for record in (DecisionRecord.of(decision),)
        ]

    def history(
        self, principal: Principal, customer_id: str, limit: int = 10, before: str | None = None
    ) -> History:
        """The customer's decisions newest first (the `limit` before decision `before`)."""
        now = self.clock()
        base = (
            sa.select(Decision, Reservation, Outcome)
            .outerjoin(Reservation, Reservation.decision_id == Decision.id)
            .outerjoin(Outcome, Outcome.decision_id == Decision.id)
            .where(Decision.customer_id == customer_id, in_team(principal.team))
            .order_by(Decision.created_at.desc(), Decision.id.desc())
        )
        page = base
        if before is not None:
            cursor = self.session.execute(
                sa.select(Decision.created_at, Decision.id).where(
                    Decision.id == before,
                    Decision.customer_id == customer_id,
                    in_team(principal.team),
                )
            ).first()
            if cursor is None:
                # A cursor names a decision: one this history lacks is a missing resource (404),
                # whether it does not exist or belongs to another customer or team.
                why = "not a decision of this customer's history: use next_before of a page"
                raise NotFound(f"unknown cursor {before!r}", {"before": [why]})
            created_at, decision_id = cursor
            page = base.where(
                sa.or_(
                    Decision.created_at < created_at,
                    sa.and_(Decision.created_at == created_at, Decision.id < decision_id),
                )
            )
        entries = self._rows(page.limit(limit + 1), now)
        more = len(entries) > limit
        entries = entries[:limit]
        summary = self._summary(self._rows(base.limit(SUMMARY_ROWS), now))
        return History(customer_id, entries, entries[-1].decision.id if more else None, summary)

    @staticmethod
    def _summary(entries: list[HistoryEntry]) -> Summary:
        """Add up a customer's entries (newest first)."""
        summary = Summary(decisions=len(entries))
        summary.incidents = len({e.decision.external_id or e.decision.id for e in entries})
        given: dict[str, int] = defaultdict(int)
        for entry in entries:
            summary.plans_given += entry.given
            if entry.given_minor:
                given[entry.decision.currency] += entry.given_minor
            for state in (entry.respond, entry.fix):
                summary.kept += state == KEPT
                summary.broken += state == BROKEN
        summary.given = dict(sorted(given.items()))
        outcomes = [e for e in entries if e.outcome is not None]
        if outcomes:  # the latest observed; of two observed at once, the later decision's
            latest = max(outcomes, key=lambda e: _observed(e.outcome, e.decision))
            summary.stayed = latest.outcome.retained  # type: ignore[union-attr]
        if entries:
            summary.last_at = as_utc(entries[0].decision.created_at)
        return summary

    def repeat_victims(
        self, principal: Principal, days: int, limit: int = 50
    ) -> tuple[list[RepeatVictim], bool]:
        """Customers with at least two incidents in the last `days` days, most incidents first
        (then the most recent), the `limit` first; and whether more were left out."""
        now = self.clock()
        since = now - timedelta(days=days)
        scope = (
            Decision.created_at >= since,
            Decision.created_at <= now,
            in_team(principal.team),
        )
        incidents = sa.func.count(sa.distinct(TICKET))
        last = sa.func.max(Decision.created_at)
        found = self.session.execute(
            sa.select(
                Decision.customer_id,
                incidents,
                sa.func.count(Decision.id),
                sa.func.min(Decision.created_at),
                last,
            )
            .where(*scope)
            .group_by(Decision.customer_id)
            .having(incidents >= 2)
            .order_by(incidents.desc(), last.desc(), Decision.customer_id)
            .limit(limit + 1)
        ).all()
        victims = {
            customer: RepeatVictim(customer, int(n), int(d), as_utc(first), as_utc(latest))
            for customer, n, d, first, latest in found[:limit]
        }
        if victims:
            self._fill(victims, scope)
        return list(victims.values()), len(found) > limit

    def _fill(self, victims: dict[str, RepeatVictim], scope: tuple) -> None:
        """What each victim was given in the window, by which teams, and whether they stayed:
        columns only (no decision's JSON is parsed), so a long window stays cheap."""
        apology = sa.cast(Decision.notes, sa.Text).like(FALLBACK_NOTE)
        rows = self.session.execute(
            sa.select(
                Decision.customer_id,
                Decision.team,
                Decision.status,
                Decision.currency,
                Decision.created_at,
                apology,
                Reservation,
                Outcome.retained,
                Outcome.observed_at,
            )
            .outerjoin(Reservation, Reservation.decision_id == Decision.id)
            .outerjoin(Outcome, Outcome.decision_id == Decision.id)
            .where(Decision.customer_id.in_(list(victims)), *scope)
        )
        latest: dict[str, tuple[tuple[datetime, datetime], bool]] = {}
        given: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        teams: dict[str, set[str]] = defaultdict(set)
        for (
            customer,
            team,
            status,
            currency,
            at,
            apology_only,
            reservation,
            retained,
            seen_at,
        ) in rows:
            victim = victims[customer]
            teams[customer].add(team)
            victim.plans_given += status in GIVEN
            victim.apology_only += bool(apology_only)
            if given_minor(reservation):
                given[customer][currency] += given_minor(reservation)
            if retained is not None:
                victim.outcomes += 1
                victim.lost += not retained
                moment = (as_utc(seen_at), as_utc(at))
                if customer not in latest or moment > latest[customer][0]:
                    latest[customer] = (moment, retained)
        for customer, victim in victims.items():
            victim.teams = sorted(teams[customer])
            victim.given = dict(sorted(given[customer].items()))
            victim.stayed = latest[customer][1] if customer in latest else None
