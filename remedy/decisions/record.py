"""The stored decision: one typed record, the only code that writes or reads its JSON.

Recommendations write it; the lifecycle, the API, reports, the what-if replay and training read
it. Every reader goes through `DecisionRecord.of(row)`, so renaming a key is one change here,
and a decision logged by an older release still reads: `RECORD_VERSION` is stored on the row
(`decisions.record_version`; rows written before the column existed read as version 1) and
`from_json` fills what an older version did not write.

Version history:
  1  candidates without `dropped_by` (a dropped candidate was always dropped by the cap)
  2  `dropped_by` on every candidate; the record version on the row
  3  the incident's `public`, `reach` and `prior_incidents`; the most generous plan offered
     (`decisions.generous_plan_id`); talking points with `fix_within`

The language of the texts (labels, reasons, notes, talking points) is its own column,
`decisions.language`; rows written before it existed read it from their talking points.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from remedy.domain import Action, FaultType, Incident, Kind, Part, Plan, contact_rank, part_of

RECORD_VERSION = 3
_CACHE = "_decision_record"  # where `DecisionRecord.of` keeps the record on a row object
# The decision row's JSON columns this record owns.
JSON_COLUMNS = (
    "incident",
    "cap",
    "fired_rules",
    "excluded_items",
    "notes",
    "priced_items",
    "candidates",
    "shown",
    "presentation",
)


class DecisionStatus(StrEnum):
    """Where a decision is in its lifecycle (see `remedy/ledger/lifecycle.py`)."""

    PROPOSED = "proposed"
    PENDING_APPROVAL = "pending_approval"
    RESERVED = "reserved"
    OVERAGE_PENDING_APPROVAL = "overage_pending_approval"
    FULFILLED = "fulfilled"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


# A plan was given to the customer in these states: outcomes and repeat counts use them.
GIVEN = frozenset(
    {DecisionStatus.RESERVED, DecisionStatus.FULFILLED, DecisionStatus.OVERAGE_PENDING_APPROVAL}
)
# The decision holds a reservation in these states.
HOLDING = (DecisionStatus.RESERVED, DecisionStatus.OVERAGE_PENDING_APPROVAL)


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
    }


def incident_from_json(data: dict[str, Any]) -> Incident:
    """Rebuild a stored incident; keys an older record lacks take the incident's defaults."""
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
        )
        if name in data
    }
    return Incident(
        customer_id=data["customer_id"],
        severity=int(data["severity"]),
        fault_type=FaultType(data["fault_type"]),
        customer_value=Decimal(data["customer_value"]),
        loss_amount=Decimal(data["loss_amount"]),
        currency=data["currency"],
        **known,
    )


