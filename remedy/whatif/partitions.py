"""A large what-if split into partitions that any `remedy worker` claims from the job table.

Why this split. A replay is two steps of very different cost: deciding every logged incident
under every settings set (rules, planner, model, guardrails: ~90% of the CPU) is independent per
incident, while spending is sequential: a pool's balance, a customer's rolling window and a
team's contacts of the day carry from one incident to the next in time order. A pool is no
boundary either: teams without a pool spend from `default`'s, a customer's window spans teams,
and a team's contact capacity spans currencies, so partitions by pool or team would each need
the others' balances. So the partitions *decide* (each a contiguous run of the range's
decisions in the replay's order, `KeyRange`) and their compact results (`Decided`, a few kept
plans per incident) are merged in order; the parent then *spends* once, sequentially, exactly
as a single-process replay does (each settings set in its own process). Balances carry across
partition boundaries because there are none at spending time, and the report is the one a
single process gives (tests/whatif/test_partitions.py).

The database is the coordinator: the parent job (`whatif.simulate`) queues one child job
(`whatif.partition`) per `WHATIF_PARTITION_INCIDENTS` decisions, then works through its own
children like any worker while waiting for the others (`JobContext.run_child`), so one worker
finishes the job alone and each added worker, on any host, takes partitions off it. A child
holds a lease like every job: a worker killed mid-partition stops renewing it, and the
partition is claimed again once the lease has passed (tests/cli/test_whatif_partition_kill.py);
a killed parent is claimed again too, finds its children and merges those already done.
"""

from __future__ import annotations

import base64
import json
import time
import zlib
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from remedy.errors import DomainError
from remedy.services.job_children import JobChildren
from remedy.services.job_kinds import JobContext
from remedy.services.jobs import CANCELLED, FAILED, SUCCEEDED
from remedy.store.scoping import in_team
from remedy.store.tables import Decision, Job
from remedy.whatif.deciding import Choice, Decided
from remedy.whatif.keys import Key, KeyRange, split
from remedy.whatif.service import WhatIfService

PARTITION_KIND = "whatif.partition"
WAIT = 0.25  # seconds between looks at partitions other workers are running


def decision_keys(service: WhatIfService, start: datetime, end: datetime) -> list[Key]:
    """The (moment, id) of every decision the replay of [start, end) reads, in its order."""
    rows = service.session.execute(
        sa.select(Decision.created_at, Decision.id)
        .where(Decision.created_at >= start, Decision.created_at < end)
        .where(in_team(service.team))
        .order_by(Decision.created_at, Decision.id)
    )
    return [(at, decision_id) for at, decision_id in rows]


def _request(params: dict[str, Any]) -> tuple[datetime, datetime, Any, Any, Any]:
    """A queued replay's range and proposal (remedy/whatif/job.py `simulate_params`)."""
    start = datetime.fromisoformat(params["from"])
    end = datetime.fromisoformat(params["to"])
    return start, end, params["proposed"], params["pools"] or None, params["sweep"]


def partition_job(service: WhatIfService, context: JobContext, params: dict[str, Any]) -> Any:
    """Decide one partition under every settings set; return its results, encoded."""
    start, end, proposed, pools, sweep = _request(params)
    try:
        replay = service.prepare(start, end, proposed, pools, sweep)
        logged = service.incidents(replay, start, end, KeyRange.from_json(params["keys"]))
        decided = service.decide(replay, logged, context.progress)
        return {"index": params["index"], "count": len(logged), "decided": encode(decided)}
    finally:
        service.session.rollback()


def simulate_partitioned(
    service: WhatIfService, context: JobContext, params: dict[str, Any], size: int
) -> dict[str, Any]:
    """Run a queued replay, split into partitions of `size` decisions when it has more."""
    start, end, proposed, pools, sweep = _request(params)
    session = service.session
    try:
        replay = service.prepare(start, end, proposed, pools, sweep)
        service._check_size(start, end)
        children = JobChildren(session).children(context.job_id)  # type: ignore[arg-type]
        if not children:
            keys = decision_keys(service, start, end)
            if len(keys) <= size:  # one partition: this worker replays it as it always did
                logged = service.incidents(replay, start, end)
                return service.report(
                    replay, logged, service.decide(replay, logged, context.progress)
                )
            children = _queue(context, params, split(keys, size), size, len(keys))
            total = len(keys)
        else:
            total = sum(_count(child) for child in children)
        advance = context.progress(total * len(replay.engines))
        done = _wait(context, advance, len(replay.engines))
        ranges = [KeyRange.from_json(child.params["keys"]) for child in done]
        logged = service.incidents(replay, start, end, KeyRange(ranges[0].first, ranges[-1].last))
        counts = [child.result["count"] for child in done]  # type: ignore[index]
        if len(logged) != sum(counts):
            message = "decisions in the range changed while it was replayed: start it again"
            raise DomainError(message, {"to": [message]})
        texts = [child.result["decided"] for child in done]  # type: ignore[index]
        streams = [Streamed(texts, index) for index in range(len(replay.engines))]
        return service.report(replay, logged, streams)  # type: ignore[arg-type]
    finally:
        session.rollback()
        service.scorer.forget()  # type: ignore[union-attr]


