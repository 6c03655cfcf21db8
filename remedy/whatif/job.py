"""The what-if replay as a job (kind `whatif.simulate`): queued by `POST /v1/budgets/simulate`,
run by `remedy worker`, never inside a web request (a replay of a month can take minutes). The
caps suggestion for a pool (kind `whatif.suggest_caps`, remedy/whatif/suggest.py: dozens of
replays) is queued by `POST /v1/budgets/<team>/suggest-caps` the same way.

`simulate_params` is the one place that says what a queued replay holds (JSON: moments as ISO
8601 text, money as decimal text); `simulate_job` runs it with the worker's scorer.
`register_jobs` registers both kinds with the worker's registry (called by `create_app`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from remedy.services.job_kinds import JobContext, JobRegistry
from remedy.whatif.partitions import PARTITION_KIND, partition_job, simulate_partitioned
from remedy.whatif.pool_limits import AMOUNTS
from remedy.whatif.service import WhatIfService
from remedy.whatif.suggest import suggest_caps

KIND = "whatif.simulate"
SUGGEST_KIND = "whatif.suggest_caps"
ROLE = "finance"  # who may start them and read them (with the starter's team scope)


def simulate_params(
    start: datetime,
    end: datetime,
    proposed: dict[str, Any],
    pools: list[dict[str, Any]] | None,
    sweep: dict[str, Any] | None,
) -> dict[str, Any]:
    """The job's parameters for a replay of [start, end) under `proposed` caps/rules, pools
    and sweep (already validated by `WhatIfService.check`)."""
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "proposed": {k: v for k, v in proposed.items() if v is not None},
        "pools": [
            {k: str(v) if k in AMOUNTS and v is not None else v for k, v in pool.items()}
            for pool in pools or []
        ],
        "sweep": sweep,
    }


def _service(context: JobContext) -> WhatIfService:
    """A what-if service on the worker's scorer, for the starter's team only when its key was
    scoped, within the replay limit."""
    session, services = context.session, context.services
    if services is None:
        raise RuntimeError("a what-if job needs the app's services (the scorer, the engines)")
    return WhatIfService(
        session,
        services.scorer(session),
        services.engines.values,
        workers=context.processes,
        max_incidents=context.config.get("WHATIF_MAX_INCIDENTS"),
        team=context.team,
    )


def simulate_job(context: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Replay as `params` says, for the starter's team only when its key was scoped.

    The current settings are read when the job runs; a range over `WHATIF_MAX_INCIDENTS`
    logged incidents fails the job with the limit in its error. A range of more than
    `WHATIF_PARTITION_INCIDENTS` decisions is split into partitions any worker may decide
    (remedy/whatif/partitions.py), merged here into the same report.
    """
    size = context.config.get("WHATIF_PARTITION_INCIDENTS")
    if size and context.job_id is not None and context.run_child is not None:
        return simulate_partitioned(_service(context), context, params, int(size))
    return _service(context).simulate(
        datetime.fromisoformat(params["from"]),
        datetime.fromisoformat(params["to"]),
        params["proposed"],
        params["pools"] or None,
        params["sweep"],
        context.progress,
    )


def suggest_params(team: str, currency: str, start: datetime, end: datetime) -> dict[str, Any]:
    """The job's parameters for a caps suggestion for `team`'s pool in `currency`."""
    return {"team": team, "currency": currency, "from": start.isoformat(), "to": end.isoformat()}


def suggest_job(context: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Search the caps that earn most within the pool, as `remedy budgets suggest-caps` does."""
    return suggest_caps(
        _service(context),
        params["team"],
        params["currency"],
        datetime.fromisoformat(params["from"]),
        datetime.fromisoformat(params["to"]),
        progress=context.progress,
    )


def decide_partition_job(context: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Decide one partition of a large replay (queued by its `whatif.simulate` job)."""
    return partition_job(_service(context), context, params)


def register_jobs(registry: JobRegistry) -> None:
    """Register the what-if's long work: replays, their partitions and caps suggestions."""
    registry.kind(KIND, simulate_job)
    registry.kind(PARTITION_KIND, decide_partition_job)
    registry.kind(SUGGEST_KIND, suggest_job)
