"""Read one range of the logged decisions as arrays: the columns, the rows, the features.

training/read_logs.py splits the log into ranges (keyed by (created_at, id)) and reads them,
in forked processes on large logs; this module reads one: only the columns a training row
needs (no ORM objects, a server-side cursor on PostgreSQL through `yield_per`), the feature row
each outcome stored when it was recorded or, for older outcomes and rows of another feature
version, the accepted plan's priced items to rebuild it from (`plan_id` is the item ids joined
by "+"), written into NumPy arrays (`Part`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from models.features import FEATURE_NAMES, FEATURE_VERSION, feature_rows, rows_from_bytes
from remedy.decisions.ranker import ValueSettings
from remedy.decisions.value import net_value
from remedy.domain import PUBLIC_CHANNELS, Incident
from remedy.money import minor_exponent
from remedy.store.tables import Decision, Outcome
from training.logged import Rates

CHUNK = 5_000  # rows per fetch and per feature batch


def joined() -> sa.Select:
    """Return the join of decisions and their outcomes, oldest first."""
    return sa.select().select_from(Decision).join(Outcome, Outcome.decision_id == Decision.id)


def _accepted_items() -> sa.ColumnElement[Any]:
    """Return the column of the accepted plan's priced items.

    The outcome's own copy (`plan_items`, a few items); for outcomes recorded before it was
    kept, the decision's `priced_items` (every item the decision priced, ~2 kB of JSON: at a
    million rows, parsing those cost more than everything else the read does).
    """
    return sa.func.coalesce(Outcome.plan_items, Decision.priced_items, type_=sa.JSON)


class _Item(NamedTuple):
    """A priced item as features and the reward read it (no Decimal, no enum: a million rows)."""

    kind: str  # a Kind's value: Kind is a StrEnum, so features compare it alike
    level: str | None
    value: float  # float of the stored decimal string, as features take it
    cost: float
    audience: str


@dataclass(frozen=True, slots=True)
class _Accepted:
    """The accepted plan as features read it (`plan_features` reads only `actions`)."""

    actions: tuple[_Item, ...]


def _accepted(priced: dict[str, Any], plan_id: str) -> _Accepted:
    """Rebuild the accepted plan's items from the stored priced items (PricedItem.to_json)."""
    items = []
    for item_id in plan_id.split("+"):
        item = priced[item_id]
        items.append(
            _Item(
                item["kind"],
                item.get("level"),
                float(item["value"]),
                float(item["cost"]),
                item.get("audience", "customer"),
            )
        )
    return _Accepted(tuple(items))


def range_keys(session: Session, every: int) -> list[tuple[Any, Any]]:
    """Return the (created_at, id) of every `every`-th decision with an outcome, oldest first.

    The boundaries of the ranges `read_rows` reads (one scan of the keys, a window function
    that SQLite and PostgreSQL both have); a range is keyed, not an OFFSET, so each reader
    starts where it should without skipping rows on the server.
    """
    numbered = (
        joined()
        .with_only_columns(
            Decision.created_at,
            Decision.id,
            sa.func.row_number()
            .over(order_by=(Decision.created_at, Decision.id))
            .label("position"),
        )
        .subquery()
    )
    query = (
        sa.select(numbered.c.created_at, numbered.c.id)
        .where((numbered.c.position - 1) % every == 0)
        .order_by(numbered.c.position)
    )
    return [(row.created_at, row.id) for row in session.execute(query)]


def key_at(session: Session, position: int) -> tuple[Any, Any] | None:
    """Return the (created_at, id) of the decision with an outcome at `position`, oldest first
    (None past the end): OFFSET over the keys alone, never over the decisions' wide rows."""
    query = (
        joined()
        .with_only_columns(Decision.created_at, Decision.id)
        .order_by(Decision.created_at, Decision.id)
        .offset(position)
        .limit(1)
    )
    found = session.execute(query).first()
    return (found.created_at, found.id) if found is not None else None


@dataclass(frozen=True)
class Part:
    """One range of rows as arrays, and its decisions per currency."""

    features: np.ndarray
    retained: np.ndarray
    referrals: np.ndarray
    propensity: np.ndarray
    reward: np.ndarray
    decided_at: np.ndarray
    currencies: dict[str, int]


class _IncidentRow(NamedTuple):
    """The incident as features read it, from columns the server extracts (no JSON parsing and
    no `Incident` per row here: a million rows). Money stays the stored decimal string; features
    take floats of it, as they do of an `Incident`'s Decimals."""

    severity: int
    fault_type: str  # a FaultType's value (a StrEnum compares alike)
    churn_threat: bool
    category: str
    channel: str
    customer_value: str
    loss_amount: str
    currency: str
    # What feature version 2 reads besides (an older record without them: the defaults).
    public: bool = False
    reach: int | None = None
    prior_incidents: int = 0
    customer_status: str = "active"

    @property
    def is_public(self) -> bool:
        """Whether others see the complaint, as `Incident.is_public` says it."""
        return self.public or self.channel in PUBLIC_CHANNELS


_DEFAULTS = {name: field.default for name, field in Incident.__dataclass_fields__.items()}


def _cached() -> sa.ColumnElement[bool]:
    """True for outcomes whose stored feature row is of this feature definition."""
    return Outcome.features_version == FEATURE_VERSION