def _count(child: Job) -> int:
    """How many decisions a queued partition holds (its params say)."""
    return int(child.params["size"])


def _queue(
    context: JobContext, params: dict[str, Any], ranges: list[KeyRange], size: int, total: int
) -> list[Job]:
    """Queue one partition per range (`size` decisions each, the last the rest of `total`)
    under the running job, committed at once."""
    session = context.session
    session.rollback()
    parent = session.get(Job, context.job_id)
    if parent is None:
        raise DomainError("the what-if job is gone")
    entries = [
        {**params, "index": index, "keys": keys.to_json(), "size": min(size, total - index * size)}
        for index, keys in enumerate(ranges)
    ]
    children = JobChildren(session).enqueue_children(parent, PARTITION_KIND, entries)
    session.commit()
    return children


def _wait(context: JobContext, advance: Any, engines: int) -> list[Job]:
    """Run this job's partitions here until every one has succeeded (others may run some);
    return them in order. A failed or cancelled partition fails the job, saying which."""
    reported = 0
    while True:
        context.session.rollback()  # a fresh read of the partitions each round
        children = JobChildren(context.session).children(context.job_id)  # type: ignore[arg-type]
        children.sort(key=lambda child: child.params["index"])
        for child in children:
            if child.status in (FAILED, CANCELLED):
                error = child.error or {}
                message = f"partition {child.params['index'] + 1} of {len(children)}: " + str(
                    error.get("message", child.status)
                )
                raise DomainError(message, error.get("errors") or {})
        steps = sum(
            _steps(child, engines) if child.status == SUCCEEDED else child.progress_done
            for child in children
        )
        advance(max(0, steps - reported))  # also where a stopping worker is interrupted
        reported = max(reported, steps)
        if all(child.status == SUCCEEDED for child in children):
            return children
        if not context.run_child(context.job_id):  # type: ignore[misc, arg-type]
            time.sleep(WAIT)  # the rest are running on other workers


def _steps(child: Job, engines: int) -> int:
    """A finished partition's progress steps (one per incident and settings set)."""
    return int((child.result or {}).get("count", 0)) * engines


class Streamed:
    """One settings set's results over every partition, in order, decoded a partition at a
    time while spending reads them: the merge holds the partitions' compressed text (about a
    tenth of the decoded results) and the incidents, not every decided plan at once."""

    def __init__(self, texts: list[str], index: int) -> None:
        """Read settings set `index` of each partition's `encode`d text."""
        self.texts = texts
        self.index = index

    def __iter__(self) -> Iterator[Decided]:
        """Yield the results in the replay's order."""
        for text in self.texts:
            yield from decode(text, self.index)[0]


def merge(parts: list[list[list[Decided]]]) -> list[list[Decided]]:
    """Join the partitions' results (each one list per settings set) in order."""
    return [
        [decided for part in parts for decided in part[index]] for index in range(len(parts[0]))
    ]


def encode(decided: list[list[Decided]]) -> str:
    """A partition's results as compact text (JSON, zlib, base64): money as decimal text, so
    the merged replay spends exactly the amounts the partition decided. A settings set given
    twice (the same list) is written once."""
    lists: list[list[Decided]] = []
    order: list[int] = []
    for entry in decided:
        found = next((n for n, known in enumerate(lists) if known is entry), None)
        if found is None:
            found = len(lists)
            lists.append(entry)
        order.append(found)
    data = {"order": order, "lists": [[_decided(d) for d in entry] for entry in lists]}
    packed = zlib.compress(json.dumps(data, separators=(",", ":")).encode(), 6)
    return base64.b64encode(packed).decode("ascii")


def decode(text: str, only: int | None = None) -> list[list[Decided]]:
    """The results `encode` wrote (with `only`: just that settings set's, as a list of one)."""
    data = json.loads(zlib.decompress(base64.b64decode(text)))
    order = data["order"] if only is None else [data["order"][only]]
    lists = {n: [_decided_from(d) for d in data["lists"][n]] for n in set(order)}
    return [lists[n] for n in order]


def _decided(decided: Decided) -> list[Any]:
    contacts = None
    if decided.contacts is not None:
        floors, offered = decided.contacts
        contacts = [list(floors), sorted(offered)]
    kept = [
        [
            str(c.cost),
            c.cost_minor,
            c.contact_level,
            str(c.net_value),
            str(c.p_stay),
            c.requires_approval,
            [[kind, str(cost)] for kind, cost in c.kind_costs],
            c.fix_minor,
        ]
        for c in decided.kept
    ]
    return [decided.configured, decided.capped, kept, contacts]


def _decided_from(data: list[Any]) -> Decided:
    configured, capped, kept, contacts = data
    choices = tuple(
        Choice(
            Decimal(cost),
            minor,
            level,
            Decimal(net),
            Decimal(p_stay),
            approval,
            tuple((kind, Decimal(amount)) for kind, amount in kinds),
            fix_minor,
        )
        for cost, minor, level, net, p_stay, approval, kinds, fix_minor in kept
    )
    known = None if contacts is None else (tuple(contacts[0]), frozenset(contacts[1]))
    return Decided(configured, capped, choices, known)
