"""What a replay has prepared, and a range of logged decisions by their keys (a partition).

A partition of a large what-if is a contiguous run of the decisions a replay reads in its order,
(`created_at`, `id`), from its first key to its last, both included: a range stays the same
decisions however many workers read it and whenever, since decisions are only ever added at the
time they are made (after every key of a range that has ended).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from remedy.decisions.engine import DecisionEngine
from remedy.store.tables import Decision
from remedy.whatif.replay import PoolLimits

Key = tuple[datetime, str]


@dataclass(frozen=True)
class Prepared:
    """A validated what-if: its settings sets (documents, label), the sweep's values, an engine
    and pool limits per settings set."""

    start: datetime
    end: datetime
    sets: list[tuple[dict[str, dict[str, Any]], str]]
    values: list[Any]
    engines: list[DecisionEngine]
    limits: list[PoolLimits]
    sweep: dict[str, Any] | None
    pools_proposed: bool


@dataclass(frozen=True)
class KeyRange:
    """The logged decisions from key `first` to key `last`, both included."""

    first: Key
    last: Key

    def clause(self) -> sa.ColumnElement[bool]:
        """The SQL condition selecting the range's decisions."""
        (first_at, first_id), (last_at, last_id) = self.first, self.last
        return sa.and_(
            sa.or_(
                Decision.created_at > first_at,
                sa.and_(Decision.created_at == first_at, Decision.id >= first_id),
            ),
            sa.or_(
                Decision.created_at < last_at,
                sa.and_(Decision.created_at == last_at, Decision.id <= last_id),
            ),
        )

    def to_json(self) -> list[list[str]]:
        """The range as a job's parameters hold it."""
        return [[at.isoformat(), decision_id] for at, decision_id in (self.first, self.last)]

    @classmethod
    def from_json(cls, data: list[list[str]]) -> KeyRange:
        """The range `to_json` wrote."""
        (first_at, first_id), (last_at, last_id) = data
        return cls(
            (datetime.fromisoformat(first_at), first_id),
            (datetime.fromisoformat(last_at), last_id),
        )


def split(keys: list[Key], size: int) -> list[KeyRange]:
    """Cut the keys (in the replay's order) into contiguous ranges of at most `size` each."""
    return [
        KeyRange(keys[lo], keys[min(lo + size, len(keys)) - 1]) for lo in range(0, len(keys), size)
    ]
