"""Incidents at risk: where the promise to a customer is about to break, for a lead to act on.

Three kinds, each a reason code with typed parameters (`remedy.facts`; words only at the edge):

- `risk_fix_overdue` / `risk_fix_due_soon`: a plan was accepted (reserved, or an overage waits)
  and the fix is not done (not fulfilled, no `fixed_at` recorded) and its promised `fix_by` has
  passed, or is *near*: within `near_share` of the fix window (fix_by - reported_at) of it.
  With the default 25% and a one-hour promise, near is the last 15 minutes.
- `risk_apology_only`: the answer offered only an apology (and the most senior person still
  available) because a limit blocked every other plan (the fallback of
  remedy/decisions/deciding.py, stored as a candidate's `blocked_by`), and no outcome is
  recorded yet: a lead can get the limit lifted (the fact says who and how).
- `risk_approval_waiting` / `risk_approval_past_fix` / `risk_approval_escalated`: a plan
  waits for approval longer than `approval_share` of the time its fix had left when it was
  asked for (50% by default), or past the fix itself, or (no fix promised) past the caps'
  `escalate_after`.

Bounded: open plans and apology-only answers are looked for among the decisions of the last
`days` (an accepted plan expires after 48 hours by default; a lead's list is about now), each
source reads at most `scan` rows, and the answer keeps the `limit` most urgent (the earliest
fix_by first) and says when it left some out. The scan reads only the small columns (the
incident and the talking points, for the deadlines); the whole decision, with its hundreds of
candidates, is read only for the rows returned. A team-scoped key sees its own team's only
(store/scoping.py). Nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from remedy.decisions.approvals import ApprovalTiers
from remedy.decisions.deadlines import Deadlines, deadlines_from_columns
from remedy.decisions.record import DecisionRecord, DecisionStatus, StoredCandidate
from remedy.facts import Fact, Seconds, Share, fact
from remedy.moments import as_utc
from remedy.services.approval_standing import PENDING, Standing
from remedy.services.approvals import ApprovalService
from remedy.services.keys import Principal
from remedy.store.scoping import in_team
from remedy.store.tables import ApprovalRequest, Decision, Outcome, utcnow

OPEN_PLAN = (DecisionStatus.RESERVED.value, DecisionStatus.OVERAGE_PENDING_APPROVAL.value)
# The fallback's note (remedy/decisions/deciding.py): found in the stored notes' JSON text.
FALLBACK_NOTE = '%"fallback_offered"%'


def said(seconds: int) -> Seconds:
    """A duration as a person says it: whole days from two days, whole hours from two hours,
    whole minutes below (at least one); nobody counts the seconds of a late fix."""
    for size in (86400, 3600):
        if seconds >= 2 * size:
            return Seconds(seconds // size * size)
    return Seconds(max(60, seconds // 60 * 60))


@dataclass(frozen=True)
class AtRiskSettings:
    """How early a fix counts as near, how long an approval may wait, how far back to look
    (REMEDY_AT_RISK_NEAR_SHARE, REMEDY_AT_RISK_APPROVAL_SHARE, REMEDY_AT_RISK_DAYS)."""

    near_share: Decimal = Decimal("0.25")
    approval_share: Decimal = Decimal("0.5")
    days: int = 7
    scan: int = 2000  # the most rows each source reads

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> AtRiskSettings:
        """Read REMEDY_AT_RISK_* from the app's configuration (the app at start-up and the
        worker's at-risk pass read them alike)."""
        return cls(
            Decimal(str(config["AT_RISK_NEAR_SHARE"])),
            Decimal(str(config["AT_RISK_APPROVAL_SHARE"])),
            int(config["AT_RISK_DAYS"]),
        )

    def __post_init__(self) -> None:
        """Refuse shares outside (0, 1] and a look-back under a day (a start-up error)."""
        for name in ("near_share", "approval_share"):
            value = getattr(self, name)
            if not Decimal(0) < value <= Decimal(1):
                raise ValueError(f"{name} must be above 0 and at most 1, not {value}")
        if self.days < 1:
            raise ValueError(f"days must be at least 1, not {self.days}")