@dataclass(frozen=True, slots=True)
class PricedItem:
    """A catalog item as priced for the decision (once per item, shared by its candidates)."""

    kind: Kind
    level: str | None
    label: str
    value: Decimal
    cost: Decimal
    requires_approval: bool = False
    audience: str = "customer"

    @classmethod
    def of(cls, action: Action, label: str) -> PricedItem:
        """Describe a priced action with its label in the customer's language."""
        return cls(
            action.kind,
            action.level,
            label,
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
            "label": self.label,
            "value": str(self.value),
            "cost": str(self.cost),
            "requires_approval": self.requires_approval,
            "audience": self.audience,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PricedItem:
        """Read the stored form."""
        return cls(
            Kind(data["kind"]),
            data.get("level"),
            data.get("label", ""),
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
    dropped_reason: str | None
    dropped_by: DroppedBy | None

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
        return {
            "plan_id": self.plan_id,
            "items": list(self.items),
            "total_cost": str(self.total_cost),
            "total_value": str(self.total_value),
            "expected_net_value": str(self.expected_net_value),
            "p_stay": str(self.p_stay),
            "referrals": str(self.referrals),
            "requires_approval": self.requires_approval,
            "dropped_reason": self.dropped_reason,
            "dropped_by": None if self.dropped_by is None else str(self.dropped_by),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StoredCandidate:
        """Read the stored form of any record version."""
        reason = data.get("dropped_reason")
        by = data.get("dropped_by", "cap" if reason else None)  # version 1: only the cap dropped
        return cls(
            data["plan_id"],
            tuple(data["items"]),
            Decimal(data["total_cost"]),
            Decimal(data["total_value"]),
            Decimal(data["expected_net_value"]),
            Decimal(data["p_stay"]),
            Decimal(data["referrals"]),
            bool(data["requires_approval"]),
            reason,
            None if by is None else DroppedBy(by),
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
    """What the agent reads beside a shown plan."""

    reasons: list[str]
    talking_points: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """The stored form."""
        return {"reasons": self.reasons, "talking_points": self.talking_points}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Presentation:
        """Read the stored form."""
        return cls(list(data.get("reasons", [])), dict(data.get("talking_points") or {}))


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


class DecisionRecord:
    """Everything a decision stored besides its row's plain columns.

    Reading is lazy where it is costly: a report that needs only the incident does not parse
    hundreds of candidates. The priced items, candidates and presentation are parsed on first
    use and kept.
    """

    def __init__(
        self,
        incident: Incident,
        cap: StoredCap,
        fired_rules: list[str],
        excluded_items: dict[str, str],
        notes: list[str],
        priced_items: dict[str, PricedItem],
        candidates: list[StoredCandidate],
        shown: list[str],
        presentation: dict[str, Presentation] | None = None,
        version: int = RECORD_VERSION,
        generous: str | None = None,
        language: str | None = None,
    ) -> None:
        """Hold a record as the recommendation made it; `language` is that of its texts."""
        self.incident = incident
        self.cap = cap
        self.fired_rules = fired_rules
        self.excluded_items = excluded_items
        self.notes = notes
        self.shown = shown  # plan ids in the order shown
        self.generous = generous  # the most generous plan offered, shown flagged
        self.version = version
        self._language = language
        self._priced_items: dict[str, PricedItem] | None = priced_items
        self._candidates: list[StoredCandidate] | None = candidates
        self._presentation: dict[str, Presentation] | None = presentation or {}
        self._raw: dict[str, Any] = {}

    @property
    def priced_items(self) -> dict[str, PricedItem]:
        """Item id -> the item as priced for this decision."""
        if self._priced_items is None:
            raw = self._raw["priced_items"]
            self._priced_items = {k: PricedItem.from_json(v) for k, v in raw.items()}
        return self._priced_items

    @property
    def candidates(self) -> list[StoredCandidate]:
        """Every candidate, by expected net value."""
        if self._candidates is None:
            self._candidates = [StoredCandidate.from_json(c) for c in self._raw["candidates"]]
        return self._candidates

    @property
    def presentation(self) -> dict[str, Presentation]:
        """Shown plan id -> reasons and talking points."""
        if self._presentation is None:
            raw = self._raw["presentation"] or {}
            self._presentation = {k: Presentation.from_json(v) for k, v in raw.items()}
        return self._presentation

    @property
    def language(self) -> str:
        """The language of the labels, reasons, notes and talking points ('en' if unknown)."""
        if self._language is None:  # written before the column: its talking points say it
            said = (p.talking_points.get("language") for p in self.presentation.values())
            self._language = next((language for language in said if language), "en")
        return self._language

    # -- reading -----------------------------------------------------------------------------

    @classmethod
    def of(cls, row: Any) -> DecisionRecord:
        """Read a stored decision row (`remedy.store.tables.Decision`), once per row object.

        The JSON columns never change after the row is written, so the record read (or the
        one written by `attach`) is kept on the row object for the rest of its session.
        """
        cached = row.__dict__.get(_CACHE)
        if cached is None:
            columns = {name: getattr(row, name) for name in JSON_COLUMNS}
            cached = cls.from_columns(
                columns, row.record_version, row.generous_plan_id, row.language
            )
            row.__dict__[_CACHE] = cached
        return cached

    def attach(self, row: Any) -> None:
        """Write this record's columns on a new decision row and remember it there."""
        for name, value in self.columns().items():
            setattr(row, name, value)
        row.__dict__[_CACHE] = self

    @property
    def explored(self) -> bool:
        """Exploration showed a plan other than the best offered one first."""
        offered = self.offered
        return bool(self.shown) and bool(offered) and self.shown[0] != offered[0].plan_id

    @classmethod
    def from_columns(
        cls,
        columns: dict[str, Any],
        version: int | None,
        generous: str | None = None,
        language: str | None = None,
    ) -> DecisionRecord:
        """Read the JSON columns of a decision row written by any record version."""
        record = cls(
            incident=incident_from_json(columns["incident"]),
            cap=StoredCap.from_json(columns["cap"]),
            fired_rules=list(columns["fired_rules"]),
            excluded_items=dict(columns["excluded_items"]),
            notes=list(columns["notes"]),
            priced_items={},
            candidates=[],
            shown=list(columns["shown"]),
            version=version or 1,
            generous=generous,
            language=language,
        )
        record._raw = columns
        record._priced_items = record._candidates = record._presentation = None
        return record

    def columns(self) -> dict[str, Any]:
        """The JSON columns this record writes on a decision row."""
        return {
            "incident": incident_to_json(self.incident),
            "cap": self.cap.to_json(),
            "fired_rules": list(self.fired_rules),
            "excluded_items": dict(self.excluded_items),
            "notes": list(self.notes),
            "priced_items": {k: v.to_json() for k, v in self.priced_items.items()},
            "candidates": [c.to_json() for c in self.candidates],
            "shown": list(self.shown),
            "presentation": {k: v.to_json() for k, v in self.presentation.items()},
            "record_version": self.version,
            "generous_plan_id": self.generous,
            "language": self.language,
        }

    def candidate(self, plan_id: str) -> StoredCandidate | None:
        """Return the candidate with `plan_id`, if any."""
        return next((c for c in self.candidates if c.plan_id == plan_id), None)

    @property
    def offered(self) -> list[StoredCandidate]:
        """The candidates the guardrails kept, best first."""
        return [c for c in self.candidates if c.offered]

    def plan(self, candidate: StoredCandidate) -> Plan:
        """Rebuild a candidate's priced plan from the stored items."""
        actions = tuple(self.priced_items[i].action(i) for i in candidate.items)
        return Plan(actions, self.incident.currency)

    def contact_level(self, candidate: StoredCandidate) -> str | None:
        """The most senior personal contact a candidate promises, if any."""
        levels = [
            self.priced_items[i].level
            for i in candidate.items
            if self.priced_items[i].kind == Kind.PERSONAL_CONTACT
        ]
        return max(levels, key=contact_rank) if levels else None

    def shown_plans(self) -> list[ShownPlan]:
        """The plans shown, in the order shown, with their rank among all candidates."""
        rank = {c.plan_id: i for i, c in enumerate(self.candidates)}
        plans = []
        for plan_id in self.shown:
            candidate = self.candidates[rank[plan_id]]
            plans.append(
                ShownPlan(
                    rank[plan_id],
                    candidate,
                    [ShownAction(i, self.priced_items[i]) for i in candidate.items],
                    self.presentation.get(plan_id, Presentation([], {})),
                    self.incident.currency,
                    self.fired_rules,
                    plan_id == self.generous,
                )
            )
        return plans

    def dropped_above_shown(self) -> list[StoredCandidate]:
        """Better-ranked plans than the best shown one that the guardrails removed."""
        rank = {c.plan_id: i for i, c in enumerate(self.candidates)}
        best_shown = min((rank[p] for p in self.shown), default=len(self.candidates))
        dropped = [c for c in self.candidates[:best_shown] if not c.offered]
        return dropped[: max(3, len(self.shown))]
