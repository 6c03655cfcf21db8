"""A simulated world of failures and customers, for the day-one model and for tests.

This module draws incidents and outcomes; how a customer responds to a plan (the curves below
describe) lives in training/world.py, with the `World` whose parameters a deployment's
customers may differ in (`HOME` is the literature's centre, the bundled models' world).

There are no real outcome labels yet (the CFPB data has no retention outcome nor relief amount,
docs/research.md section B), so the bundled model learns from a simulator whose response curves
rest on the findings in docs/research.md; `#n` below cites row n of its table. Shapes follow the
evidence; the numbers are rough by the literature's own account.

How the simulator differs from `HeuristicPrior` (so a model trained on it can beat the prior):

- hidden heterogeneity the features cannot see, drawn from a hash of the customer id: a minority
  that dislikes overcompensation (#4), customers who reject the flawed service and so respond to
  compensation in an S-shape (#3), customers with companions, and relationship strength (#22);
- the fix must match the failure (#15, #16): replacement for defects, refund for billing errors,
  service credit for outages, expedited shipping for late deliveries;
- credit counts for less than cash as compensation (#5) but retains about as well as a fix (#16);
- compensation adds little once an apology comes with an immediate response (#12);
- word of mouth follows distributive justice (compensation), loyalty follows interactional
  justice (apology, contact) more (#1, #2); a public complaint doubles the audience (#20);
- the whole vocabulary the service takes (issue 25): every category of the bundled catalog,
  every channel, public complaints with an audience (`reach`), repeat victims
  (`prior_incidents`), customers leaving or gone (`customer_status`) and incidents where nothing
  was lost. Repeat victims lose trust faster with each failure (#10: prior complaints aggravate
  churn) and value seniority more: a manager or more senior person helps them more, and a plan
  without one costs them more trust (an assumption: #26 found no effect of senior contact in
  general, and #23 that the customers who hold a grudge are the ones an apology plus
  compensation reaches). Public recoveries spread word of mouth both ways (#20, #1, #2): one
  that delights multiplies referrals with the audience (log10 of the reach), one that
  disappoints scares prospects away and brings fewer referrals than a private one would; the
  service observes both in the referrals it records, so a model that sees public and reach
  learns them (remedy/decisions/value.py).

Everything is in floats: these are simulated probabilities, not money that changes hands.
"""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np

from remedy.decisions.ranker import ValueSettings
from remedy.decisions.value import gain
from remedy.domain import (
    CHANNELS,
    FaultType,
    Incident,
    Plan,
)
from remedy.money import quantize
from training.world import HOME, World, true_response

# Rough exchange rates of the simulated world (units of currency per US dollar).
FX_PER_USD: dict[str, float] = {"USD": 1.0, "EUR": 0.92, "GBP": 0.79, "JPY": 150.0}
_CURRENCIES = (
    ("USD", "en-US", 0.45),
    ("EUR", "de-DE", 0.15),
    ("EUR", "fr-FR", 0.10),
    ("GBP", "en-GB", 0.15),
    ("JPY", "ja-JP", 0.15),
)
_CATEGORIES = (
    ("delivery", 0.27),
    ("billing", 0.17),
    ("product_defect", 0.17),
    ("wrong_item", 0.06),
    ("outage", 0.09),
    ("subscription", 0.06),
    ("service_rudeness", 0.09),
    ("other", 0.09),
)
# Severity by category: outages and defects run more severe than billing slips.
_SEVERITY_SHIFT = {
    "outage": 0.6,
    "product_defect": 0.3,
    "service_rudeness": 0.2,
    "billing": -0.3,
    "subscription": -0.2,
}
_FAULTS = (FaultType.COMPANY, FaultType.PARTNER, FaultType.CUSTOMER, FaultType.UNKNOWN)
_FAULT_MIX = {"delivery": (0.35, 0.40, 0.10, 0.15)}  # carriers are partners
_FAULT_MIX_DEFAULT = (0.55, 0.12, 0.17, 0.16)


def expected_referrals(incident: Incident, plan: Plan, world: World = HOME) -> float:
    """Return the true expected number of customers referred after `plan`."""
    return true_response(incident, plan, world)[1]


def simulate_outcome(
    incident: Incident, plan: Plan, rng: np.random.Generator, world: World = HOME
) -> tuple[bool, int]:
    """Draw whether the customer stays and how many customers they refer (in `world`)."""
    p_stay, referrals = true_response(incident, plan, world)
    return bool(rng.random() < p_stay), int(rng.poisson(referrals))


def to_usd(amount: float | Decimal, currency: str) -> float:
    """Convert an amount of the simulated world to US dollars at its fixed rate."""
    return float(amount) / FX_PER_USD[currency]