@dataclass
class AtRisk:
    """One decision at risk: why (facts, most pressing first) and what a lead needs beside it."""

    decision: Decision
    record: DecisionRecord
    deadlines: Deadlines
    reasons: list[Fact] = field(default_factory=list)
    approval: ApprovalRequest | None = None
    standing: Standing | None = None

    @property
    def plan(self) -> StoredCandidate | None:
        """The accepted plan, else the apology-only plan offered."""
        accepted = self.record.candidate(self.decision.accepted_plan_id or "")
        if accepted is not None:
            return accepted
        return next((c for c in self.record.candidates if c.blocked_by), None)


@dataclass
class _Found:
    """What the scan found of one decision, before the decision itself is read."""

    deadlines: Deadlines
    reasons: list[Fact] = field(default_factory=list)
    apology_only: bool = False
    approval: ApprovalRequest | None = None
    standing: Standing | None = None

    @property
    def at_risk(self) -> bool:
        """Whether anything puts it at risk."""
        return bool(self.reasons) or self.apology_only

    def urgency(self, decision_id: str) -> tuple[int, datetime, str]:
        """Sort key: the earliest promised fix first, then those without one by complaint."""
        fix_by = self.deadlines.fix_by
        if fix_by is not None:
            return (0, fix_by, decision_id)
        return (1, self.deadlines.reported_at, decision_id)


@dataclass(frozen=True)
class AtRiskList:
    """The most urgent rows, whether some were left out, and the moment it was read at."""

    rows: list[AtRisk]
    truncated: bool
    as_of: datetime


# What the scan reads of a decision: enough for its deadlines, never its candidates.
_SCAN = (Decision.id, Decision.incident, Decision.presentation, Decision.accepted_plan_id)


