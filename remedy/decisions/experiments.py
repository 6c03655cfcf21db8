"""Champion/challenger online: which arm decides for a customer, and when the evidence is there.

**Arms by customer.** A running experiment puts a `share` of customers on the challenger model:
`arm_for` hashes team, customer id and experiment id (SHA-256, the first 8 bytes as a number in
[0, 1)) and compares it with the share, so a customer always sees one arm for the whole
experiment (their second incident is decided by the same model as their first), a new
experiment reshuffles customers, and no state is kept per customer. Guardrails (caps, pools,
rules, approvals) are the same for both arms: only the scorer differs.

**The sequential test.** Finance watches the comparison while it runs, so a fixed-sample
interval read again and again would promote a challenger that is no better far more often than
alpha. The interval here is an always-valid *confidence sequence*: with probability at least
1 - alpha it holds the true difference at every sample size at once, however often it is read
(Howard, Ramdas, McAuliffe and Sekhon 2021, "Time-uniform, nonparametric, nonasymptotic
confidence sequences", Ann. Statist. 49(2), eq. (14): the two-sided normal-mixture boundary; used
with an estimated variance as the asymptotic confidence sequence of Waudby-Smith, Arbour, Sinha,
Kennedy and Ramdas 2024, "Time-uniform central limit theory and asymptotic confidence
sequences", Ann. Statist., Theorem 2.2; docs/research.md #27, #28).

Each decision with an outcome gives one number whose mean is the difference of mean realised
net value per decision (challenger minus champion), whatever the share pi:

    phi_i = R_i / pi          (challenger arm)
    phi_i = -R_i / (1 - pi)   (champion arm)

(inverse-probability weighting: arms are assigned at random with the known probability pi).
Weighted as they stand, these carry the square of the mean reward in their variance (about 650
USD a decision, against a spread of about 500), and most of the spread is the customer's worth
times a coin: whether they stay. So each reward is first centred on a **predictable baseline**,

    phi_i = (R_i - b_i) / pi  or  -(R_i - b_i) / (1 - pi),  b_i = a_{i-1} + beta_{i-1} x_i

where x_i is the customer's value in USD (known before the arm is drawn, so its distribution is
the same on both arms) and (a, beta) the least-squares line of R on x over the decisions before
i, both arms pooled. The mean of phi is still the difference whatever the baseline, because b_i
depends only on the past and on a covariate the coin does not touch: this is the augmented
estimator with a predictable outcome model of Waudby-Smith et al. (2024, section 4, "sequential
A/B tests"; docs/research.md #29), the sequential form of regression adjustment (CUPED, Deng,
Xu, Kohavi and Walker 2013). On rewards shaped like the simulator's it halves the interval's
width (tests/decisions/test_experiments.py), so an experiment needs about a quarter of the
customers to tell the same difference. Without covariates (`compare` called without them)
the baseline is the running mean of the rewards before i, which still removes the mean's
square.

With t such numbers, their mean m_t and standard deviation s_t,

    radius_t = s_t sqrt((t + rho) (log(1 + t / rho) + 2 log(1 / alpha))) / t,
    rho = t* / (2 log(1 / alpha) + log(1 + 2 log(1 / alpha)))

(the boundary of confseq's `TwoSidedNormalMixture` in standard units, tuned to be tightest at
t*, the planned sample: `max_per_arm` over the smaller share), the interval is m_t +/- radius_t.
Why not the confseq package itself: its last release (0.0.11, 2023) is a C++ source
distribution that needs Boost and a compiler to install; the boundary is the three lines above,
ported and tested here against simulated A/A data (false promotion at most alpha over many runs
read after every outcome) and A/B data (a real difference is found): tests/decisions/
test_experiments.py.

**The decision.** Promote when the interval's lower end is above 0, retire when its upper end is
below 0, and retire too when both arms hold `max_per_arm` outcomes with zero still inside
(not shown better: the champion stays). Nothing is decided before `min_per_arm` outcomes per
arm (the variance estimate needs a few).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

CHAMPION = "champion"
CHALLENGER = "challenger"
ARMS = (CHAMPION, CHALLENGER)

PROMOTE = "promote"
RETIRE = "retire"
CONTINUE = "continue"

_SCALE = 2**64


def arm_for(team: str, customer_id: str, experiment_id: str, share: Decimal) -> str:
    """Return the arm of this customer in this experiment: stable, and challenger for `share`
    of customers (a 64-bit hash compared with the share; exact for shares of 12 places)."""
    digest = hashlib.sha256(f"{team}\x1f{customer_id}\x1f{experiment_id}".encode()).digest()
    point = int.from_bytes(digest[:8], "big")
    return CHALLENGER if Decimal(point) < Decimal(share) * _SCALE else CHAMPION


def best_rho(v_opt: float, alpha: float) -> float:
    """The mixture's precision tuned so the boundary is tightest at intrinsic time `v_opt`
    (confseq's `TwoSidedNormalMixture::best_rho`)."""
    log_inverse = math.log(1 / alpha)
    return v_opt / (2 * log_inverse + math.log(1 + 2 * log_inverse))


def boundary(v: np.ndarray | float, alpha: float, rho: float) -> np.ndarray | float:
    """The two-sided normal-mixture boundary on a sum with variance process `v` (Howard et
    al. 2021, eq. (14)): the sum stays inside +/- this at every time with probability 1 - alpha."""
    return np.sqrt((v + rho) * (np.log1p(v / rho) + 2 * math.log(1 / alpha)))


@dataclass(frozen=True)
class SequentialPlan:
    """How the experiment's test is run."""

    share: float  # the challenger's share of customers (0 < share < 1)
    alpha: float = 0.05  # the chance the interval ever misses the true difference
    max_per_arm: int = 20000  # outcomes on each arm after which the champion stays
    min_per_arm: int = 30  # outcomes per arm before anything is decided

    @property
    def planned(self) -> float:
        """The number of decisions by which an arm holds `max_per_arm` outcomes (expected)."""
        return self.max_per_arm / min(self.share, 1 - self.share)

    def radius(self, t: np.ndarray | float, sd: np.ndarray | float) -> np.ndarray | float:
        """Half the interval's width after `t` decisions whose phi has standard deviation `sd`.

        The boundary in standard units (V_t = t, rho tuned at the planned sample) times the
        running standard deviation: the asymptotic confidence sequence of Waudby-Smith et al.
        (2024, Theorem 2.2; their rho^2 is 1 / this rho). The tuning depends on the plan only,
        never on the data, so no look at the outcomes chooses the boundary.
        """
        rho = best_rho(self.planned, self.alpha)
        return sd * boundary(t, self.alpha, rho) / t


@dataclass(frozen=True)
class Comparison:
    """The running comparison at one moment: per arm n and mean, the interval, the decision.

    The means and the interval are USD per decision, exact to the cent (`usd`): the test itself
    runs on floats (means, variances, square roots of realised values: statistics), and only
    what is stored, shown and audited leaves it, as money does, in Decimal."""

    n: dict[str, int]
    mean: dict[str, Decimal | None]
    difference: Decimal | None  # challenger minus champion, mean realised net value per decision
    low: Decimal | None
    high: Decimal | None
    decision: str  # promote | retire | continue
    reason: str  # a code: shown_better | shown_worse | max_sample | too_few | undecided

    def as_dict(self) -> dict[str, object]:
        """The comparison as plain data (stored with each check, returned by the API): amounts
        as decimal strings, as every amount the API returns."""
        return {
            "n": dict(self.n),
            "mean": {arm: _text(value) for arm, value in self.mean.items()},
            "difference": _text(self.difference),
            "low": _text(self.low),
            "high": _text(self.high),
            "decision": self.decision,
            "reason": self.reason,
        }


CENT = Decimal("0.01")


def usd(value: float | None) -> Decimal | None:
    """A statistic in USD per decision as an amount, rounded half-even to the cent."""
    return None if value is None else Decimal(repr(float(value))).quantize(CENT)


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def predictable_baseline(rewards: np.ndarray, covariate: np.ndarray | None = None) -> np.ndarray:
    """Return b_i for every decision: the least-squares line of reward on the covariate fitted on
    decisions 0..i-1 only, evaluated at x_i (the running mean when there is no covariate or it
    does not vary yet; 0 for the first decision). Cumulative sums: one pass, no look ahead."""
    y = np.asarray(rewards, dtype=float)
    x = np.zeros_like(y) if covariate is None else np.asarray(covariate, dtype=float)
    # the sums over the decisions strictly before each one
    n = np.arange(len(y), dtype=float)
    sx, sy = _before(x), _before(y)
    sxx, sxy = _before(x * x), _before(x * y)
    seen = n > 0
    mean_x = np.divide(sx, n, out=np.zeros_like(sx), where=seen)
    mean_y = np.divide(sy, n, out=np.zeros_like(sy), where=seen)
    spread = sxx - n * mean_x * mean_x
    # a line needs the covariate to have varied by more than rounding before it is fitted
    fitted = seen & (spread > 1e-9 * np.maximum(sxx, 1.0))
    slope = np.divide(sxy - n * mean_x * mean_y, spread, out=np.zeros_like(sx), where=fitted)
    return mean_y + slope * (x - mean_x)


def _before(values: np.ndarray) -> np.ndarray:
    """Cumulative sums of `values` shifted by one: entry i sums entries 0..i-1."""
    out = np.zeros_like(values)
    np.cumsum(values[:-1], out=out[1:])
    return out


def pseudo_outcomes(
    rewards: np.ndarray,
    challenger: np.ndarray,
    share: float,
    covariate: np.ndarray | None = None,
) -> np.ndarray:
    """Return each decision's phi (its mean is challenger minus champion, see the module),
    centred on the predictable baseline in the order given (the order outcomes arrived)."""
    rewards = np.asarray(rewards, dtype=float)
    on = np.asarray(challenger, dtype=bool)
    centred = rewards - predictable_baseline(rewards, covariate)
    return np.where(on, centred / share, -centred / (1 - share))


def interval(phi: np.ndarray, plan: SequentialPlan) -> tuple[float, float, float]:
    """Return the estimate and the always-valid interval for the mean of `phi` now."""
    t = len(phi)
    mean = float(np.mean(phi))
    radius = float(plan.radius(t, float(np.std(phi))))
    return mean, mean - radius, mean + radius


def running_intervals(phi: np.ndarray, plan: SequentialPlan) -> tuple[np.ndarray, np.ndarray]:
    """Return the interval's lower and upper ends after each of the first 1..t decisions (the
    test as monitored after every outcome, with the variance known by then)."""
    phi = np.asarray(phi, dtype=float)
    t = np.arange(1, len(phi) + 1, dtype=float)
    means = np.cumsum(phi) / t
    variances = np.maximum(np.cumsum(phi * phi) / t - means * means, 0.0)
    radius = plan.radius(t, np.sqrt(variances))
    return means - radius, means + radius


def compare(
    rewards: Sequence[float],
    arms: Sequence[str],
    plan: SequentialPlan,
    covariate: Sequence[float] | None = None,
) -> Comparison:
    """Compare the arms' realised net values (one per decision with an outcome, in the order the
    outcomes arrived) and decide; `covariate` is each customer's value in USD, the baseline's
    predictor (see the module)."""
    values = np.asarray(rewards, dtype=float)
    on = np.asarray([a == CHALLENGER for a in arms], dtype=bool)
    n = {CHAMPION: int((~on).sum()), CHALLENGER: int(on.sum())}
    mean = {
        CHAMPION: usd(values[~on].mean()) if n[CHAMPION] else None,
        CHALLENGER: usd(values[on].mean()) if n[CHALLENGER] else None,
    }
    if min(n.values()) < plan.min_per_arm:
        return Comparison(n, mean, None, None, None, CONTINUE, "too_few")
    phi = pseudo_outcomes(values, on, plan.share, covariate)
    difference, low, high = interval(phi, plan)
    # decided on the interval as computed; reported to the cent
    if low > 0:
        decision, reason = PROMOTE, "shown_better"
    elif high < 0:
        decision, reason = RETIRE, "shown_worse"
    elif min(n.values()) >= plan.max_per_arm:
        decision, reason = RETIRE, "max_sample"
    else:
        decision, reason = CONTINUE, "undecided"
    return Comparison(n, mean, usd(difference), usd(low), usd(high), decision, reason)
