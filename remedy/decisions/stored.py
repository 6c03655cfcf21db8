"""The parts of a stored decision (its incident, priced items, candidates, cap, presentation)
and the views of a shown plan; `remedy.decisions.record` assembles them into the one record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from remedy.domain import Action, FaultType, Incident, Kind, Part, part_of
from remedy.facts import Fact
from remedy.ledger.periods import as_utc

# Where a record of versions 1-4 keeps an item's one label, already in the customer's language.
AS_STORED = "*"


class DroppedBy(StrEnum):
    """Why a candidate was not offered: the incident cap (never acceptable) or the budget
    left at the time (accepting it may still succeed once finance raises a limit)."""

    CAP = "cap"
    BUDGET = "budget"


def incident_to_json(incident: Incident) -> dict[str, Any]:
    """Serialise an incident for storage (money as decimal strings)."""
    return {
        "customer_id": incident.customer_id,
        "severity": incident.severity,
        "fault_type": str(incident.fault_type),
        "customer_value": str(incident.customer_value),
        "loss_amount": str(incident.loss_amount),
        "currency": incident.currency,
        "category": incident.category,
        "channel": incident.channel,
        "locale": incident.locale,
        "churn_threat": incident.churn_threat,
        "external_id": incident.external_id,
        "team": incident.team,
        "public": incident.public,
        "reach": incident.reach,
        "prior_incidents": incident.prior_incidents,
        "customer_status": incident.customer_status,
        "gesture_basis": None if incident.gesture_basis is None else str(incident.gesture_basis),
        "reported_at": _moment(incident.reported_at),
        "touchpoint": incident.touchpoint,
    }


def incident_from_json(data: dict[str, Any], created_at: datetime | None = None) -> Incident:
    """Rebuild a stored incident; keys an older record lacks take the incident's defaults,
    and one stored before `reported_at` reads it as the decision's `created_at` (the clock
    started when the agent asked, then)."""
    known = {
        name: data[name]
        for name in (
            "category",
            "channel",
            "locale",
            "churn_threat",
            "external_id",
            "team",
            "public",
            "reach",
            "prior_incidents",
            "customer_status",
            "touchpoint",
        )
        if name in data
    }
    if data.get("gesture_basis") is not None:
        known["gesture_basis"] = Decimal(data["gesture_basis"])
    reported = data.get("reported_at")
    if reported is not None:
        known["reported_at"] = datetime.fromisoformat(reported)
    elif created_at is not None:
        known["reported_at"] = as_utc(created_at)
    return Incident(
        customer_id=data["customer_id"],
        severity=int(data["severity"]),
        fault_type=FaultType(data["fault_type"]),
        customer_value=Decimal(data["customer_value"]),
        loss_amount=Decimal(data["loss_amount"]),
        currency=data["currency"],
        **known,
    )


def promises_from_json(presentation: dict[str, Any] | None) -> tuple[str | None, str | None]:
    """The promises (`respond_within`, `fix_within`: ISO 8601 durations, None when not made)
    a stored decision's talking points said, read without parsing its facts (the reports read
    thousands): every shown plan carries the same promises, so the first says them."""
    for shown in (presentation or {}).values():
        points = shown.get("talking_points") or {}
        return points.get("respond_within"), points.get("fix_within")
    return None, None


def _moment(moment: datetime | None) -> str | None:
    """A moment as stored: ISO 8601 in UTC."""
    return None if moment is None else as_utc(moment).isoformat()


@dataclass(frozen=True, slots=True)
class PricedItem:
    """A catalog item as priced for the decision (once per item, shared by its candidates)."""

    kind: Kind
    level: str | None
    labels: dict[str, str]  # by language; "en" is the message id (AS_STORED: versions 1-4)
    value: Decimal
    cost: Decimal
    requires_approval: bool = False
    audience: str = "customer"

    @classmethod
    def of(cls, action: Action, labels: dict[str, str]) -> PricedItem:
        """Describe a priced action with its catalog item's labels (said by the presenter)."""
        return cls(
            action.kind,
            action.level,
            labels,
            action.value,
            action.cost,
            action.requires_approval,
            action.audience,
        )

    def to_json(self) -> dict[str, Any]:
        """The stored form (money as decimal strings)."""
        return {
            "kind": str(self.kind),
            "level": self.level,
            "labels": self.labels,
            "value": str(self.value),
            "cost": str(self.cost),
            "requires_approval": self.requires_approval,
            "audience": self.audience,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PricedItem:
        """Read the stored form."""
        labels = data.get("labels")
        return cls(
            Kind(data["kind"]),
            data.get("level"),
            labels if labels is not None else {AS_STORED: data.get("label", "")},
            Decimal(data["value"]),
            Decimal(data["cost"]),
            bool(data.get("requires_approval", False)),
            data.get("audience", "customer"),
        )

    @property
    def part(self) -> Part:
        """Apology, fix or overdelivery."""
        return part_of(self.kind)

    def action(self, item_id: str) -> Action:
        """The priced action again (for training and replays)."""
        return Action(
            item_id,
            self.kind,
            self.level,
            self.value,
            self.cost,
            self.requires_approval,
            self.audience,
        )


@dataclass(frozen=True, slots=True)
class StoredCandidate:
    """One candidate plan as stored: ids, money, scores and what the guardrails did."""

    plan_id: str
    items: tuple[str, ...]
    total_cost: Decimal
    total_value: Decimal
    expected_net_value: Decimal
    p_stay: Decimal
    referrals: Decimal
    requires_approval: bool
    dropped_reason: Fact | None
    dropped_by: DroppedBy | None
    # Who must approve it (lead or finance; record v4). Older records needing approval read
    # as finance, which approved everything then.
    approver: str | None = None
    # Offered only because a limit blocked every other plan (record v5): {"limit", "who",
    # "how": a fact}.
    blocked_by: dict[str, Any] | None = None

    @property
    def offered(self) -> bool:
        """The guardrails kept the plan (it may be shown and accepted)."""
        return self.dropped_reason is None

    @property
    def ruled_out(self) -> bool:
        """The incident cap removed the plan: it may never be accepted."""
        return self.dropped_by is DroppedBy.CAP

    def to_json(self) -> dict[str, Any]:
        """The stored form (money and scores as decimal strings)."""
        reason = self.dropped_reason
        return {
            "plan_id": self.plan_id,
            "items": list(self.items),
            "total_cost": str(self.total_cost),
            "total_value": str(self.total_value),
            "expected_net_value": str(self.expected_net_value),
            "p_stay": str(self.p_stay),
            "referrals": str(self.referrals),
            "requires_approval": self.requires_approval,
            "dropped_reason": None if reason is None else reason.to_json(),
            "dropped_by": None if self.dropped_by is None else str(self.dropped_by),
            **({"approver": self.approver} if self.approver else {}),
            **({"blocked_by": self.blocked_by} if self.blocked_by else {}),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StoredCandidate:
        """Read the stored form of any record version."""
        said = data.get("dropped_reason")
        reason = None if said is None else Fact.from_json(said)  # versions 1-4: a sentence
        by = data.get("dropped_by", "cap" if said else None)  # version 1: only the cap dropped
        approval = bool(data["requires_approval"])
        return cls(
            data["plan_id"],
            tuple(data["items"]),
            Decimal(data["total_cost"]),
            Decimal(data["total_value"]),
            Decimal(data["expected_net_value"]),
            Decimal(data["p_stay"]),
            Decimal(data["referrals"]),
            approval,
            reason,
            None if by is None else DroppedBy(by),
            data.get("approver", "finance" if approval else None),
            data.get("blocked_by"),
        )


@dataclass(frozen=True, slots=True)
class StoredCap:
    """The per-incident cap as it applied, with its terms and the approval threshold."""

    amount: Decimal
    currency: str
    binding: str
    terms: dict[str, Decimal]
    factor: Decimal
    approval_threshold: Decimal

    def to_json(self) -> dict[str, Any]:
        """The stored form."""
        return {
            "amount": str(self.amount),
            "currency": self.currency,
            "binding": self.binding,
            "terms": {k: str(v) for k, v in self.terms.items()},
            "factor": str(self.factor),
            "approval_threshold": str(self.approval_threshold),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StoredCap:
        """Read the stored form."""
        return cls(
            Decimal(data["amount"]),
            data["currency"],
            data["binding"],
            {k: Decimal(v) for k, v in data["terms"].items()},
            Decimal(data["factor"]),
            Decimal(data["approval_threshold"]),
        )


@dataclass(frozen=True, slots=True)
class Presentation:
    """What the agent reads beside a shown plan, as facts: the reasons, and the talking points
    (`points`) with the promises (`respond_within`, `fix_within`: ISO 8601 durations)."""

    reasons: list[Fact]
    talking_points: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """The stored form."""
        points = dict(self.talking_points)
        points["points"] = [p.to_json() for p in points.get("points", [])]
        return {"reasons": [r.to_json() for r in self.reasons], "talking_points": points}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Presentation:
        """Read the stored form (versions 1-4 kept sentences: they read as text facts)."""
        points = dict(data.get("talking_points") or {})
        if "points" in points:
            points["points"] = [Fact.from_json(p) for p in points["points"]]
        return cls([Fact.from_json(r) for r in data.get("reasons", [])], points)


@dataclass(frozen=True, slots=True)
class ShownAction:
    """One action of a shown plan: the item id and the item as priced."""

    item_id: str
    item: PricedItem

    @property
    def part(self) -> Part:
        """Apology, fix or overdelivery."""
        return self.item.part


@dataclass(frozen=True, slots=True)
class ShownPlan:
    """A plan as shown to the agent: its rank among all candidates and what it is made of."""

    rank: int
    candidate: StoredCandidate
    actions: list[ShownAction]
    presentation: Presentation
    currency: str
    rules: list[str]
    generous: bool = False

    @property
    def fix(self) -> list[ShownAction]:
        """The fix: what makes the customer whole (at most one action)."""
        return [a for a in self.actions if a.part == Part.FIX]

    @property
    def overdelivery(self) -> list[ShownAction]:
        """Everything beyond the fix: gifts, upgrades, personal contact."""
        return [a for a in self.actions if a.part == Part.OVERDELIVERY]

    @property
    def fix_cost(self) -> Decimal:
        """What the fix costs (outside the incident cap)."""
        return sum((a.item.cost for a in self.fix), Decimal(0))