class AtRiskService:
    """Reads the incidents at risk for one caller."""

    def __init__(
        self,
        session: Session,
        tiers: ApprovalTiers,
        settings: AtRiskSettings | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        """Read in `session`; approvals escalate by the active caps' `tiers`."""
        self.session = session
        self.tiers = tiers
        self.settings = settings or AtRiskSettings()
        self.clock = clock

    def at_risk(self, principal: Principal, limit: int = 100) -> AtRiskList:
        """The `limit` most urgent incidents at risk that `principal` may see."""
        now = self.clock()
        found: dict[str, _Found] = {}
        full = False
        for source in (self._open_plans, self._apology_only, self._waiting_approvals):
            full = source(principal.team, now, found) or full
        risky = sorted(
            (item for item in found.items() if item[1].at_risk),
            key=lambda item: item[1].urgency(item[0]),
        )
        rows = self._rows(risky[:limit])
        return AtRiskList(rows, full or len(risky) > limit, now)

    def _rows(self, chosen: list[tuple[str, _Found]]) -> list[AtRisk]:
        """Read the chosen decisions whole and say why each is at risk, in urgency order."""
        if not chosen:
            return []
        decisions = {
            d.id: d
            for d in self.session.scalars(
                sa.select(Decision).where(Decision.id.in_([i for i, _ in chosen]))
            )
        }
        rows = []
        for decision_id, item in chosen:
            decision = decisions[decision_id]
            record = DecisionRecord.of(decision)
            reasons = list(item.reasons)
            if item.apology_only:
                blocked = next((c.blocked_by for c in record.candidates if c.blocked_by), None)
                if blocked is not None:
                    how = Fact.from_json(blocked["how"])
                    reasons.insert(
                        0, fact("risk_apology_only", limit=str(blocked["limit"]), how=how)
                    )
            if reasons:
                rows.append(
                    AtRisk(decision, record, item.deadlines, reasons, item.approval, item.standing)
                )
        return rows

    @staticmethod
    def _found(found: dict[str, _Found], row: Any) -> _Found:
        """The scan's entry of a decision (`row`: the `_SCAN` columns, and its time)."""
        item = found.get(row.id)
        if item is None:
            promised = deadlines_from_columns(
                row.incident, row.presentation, row.accepted_plan_id, row.created_at
            )
            item = found[row.id] = _Found(promised)
        return item

    def _since(self, now: datetime) -> datetime:
        """The oldest decision looked at for open plans and apology-only answers."""
        return now - timedelta(days=self.settings.days)

    def _open_plans(self, team: str | None, now: datetime, found: dict[str, _Found]) -> bool:
        """Accepted plans whose fix is not done, past or near their fix_by."""
        rows = self.session.execute(
            sa.select(*_SCAN, Decision.created_at)
            .outerjoin(Outcome, Outcome.decision_id == Decision.id)
            .where(Decision.status.in_(OPEN_PLAN), Decision.created_at >= self._since(now))
            .where(Outcome.fixed_at.is_(None), in_team(team))
            .order_by(Decision.created_at, Decision.id)
            .limit(self.settings.scan)
        ).all()
        for row in rows:
            item = self._found(found, row)
            fix_by, window = item.deadlines.fix_by, item.deadlines.fix_window_seconds
            if fix_by is None or window is None:
                continue
            left = int((fix_by - now).total_seconds())
            if left < 0:
                item.reasons.append(fact("risk_fix_overdue", overdue=said(-left)))
            elif left <= window * self.settings.near_share:
                item.reasons.append(fact("risk_fix_due_soon", left=said(left)))
        return len(rows) >= self.settings.scan

    def _apology_only(self, team: str | None, now: datetime, found: dict[str, _Found]) -> bool:
        """Answers that could offer only an apology because a limit blocked the rest, with no
        outcome recorded yet (the limit and who can lift it are read with the decision)."""
        rows = self.session.execute(
            sa.select(*_SCAN, Decision.created_at)
            .outerjoin(Outcome, Outcome.decision_id == Decision.id)
            .where(Decision.created_at >= self._since(now), Outcome.decision_id.is_(None))
            .where(sa.cast(Decision.notes, sa.Text).like(FALLBACK_NOTE), in_team(team))
            .order_by(Decision.created_at, Decision.id)
            .limit(self.settings.scan)
        ).all()
        for row in rows:
            self._found(found, row).apology_only = True
        return len(rows) >= self.settings.scan

    def _waiting_approvals(self, team: str | None, now: datetime, found: dict[str, _Found]) -> bool:
        """Plans and overages waiting for approval past their share of the time to the fix."""
        service = ApprovalService(self.session, self.tiers, lambda: now)
        rows = self.session.execute(
            sa.select(ApprovalRequest, *_SCAN, Decision.created_at)
            .join(Decision, Decision.id == ApprovalRequest.decision_id)
            .where(ApprovalRequest.state == PENDING, in_team(team, ApprovalRequest.team))
            .order_by(ApprovalRequest.requested_at, ApprovalRequest.id)
            .limit(self.settings.scan)
        ).all()
        for row in rows:
            request = row[0]
            item = self._found(found, row)
            standing = service.standing(request)
            item.approval, item.standing = request, standing
            reason = self._approval_reason(item.deadlines, request, standing, now)
            if reason is not None:
                item.reasons.append(reason)
        return len(rows) >= self.settings.scan

    def _approval_reason(
        self, promised: Deadlines, request: ApprovalRequest, standing: Standing, now: datetime
    ) -> Fact | None:
        """Why a waiting approval is at risk, or None while it is not."""
        waited = standing.waiting_seconds or 0
        fix_by = promised.fix_by
        if fix_by is None:
            if standing.escalated:
                return fact("risk_approval_escalated", waited=said(waited))
            return None
        if now >= fix_by:
            return fact("risk_approval_past_fix", waited=said(waited))
        had = max(1, int((fix_by - as_utc(request.requested_at)).total_seconds()))
        used = Decimal(waited) / Decimal(had)
        if used >= self.settings.approval_share:
            return fact("risk_approval_waiting", waited=said(waited), share=Share(round(used, 2)))
        return None