def true_net_value(
    incident: Incident, plan: Plan, values: ValueSettings | None = None, world: World = HOME
) -> float:
    """Return the plan's true expected net value in US dollars (the ranker's formula)."""
    values = values or ValueSettings()
    p_stay, referrals = true_response(incident, plan, world)
    value = gain(p_stay, referrals, float(incident.customer_value), values)
    return to_usd(value - float(plan.total_cost), incident.currency)


def realized_net_value(
    incident: Incident,
    plan: Plan,
    retained: bool,
    referrals: int,
    values: ValueSettings | None = None,
) -> float:
    """Return the net value an observed outcome realised, in US dollars (the OPE reward)."""
    values = values or ValueSettings()
    value = gain(float(retained), referrals, float(incident.customer_value), values)
    return to_usd(value - float(plan.total_cost), incident.currency)


def _pick(rng: np.random.Generator, weights: tuple[float, ...]) -> int:
    """Draw an index with the given probabilities."""
    return int(rng.choice(len(weights), p=np.asarray(weights) / sum(weights)))


def random_incident(rng: np.random.Generator, index: int | None = None) -> Incident:
    """Draw a realistic incident; `index` numbers its external id (else a random number)."""
    currency, locale, _ = _CURRENCIES[_pick(rng, tuple(c[2] for c in _CURRENCIES))]
    category = _CATEGORIES[_pick(rng, tuple(c[1] for c in _CATEGORIES))][0]
    # Severity 1-5, most incidents mild: an assumption, the literature gives no severity mix.
    raw = rng.normal(2.3 + _SEVERITY_SHIFT.get(category, 0.0), 1.1)
    severity = int(min(5, max(1, round(raw))))
    fault = _FAULTS[_pick(rng, _FAULT_MIX.get(category, _FAULT_MIX_DEFAULT))]
    # Losses are lognormal, larger for severe failures; rudeness and outages cost little money.
    median_loss = 25.0 * 1.5 ** (severity - 1)
    if category in ("service_rudeness", "outage"):
        median_loss *= 0.4
    loss_usd = min(5000.0, max(2.0, math.exp(rng.normal(math.log(median_loss), 0.8))))
    value_usd = min(50000.0, max(20.0, math.exp(rng.normal(math.log(400.0), 1.1))))
    channel = CHANNELS[_pick(rng, _channel_weights(severity))]
    rate = FX_PER_USD[currency]
    number = index if index is not None else int(rng.integers(1 << 40))
    churn_threat = bool(rng.random() < 0.04 + 0.06 * (severity - 1))
    # About a fifth public (the public channels, and a few posts about a private exchange),
    # a fifth repeat victims, 3% already gone: the shares issue 25's simulated world had.
    public = bool(rng.random() < 0.05)
    reach = None
    if public or channel in ("social", "review"):
        # audiences are heavy-tailed: median 400, a few in the millions; a quarter unknown
        followers = int(min(5e6, max(1.0, math.exp(rng.normal(math.log(400.0), 1.8)))))
        reach = followers if rng.random() >= 0.25 else None
    prior = int(_pick(rng, (0.79, 0.12, 0.05, 0.025, 0.015)))
    status = "left" if rng.random() < 0.03 else ("leaving" if churn_threat else "active")
    no_loss = rng.random() < _NO_LOSS.get(category, 0.03)
    return Incident(
        customer_id=f"sim-{int(rng.integers(1 << 40)):x}",
        severity=severity,
        fault_type=fault,
        customer_value=quantize(Decimal(repr(value_usd * rate)), currency),
        loss_amount=Decimal(0) if no_loss else quantize(Decimal(repr(loss_usd * rate)), currency),
        currency=currency,
        category=category,
        channel=channel,
        locale=locale,
        churn_threat=churn_threat and status != "left",
        external_id=f"sim-incident-{number}",
        public=public,
        reach=reach,
        prior_incidents=prior,
        customer_status=status,
    )


# Incidents where nothing was lost: a rude call, an outage on a free tier (assumed shares).
_NO_LOSS = {"service_rudeness": 0.3, "outage": 0.15}


def _channel_weights(severity: int) -> tuple[float, ...]:
    """Return the weights of remedy.domain.CHANNELS: severe failures go public more often."""
    weights = {
        "email": 0.34,
        "chat": 0.22,
        "phone": 0.17 + 0.03 * severity,
        "social": 0.07 + 0.015 * severity,
        "review": 0.05 + 0.01 * severity,
        "web": 0.08,
        "store": 0.05,
    }
    return tuple(weights[c] for c in CHANNELS)
