"""Decide many incidents under several engines, optionally in worker processes.

Incident-major: each incident is decided by every engine in turn, then the scorer's memory of
it is dropped, so settings that share candidates share model calls while memory stays flat.
Deciding is independent per incident, so chunks can go to forked workers (Linux); spending is
sequential within one settings set, but the sets are independent, so each can be spent in a
forked worker too (`spend_many`).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from typing import Any

from remedy.decisions.engine import CurrencyNotConfigured, DecisionEngine, Ranked
from remedy.domain import Incident
from remedy.whatif.deciding import Decided, decide, decided_from
from remedy.whatif.replay import LoggedIncident, PoolLimits, spend, substitute_with

# What forked workers read: set just before the pool starts, cleared after (fork copies it).
# How an engine ranks an incident: `engine.rank` by default, or a memo shared by alike engines.
Rank = Callable[[DecisionEngine, Incident], Ranked]
# How an engine ranks a chunk of incidents at once (`CachingScorer.ranked_many`): one model
# call for the chunk's plans, each incident ranked as `Rank` ranks it alone.
RankMany = Callable[[DecisionEngine, Sequence[Incident]], list[Ranked | CurrencyNotConfigured]]
Job = tuple[
    Sequence[DecisionEngine], Sequence[Incident], Callable[[], None], Rank | None, RankMany | None
]
_JOB: Job | None = None
CHUNK = 250


def _decide_range(
    engines: Sequence[DecisionEngine],
    incidents: Sequence[Incident],
    forget: Callable[[], None],
    rank: Rank | None = None,
    rank_many: RankMany | None = None,
) -> list[list[Decided]]:
    """Decide `incidents` under every engine; return one list per engine.

    With `rank_many`, chunk-major: each engine ranks the whole chunk at once (alike engines
    share it), then the scorer's memory of the chunk is dropped.
    """
    decided: list[list[Decided]] = [[] for _ in engines]
    if rank_many is not None:
        for results, engine in zip(decided, engines, strict=True):
            ranked = rank_many(engine, incidents)
            results.extend(
                decided_from(engine, incident, one)
                for incident, one in zip(incidents, ranked, strict=True)
            )
        forget()
        return decided
    for incident in incidents:
        for results, engine in zip(decided, engines, strict=True):
            results.append(decide(engine, incident, rank))
        forget()
    return decided


def _decide_chunk(bounds: tuple[int, int]) -> list[list[Decided]]:
    """Run in a worker: decide one chunk of the job."""
    if _JOB is None:  # not an assert: stripped under -O
        raise RuntimeError("no job: workers are forked from decide_many")
    engines, incidents, forget, rank, rank_many = _JOB
    return _decide_range(engines, incidents[bounds[0] : bounds[1]], forget, rank, rank_many)


def decide_many(
    incidents: Sequence[Incident],
    engines: Sequence[DecisionEngine],
    forget: Callable[[], None],
    workers: int = 1,
    advance: Callable[[int], None] | None = None,
    chunk: int = CHUNK,
    rank: Rank | None = None,
    rank_many: RankMany | None = None,
) -> list[list[Decided]]:
    """Decide every incident under every engine; return one list per engine, in order.

    The same engine object given twice (settings that did not change) is decided once;
    `rank` (e.g. `CachingScorer.ranked`) lets engines that differ only in caps share one
    ranking per incident, so each of them only applies its incident cap; `rank_many`
    (`CachingScorer.ranked_many`) does the same a chunk at a time, one model call per chunk.
    """
    index: dict[int, int] = {}
    unique: list[DecisionEngine] = []
    for engine in engines:
        if id(engine) not in index:
            index[id(engine)] = len(unique)
            unique.append(engine)
    scale = len(engines) / len(unique) if unique else 1.0

    def advance_scaled(steps: int) -> None:
        if advance is not None:
            advance(round(steps * scale))

    results = _decide_unique(
        incidents, unique, forget, workers, advance_scaled, chunk, rank, rank_many
    )
    return [results[index[id(engine)]] for engine in engines]


def _decide_unique(
    incidents: Sequence[Incident],
    engines: Sequence[DecisionEngine],
    forget: Callable[[], None],
    workers: int,
    advance: Callable[[int], None],
    chunk: int,
    rank: Rank | None,
    rank_many: RankMany | None = None,
) -> list[list[Decided]]:
    """Decide every incident under each of `engines` (all distinct)."""
    global _JOB
    decided: list[list[Decided]] = [[] for _ in engines]
    bounds = [(lo, min(lo + chunk, len(incidents))) for lo in range(0, len(incidents), chunk)]
    if workers <= 1 or len(bounds) < 2:
        parts = (
            _decide_range(engines, incidents[lo:hi], forget, rank, rank_many) for lo, hi in bounds
        )
        return _gather(parts, decided, engines, bounds, advance)
    _JOB = (engines, incidents, forget, rank, rank_many)
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            return _gather(pool.imap(_decide_chunk, bounds), decided, engines, bounds, advance)
    finally:
        _JOB = None


def _gather(parts, decided, engines, bounds, advance):  # type: ignore[no-untyped-def]
    """Append each chunk's results in order and report progress."""
    for part, (lo, hi) in zip(parts, bounds, strict=True):
        for results, chunk in zip(decided, part, strict=True):
            results.extend(chunk)
        if advance is not None:
            advance((hi - lo) * len(engines))
    return decided


# What forked spenders read: (incidents, decided per settings, limits, engines).
_SPENDING: (
    tuple[
        Sequence[LoggedIncident],
        Sequence[Sequence[Decided]],
        Sequence[PoolLimits],
        Sequence[DecisionEngine],
    ]
    | None
) = None


def _spend_one(index: int) -> dict[str, Any]:
    """Run in a worker: spend one settings set; return its report as the API shows it."""
    if _SPENDING is None:  # not an assert: stripped under -O
        raise RuntimeError("no spending: workers are forked from spend_many")
    logged, decided, limits, engines = _SPENDING
    engine = engines[index]
    report = spend(logged, decided[index], limits[index], engine.caps, substitute_with(engine))
    return report.as_dict()


def spend_many(
    logged: Sequence[LoggedIncident],
    decided: Sequence[Sequence[Decided]],
    limits: Sequence[PoolLimits],
    engines: Sequence[DecisionEngine],
    workers: int = 1,
) -> list[dict[str, Any]]:
    """Spend every settings set in time order; return each report (`ReplayReport.as_dict`).

    Spending one settings set is sequential, but settings sets are independent of each other,
    and each may decide incidents again when a contact level is used up (at 100,000 incidents
    a month, most days' calls run out: that is most of a large replay's spending time), so
    with `workers` > 1 each set is spent in a forked process.
    """
    global _SPENDING
    if workers <= 1 or len(engines) < 2:
        _SPENDING = (logged, decided, limits, engines)
        try:
            return [_spend_one(index) for index in range(len(engines))]
        finally:
            _SPENDING = None
    _SPENDING = (logged, decided, limits, engines)
    try:
        with multiprocessing.get_context("fork").Pool(min(workers, len(engines))) as pool:
            return pool.map(_spend_one, range(len(engines)), chunksize=1)
    finally:
        _SPENDING = None