def _unless_cached(column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """The column, or NULL for outcomes with a usable stored row: the server neither extracts
    nor sends what the row already holds."""
    return sa.type_coerce(sa.case((_cached(), sa.null()), else_=column), column.type)


def _incident_columns() -> list[sa.ColumnElement[Any]]:
    """The incident's columns features read: decision columns, and JSON fields the server
    extracts (NULL when an older record lacks the key: the incident's default then)."""
    return [
        Decision.severity,
        Decision.fault_type,
        _unless_cached(Decision.incident["churn_threat"].as_boolean()),
        _unless_cached(Decision.incident["category"].as_string()),
        _unless_cached(Decision.incident["channel"].as_string()),
        _unless_cached(Decision.incident["loss_amount"].as_string()),
        _unless_cached(Decision.incident["public"].as_boolean()),
        _unless_cached(Decision.incident["reach"].as_integer()),
        _unless_cached(Decision.incident["prior_incidents"].as_integer()),
        _unless_cached(Decision.incident["customer_status"].as_string()),
    ]


def _epoch_seconds() -> sa.ColumnElement[float]:
    """The decision's time in seconds since 1970 (UTC), as the server computes it.

    Not the datetime: an aware datetime per row, turned to UTC and then into numpy (which asks
    each one its offset again) was a third of the readers' CPU at a million rows
    (benchmarks/README.md, issue 25). SQLite keeps naive UTC and gives whole seconds.
    """
    return sa.cast(sa.extract("epoch", Decision.created_at), sa.Float)


def read_range(
    session: Session,
    low: tuple[Any, Any],
    high: tuple[Any, Any] | None,
    values: ValueSettings,
    rates: Rates,
    chunk: int,
) -> Part:
    """Read the decisions with outcomes keyed from `low` up to (not including) `high`.

    An outcome recorded with this feature definition brings its feature row and its plan's
    cost (remedy/services/outcomes.py `training_row`); for the others, the row is rebuilt here
    from the plan's priced items and the incident's fields, with the same feature code.
    """
    key = sa.tuple_(Decision.created_at, Decision.id)
    query = (
        joined()
        .with_only_columns(
            _epoch_seconds(),
            sa.case((_cached(), Outcome.features), else_=sa.null()),
            Outcome.plan_cost_minor,
            _unless_cached(_accepted_items()),
            # was the accepted plan the one shown first? (the server compares: no JSON list here)
            (Decision.shown[0].as_string() == Outcome.plan_id).label("shown_first"),
            Decision.propensity,
            Outcome.plan_id,
            Outcome.retained,
            Outcome.referrals,
            Decision.incident["customer_value"].as_string(),
            Decision.currency,
            *_incident_columns(),
        )
        .where(key >= sa.tuple_(*low))
        .order_by(Decision.created_at, Decision.id)
        .execution_options(yield_per=chunk)
    )
    if high is not None:
        query = query.where(key < sa.tuple_(*high))
    churn, category, channel = (_DEFAULTS[k] for k in ("churn_threat", "category", "channel"))
    stored, stored_at, records, rebuilt_at = [], [], [], []
    created_at, cost, value = [], [], []
    retained, referrals, propensity, currency = [], [], [], []
    minor: dict[str, int] = {}  # minor units per unit, per currency
    # Core, not the ORM's result machinery: plain rows, a few microseconds less each
    rows = session.connection().execute(query)
    for part in rows.partitions():
        for row in part:
            created, blob, cost_minor, priced, shown_first, logged, plan_id = row[:7]
            stayed, referred, customer_value, code, *fields = row[7:]
            at = len(created_at)
            if blob is not None:
                stored.append(blob)
                stored_at.append(at)
                if code not in minor:
                    minor[code] = 10 ** minor_exponent(code)
                cost.append(cost_minor / minor[code])
            else:
                incident = _IncidentRow(
                    fields[0],
                    fields[1],
                    churn if fields[2] is None else fields[2],
                    fields[3] or category,
                    fields[4] or channel,
                    customer_value,
                    fields[5],
                    code,
                    bool(fields[6]),
                    fields[7],
                    fields[8] or 0,
                    fields[9] or "active",
                )
                plan = _accepted(priced, plan_id)
                records.append((incident, plan))
                rebuilt_at.append(at)
                cost.append(sum(item.cost for item in plan.actions))
            created_at.append(created)
            value.append(float(customer_value))
            retained.append(stayed)
            referrals.append(referred or 0)
            propensity.append(float(logged) if shown_first else np.nan)
            currency.append(code)
    features = np.empty((len(created_at), len(FEATURE_NAMES)))
    features[stored_at] = rows_from_bytes(stored)
    features[rebuilt_at] = feature_rows(records)
    # The realised net value in USD, as training/logged.py `_reward` (NaN without a rate).
    referred_n = np.array(referrals, dtype=np.int64)
    stayed_b = np.array(retained, dtype=bool)
    rate = np.array([rates.get(c, np.nan) for c in currency], dtype=float)
    worth = np.array(value, dtype=float)
    reward = net_value(stayed_b, referred_n, worth, np.array(cost, dtype=float), values) / rate
    return Part(
        features=features,
        retained=stayed_b,
        referrals=referred_n,
        propensity=np.array(propensity, dtype=float),
        reward=reward,
        # whole seconds, as numpy truncates a datetime to them
        decided_at=np.floor(np.array(created_at, dtype=float))
        .astype(np.int64)
        .astype("datetime64[s]"),
        currencies=dict(Counter(currency)),
    )
