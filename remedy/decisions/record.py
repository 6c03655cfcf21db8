"""The stored decision: one typed record (its parts in `stored.py`), the only code that writes or
reads its JSON.

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
  4  `approver` (lead or finance) on candidates that need approval; older ones read as finance
  5  the decision is data: notes, excluded items, dropped reasons, plan reasons and talking
     points are facts (`remedy.facts`: a code and typed parameters), priced items keep their
     catalog labels by language; `remedy.presenting` says them for each reader. Versions 1-4
     kept sentences in the customer's language: they read as `text` facts, said as written.
     Later in version 5 (additive keys, read with defaults): the incident's `reported_at`
     (older incidents read it as the decision's `created_at`) and the talking points'
     `respond_by`/`fix_by` (absolute UTC times; absent in older ones).

`decisions.language` is the customer's language (the talking points' language); rows written
before the column existed read it from their talking points.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from remedy.decisions.stored import (
    DroppedBy,
    Presentation,
    PricedItem,
    ShownAction,
    ShownPlan,
    StoredCandidate,
    StoredCap,
    incident_from_json,
    incident_to_json,
    promises_from_json,
)
from remedy.domain import Incident, Kind, Plan, contact_rank
from remedy.facts import Fact

__all__ = [  # the parts live in remedy/decisions/stored.py; readers import them from here
    "DecisionRecord",
    "DecisionStatus",
    "DroppedBy",
    "GIVEN",
    "HOLDING",
    "Presentation",
    "PricedItem",
    "ShownAction",
    "ShownPlan",
    "StoredCandidate",
    "StoredCap",
    "incident_from_json",
    "incident_to_json",
    "promises_from_json",
]

RECORD_VERSION = 5
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
    """Where a decision is in its lifecycle (see `remedy/services/lifecycle.py`)."""

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
        excluded_items: dict[str, Fact],
        notes: list[Fact],
        priced_items: dict[str, PricedItem],
        candidates: list[StoredCandidate],
        shown: list[str],
        presentation: dict[str, Presentation] | None = None,
        version: int = RECORD_VERSION,
        generous: str | None = None,
        language: str | None = None,
    ) -> None:
        """Hold a record as the recommendation made it; `language` is the customer's."""
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
        """The customer's language, that of the talking points ('en' if unknown)."""
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
                columns, row.record_version, row.generous_plan_id, row.language, row.created_at
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
        created_at: datetime | None = None,
    ) -> DecisionRecord:
        """Read the JSON columns of a decision row written by any record version (an incident
        stored before `reported_at` reads it as `created_at`, the decision's time)."""
        record = cls(
            incident=incident_from_json(columns["incident"], created_at),
            cap=StoredCap.from_json(columns["cap"]),
            fired_rules=list(columns["fired_rules"]),
            excluded_items={k: Fact.from_json(v) for k, v in columns["excluded_items"].items()},
            notes=[Fact.from_json(n) for n in columns["notes"]],
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
            "excluded_items": {k: v.to_json() for k, v in self.excluded_items.items()},
            "notes": [n.to_json() for n in self.notes],
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
