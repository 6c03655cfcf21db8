"""How often the 5x gift is in the best plan for large company-caused losses, in the simulator.

    python benchmarks/five_x.py [--incidents 400] [--seed 7] [--accounts all|large]

Draws the simulator's incidents (training/simulator.py) with the fault set to the company and
the loss redrawn log-uniformly between 1,000 and 5,000 USD (in the incident's currency): the
simulator's own loss mix has almost no losses that large. `--accounts large` also redraws the
customer's annual value log-uniformly between 5,000 and 50,000 USD (the simulator's ceiling):
the B2B accounts of the issue, which its value mix (median 400 USD) rarely holds.

Each is decided by the default engine (default catalog, rules and caps) with the newest
bundled model, as the service decides on day one, and the script prints, per customer-value
band and overall, the share of decisions where a plan holding the 5x gift is

- best: the plan shown first (within every guardrail: the cap; approval only marks a plan);
- offered: any plan the guardrails kept holds it (so the agent could choose it);
- preferred: the best-scored candidate before the guardrails holds it (the ranker's own taste);
- truly best: the plan with the highest true net value among the kept ones, by the simulator's
  hidden response curves, holds it (where it really pays, in the simulator's world).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import time
from decimal import Decimal
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from models.artifact import load_artifact  # noqa: E402
from models.scorer import ModelScorer  # noqa: E402
from remedy.decisions.ranker import PlanRanker  # noqa: E402
from remedy.domain import FaultType  # noqa: E402
from remedy.services.model_registry import bundled_folders  # noqa: E402
from tests.factories import default_engine  # noqa: E402
from training.simulator import FX_PER_USD, quantize, random_incident, true_net_value  # noqa: E402

GIFT = "gift_5x"
BANDS = ((0, 2_000), (2_000, 10_000), (10_000, 10**9))  # annual customer value, USD


def _log_uniform(rng: np.random.Generator, low: float, high: float, currency: str) -> Decimal:
    """An amount drawn log-uniformly in [low, high] USD, in `currency`."""
    usd = math.exp(rng.uniform(math.log(low), math.log(high)))
    return quantize(Decimal(repr(usd * FX_PER_USD[currency])), currency)


def large_losses(n: int, seed: int, large_accounts: bool) -> list:
    """`n` simulated incidents caused by the company with a loss of 1,000-5,000 USD."""
    rng = np.random.default_rng(seed)
    incidents = []
    for index in range(n):
        incident = random_incident(rng, index)
        changes = {
            "fault_type": FaultType.COMPANY,
            "loss_amount": _log_uniform(rng, 1000, 5000, incident.currency),
        }
        if large_accounts:
            changes["customer_value"] = _log_uniform(rng, 5000, 50000, incident.currency)
        incidents.append(dataclasses.replace(incident, **changes))
    return incidents


def has_gift(candidate) -> bool:  # type: ignore[no-untyped-def]
    """Tell whether a candidate's plan holds the 5x gift."""
    return any(a.item_id == GIFT for a in candidate.scored.plan.actions)


def main() -> None:
    """Print the shares per customer-value band and overall."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=400)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--accounts", choices=("all", "large"), default="all")
    args = parser.parse_args()
    newest = bundled_folders()[-1]
    engine = dataclasses.replace(
        default_engine(), ranker=PlanRanker(ModelScorer(load_artifact(newest)))
    )
    started = time.perf_counter()
    counts: dict[str, list[int]] = {}
    for incident in large_losses(args.incidents, args.seed, args.accounts == "large"):
        value_usd = float(incident.customer_value) / float(FX_PER_USD[incident.currency])
        band = next(f"{lo}-{hi}" if hi < 10**9 else f">={lo}" for lo, hi in BANDS if value_usd < hi)
        result = engine.decide(incident)
        kept = result.kept
        truly = max(kept, key=lambda c: true_net_value(incident, c.scored.plan)) if kept else None
        row = [
            1,
            bool(kept) and has_gift(kept[0]),
            any(has_gift(c) for c in kept),
            bool(result.candidates) and has_gift(result.candidates[0]),
            truly is not None and has_gift(truly),
            bool(kept) and kept[0].requires_approval,
        ]
        for key in (band, "all"):
            total = counts.setdefault(key, [0] * len(row))
            for i, value in enumerate(row):
                total[i] += int(value)
    seconds = time.perf_counter() - started
    print(
        f"{newest.name}: large (1,000-5,000 USD) company-caused losses, seed {args.seed}, "
        f"{args.accounts} accounts"
    )
    print(f"{'customer value USD':<20}{'n':>6}{'best':>8}{'offered':>9}{'preferred':>11}"
          f"{'truly best':>12}{'best needs approval':>21}")  # fmt: skip
    for key in [*(k for k in counts if k != "all"), "all"]:
        n, best, offered, preferred, truly_best, approval = counts[key]
        print(
            f"{key:<20}{n:>6}{best / n:>8.1%}{offered / n:>9.1%}{preferred / n:>11.1%}"
            f"{truly_best / n:>12.1%}{approval / n:>21.1%}"
        )
    print(f"5x gift in the best plan: {counts['all'][1] / counts['all'][0]:.1%} ({seconds:.0f} s)")


if __name__ == "__main__":
    main()
