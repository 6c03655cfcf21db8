"""A simulated world of failures and customers, for the day-one model and for tests.

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

import functools
import hashlib
import math
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from remedy.decisions.ranker import ValueSettings
from remedy.decisions.value import gain
from remedy.domain import (
    CHANNELS,
    CONTACT_LEVELS,
    DEFAULT_REACH,
    FaultType,
    Incident,
    Kind,
    Plan,
)
from remedy.money import quantize

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

# #8: compensation raised repurchase only where the firm was responsible; otherwise n.s.
_FAULT_COMPENSATION = {
    FaultType.COMPANY: 1.0,
    FaultType.PARTNER: 0.65,
    FaultType.UNKNOWN: 0.45,
    FaultType.CUSTOMER: 0.1,
}
# #15, #16: the matched resource works best; otherwise store credit is the best of the rest.
_FIX_MATCH = {
    "product_defect": {Kind.REPLACEMENT: 1.0, Kind.REFUND: 0.8, Kind.CREDIT: 0.7},
    "delivery": {Kind.REPLACEMENT: 1.0, Kind.REFUND: 0.75, Kind.CREDIT: 0.75},
    "wrong_item": {Kind.REPLACEMENT: 1.0, Kind.REFUND: 0.85, Kind.CREDIT: 0.6},
    "billing": {Kind.REFUND: 1.0, Kind.CREDIT: 0.8, Kind.REPLACEMENT: 0.4},
    "subscription": {Kind.CREDIT: 1.0, Kind.REFUND: 0.85, Kind.REPLACEMENT: 0.3},
    "outage": {Kind.CREDIT: 1.0, Kind.REFUND: 0.8, Kind.REPLACEMENT: 0.4},
    # #13, #1: a process (interactional) failure is mended by people more than by money
    "service_rudeness": {Kind.CREDIT: 0.55, Kind.REFUND: 0.5, Kind.REPLACEMENT: 0.3},
    "other": {Kind.CREDIT: 0.9, Kind.REFUND: 0.8, Kind.REPLACEMENT: 0.7},
}
_EXPEDITE_MATCH = {
    "delivery": 0.45,
    "wrong_item": 0.35,
    "product_defect": 0.25,
}  # #15: speed is the matched resource
# By contact rank (none, agent, manager, executive, a leader's direct line); #26: in person or by
# phone preferred. A direct line is an executive's call plus a number to keep: a little more.
_CONTACT_EFFECT = (0.0, 0.15, 0.35, 0.55, 0.6)


@dataclass(frozen=True, slots=True)
class HiddenTraits:
    """What the simulated customer is like beyond anything the features record."""

    overcompensation_averse: bool  # #4: a "smaller portion" react negatively to overcompensation
    rejects_service: bool  # #3: S-shaped response to compensation instead of concave
    has_companions: bool  # a gift for the people around them means something
    bond: float  # relationship strength in [-1, 1]; a strong bond buffers (#22)


def hidden_traits(incident: Incident) -> HiddenTraits:
    """Derive the customer's hidden traits deterministically from the customer id."""
    return _traits(incident.customer_id, incident.severity)


@functools.lru_cache(maxsize=4096)  # every candidate plan of a decision asks again
def _traits(customer_id: str, severity: int) -> HiddenTraits:
    """Derive hidden traits from a stable hash (not `hash()`, which is salted per process)."""
    digest = hashlib.blake2b(customer_id.encode(), digest_size=16).digest()
    u = [int.from_bytes(digest[4 * i : 4 * i + 4], "big") / 2**32 for i in range(4)]
    return HiddenTraits(
        overcompensation_averse=u[0] < 0.2,
        # #3: rejecting the flawed service is likelier the worse it went
        rejects_service=u[1] < 0.1 + 0.18 * (severity - 1),
        has_companions=u[2] < 0.35,
        bond=2.0 * u[3] - 1.0,
    )


@dataclass(frozen=True, slots=True)
class _PlanSummary:
    """The simulator's own reading of a plan, in multiples of the loss."""

    fix: Kind | None
    fix_ratio: float
    compensation: float  # distributive value to the customer / loss (#3, #5)
    apology: bool
    contact_rank: int
    upgrade: bool
    expedite: bool
    companion_gift: bool


