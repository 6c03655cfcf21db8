"""Read the logged decisions for training in ranges: arrays for all, objects for a few.

At a million logged decisions the rows cannot become Python objects with every candidate (each
decision stores all of them, ~20 kB of JSON): `read_rows` reads only the columns a training row
needs (no ORM objects, a server-side cursor on PostgreSQL through `yield_per`): the feature row
each outcome stored when it was recorded, or, for older outcomes and rows of another feature
version, the accepted plan's priced items to rebuild it from (`plan_id` is the item ids joined
by "+"); and writes each range's features and outcomes into NumPy arrays, so memory holds the
arrays and one range, not a row object per decision. Ranges are keyed by (created_at, id) and
read by forked processes on large logs.

Only two small slices are read whole, candidates and all, as `LoggedDecision`s: the latest
`eval_limit` holdout decisions, for the off-policy comparison, the log-loss gate and the net
value check, and the `prior_decisions` training decisions just before the holdout, whose
candidates carry the current model's prior (training/prior.py). Why 10,000: on the tiled
million-decision log of benchmarks/retrain.py, 20,000 gave the paired doubly robust difference
an interval of +-17 USD per decision and cost about a quarter of a 90-second retrain (reading
whole records, scoring every candidate with both models, fitting five reward models); 10,000
halves that cost for an interval about 1.4 times as wide, which only makes the gate more
cautious.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import Counter
from dataclasses import dataclass
from datetime import UTC
from typing import Any, NamedTuple

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session
from tqdm.auto import tqdm

from models.features import FEATURE_NAMES, FEATURE_VERSION, feature_rows, rows_from_bytes
from remedy.decisions.ranker import ValueSettings
from remedy.decisions.record import (
    JSON_COLUMNS,
    DecisionRecord,
)
from remedy.domain import Incident
from remedy.money import minor_exponent
from remedy.store.tables import Decision, Outcome
from training.logged import LoggedDecision, Rates, from_record
from training.logs import LoggedRows

CHUNK = 5_000  # rows per fetch and per feature batch
EVAL_LIMIT = 10_000  # latest holdout decisions read whole for the off-policy comparison


@dataclass(frozen=True)
class TrainingLog:
    """What training reads: every row as arrays, and the two slices read whole."""

    rows: LoggedRows  # every decision with an outcome, oldest first
    cut: int  # rows[:cut] train, rows[cut:] are the holdout
    evaluation: list[LoggedDecision]  # the latest holdout decisions, whole
    prior: list[LoggedDecision]  # training decisions just before the holdout, whole
    currencies: dict[str, int]  # decisions per currency


def _joined() -> sa.Select:
    """Return the join of decisions and their outcomes, oldest first."""
    return sa.select().select_from(Decision).join(Outcome, Outcome.decision_id == Decision.id)


def count_logged(session: Session) -> int:
    """Return how many decisions have an outcome."""
    return session.scalar(_joined().with_only_columns(sa.func.count())) or 0


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


def _keys(session: Session, every: int) -> list[tuple[Any, Any]]:
    """Return the (created_at, id) of every `every`-th decision with an outcome, oldest first.

    The boundaries of the ranges `read_rows` reads (one scan of the keys, a window function
    that SQLite and PostgreSQL both have); a range is keyed, not an OFFSET, so each reader
    starts where it should without skipping rows on the server.
    """
    numbered = (
        _joined()
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


@dataclass(frozen=True)
class _Part:
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
    ]


def _read_range(
    session: Session,
    low: tuple[Any, Any],
    high: tuple[Any, Any] | None,
    values: ValueSettings,
    rates: Rates,
    chunk: int,
) -> _Part:
    """Read the decisions with outcomes keyed from `low` up to (not including) `high`.

    An outcome recorded with this feature definition brings its feature row and its plan's
    cost (remedy/services/outcomes.py `training_row`); for the others, the row is rebuilt here
    from the plan's priced items and the incident's fields, with the same feature code.
    """
    key = sa.tuple_(Decision.created_at, Decision.id)
    query = (
        _joined()
        .with_only_columns(
            # the stored value as the driver gives it: naive UTC on SQLite, aware on PostgreSQL
            sa.type_coerce(Decision.created_at, sa.DateTime(timezone=True)),
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
                )
                plan = _accepted(priced, plan_id)
                records.append((incident, plan))
                rebuilt_at.append(at)
                cost.append(sum(item.cost for item in plan.actions))
            if created.tzinfo is not None:
                created = created.astimezone(UTC).replace(tzinfo=None)
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
    gain = stayed_b * float(values.horizon_years) + referred_n * float(values.referral_share)
    reward = (gain * np.array(value, dtype=float) - np.array(cost, dtype=float)) / rate
    return _Part(
        features=features,
        retained=stayed_b,
        referrals=referred_n,
        propensity=np.array(propensity, dtype=float),
        reward=reward,
        decided_at=np.array(created_at, dtype="datetime64[s]"),
        currencies=dict(Counter(currency)),
    )


# What forked readers read: set just before the pool starts (fork copies it), cleared after.
_READING: tuple[sa.Engine, ValueSettings, Rates, int] | None = None


def _read_in_child(bounds: tuple[tuple[Any, Any], tuple[Any, Any] | None]) -> _Part:
    """Run in a forked reader: read one range on a connection of its own."""
    if _READING is None:  # not an assert: stripped under -O
        raise RuntimeError("no read: readers are forked from read_rows")
    engine, values, rates, chunk = _READING
    with Session(engine) as session:
        return _read_range(session, bounds[0], bounds[1], values, rates, chunk)


def _forget_parent_connections() -> None:
    """In a forked reader: never use the parent's pooled connections (they are the parent's)."""
    if _READING is not None:
        _READING[0].dispose(close=False)


RANGE = 50_000  # rows per range: a unit of work for a reader and of the progress bar
PARALLEL_FROM = 2 * RANGE  # fewer rows than this are read in this process


def read_rows(
    session: Session,
    values: ValueSettings,
    rates: Rates,
    *,
    chunk: int = CHUNK,
    progress: bool = True,
    workers: int | None = None,
    rows_per_range: int = RANGE,
) -> tuple[LoggedRows, dict[str, int]]:
    """Read every decision with an outcome into arrays; return them and counts per currency.

    The rows are split into key ranges of `rows_per_range`; with more than one range and
    `workers` > 1 (default: one per core, up to 2, from `PARALLEL_FROM` rows), forked readers
    read the ranges on connections of their own while this process gathers them in order:
    building each row's features is Python work, and a million rows on one core take longer
    than fitting the models. Rows that arrive during the read may or may not be in it.
    """
    global _READING
    keys = _keys(session, rows_per_range)
    bounds = [(low, keys[i + 1] if i + 1 < len(keys) else None) for i, low in enumerate(keys)]
    n = count_logged(session)
    if workers is None:
        workers = min(2, os.cpu_count() or 1) if n >= PARALLEL_FROM else 1
    parts: list[_Part] = []
    with tqdm(total=n, desc="reading logs", unit="decision", disable=not progress) as bar:
        if workers <= 1 or len(bounds) < 2:
            for low, high in bounds:
                parts.append(_read_range(session, low, high, values, rates, chunk))
                bar.update(len(parts[-1].retained))
        else:
            engine = session.get_bind()
            _READING = (engine, values, rates, chunk)
            try:
                context = multiprocessing.get_context("fork")
                with context.Pool(workers, initializer=_forget_parent_connections) as pool:
                    for part in pool.imap(_read_in_child, bounds):
                        parts.append(part)
                        bar.update(len(part.retained))
            finally:
                _READING = None
    currencies: dict[str, int] = {}
    for part in parts:
        for currency, count in part.currencies.items():
            currencies[currency] = currencies.get(currency, 0) + count
    width = len(FEATURE_NAMES)
    rows = LoggedRows(
        features=np.concatenate([p.features for p in parts]) if parts else np.empty((0, width)),
        retained=np.concatenate([p.retained for p in parts] or [np.empty(0, dtype=bool)]),
        referrals=np.concatenate([p.referrals for p in parts] or [np.empty(0, dtype=np.int64)]),
        propensity=np.concatenate([p.propensity for p in parts] or [np.empty(0)]),
        reward=np.concatenate([p.reward for p in parts] or [np.empty(0)]),
        decided_at=np.concatenate(
            [p.decided_at for p in parts] or [np.empty(0, dtype="datetime64[s]")]
        ),
        logged_index=np.full(sum(len(p.retained) for p in parts), -1),  # candidates not read
    )
    return rows, dict(sorted(currencies.items()))


def read_whole(
    session: Session, offset: int, limit: int, chunk: int = 1_000
) -> list[LoggedDecision]:
    """Read `limit` decisions from position `offset` (oldest first) with every candidate.

    Streamed like `read_rows` (Core columns, `yield_per`): only one chunk's JSON is alive at a
    time; what stays is each decision's incident and its kept candidates as plans. Every
    decision keeps the position and the stored propensity of the plan shown first, whichever
    plan was accepted (training/logged.py `from_record`).
    """
    if limit <= 0:
        return []
    json_columns = [getattr(Decision, name) for name in JSON_COLUMNS]
    query = (
        _joined()
        .with_only_columns(
            *json_columns,
            Decision.record_version,
            Decision.propensity,
            Decision.created_at,
            Outcome.plan_id,
            Outcome.retained,
            Outcome.referrals,
        )
        .order_by(Decision.created_at, Decision.id)
        .offset(offset)
        .limit(limit)
        .execution_options(yield_per=chunk)
    )
    logged = []
    for part in session.execute(query).partitions():
        for row in part:
            columns = dict(zip(JSON_COLUMNS, row[: len(JSON_COLUMNS)], strict=True))
            record = DecisionRecord.from_columns(columns, row.record_version)
            found = from_record(
                record, row.plan_id, row.propensity, row.retained, row.referrals, row.created_at
            )
            if found is not None:  # None: accepted plan no longer kept, nothing to judge safely
                logged.append(found)
    return logged


def read_training_log(
    session: Session,
    values: ValueSettings,
    rates: Rates,
    *,
    holdout_fraction: float = 0.2,
    eval_limit: int = EVAL_LIMIT,
    prior_decisions: int = 600,
    progress: bool = True,
) -> TrainingLog:
    """Read the arrays of every logged decision and the two slices training reads whole."""
    rows, currencies = read_rows(session, values, rates, progress=progress)
    n = len(rows)
    if not 0.0 < holdout_fraction < 1.0:
        raise ValueError("holdout_fraction must lie strictly between 0 and 1")
    cut = int(round(n * (1.0 - holdout_fraction)))
    evaluation = read_whole(session, max(cut, n - eval_limit), min(n - cut, eval_limit))
    prior = read_whole(session, max(0, cut - prior_decisions), min(cut, prior_decisions))
    return TrainingLog(rows, cut, evaluation, prior, currencies)