def _summarise(plan: Plan, loss: float) -> _PlanSummary:
    """Reduce a plan to what the response curves need."""
    fix: Kind | None = None
    fix_value = compensation = 0.0
    apology = upgrade = expedite = companions = False
    rank = 0
    for action in plan.actions:
        value = float(action.value) / loss
        kind = Kind(action.kind)
        if kind in (Kind.REFUND, Kind.REPLACEMENT):
            fix, fix_value = kind, fix_value + value
            compensation += value
        elif kind == Kind.CREDIT:
            fix, fix_value = kind, fix_value + value
            compensation += 0.75 * value  # #5: credit no fairer than full compensation; #15
        elif kind == Kind.GIFT:
            if action.audience == "companions":
                companions = True
                compensation += 0.3 * value  # mostly for others; a little for the customer
            else:
                compensation += value
        elif kind in (Kind.UPGRADE, Kind.EXPEDITE):
            upgrade = upgrade or kind == Kind.UPGRADE
            expedite = expedite or kind == Kind.EXPEDITE
            compensation += 0.5 * value  # in kind, valued below face
        elif kind == Kind.APOLOGY:
            apology = True
        elif kind == Kind.PERSONAL_CONTACT and action.level in CONTACT_LEVELS:
            rank = max(rank, CONTACT_LEVELS.index(action.level) + 1)
    return _PlanSummary(fix, fix_value, compensation, apology, rank, upgrade, expedite, companions)


def _loss(incident: Incident) -> float:
    """Return the loss as a positive float (a thousandth of annual value if there is none)."""
    return max(float(incident.loss_amount), 0.001 * float(incident.customer_value), 1e-6)


def _value_weight(incident: Incident) -> float:
    """Return how much the relationship outweighs the loss, in [0, 1] (#23 best customers)."""
    log_ratio = math.log(max(float(incident.customer_value), 1e-6) / _loss(incident))
    return min(1.0, max(0.0, (log_ratio - 1.0) / 4.0))


def _sigmoid(x: float) -> float:
    """Return the logistic function of x."""
    return 1.0 / (1.0 + math.exp(-x))


def compensation_response(ratio: float, traits: HiddenTraits) -> float:
    """Return the appeal of compensation worth `ratio` x the loss, about 0 to 1."""
    if traits.rejects_service:
        # #3: S-shape, steepest between 60% and 120% of the price, when the service is rejected
        floor = _sigmoid(-0.9 / 0.17)
        response = (_sigmoid((ratio - 0.9) / 0.17) - floor) / (1.0 - floor)
    else:
        response = 1.0 - math.exp(-ratio / 0.6)  # #3: concave, the first dollars pay most
    # #4: inverted U peaking near 150%; most plateau, a minority turn against any surplus (#6)
    response -= 0.06 * max(0.0, ratio - 1.5)
    if traits.overcompensation_averse:
        response -= 0.45 * max(0.0, ratio - 1.0)
    return response


def _immediate(incident: Incident, summary: _PlanSummary) -> bool:
    """Tell whether the response reaches the customer at once (live channel or expedited)."""
    return incident.channel in ("chat", "phone") or summary.expedite


def _retention_logit(incident: Incident, summary: _PlanSummary, traits: HiddenTraits) -> float:
    """Return the log-odds that the customer stays after this plan."""
    severity = incident.severity
    value_weight = _value_weight(incident)
    # Unresolved baseline: #18/#19 unresolved complainers return 46% (small loss) down to 19%
    # (large loss); #25 severity lowers repurchase; #10 prior purchases mitigate; #22 a bond
    # buffers.
    logit = 0.35 - 0.45 * (severity - 1) + 0.5 * value_weight + 0.5 * traits.bond
    if incident.churn_threat or incident.customer_status == "leaving":
        logit -= 0.8
    if incident.customer_status == "left":
        logit -= 1.8  # "stays" is "comes back": far rarer than staying (a win-back)
    # #10: each earlier failure costs more trust than the one before (bounded at four).
    repeats = min(max(incident.prior_incidents, 0), 4)
    logit -= 0.3 * repeats + 0.05 * repeats * repeats
    category = incident.category if incident.category in _FIX_MATCH else "other"
    if summary.fix is not None:
        # #17-#19: resolution is the biggest lever (TARP: 19% -> 54% for large losses), and more
        # so for severe failures; a partial refund resolves only partly.
        resolution = _FIX_MATCH[category][summary.fix] * (1.0 + 0.15 * (severity - 1))
        resolution *= math.sqrt(min(1.0, summary.fix_ratio))
        if incident.fault_type == FaultType.CUSTOMER:
            resolution *= 0.7
        logit += resolution
    # #12: compensation adds little with an apology and an immediate response, or with neither.
    immediate = _immediate(incident, summary)
    timing = {(True, True): 0.4, (False, False): 0.5}.get((summary.apology, immediate), 1.0)
    weight = 1.6 * _FAULT_COMPENSATION[incident.fault_type] * timing  # #8
    weight *= 0.8 + 0.4 * value_weight  # #23: best customers respond more to compensation
    if incident.fault_type in (FaultType.COMPANY, FaultType.PARTNER):
        weight *= 1.0 + 0.15 * repeats  # #8: compensation counts where failures are frequent
    logit += weight * compensation_response(summary.compensation, traits)
    if summary.apology:
        # #14: r = .23 on purchase intent; #13: an apology matters most for process failures
        logit += 0.8 if category == "service_rudeness" else 0.4
    if summary.contact_rank:
        # #23, #26: personal contact pays for severe failures and valued customers, and for
        # interactional failures most (#1). Senior-staff contact is "not found" in #26: that
        # an executive call over a trifle reads as odd is this simulator's assumption.
        severity_weight = 0.2 + 0.8 * (severity - 1) / 4
        effect = _CONTACT_EFFECT[summary.contact_rank] * severity_weight
        effect *= 0.3 + 0.7 * value_weight
        if category == "service_rudeness":
            effect *= 1.5
        if summary.contact_rank == 3 and severity <= 2 and not repeats:
            effect -= 0.2
        if summary.contact_rank >= 2:
            # repeat victims value seniority more (an assumption, see the module docstring)
            effect *= 1.0 + 0.4 * repeats
        if incident.customer_status == "left":
            effect *= 1.3  # someone reaching out after they left
        logit += effect
    if repeats and summary.contact_rank < 2:
        logit -= 0.2 * repeats  # failed again and no one senior: trust falls further
    if summary.expedite:
        logit += _EXPEDITE_MATCH.get(category, 0.05)  # #15, #16 matched remedy
    if summary.upgrade:
        logit += 0.3 * value_weight  # #22, #24: a relationship gesture, worth more to the loyal
    if summary.companion_gift and traits.has_companions:
        logit += 0.25
    return logit


def _stay(incident: Incident, summary: _PlanSummary, traits: HiddenTraits) -> float:
    """Return P(stay) from the plan summary and the customer's traits."""
    p = _sigmoid(_retention_logit(incident, summary, traits))
    return min(0.99, max(0.01, p))


def _referral_rate(incident: Incident, summary: _PlanSummary, traits: HiddenTraits) -> float:
    """Return the expected referrals from the plan summary and the customer's traits."""
    # #1, #2: distributive justice drives transaction satisfaction, which drives word of mouth.
    justice = _FAULT_COMPENSATION[incident.fault_type] * max(
        0.0, compensation_response(summary.compensation, traits)
    )
    rate = 0.04 * math.exp(1.2 * justice + 0.15 * summary.contact_rank)
    if summary.fix is None:
        rate *= 0.5
    rate *= 0.85 ** min(max(incident.prior_incidents, 0), 4)  # a repeat victim recommends less
    if incident.is_public:
        rate *= 2.0 * _public_word_of_mouth(incident, summary, justice)
    if traits.overcompensation_averse and summary.compensation > 1.0:
        rate *= 0.5  # #4, #6
    if summary.companion_gift and traits.has_companions:
        rate *= 2.0  # an assumption: the people who shared the failure now share the gift
    return rate


def _public_word_of_mouth(incident: Incident, summary: _PlanSummary, justice: float) -> float:
    """Return how a public recovery's audience multiplies referrals: above 1 when it delights,
    below 1 when it disappoints (#20: experiences are retold, bad ones to twice as many; #1,
    #2: distributive justice drives word of mouth), more so the larger the audience."""
    reach = incident.reach if incident.reach is not None else DEFAULT_REACH
    audience = math.log10(1 + max(0, reach))
    tone = justice + 0.15 * summary.contact_rank + (0.3 if summary.fix is not None else -0.4)
    return math.exp(min(3.0, 0.45 * audience * (tone - 0.7)))


def true_response(incident: Incident, plan: Plan) -> tuple[float, float]:
    """Return the true P(stay) and expected referrals after `plan` (deterministic)."""
    summary = _summarise(plan, _loss(incident))
    traits = hidden_traits(incident)
    return _stay(incident, summary, traits), _referral_rate(incident, summary, traits)


def expected_referrals(incident: Incident, plan: Plan) -> float:
    """Return the true expected number of customers referred after `plan`."""
    return true_response(incident, plan)[1]


def simulate_outcome(incident: Incident, plan: Plan, rng: np.random.Generator) -> tuple[bool, int]:
    """Draw whether the customer stays and how many customers they refer."""
    p_stay, referrals = true_response(incident, plan)
    return bool(rng.random() < p_stay), int(rng.poisson(referrals))


def to_usd(amount: float | Decimal, currency: str) -> float:
    """Convert an amount of the simulated world to US dollars at its fixed rate."""
    return float(amount) / FX_PER_USD[currency]


def true_net_value(incident: Incident, plan: Plan, values: ValueSettings | None = None) -> float:
    """Return the plan's true expected net value in US dollars (the ranker's formula)."""
    values = values or ValueSettings()
    p_stay, referrals = true_response(incident, plan)
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
